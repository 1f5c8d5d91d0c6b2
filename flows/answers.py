"""Replies that answer one message and need no interview: hours, help, goodbyes, erase."""

from __future__ import annotations

from flows import render
from flows.copy import say
from flows.interview import YES_NO, advance, ask, category_buttons, comune_buttons
from flows.replies import Reply
from flows.state import DialogueState, Step
from flows.turn import EraseRequested, FlowContext, Outcome, Turn, UnsubscribeRequested


def on_erase_request(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    return ask(state, Step.CONFIRM_ERASE, say("erase_confirm"), YES_NO)


def on_erase_answer(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    if turn.intent == "affermazione":
        return Outcome(DialogueState(), (Reply(say("erase_done")),), (EraseRequested(),))
    return advance(
        state.model_copy(update={"step": Step.ASK_CATEGORY}),
        ctx,
        prefix=(Reply(say("erase_cancelled")),),
    )


def on_unsubscribe(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    return Outcome(state, (Reply(say("unsubscribed")),), (UnsubscribeRequested(),))


def on_media(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    return Outcome(state, (Reply(say("media_not_supported"), tuple(state.buttons)),))


def on_location_far(state: DialogueState, _t: Turn, ctx: FlowContext) -> Outcome:
    return ask(state, Step.ASK_COMUNE, say("location_far"), comune_buttons(ctx))


def on_hours(state: DialogueState, _t: Turn, ctx: FlowContext) -> Outcome:
    return Outcome(state.model_copy(update={"misses": 0}), (render.social_points_reply(ctx),))


def on_info(state: DialogueState, _t: Turn, ctx: FlowContext) -> Outcome:
    text = say("info_assistente", territory=ctx.territory)
    return ask(state, state.step, text, category_buttons())


def on_goodbye(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    new = state.model_copy(update={"step": Step.ASK_CATEGORY, "misses": 0, "buttons": []})
    return Outcome(new, (Reply(say("goodbye")),))


def on_thanks(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    return Outcome(state, (Reply(say("you_are_welcome"), tuple(state.buttons)),))


def on_greeting(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    return ask(state, Step.ASK_CATEGORY, say("greeting"), category_buttons())


def on_contributi(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    return ask(state, Step.ASK_CATEGORY, say("contributi"), category_buttons())


def on_out_of_scope(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    new = state.model_copy(update={"misses": state.misses + 1})
    return Outcome(new, (Reply(say("out_of_scope"), category_buttons()),))
