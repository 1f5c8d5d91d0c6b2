"""The conversation as an explicit state machine.

`step(state, turn, ctx)` is pure: it returns the new state, the replies and the events
(needs identified, handoffs requested); the app does the I/O. Rules are tried in order:
first those valid in every state, then those of the current step, then the fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
from flows.copy import say
from flows.handoff import (
    hand_off,
    on_callback_answer,
    on_human_holds,
    on_phone,
    on_rating,
)
from flows.hours import point_for
from flows.interview import (
    YES_NO,
    absorb,
    advance,
    ask,
    category_buttons,
    comune_buttons,
    followup_buttons,
    other_needs,
    start_need,
    suggest,
)
from flows.replies import Button, Reply, payload_for_number
from flows.state import DialogueState, Need, Step
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


def has_need_info(_s: DialogueState, turn: Turn) -> bool:
    return bool(turn.payload_value("comune") or turn.payload == "eta:unknown") or bool(
        turn.parse and turn.parse.entities
    )


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
    fresh = DialogueState(consent=state.consent, step=Step.ASK_CATEGORY)
    if state.consent is None:
        fresh = DialogueState()
        return Outcome(fresh, (Reply(say("restart")),), left_queue)
    outcome = advance(fresh, ctx, prefix=(Reply(say("restart")),))
    return Outcome(outcome.state, outcome.replies, left_queue)


def on_first_message(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    # Until consent only the category and comune are kept (see DialogueState).
    intent = turn.intent or ""
    categoria = intent.removeprefix(NEED_PREFIX) if intent.startswith(NEED_PREFIX) else None
    buttons = (
        Button(say("consent_yes_button"), "consent:yes"),
        Button(say("consent_no_button"), "consent:no"),
    )
    text = "\n\n".join(
        (
            say("welcome", territory=ctx.territory),
            say("privacy_notice", privacy_url=ctx.privacy_url),
            say("consent_question"),
        )
    )
    need = Need(categoria=categoria, comune=absorb(Need(), turn).comune)
    new = DialogueState(step=Step.CONSENT, buttons=list(buttons), need=need)
    return Outcome(new, (Reply(text, buttons),))


def on_consent(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    yes = turn.intent == "affermazione"
    new = state.model_copy(update={"consent": yes})
    if new.need.categoria is None:
        first = Reply(say("consent_given" if yes else "consent_refused"))
        return ask(new, Step.ASK_CATEGORY, say("ask_category"), category_buttons(), (first,))
    # The need is already known: go on with it instead of asking "di cosa hai bisogno?".
    first = Reply(say("consent_thanks" if yes else "consent_refused"))
    return advance(new, ctx, prefix=(first,))


def on_consent_missing(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    return Outcome(state, (Reply(say("consent_reminder"), tuple(state.buttons)),))


def on_need(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    assert turn.intent is not None
    categoria = turn.intent.removeprefix(NEED_PREFIX)
    new = start_need(state, categoria)
    new = new.model_copy(update={"need": absorb(new.need, turn)})
    new.queued.extend(c for c in other_needs(turn, categoria) if c not in new.queued)
    return advance(new, ctx)


def on_need_info(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    need = absorb(state.need, turn)
    if turn.payload == "comune:other":
        return ask(state, Step.ASK_COMUNE, say("ask_comune_again"), (), ())
    if need == state.need:
        return on_not_understood(state, turn, ctx)
    new = state.model_copy(update={"need": need, "misses": 0, "shown": []})
    return advance(new, ctx)


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
YES_OR_NO = intent_is("affermazione", "negazione")


def only(*steps: Step) -> frozenset[Step]:
    return frozenset(steps)


RULES: tuple[Rule, ...] = (
    Rule(intent_is("emergenza"), on_emergency),
    Rule(payload_is("menu:restart"), on_restart),
    Rule(always, on_human_holds, only(Step.HUMAN)),
    Rule(YES_OR_NO, on_callback_answer, only(Step.OFFER_CALLBACK)),
    Rule(always, on_human_holds, only(Step.OFFER_CALLBACK)),
    Rule(intent_is("negazione"), on_callback_answer, only(Step.ASK_PHONE)),
    Rule(always, on_phone, only(Step.ASK_PHONE)),
    Rule(YES_OR_NO, on_erase_answer, only(Step.CONFIRM_ERASE)),
    Rule(is_rating, on_rating, only(Step.ASK_RATING)),
    Rule(intent_is("disiscrizione"), on_unsubscribe),
    Rule(intent_is("cancellazione_dati"), on_erase_request),
    Rule(intent_is("richiesta_operatore"), on_operator),
    Rule(intent_is("orari_sedi"), on_hours),
    Rule(intent_is("info_assistente"), on_info),
    Rule(lambda _s, t: t.has_media and not t.text, on_media),
    Rule(payload_is("location:far"), on_location_far, CONSENTED),
    Rule(is_subscription_answer, on_subscription_answer, CONSENTED),
    Rule(always, on_first_message, only(Step.START)),
    Rule(YES_OR_NO, on_consent, only(Step.CONSENT)),
    Rule(always, on_consent_missing, only(Step.CONSENT)),
    Rule(intent_is("affermazione"), on_operator, only(Step.OFFER_OPERATOR)),
    Rule(intent_is("negazione"), on_decline_operator, only(Step.OFFER_OPERATOR)),
    Rule(is_need, on_need),
    Rule(payload_is("menu:more"), on_more, only(Step.SUGGESTED)),
    Rule(payload_is("menu:other"), on_other_need),
    Rule(intent_is("congedo"), on_goodbye),
    Rule(intent_is("ringraziamento"), on_thanks),
    Rule(intent_is("saluto"), on_greeting),
    Rule(intent_is("chiedi_contributi"), on_contributi),
    Rule(intent_is("iscrizione_aggiornamenti"), on_subscribe),
    Rule(has_need_info, on_need_info, CONSENTED),
    Rule(intent_is("fuori_ambito"), on_out_of_scope),
)


def step(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    """Answers one message. Pure: no I/O, same input -> same output."""
    number = turn.text if turn.payload is None and state.buttons else None
    if number and (payload := payload_for_number(number, tuple(state.buttons))):
        turn = Turn(text=turn.text, payload=payload)  # "2" on a text-only channel
    for rule in RULES:
        if (rule.steps is None or state.step in rule.steps) and rule.matches(state, turn):
            return rule.handle(state, turn, ctx)
    return on_not_understood(state, turn, ctx)
