"""Phone-friendly text for services, Social Points and times (copy from messages.it.yml)."""

from __future__ import annotations

from datetime import date, datetime, time

from catalog.matching import Match, Note
from catalog.schema import Costo, Fascia, Periodo, Service
from catalog.vocab import MESI
from flows.copy import group, say
from flows.replies import Reply
from flows.turn import Change, FlowContext, SocialPointInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def euro(value: float) -> str:
    return (
        f"{value:,.0f}".replace(",", ".")
        if value == int(value)
        else f"{value:.2f}".replace(".", ",")
    )


def cost(costo: Costo) -> str:
    """'gratuito', '250 € al mese', 'tariffa in base all'ISEE (da 80 €)', ..."""
    m = costo.modello.value
    da = say("cost_from", importo=euro(costo.importo)) if costo.importo else ""
    tetto = say("cost_cap", tetto=euro(costo.tetto)) if costo.tetto else ""
    params = {
        "importo": euro(costo.importo or 0),
        "unita": costo.unita.value if costo.unita else "",
        "percentuale": f"{costo.percentuale:g}" if costo.percentuale else "",
        "da": da,
        "tetto": tetto,
    }
    return say(f"cost.{m}", **params).strip()


def where(service: Service) -> str:
    if service.sedi:
        sede = service.sedi[0]
        extra = f" (+{len(service.sedi) - 1})" if len(service.sedi) > 1 else ""
        return f"{sede.indirizzo}, {sede.comune}{extra}"
    return ", ".join(service.area_servita)


def _to(word: str) -> str:
    """Italian "a" before a month, "ad" before a vowel: "a luglio", "ad agosto"."""
    return "ad" if word[:1] in "aeiou" else "a"


def months(numbers: tuple[int, ...] | list[int]) -> str:
    """ "a luglio", "da giugno ad agosto", "da settembre a luglio", "nei mesi di giugno e
    settembre" (a run of months may go over the new year, as a school year does)."""
    ordered = sorted(set(numbers))
    names = [MESI[m - 1] for m in ordered]
    if len(names) == 1:
        return say("period_month", a=_to(names[0]), mese=names[0])
    gaps = [
        i for i in range(len(ordered)) if ordered[i] % 12 + 1 != ordered[(i + 1) % len(ordered)]
    ]
    if len(gaps) == 1:  # one run, maybe across December
        first = ordered[(gaps[0] + 1) % len(ordered)]
        last = ordered[gaps[0]]
        dal, al = MESI[first - 1], MESI[last - 1]
        return say("period_months", dal=dal, a=_to(al), al=al)
    if not gaps:
        return say("period_all_year")
    listed = ", ".join(names[:-1]) + " e " + names[-1]
    return say("period_months_list", mesi=listed)


def period(periodo: Periodo) -> str:
    """When a service runs, in words: "da giugno ad agosto", "dal 15/06/2027 al 31/08/2027"."""
    if periodo.mesi:
        return months(periodo.mesi)
    assert periodo.dal is not None and periodo.al is not None
    return say("period_dates", dal=f"{periodo.dal:%d/%m/%Y}", al=f"{periodo.al:%d/%m/%Y}")


def days(fascia: Fascia) -> str:
    """ "lunedì-venerdì 7:30-18:00", "sabato 9:00-12:00"."""
    names = group("giorni_long")
    first, last = names[fascia.giorni[0].value], names[fascia.giorni[-1].value]
    span = first if len(fascia.giorni) == 1 else f"{first}-{last}"
    return f"{span} {_clock(fascia.dalle)}-{_clock(fascia.alle)}"


def _clock(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def opening(service: Service) -> str:
    """Weekly hours and the activity period of a service ("-" when the card has none)."""
    parts: list[str] = []
    if service.orari:
        parts.extend(days(f) for f in service.orari.fasce)
        if service.orari.nota and not parts:
            parts.append(service.orari.nota)
    if service.periodo_attivita:
        parts.append(period(service.periodo_attivita))
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


def _notes(kind: str, notes: tuple[Note, ...], service: Service) -> str:
    return "; ".join(say(f"{kind}.{n.code}", **_note_params(n, service)) for n in notes)


def _note_params(note: Note, service: Service) -> dict[str, str]:
    params = {k: _param(v) for k, v in note.params.items()}
    if service.periodo_attivita is not None:  # the period in words, not two raw values
        params["periodo"] = period(service.periodo_attivita)
    return params


def match_card(m: Match) -> str:
    """One suggested service: what, where, when, cost, how to access, why, what to check."""
    s = m.service
    card = say(
        "service_card",
        nome=s.nome,
        descrizione=_first_sentence(s.descrizione),
        dove=where(s),
        quando=opening(s),
        costo=cost(s.costo),
        accesso=_access(s),
    )
    lines = [card]
    if m.reasons:
        lines.append(say("service_reasons", reasons=_notes("reasons", m.reasons, s)))
    if m.checks:
        lines.append(say("service_checks", checks=_notes("checks", m.checks, s)))
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


def age(years: float) -> str:
    """ "3 anni", "1 anno", "18 mesi", "7 anni e mezzo"."""
    if years < 2 and round(years * 12) != 12:
        return say("months_old", n=round(years * 12))
    whole = int(years)
    text = say("year_one") if whole == 1 else say("years", n=whole)
    return text + (say("and_half") if years - whole >= 0.5 else "")


def ages(values: list[float]) -> str:
    """ "ha 4 anni", "hanno 6 e 11 anni"."""
    if len(values) == 1:
        return say("ages_one", eta=age(values[0]))
    numbers = [f"{v:g}" for v in values]
    return say("ages_many", eta=", ".join(numbers[:-1]) + " e " + numbers[-1] + " anni")


def change(c: Change) -> str:
    """A corrected value in words, for "Ok, correggo: ..."."""
    if c.slot == "eta":
        assert isinstance(c.new, list)
        value = ages(c.new)
    elif c.slot == "mesi":
        assert isinstance(c.new, list)
        value = months(c.new)
    elif c.slot == "familiare":
        value = group("familiari").get(str(c.new), str(c.new))
    else:
        value = str(c.new)
    return say(f"correction_values.{c.slot}", valore=value)
