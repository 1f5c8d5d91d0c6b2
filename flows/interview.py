"""The interview: fill the need from what the resident says, ask only what is missing, suggest."""

from __future__ import annotations

from catalog.matching import NeedProfile, match
from flows import render
from flows.copy import group, say
from flows.replies import Button, Reply
from flows.state import DialogueState, Need, Step
from flows.subscriptions import offer_button
from flows.turn import NEED_PREFIX, Change, FlowContext, NeedRecorded, Outcome, Turn

YES_NO = (Button(say("yes_button"), "yes"), Button(say("no_button"), "no"))
AGE_CATEGORIES = frozenset({"prima_infanzia", "extrascuola", "chiusure_scolastiche"})
PAGE = 3


def category_buttons() -> tuple[Button, ...]:
    return tuple(Button(title, f"cat:{cat}") for cat, title in group("categories").items())


def comune_buttons(ctx: FlowContext) -> tuple[Button, ...]:
    return tuple(Button(c, f"comune:{c}") for c in ctx.comuni)


def followup_buttons(state: DialogueState) -> tuple[Button, ...]:
    buttons = [
        Button(say("more_button"), "menu:more"),
        Button(say("operator_button"), "menu:operator"),
        Button(say("other_need_button"), "menu:other"),
        Button(say("done_button"), "menu:done"),
    ]
    # "Avvisami" when a service for this need opens (campaigns), before "Ho finito".
    buttons[-1:-1] = offer_button(state)
    if state.queued:  # the next need the resident mentioned comes first
        cat = state.queued[0]
        buttons.insert(0, Button(group("categories")[cat], f"cat:{cat}"))
    return tuple(buttons)


# Errands and meals for the resident's parents or grandparents are help at home, not the
# time-saving services a working resident buys for their own time ("qualcuno che le porti
# da mangiare", after "mia suocera vive da sola").
OLDER_RELATIVES = frozenset({"madre", "padre", "nonno", "nonna", "suocero", "suocera"})


def for_whom(categoria: str | None, familiare: str | None) -> str | None:
    """The need's category, given whom it is for."""
    if categoria == "salvatempo" and familiare in OLDER_RELATIVES:
        return "domiciliarita"
    return categoria


def start_need(state: DialogueState, categoria: str, turn: Turn) -> DialogueState:
    """A new topic: keeps where the resident lives and their working hours, forgets whom
    the last need was for (except what this very message says)."""
    old = state.need
    # From the nursery to the summer camp the children are the same: keep their ages.
    children = old.categoria in AGE_CATEGORIES and categoria in AGE_CATEGORIES
    need = Need(
        categoria=categoria,
        comune=old.comune,
        comune_unknown=old.comune_unknown,
        orario=old.orario,
        vincoli=old.vincoli,
        eta=old.eta if children else [],
    )
    need = apply(need, turn.changes)
    categoria = for_whom(categoria, need.familiare) or categoria
    need = need.model_copy(update={"categoria": categoria})
    queued = [c for c in state.queued if c != categoria]
    return state.model_copy(
        update={"need": need, "queued": queued, "shown": [], "page": [], "focus": None}
    )


def apply(need: Need, changes: tuple[Change, ...]) -> Need:
    """The need with the slots a message set."""
    update = {c.slot: c.new for c in changes if c.slot in Need.model_fields}
    return need.model_copy(update=update) if update else need


def other_needs(turn: Turn, first: str) -> list[str]:
    """Further needs in the same message ("nido per il piccolo e centro estivo per la grande")."""
    if turn.parse is None:
        return []
    return [
        name.removeprefix(NEED_PREFIX)
        for name, conf in turn.parse.ranking
        if name.startswith(NEED_PREFIX) and name.removeprefix(NEED_PREFIX) != first and conf >= 0.25
    ]


