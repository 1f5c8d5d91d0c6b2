"""Handing the conversation to a Social Point operator, callbacks and the rating after."""

from __future__ import annotations

import re

from flows import render
from flows.copy import say
from flows.hours import is_open, next_opening, point_for
from flows.interview import YES_NO, followup_buttons
from flows.replies import Button, Reply
from flows.state import DialogueState, Step
from flows.turn import CallbackRequested, FlowContext, HandoffRequested, Outcome, Rated, Turn

PHONE = re.compile(r"^\+?[\d\s./-]{6,20}$")


def hand_off(
    state: DialogueState,
    ctx: FlowContext,
    *,
    reason: str,
    priority: bool = False,
    prefix: tuple[Reply, ...] = (),
) -> Outcome:
    """Queues the conversation for the Social Point of the resident's comune.

    Inside opening hours the bot goes silent until the operator is done; outside, it says
    when the Social Point opens and offers a callback (the case stays in the queue).
    """
    point = point_for(state.need.comune, ctx.social_points)
    open_now = is_open(point, ctx.now)
    event = HandoffRequested(reason, point.id, priority=priority, open_now=open_now)
    if open_now or priority:
        new = state.model_copy(update={"step": Step.HUMAN, "misses": 0, "buttons": []})
        return Outcome(new, (*prefix, Reply(say("handoff_open", point=point.name))), (event,))
    opening = next_opening(point, ctx.now)
    when = render.when(opening, ctx.now) if opening else say("handoff_no_hours")
    new = state.model_copy(
        update={"step": Step.OFFER_CALLBACK, "misses": 0, "buttons": list(YES_NO)}
    )
    text = say("handoff_closed", point=point.name, when=when)
    return Outcome(new, (*prefix, Reply(text), Reply(say("callback_offer"), YES_NO)), (event,))


def on_callback_answer(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    if turn.intent == "affermazione":
        new = state.model_copy(update={"step": Step.ASK_PHONE, "buttons": []})
        return Outcome(new, (Reply(say("ask_phone")),))
    new = state.model_copy(update={"step": Step.HUMAN, "buttons": []})
    return Outcome(new, (Reply(say("callback_declined")),))


def on_phone(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    text = (turn.text or "").strip()
    if not PHONE.match(text) or sum(c.isdigit() for c in text) < 6:
        return Outcome(state, (Reply(say("phone_invalid")),))
    phone = re.sub(r"[\s./-]", "", text)
    new = state.model_copy(update={"step": Step.HUMAN})
    return Outcome(new, (Reply(say("callback_registered")),), (CallbackRequested(phone),))


def on_human_holds(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    """An operator has (or will have) the conversation: the bot says nothing."""
    return Outcome(state, ())


def operator_closed(state: DialogueState) -> Outcome:
    """The operator resolved the case: the bot is back and asks for a rating."""
    buttons = tuple(Button(str(n), f"rating:{n}") for n in range(1, 6))
    new = state.model_copy(update={"step": Step.ASK_RATING, "buttons": list(buttons)})
    return Outcome(new, (Reply(say("rating_question"), buttons),))


def on_rating(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    value = turn.payload_value("rating") or (turn.text or "").strip()
    if value not in {"1", "2", "3", "4", "5"}:
        return Outcome(state, (Reply(say("rating_question"), tuple(state.buttons)),))
    new = state.model_copy(update={"step": Step.SUGGESTED})
    buttons = followup_buttons(new)
    new = new.model_copy(update={"buttons": list(buttons)})
    replies = (Reply(say("rating_thanks")), Reply(say("followup_question"), buttons))
    return Outcome(new, replies, (Rated(int(value)),))
