"""Phone-friendly text for services, Social Points and times (copy from messages.it.yml)."""

from __future__ import annotations

from datetime import date, datetime

from catalog.matching import Match, Note
from catalog.schema import Costo, Service
from flows.copy import group, say
from flows.replies import Reply
from flows.turn import FlowContext, SocialPointInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _euro(value: float) -> str:
    return (
        f"{value:,.0f}".replace(",", ".")
        if value == int(value)
        else f"{value:.2f}".replace(".", ",")
    )


def cost(costo: Costo) -> str:
    """'gratuito', '250 € al mese', 'tariffa in base all'ISEE (da 80 €)', ..."""
    m = costo.modello.value
    da = say("cost_from", importo=_euro(costo.importo)) if costo.importo else ""
    tetto = say("cost_cap", tetto=_euro(costo.tetto)) if costo.tetto else ""
    params = {
        "importo": _euro(costo.importo or 0),
        "unita": costo.unita.value if costo.unita else "",
        "percentuale": f"{costo.percentuale:g}" if costo.percentuale else "",
        "da": da,
        "tetto": tetto,
    }
    return say(f"cost.{m}", **params).strip()


def _where(service: Service) -> str:
    if service.sedi:
        sede = service.sedi[0]
        extra = f" (+{len(service.sedi) - 1})" if len(service.sedi) > 1 else ""
        return f"{sede.indirizzo}, {sede.comune}{extra}"
    return ", ".join(service.area_servita)


def _when(service: Service) -> str:
    parts: list[str] = []
    if service.orari:
        for f in service.orari.fasce:
            days = f.giorni[0].value if len(f.giorni) == 1 else f"{f.giorni[0]}-{f.giorni[-1]}"
            parts.append(f"{days} {f.dalle:%H:%M}-{f.alle:%H:%M}")
        if service.orari.nota and not parts:
            parts.append(service.orari.nota)
    if service.periodo_attivita and service.periodo_attivita.mesi:
        months = service.periodo_attivita.mesi
        parts.append(f"mesi {months[0]}-{months[-1]}" if len(months) > 1 else f"mese {months[0]}")
    return "; ".join(parts) or "-"


def _access(service: Service) -> str:
    first = service.accesso.passi[0] if service.accesso.passi else ""
    contact = service.contatti.telefono or service.contatti.email or service.contatti.web or ""
    return " ".join(x for x in (first, f"({contact})" if contact else "") if x) or "-"


def _param(value: str) -> str:
    """ISO dates become 01/03/2027; everything else is shown as it is."""
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def _notes(kind: str, notes: tuple[Note, ...]) -> str:
    return "; ".join(
        say(f"{kind}.{n.code}", **{k: _param(v) for k, v in n.params.items()}) for n in notes
    )


def match_card(m: Match) -> str:
    """One suggested service: what, where, when, cost, how to access, why, what to check."""
    s = m.service
    card = say(
        "service_card",
        nome=s.nome,
        descrizione=_first_sentence(s.descrizione),
        dove=_where(s),
        quando=_when(s),
        costo=cost(s.costo),
        accesso=_access(s),
    )
    lines = [card]
    if m.reasons:
        lines.append(say("service_reasons", reasons=_notes("reasons", m.reasons)))
    if m.checks:
        lines.append(say("service_checks", checks=_notes("checks", m.checks)))
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    head, dot, _rest = text.strip().partition(". ")
    return head + ("." if dot else "")


def hours(point: SocialPointInfo) -> str:
    names = group("weekdays")
    spans = [f"{names[d]} {', '.join(point.hours[d])}" for d in WEEKDAYS if point.hours.get(d)]
    return "; ".join(spans) or say("closed")


def social_points_reply(ctx: FlowContext) -> Reply:
    lines = [say("operator_contacts_intro")]
    for p in ctx.social_points:
        lines.append(
            say("social_point_line", name=p.name, address=p.address, phone=p.phone, hours=hours(p))
        )
    return Reply("\n".join(lines))


def when(moment: datetime, now: datetime) -> str:
    """'oggi alle 14:00', 'domani alle 9:00', 'mercoledì 25/11 alle 9:00'."""
    days = (moment.date() - now.date()).days
    at = f"{moment.hour}:{moment.minute:02d}"
    if days == 0:
        return say("time_today", at=at)
    if days == 1:
        return say("time_tomorrow", at=at)
    weekday = group("weekdays_long")[WEEKDAYS[moment.weekday()]]
    return say("time_day", day=weekday, date=f"{moment:%d/%m}", at=at)
