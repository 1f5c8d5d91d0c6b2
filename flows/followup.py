"""Questions about the services just shown, answered from their catalogue cards.

"quanto costa il secondo?", "ma il sabato ci sono?", "come si fa domanda per il
telesoccorso?": the fact asked for (an aspect of lexicon.yml) and the service meant, by
position ("il primo"), by name or place ("quello di Tradate"), or implicitly (the one last
asked about, else every service of the last page).
"""

from __future__ import annotations

import re

from catalog.schema import Service
from catalog.vocab import Giorno
from flows import render
from flows.copy import group, say
from flows.lexicon import lexicon, says
from flows.replies import Reply
from flows.state import DialogueState
from flows.turn import FlowContext, Outcome, Turn
from nlu.text import normalise

ASPECTS = ("cost", "access", "where", "hours", "contacts", "eligibility", "dates")
_DAYS = {
    "lunedi": Giorno.LUN,
    "martedi": Giorno.MAR,
    "mercoledi": Giorno.MER,
    "giovedi": Giorno.GIO,
    "venerdi": Giorno.VEN,
    "sabato": Giorno.SAB,
    "domenica": Giorno.DOM,
    "weekend": Giorno.SAB,
}
# Words too common in service names to tell them apart.
_COMMON = frozenset(
    ["servizio", "servizi", "centro", "comune", "progetto", "sportello", "della", "delle", "degli"]
)


def aspects(text: str | None) -> list[str]:
    """The facts a message asks about, in a fixed order."""
    return [a for a in ASPECTS if says(f"aspects.{a}", text)]


def about_front_desk(text: str | None) -> bool:
    """ "a che ora aprite?": the Social Point itself, not a service."""
    return says("front_desk", text)


def _page(state: DialogueState, ctx: FlowContext) -> list[Service]:
    found = (ctx.catalog.service(i) for i in state.page)
    return [s for s in found if s is not None]


def _by_position(text: str, page: list[Service]) -> list[Service]:
    norm = normalise(text)
    for key, expr in lexicon()["positions"].items():
        if re.search(rf"(?<![a-z0-9])(?:{expr})(?![a-z0-9])", norm):
            index = len(page) - 1 if key == "last" else int(key) - 1
            return [page[index]] if 0 <= index < len(page) else []
    return []


def _stem(word: str) -> str:
    """ "pasto" and "pasti" alike: Italian singular and plural differ in the last vowel."""
    return word[:-1] if len(word) >= 5 else word


def _by_name(text: str, page: list[Service], ctx: FlowContext) -> list[Service]:
    norm = {_stem(w) for w in normalise(text).split()}
    places = set(ctx.places.find_comuni(text))
    names = [{_stem(w) for w in normalise(s.nome).split() if w not in _COMMON} for s in page]
    shared = {w for i, n in enumerate(names) for w in n if any(w in m for m in names[i + 1 :])}
    scores = []
    for service, name in zip(page, names, strict=True):
        words = {w for w in name - shared if len(w) >= 4}
        sedi = {sede.comune for sede in service.sedi} or set(service.area_servita)
        scores.append(2 * len(words & norm) + 2 * len(places & sedi))
    best = max(scores, default=0)
    return [s for s, sc in zip(page, scores, strict=True) if best and sc == best]


def referenced(state: DialogueState, text: str, ctx: FlowContext) -> list[Service]:
    """The services a question is about: named (among all shown; "la misura b2" is a name,
    not the second), by position (on the last page), the last asked about, or all of the
    last page."""
    page = _page(state, ctx)
    shown = [s for s in (ctx.catalog.service(i) for i in state.shown) if s is not None]
    named = _by_name(text, shown or page, ctx) or _by_position(text, page)
    if named:
        return named
    focus = ctx.catalog.service(state.focus) if state.focus else None
    return [focus] if focus else page


def is_followup(state: DialogueState, turn: Turn) -> bool:
    """A question about the services on screen (not about the Social Point's own hours)."""
    return bool(state.page and turn.text and aspects(turn.text)) and not about_front_desk(turn.text)


