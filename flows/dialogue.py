"""The conversation as an explicit state machine.

`step(state, turn, ctx)` is pure: it returns the new state, the replies and the events
(needs identified, handoffs requested); the app does the I/O. Rules are tried in order:
first those valid in every state, then those of the current step, then the fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from flows import render
from flows.answers import (
    on_contributi,
    on_erase_answer,
    on_erase_request,
    on_goodbye,
    on_greeting,
    on_hours,
    on_info,
    on_location_far,
    on_media,
    on_out_of_scope,
    on_thanks,
    on_unsubscribe,
)
from flows.copy import group, say
from flows.followup import is_early_question, is_followup, on_followup
from flows.handoff import (
    hand_off,
    on_callback_answer,
    on_human_holds,
    on_phone,
    on_rating,
)
from flows.hours import point_for
from flows.intake import on_consent, on_consent_missing, on_first_message, welcome
from flows.interview import (
    YES_NO,
    advance,
    ask,
    category_buttons,
    comune_buttons,
    followup_buttons,
    other_needs,
    start_need,
    suggest,
)
from flows.lexicon import is_only
from flows.public import is_public_question, on_public_question
from flows.replies import Button, Reply, payload_for_number
from flows.slots import read
from flows.state import DialogueState, Step
from flows.subscriptions import is_subscription_answer, on_subscribe, on_subscription_answer
from flows.turn import (
    NEED_PREFIX,
    FlowContext,
    HandoffCancelled,
    HandoffRequested,
    Outcome,
    Turn,
)
from nlu.safety import emergency_kind

Matches = Callable[[DialogueState, Turn], bool]
Handler = Callable[[DialogueState, Turn, FlowContext], Outcome]


@dataclass(frozen=True)
class Rule:
    """When `matches` holds (in `steps`, or anywhere when None), `handle` answers."""

    matches: Matches
    handle: Handler
    steps: frozenset[Step] | None = None


def intent_is(*names: str) -> Matches:
    return lambda _s, turn: turn.intent in names


def payload_is(*payloads: str) -> Matches:
    return lambda _s, turn: turn.payload in payloads


def is_need(_s: DialogueState, turn: Turn) -> bool:
    return bool(turn.intent and turn.intent.startswith(NEED_PREFIX))


def always(_s: DialogueState, _t: Turn) -> bool:
    return True


def is_rating(_s: DialogueState, turn: Turn) -> bool:
    return bool(turn.payload_value("rating")) or (turn.text or "").strip() in {
        "1",
        "2",
        "3",
        "4",
        "5",
    }


# --- handlers ---------------------------------------------------------------------------


def on_emergency(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    kind = emergency_kind(turn.text or "") or "violenza"
    key = {
        "suicidio": "emergency_suicidio",
        "abuso_minori": "emergency_minori",
        "sanitaria": "emergency_sanitaria",
    }.get(kind, "emergency")
    if state.step is Step.HUMAN:  # an operator is there: numbers first, queue priority raised
        point = point_for(state.need.comune, ctx.social_points).id
        return Outcome(state, (Reply(say(key)),), (HandoffRequested("emergenza", point, True),))
    return hand_off(state, ctx, reason="emergenza", priority=True, prefix=(Reply(say(key)),))


def on_operator(state: DialogueState, _t: Turn, ctx: FlowContext) -> Outcome:
    offered = state.step in {Step.OFFER_OPERATOR, Step.SUGGESTED}
    reason = state.offer_reason if offered and state.offer_reason else "richiesta"
    return hand_off(state, ctx, reason=reason)


def on_restart(state: DialogueState, _t: Turn, ctx: FlowContext) -> Outcome:
    left_queue = (HandoffCancelled(),) if state.step in QUEUED else ()
    if state.consent is None:  # Telegram's /start on first contact: the welcome
        out = welcome(ctx)
        return Outcome(out.state, out.replies, left_queue)
    fresh = DialogueState(consent=state.consent, step=Step.ASK_CATEGORY)
    outcome = advance(fresh, ctx, prefix=(Reply(say("restart")),))
    return Outcome(outcome.state, outcome.replies, left_queue)


def on_open(state: DialogueState, _t: Turn, ctx: FlowContext) -> Outcome:
    """The web chat page was opened: the welcome, or the pending question again."""
    if state.step is Step.START:
        return welcome(ctx)
    back = Reply(say("welcome_back"))
    if state.step is Step.HUMAN:
        return Outcome(state, (back,))
    question = state.question or say("followup_question")
    return Outcome(state, (back, Reply(question, tuple(state.buttons))))


def on_need(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    assert turn.intent is not None
    categoria = turn.intent.removeprefix(NEED_PREFIX)
    if categoria not in group("categories"):  # a forged `cat:` payload
        return on_not_understood(state, turn, ctx)
    new = start_need(state, categoria, turn)
    new.queued.extend(c for c in other_needs(turn, categoria) if c not in new.queued)
    return advance(new, ctx)


def on_slots(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    """The message gave slots: a search already made is made again, else the next question."""
    if turn.payload == "comune:other":
        return ask(state, Step.ASK_COMUNE, say("ask_comune_again"), (), ())
    new = state.model_copy(update={"misses": 0})
    if state.step in SEARCHED and new.need.categoria:
        return suggest(new.model_copy(update={"shown": []}), ctx, general=state.consent is False)
    return advance(new, ctx)


def on_ack(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    """ "sì, grazie" after the suggestions."""
    return Outcome(state, (Reply(say("you_are_welcome"), tuple(state.buttons)),))


def on_more(state: DialogueState, _t: Turn, ctx: FlowContext) -> Outcome:
    return suggest(state, ctx, more=True, general=state.consent is False)


def on_other_need(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    return ask(state, Step.ASK_CATEGORY, say("ask_category"), category_buttons())


def on_decline_operator(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    buttons = followup_buttons(state)
    new = state.model_copy(update={"step": Step.SUGGESTED, "buttons": list(buttons)})
    return Outcome(new, (Reply(say("followup_question"), buttons),))


def on_not_understood(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    if turn.degraded:
        buttons = _step_buttons(state, ctx)
        return Outcome(
            state.model_copy(update={"buttons": list(buttons)}), (Reply(say("degraded"), buttons),)
        )
    misses = state.misses + 1
    if misses >= 2:
        buttons = YES_NO
        new = state.model_copy(
            update={
                "misses": 0,
                "step": Step.OFFER_OPERATOR,
                "buttons": list(buttons),
                "offer_reason": "non_capito",
            }
        )
        return Outcome(new, (Reply(say("not_understood_again"), buttons),))
    buttons = _step_buttons(state, ctx)
    new = state.model_copy(update={"misses": misses, "buttons": list(buttons)})
    text = {Step.ASK_COMUNE: "ask_comune_again", Step.ASK_AGE: "ask_age_again"}.get(
        state.step, "not_understood"
    )
    return Outcome(new, (Reply(say(text), buttons),))


def _step_buttons(state: DialogueState, ctx: FlowContext) -> tuple[Button, ...]:
    if state.step is Step.ASK_COMUNE:
        return comune_buttons(ctx)
    if state.step is Step.ASK_AGE:
        return (Button(say("dont_know_button"), "eta:unknown"),)
    return category_buttons()


CONSENTED = frozenset(set(Step) - {Step.START, Step.CONSENT})
QUEUED = frozenset({Step.HUMAN, Step.OFFER_CALLBACK, Step.ASK_PHONE})
# Where any message may carry slots; elsewhere the bot waits for one precise answer.
READS = CONSENTED - QUEUED - {Step.CONFIRM_ERASE, Step.ASK_RATING}
PENDING = frozenset({Step.ASK_CATEGORY, Step.ASK_COMUNE, Step.ASK_AGE})
SEARCHED = frozenset({Step.SUGGESTED, Step.OFFER_OPERATOR})
YES_OR_NO = intent_is("affermazione", "negazione")


def only(*steps: Step) -> frozenset[Step]:
    return frozenset(steps)


def has_changes(_s: DialogueState, turn: Turn) -> bool:
    return bool(turn.changes) or turn.payload == "comune:other"


def digression(handler: Handler) -> Handler:
    """Answers an aside, then asks the pending question again (or the next one, when the
    aside also answered it)."""

    def answer(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
        out = handler(state, turn, ctx)
        if state.step is Step.CONSENT:  # an aside before the yes: the consent is asked again
            aside = tuple(Reply(r.text) for r in out.replies)
            follow = on_consent_missing(state, turn, ctx)
            return Outcome(follow.state, (*aside, *follow.replies), out.events + follow.events)
        if state.step not in PENDING or not state.question:
            return out
        aside = tuple(Reply(r.text) for r in out.replies)  # one set of buttons: the question's
        if turn.changes:
            follow = advance(out.state.model_copy(update={"step": state.step}), ctx)
        else:
            kept = {"step": state.step, "buttons": state.buttons, "question": state.question}
            follow = Outcome(
                out.state.model_copy(update=kept), (Reply(state.question, tuple(state.buttons)),)
            )
        return Outcome(follow.state, (*aside, *follow.replies), out.events + follow.events)

    return answer


def on_early_question(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    return Outcome(state, (Reply(say("followup.not_yet")),))


def _greeting(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    if state.step in PENDING and state.question:  # "ciao" mid-interview: just a hello back
        return Outcome(state, (Reply(say("still_there")),))
    return on_greeting(state, turn, ctx)


RULES: tuple[Rule, ...] = (
    Rule(intent_is("emergenza"), on_emergency),
    Rule(payload_is("menu:restart"), on_restart),
    Rule(payload_is("menu:open"), on_open),
    Rule(always, on_human_holds, only(Step.HUMAN)),
    Rule(YES_OR_NO, on_callback_answer, only(Step.OFFER_CALLBACK)),
    Rule(always, on_human_holds, only(Step.OFFER_CALLBACK)),
    Rule(intent_is("negazione"), on_callback_answer, only(Step.ASK_PHONE)),
    Rule(always, on_phone, only(Step.ASK_PHONE)),
    Rule(YES_OR_NO, on_erase_answer, only(Step.CONFIRM_ERASE)),
    Rule(is_rating, on_rating, only(Step.ASK_RATING)),
    Rule(intent_is("disiscrizione"), on_unsubscribe),
    Rule(intent_is("cancellazione_dati"), on_erase_request),
    # At START the welcome and the consent question come first (flows/intake.py).
    Rule(intent_is("richiesta_operatore"), on_operator, frozenset(set(Step) - {Step.START})),
    Rule(is_followup, on_followup, SEARCHED),
    Rule(is_public_question, digression(on_public_question)),
    # "ma è gratis?" before any service was shown: not a question about the bot itself.
    Rule(is_early_question, digression(on_early_question), PENDING),
    Rule(intent_is("orari_sedi"), digression(on_hours)),
    Rule(intent_is("info_assistente"), digression(on_info)),
    Rule(lambda _s, t: t.has_media and not t.text, on_media),
    Rule(payload_is("location:far"), on_location_far, CONSENTED),
    Rule(is_subscription_answer, on_subscription_answer, CONSENTED),
    Rule(always, on_first_message, only(Step.START)),
    Rule(YES_OR_NO, on_consent, only(Step.CONSENT)),
    Rule(always, on_consent_missing, only(Step.CONSENT)),
    Rule(has_changes, on_slots, only(Step.OFFER_OPERATOR)),
    Rule(intent_is("affermazione"), on_operator, only(Step.OFFER_OPERATOR)),
    Rule(intent_is("negazione"), on_decline_operator, only(Step.OFFER_OPERATOR)),
    Rule(is_need, on_need),
    Rule(payload_is("menu:more"), on_more, only(Step.SUGGESTED)),
    Rule(payload_is("menu:other"), on_other_need),
    Rule(has_changes, on_slots, READS),
    Rule(intent_is("affermazione"), on_ack, only(Step.SUGGESTED)),
    Rule(intent_is("congedo", "negazione"), on_goodbye, only(Step.SUGGESTED)),
    Rule(intent_is("congedo"), on_goodbye),
    Rule(intent_is("ringraziamento"), digression(on_thanks)),
    Rule(intent_is("saluto"), digression(_greeting)),
    Rule(intent_is("chiedi_contributi"), digression(on_contributi)),
    Rule(intent_is("iscrizione_aggiornamenti"), on_subscribe),
    Rule(intent_is("fuori_ambito"), digression(on_out_of_scope)),
)


YES_NO_QUESTIONS = frozenset(
    {Step.CONSENT, Step.OFFER_OPERATOR, Step.OFFER_CALLBACK, Step.CONFIRM_ERASE}
)


def _yes_or_no(state: DialogueState, turn: Turn) -> Turn:
    """ "si grazie" to a yes/no question is a yes, whatever else the NLU heard in it."""
    short = turn.text is not None and len(turn.text.split()) <= 4
    if turn.payload is not None or not short or turn.intent in {"affermazione", "negazione"}:
        return turn
    for answer in ("yes", "no"):
        if is_only(f"answer_{answer}", turn.text):
            payload = f"consent:{answer}" if state.step is Step.CONSENT else answer
            return Turn(text=turn.text, payload=payload)
    return turn


def _contextual(state: DialogueState, turn: Turn) -> Turn:
    """A typed "2" presses the second button, except where the question wants a number."""
    if state.step in YES_NO_QUESTIONS:
        turn = _yes_or_no(state, turn)
    if turn.payload is not None or not state.buttons or state.step is Step.ASK_AGE:
        return turn
    if turn.text and (payload := payload_for_number(turn.text, tuple(state.buttons))):
        return Turn(text=turn.text, payload=payload)  # "2" on a text-only channel
    return turn


def _acknowledged(outcome: Outcome, turn: Turn) -> Outcome:
    """Says which values a correction changed ("Ok, correggo: abiti a Tradate.")."""
    corrected = [c for c in turn.changes if c.corrected]
    urgent = any(isinstance(e, HandoffRequested) and e.priority for e in outcome.events)
    if not corrected or urgent or not outcome.replies:
        return outcome
    values = ", ".join(render.change(c) for c in corrected)
    note = Reply(say("correction_noted", valori=values))
    return Outcome(outcome.state, (note, *outcome.replies), outcome.events)


def step(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    """Answers one message. Pure: no I/O, same input -> same output."""
    turn = _contextual(state, turn)
    # A question about the services shown sets no slot: "e quello di Tradate?" is no move.
    if state.step in READS and not (state.step in SEARCHED and is_followup(state, turn)):
        need, changes = read(state, turn, ctx.places)
        if changes:
            state = state.model_copy(update={"need": need})
            turn = replace(turn, changes=changes)
    for rule in RULES:
        if (rule.steps is None or state.step in rule.steps) and rule.matches(state, turn):
            return _acknowledged(rule.handle(state, turn, ctx), turn)
    return on_not_understood(state, turn, ctx)
