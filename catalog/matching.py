"""Which catalogue services fit a resident's need: hard filters exclude, soft signals rank.

Hard filters (a service is dropped): another category; months asked for and none of
them in the service's activity period; a Social Point record (they are
front offices the flow always offers anyway, and counting them as matches would hide
unmet needs from the observatory); the resident's comune known and outside
`area_servita` or outside `requisiti.comuni_residenza`; ages known and none within
[eta_min, eta_max]; ISEE known and above `requisiti.isee_max`.

Soft signals (change the score): same comune as a sede (+3) or only served (+1); ages
fit (+2) or are unknown while the service has a range (-0.5); family member fits (+1)
or not (-2); working parents required and the profile says no (-3); open until the time
needed (+1) or not (-2); all the months asked within the activity period (+1) or only
some (-2); opening by 7:45 for "mattina presto" (+1), until 19:00 for "sera" (+0.5), open
on Saturday for "sabato" (+1) or not (-0.5); ISEE within the cap (+0.5); application
window open (+0.5), not yet open (-0.5) or closed (-3); outside the activity period (-1);
free (+1), ISEE based (+0.5), cheaper tariffs (up to +0.5); wider coverage (up to +0.25).
Order: services before contributi, then higher score, then id (deterministic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from catalog.codes import CheckCode, Note, ReasonCode
from catalog.comuni import territory_comune
from catalog.index import CatalogIndex, Entry, in_period, num, period_params
from catalog.schema import Service
from catalog.taxonomy import NEED_CATEGORIES
from catalog.vocab import Giorno

__all__ = [
    "CatalogIndex",
    "CheckCode",
    "Match",
    "MatchOutcome",
    "NeedProfile",
    "Note",
    "ReasonCode",
    "match",
]


@dataclass(frozen=True)
class NeedProfile:
    """What the conversation knows about one need (None / () = unknown)."""

    categoria: str
    comune: str | None = None
    eta: tuple[float, ...] = ()  # ages in years of the people concerned
    familiare: str | None = None  # taxonomy familiare value
    genitori_lavoratori: bool | None = None
    orario: str | None = None  # e.g. "16:30": needed until
    isee: float | None = None
    mesi: tuple[int, ...] = ()  # months the service is needed in
    vincoli: tuple[str, ...] = ()  # mattina_presto | sabato | sera | turni


@dataclass(frozen=True)
class Match:
    """A service that passed the hard filters, with why it fits and what to verify."""

    service: Service
    score: float
    reasons: tuple[Note, ...]
    checks: tuple[Note, ...]


@dataclass(frozen=True)
class MatchOutcome:
    """The ranked matches; `unmet` when no service passed the hard filters."""

    profile: NeedProfile
    matches: tuple[Match, ...]
    unmet: bool


def _hhmm(text: str | None) -> str | None:
    """`"16:30"`, `"16.30"`, `"16"` -> `"16:30"`/`"16:00"`; None when unreadable."""
    if not text:
        return None
    hours, _, minutes = text.strip().replace(".", ":").partition(":")
    if not hours.isdigit() or (minutes and not minutes.isdigit()):
        return None
    h, m = int(hours), int(minutes or 0)
    return f"{h:02d}:{m:02d}" if h < 24 and m < 60 else None


@dataclass(frozen=True, slots=True)
class _Query:
    comune: str | None
    eta: tuple[float, ...]
    familiare: str | None
    genitori_lavoratori: bool | None
    orario: str | None
    isee: float | None
    mesi: frozenset[int]
    vincoli: frozenset[str]
    today: date


def _excluded(entry: Entry, q: _Query) -> bool:
    """The hard filters; checked first and cheaply, since most services fail them."""
    if q.comune is not None and (
        q.comune not in entry.area or (entry.residenza and q.comune not in entry.residenza)
    ):
        return True
    if q.eta and entry.has_age:
        lo, hi = entry.eta_min, entry.eta_max
        if not any(lo <= a <= hi for a in q.eta):
            return True
    if q.mesi and entry.months and not q.mesi & entry.months:
        return True  # "a luglio": a Christmas campus is no answer
    return q.isee is not None and entry.isee_max is not None and q.isee > entry.isee_max


def _evaluate(entry: Entry, q: _Query) -> Match:
    """The score, reasons and checks of a service that passed the hard filters."""
    s = entry.service
    req = s.requisiti
    score = entry.base_score
    reasons: list[Note] = []
    checks: list[Note] = list(entry.checks)
    if q.comune is not None:
        same = q.comune in entry.sede_comuni
        score += 3.0 if same else 1.0
        code = ReasonCode.STESSO_COMUNE if same else ReasonCode.COMUNE_SERVITO
        reasons.append(Note(code, {"comune": q.comune}))
    elif entry.residenza:
        comuni = ", ".join(sorted(entry.residenza))
        checks.append(Note(CheckCode.RESIDENZA_RICHIESTA, {"comuni": comuni}))
    if entry.has_age:
        if q.eta:
            fit = ", ".join(num(a) for a in q.eta if entry.eta_min <= a <= entry.eta_max)
            score += 2.0
            reasons.append(Note(ReasonCode.ETA_COMPRESA, {"eta": fit, **entry.age_params}))
        else:
            score -= 0.5
            checks.append(Note(CheckCode.ETA, dict(entry.age_params)))
    if req.isee_max is not None:
        isee = {"isee_max": num(req.isee_max), "isee_tipo": str(req.isee_tipo or "")}
        if q.isee is None:
            checks.append(Note(CheckCode.ISEE_MAX, isee))
        else:
            score += 0.5
            reasons.append(Note(ReasonCode.ISEE_COMPATIBILE, isee))
    if entry.familiari and q.familiare is not None:
        if q.familiare in entry.familiari:
            score += 1.0
            reasons.append(Note(ReasonCode.PER_FAMILIARE, {"familiare": q.familiare}))
        else:
            score -= 2.0
            checks.append(Note(CheckCode.FAMILIARI, {"familiari": ", ".join(s.familiari)}))
    if req.genitori_lavoratori and q.genitori_lavoratori is not True:
        score -= 3.0 if q.genitori_lavoratori is False else 0.0
        checks.append(Note(CheckCode.GENITORI_LAVORATORI, {}))
    if q.orario is not None and entry.closes_at is not None:
        if entry.closes_at >= q.orario:
            score += 1.0
            reasons.append(Note(ReasonCode.ORARIO_COMPATIBILE, {"alle": entry.closes_at}))
        else:
            score -= 2.0
            checks.append(Note(CheckCode.ORARIO, {"alle": entry.closes_at, "richiesto": q.orario}))
    score += _schedule(entry, q, reasons, checks)
    finestra = s.accesso.finestra_domanda
    if finestra is not None:
        window = {"dal": str(finestra.dal), "al": str(finestra.al)}
        if q.today > finestra.al:
            score -= 3.0
            checks.append(Note(CheckCode.FINESTRA_DOMANDA, {**window, "stato": "chiusa"}))
        elif q.today < finestra.dal:
            score -= 0.5
            checks.append(Note(CheckCode.FINESTRA_DOMANDA, {**window, "stato": "futura"}))
        else:
            score += 0.5
            reasons.append(Note(ReasonCode.DOMANDA_APERTA, window))
            checks.append(Note(CheckCode.FINESTRA_DOMANDA, {**window, "stato": "aperta"}))
    if s.periodo_attivita is not None:
        if not in_period(s.periodo_attivita, q.today):
            score -= 1.0
        checks.append(Note(CheckCode.PERIODO_ATTIVITA, period_params(s.periodo_attivita, q.today)))
    reasons.extend(entry.reasons)
    return Match(
        service=s,
        score=round(score, 6),  # rounding: equal scores compare equal, ties go to the id
        reasons=tuple(reasons),
        checks=tuple(checks),
    )


EARLY = "07:45"  # "mattina presto": open by then
EVENING = "19:00"  # "di sera": open until then


def _schedule(entry: Entry, q: _Query, reasons: list[Note], checks: list[Note]) -> float:
    """Months and schedule constraints ("a luglio", "mattina presto", "il sabato")."""
    score = 0.0
    if q.mesi and entry.months:
        wanted = {"mesi": ",".join(str(m) for m in sorted(q.mesi))}
        if q.mesi <= entry.months:
            score += 1.0
            reasons.append(Note(ReasonCode.MESI_COMPATIBILI, wanted))
        else:
            score -= 2.0
            checks.append(Note(CheckCode.MESI, wanted))
    if "mattina_presto" in q.vincoli and entry.opens_at is not None and entry.opens_at <= EARLY:
        score += 1.0
        reasons.append(Note(ReasonCode.APRE_PRESTO, {"dalle": entry.opens_at}))
    if "sera" in q.vincoli and entry.closes_at is not None and entry.closes_at >= EVENING:
        score += 0.5
        reasons.append(Note(ReasonCode.APERTO_SERA, {"alle": entry.closes_at}))
    if "sabato" in q.vincoli and entry.days:
        if Giorno.SAB in entry.days:
            score += 1.0
            reasons.append(Note(ReasonCode.APERTO_SABATO, {}))
        else:
            score -= 0.5
            checks.append(Note(CheckCode.SABATO, {}))
    return score


def match(
    services: Sequence[Service] | CatalogIndex,
    profile: NeedProfile,
    *,
    today: date,
    limit: int | None = None,
) -> MatchOutcome:
    """Ranks the services that fit a need.

    Args:
        services: the catalogue, preferably a `CatalogIndex` built once (a plain sequence
            is indexed on every call).
        profile: what is known of the need; unknown parts never exclude a service.
        today: the date windows and periods are judged against (a parameter: pure function).
        limit: keep only the best `limit` matches (`unmet` still looks at all of them).

    Returns:
        The outcome: matches ordered services-first, by score, then id.

    Raises:
        ValueError: when `profile.categoria` is not a taxonomy need category.
    """
    if profile.categoria not in NEED_CATEGORIES:
        raise ValueError(f"unknown need category {profile.categoria!r}")
    index = services if isinstance(services, CatalogIndex) else CatalogIndex(services)
    comune = profile.comune
    query = _Query(
        # An unknown comune name stays as given: it is served by nothing, hence unmet.
        comune=(territory_comune(comune, index.comuni) or comune.strip()) if comune else None,
        eta=tuple(float(a) for a in profile.eta),
        familiare=profile.familiare,
        genitori_lavoratori=profile.genitori_lavoratori,
        orario=_hhmm(profile.orario),
        isee=profile.isee,
        mesi=frozenset(profile.mesi),
        vincoli=frozenset(profile.vincoli),
        today=today,
    )
    found = [
        _evaluate(e, query) for e in index.entries(profile.categoria) if not _excluded(e, query)
    ]
    found.sort(key=lambda m: (m.service.tipo == "contributo", -m.score, m.service.id))
    kept = found if limit is None else found[: max(limit, 0)]
    return MatchOutcome(profile=profile, matches=tuple(kept), unmet=not found)