def is_early_question(state: DialogueState, turn: Turn) -> bool:
    """ "ma è gratis?" before any service was shown."""
    return not state.page and bool(aspects(turn.text)) and not about_front_desk(turn.text)


def _contact(s: Service) -> str:
    c = s.contatti
    return ", ".join(x for x in (c.telefono, c.email, c.web) if x)


def _day(text: str) -> Giorno | None:
    norm = normalise(text).split()
    return next((_DAYS[w] for w in norm if w in _DAYS), None)


def _hours(s: Service, day: Giorno | None) -> str:
    if not s.orari or not s.orari.fasce:
        note = s.orari.nota if s.orari and s.orari.nota else None
        hours = say("followup.hours_none", nome=s.nome, contatto=_contact(s))
        return f"{hours} {note}" if note else hours
    hours = "; ".join(render.days(f) for f in s.orari.fasce)
    if day is None:
        return say("followup.hours", nome=s.nome, orari=hours)
    giorno = group("giorni_long")[day.value]
    spans = [f for f in s.orari.fasce if day in f.giorni]
    if spans:
        times = ", ".join(f"{f.dalle:%H:%M}-{f.alle:%H:%M}" for f in spans)
        return say("followup.day_open", nome=s.nome, giorno=giorno, orari=times)
    return say("followup.day_closed", nome=s.nome, giorno=giorno, orari=hours)


def _eligibility(s: Service) -> str:
    req = s.requisiti
    parts = [say("followup.eligibility", nome=s.nome, destinatari=s.destinatari.rstrip("."))]
    if req.isee_max is not None:
        isee = render.euro(req.isee_max)
        parts.append(say("checks.isee_max", isee_tipo=req.isee_tipo or "", isee_max=isee))
    if req.comuni_residenza:
        parts.append(say("checks.residenza_richiesta", comuni=", ".join(req.comuni_residenza)))
    if req.genitori_lavoratori:
        parts.append(say("checks.genitori_lavoratori"))
    if req.certificazioni:
        parts.append(say("checks.certificazione"))
    if req.nota:
        parts.append(req.nota.rstrip("."))
    return "; ".join(parts) + "."


def _dates(s: Service) -> str:
    lines = []
    if (w := s.accesso.finestra_domanda) is not None:
        lines.append(
            say(
                "followup.dates_window", nome=s.nome, dal=f"{w.dal:%d/%m/%Y}", al=f"{w.al:%d/%m/%Y}"
            )
        )
    if s.periodo_attivita is not None:
        lines.append(
            say("followup.dates_period", nome=s.nome, periodo=render.period(s.periodo_attivita))
        )
    return " ".join(lines) or say("followup.dates_none", nome=s.nome)


def answer(s: Service, aspect: str, text: str) -> str:
    """One fact of one service, in a sentence."""
    if aspect == "cost":
        note = f" {s.costo.nota}" if s.costo.nota else ""
        return say("followup.cost", nome=s.nome, costo=render.cost(s.costo)) + note
    if aspect == "access":
        steps = " ".join(s.accesso.passi) or say("followup.access_none", contatto=_contact(s))
        docs = say("followup.documents", documenti="; ".join(s.accesso.documenti))
        return say("followup.access", nome=s.nome, passi=steps) + (
            f" {docs}" if s.accesso.documenti else ""
        )
    if aspect == "where":
        return say("followup.where", nome=s.nome, dove=render.where(s))
    if aspect == "hours":
        return _hours(s, _day(text))
    if aspect == "contacts":
        return say("followup.contacts", nome=s.nome, contatti=_contact(s))
    if aspect == "eligibility":
        return _eligibility(s)
    return _dates(s)


def on_followup(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    """Answers from the cards; the service asked about becomes the implicit one next time."""
    text = turn.text or ""
    services = referenced(state, text, ctx)
    lines = [answer(s, a, text) for s in services for a in aspects(text)]
    focus = services[0].id if len(services) == 1 else state.focus
    new = state.model_copy(update={"focus": focus, "misses": 0})
    return Outcome(new, (Reply("\n".join(lines), tuple(state.buttons)),))
