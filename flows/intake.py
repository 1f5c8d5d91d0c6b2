"""First contact: the welcome, the consent question and what was said before the answer.

The first message is understood at once. Until the consent answer only its category and
comune live in the clear state; everything else it said (ages, family member, schedule, the
text itself) waits in `DialogueState.intake`, which the app stores encrypted. After "sì"
the interview goes on from it, after "no" it is dropped and the resident gets general
information; after INTAKE_TTL it is forgotten.
"""

from __future__ import annotations

from datetime import timedelta

from flows import render
from flows.copy import say
from flows.handoff import hand_off
from flows.interview import advance, ask, category_buttons, for_whom, other_needs
from flows.lexicon import says
from flows.replies import Button, Reply
from flows.slots import read
from flows.state import DialogueState, Intake, Need, Step
from flows.turn import NEED_PREFIX, FirstMessageKept, FlowContext, Outcome, Turn

INTAKE_TTL = timedelta(minutes=30)
CONSENT_BUTTONS = (
    Button(say("consent_yes_button"), "consent:yes"),
    Button(say("consent_no_button"), "consent:no"),
)


def _categoria(turn: Turn) -> str | None:
    intent = turn.intent or ""
    return intent.removeprefix(NEED_PREFIX) if intent.startswith(NEED_PREFIX) else None


def welcome(ctx: FlowContext, intake: Intake | None = None) -> Outcome:
    """The welcome, the privacy notice and the consent question."""
    text = "\n\n".join(
        (
            say("welcome", territory=ctx.territory),
            say("privacy_notice", privacy_url=ctx.privacy_url),
            say("consent_question"),
        )
    )
    need = intake.need if intake else Need()
    coarse = Need(categoria=need.categoria, comune=need.comune)
    new = DialogueState(
        step=Step.CONSENT,
        buttons=list(CONSENT_BUTTONS),
        need=coarse,
        intake=intake,
        question=say("consent_question"),
    )
    return Outcome(new, (Reply(text, CONSENT_BUTTONS),))


def on_first_message(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    """Whatever comes first gets the welcome; what it said waits for the consent answer."""
    if not turn.text or turn.payload:
        return welcome(ctx)
    need, _changes = read(state, turn, ctx.places)
    # a need the NLU ranked close behind, and whom it is for
    categoria = for_whom(_categoria(turn) or need.categoria, need.familiare)
    need = need.model_copy(update={"categoria": categoria})
    queued = [c for c in other_needs(turn, categoria) if c != categoria] if categoria else []
    # A person, once consent is answered.
    operator = turn.intent == "richiesta_operatore" or says("wants_person", turn.text)
    intake = Intake(text=turn.text, at=ctx.now, need=need, queued=queued, operator=operator)
    return welcome(ctx, intake)


def fresh_intake(state: DialogueState, ctx: FlowContext) -> Intake | None:
    """The intake, unless it is older than INTAKE_TTL."""
    intake = state.intake
    return intake if intake and ctx.now - intake.at <= INTAKE_TTL else None


def on_consent_missing(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    """More words before the answer: kept with the intake, and the question asked again."""
    intake = fresh_intake(state, ctx)
    if turn.text and intake is not None:
        need, changes = read(state.model_copy(update={"need": intake.need}), turn, ctx.places)
        categoria = for_whom(_categoria(turn) or need.categoria, need.familiare)
        if changes or categoria != need.categoria:
            need = need.model_copy(update={"categoria": categoria})
            intake = intake.model_copy(update={"need": need})
    elif turn.text and _categoria(turn):
        intake = Intake(text=turn.text, at=ctx.now, need=Need(categoria=_categoria(turn)))
    new = state.model_copy(update={"intake": intake})
    return Outcome(new, (Reply(say("consent_reminder"), tuple(state.buttons)),))


def on_consent(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    """ "Sì": the interview goes on from the intake. "No": general information only."""
    yes = turn.intent == "affermazione"
    intake = fresh_intake(state, ctx)
    need = intake.need if intake else state.need
    new = state.model_copy(
        update={
            "consent": yes,
            "need": need,
            "queued": intake.queued if intake else [],
            "intake": None,
            "step": Step.ASK_CATEGORY,
        }
    )
    need, _changes = read(new, turn, ctx.places)  # "sì, abitiamo a Tradate"
    new = new.model_copy(update={"need": need if yes else state.need})
    events = (FirstMessageKept(intake.text),) if yes and intake else ()
    if intake and intake.operator:  # asked for a person first: the person, whatever the answer
        out = hand_off(new, ctx, reason="richiesta")
        return Outcome(out.state, out.replies, events + out.events)
    if not yes:
        return _general_information(new, ctx)
    if new.need.categoria is None:
        first = Reply(say("consent_given"))
        out = ask(new, Step.ASK_CATEGORY, say("ask_category"), category_buttons(), (first,))
    else:
        out = advance(new, ctx)
        asking = out.state.step in {Step.ASK_COMUNE, Step.ASK_AGE}
        thanks = Reply(say("consent_thanks" if asking else "consent_thanks_short"))
        out = Outcome(out.state, (thanks, *out.replies), out.events)
    return Outcome(out.state, out.replies, events + out.events)


def _general_information(state: DialogueState, ctx: FlowContext) -> Outcome:
    """Consent refused: matching services without personal details, and the Social Points."""
    points = render.social_points_reply(ctx)
    if state.need.categoria is None:
        first = Reply(say("consent_refused"))
        prefix = (first, points)
        return ask(state, Step.ASK_CATEGORY, say("ask_category"), category_buttons(), prefix)
    out = advance(state, ctx, prefix=(Reply(say("consent_refused_general")),))
    replies = out.replies  # the contacts before the closing question and its buttons
    return Outcome(out.state, (*replies[:-1], points, replies[-1]), out.events)