def advance(state: DialogueState, ctx: FlowContext, *, prefix: tuple[Reply, ...] = ()) -> Outcome:
    """Asks the next missing question, or suggests services when the need is complete."""
    need = state.need
    if need.categoria is None:
        return ask(state, Step.ASK_CATEGORY, say("ask_category"), category_buttons(), prefix)
    if need.comune is None and not need.comune_unknown:
        return ask(state, Step.ASK_COMUNE, say("ask_comune"), comune_buttons(ctx), prefix)
    if state.consent is False:  # general information only: no questions about the family
        return suggest(state, ctx, general=True, prefix=prefix)
    if need.categoria in AGE_CATEGORIES and not need.eta and not need.eta_unknown:
        question = say(f"ask_age.{need.categoria}")
        dont_know = (Button(say("dont_know_button"), "eta:unknown"),)
        return ask(state, Step.ASK_AGE, question, dont_know, prefix)
    return suggest(state, ctx, prefix=prefix)


def ask(
    state: DialogueState,
    step: Step,
    text: str,
    buttons: tuple[Button, ...],
    prefix: tuple[Reply, ...] = (),
) -> Outcome:
    misses = state.misses if step is state.step else 0  # counted per question
    update = {"step": step, "buttons": list(buttons), "question": text, "misses": misses}
    return Outcome(state.model_copy(update=update), (*prefix, Reply(text, buttons)))


def suggest(
    state: DialogueState,
    ctx: FlowContext,
    *,
    general: bool = False,
    more: bool = False,
    prefix: tuple[Reply, ...] = (),
) -> Outcome:
    """Shows the next page of matching services (general: without family details)."""
    need = state.need
    assert need.categoria is not None
    profile = NeedProfile(
        categoria=need.categoria,
        comune=need.comune,
        eta=() if general else tuple(need.ages),
        familiare=None if general else need.familiare,
        orario=None if general else need.orario,
        mesi=tuple(need.mesi),
        vincoli=() if general else tuple(need.vincoli),
    )
    outcome = match(ctx.catalog, profile, today=ctx.today)
    label = group("categories")[need.categoria]
    fresh = [m for m in outcome.matches if m.service.id not in state.shown]
    page = fresh[:PAGE]
    event = NeedRecorded(
        categoria=need.categoria,
        comune=profile.comune,
        eta=profile.eta,
        familiare=profile.familiare,
        matched=not outcome.unmet,
    )
    events = () if more else (event,)
    if outcome.unmet:
        no_match = say("no_match", categoria=label, comune=need.comune or ctx.territory)
        buttons: tuple[Button, ...] = YES_NO
        new = state.model_copy(
            update={
                "step": Step.OFFER_OPERATOR,
                "buttons": list(buttons),
                "offer_reason": "nessun_servizio",
                "question": say("no_match_offer"),
                "page": [],
            }
        )
        replies = (*prefix, Reply(no_match), Reply(say("no_match_offer"), buttons))
        return Outcome(new, replies, events)
    if not page:
        buttons = followup_buttons(state)
        new = state.model_copy(update={"step": Step.SUGGESTED, "buttons": list(buttons)})
        return Outcome(new, (*prefix, Reply(say("no_more_options"), buttons)), events)
    if more:
        intro = say("more_intro")
    else:
        intro = say("suggestions_intro", categoria=label, comune=need.comune or ctx.territory)
    cards = tuple(Reply(render.match_card(m)) for m in page)
    shown = [*state.shown, *(m.service.id for m in page)]
    assessed = [m.service for m in page if m.service.richiede_valutazione]
    new = state.model_copy(
        update={
            "step": Step.SUGGESTED,
            "shown": shown,
            "page": [m.service.id for m in page],
            "focus": None,
            "question": None,
            "offer_reason": "valutazione" if assessed else None,
        }
    )
    buttons = followup_buttons(new)
    new = new.model_copy(update={"buttons": list(buttons)})
    notes = [say("assessment_offer", nome=s.nome) for s in assessed[:1]]
    if any(m.service.provenienza == "esempio" for m in page):
        notes.append(say("demo_data_note"))
    closing = Reply("\n".join([*notes, say("subscribe_offer"), say("followup_question")]), buttons)
    return Outcome(new, (*prefix, Reply(intro), *cards, closing), events)
