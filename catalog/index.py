"""A catalogue prepared once for fast matching: services grouped by category, facts precomputed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from catalog.codes import CheckCode, Note, ReasonCode
from catalog.schema import Periodo, Service
from catalog.vocab import MESI, Giorno, ModelloCosto, Tipo, Unita

WEEKDAYS = frozenset({Giorno.LUN, Giorno.MAR, Giorno.MER, Giorno.GIO, Giorno.VEN})
# Rough conversion of a price to a monthly figure, only to rank cheaper services first.
PER_MONTH = {
    Unita.ORA: 40.0,
    Unita.GIORNO: 20.0,
    Unita.SETTIMANA: 4.0,
    Unita.MESE: 1.0,
    Unita.ANNO: 1 / 12,
    Unita.PASTO: 20.0,
    Unita.VIAGGIO: 8.0,
    Unita.SEDUTA: 4.0,
    Unita.UNA_TANTUM: 1 / 12,
}
Params = dict[str, str]


def num(value: float | None) -> str:
    """A number as a param string: `15000`, `1.5`, or "" when absent."""
    return "" if value is None else f"{value:g}"


@dataclass(frozen=True, slots=True)
class Entry:
    """A service with the facts matching needs, computed once."""

    service: Service
    contributo: bool
    area: frozenset[str]
    sede_comuni: frozenset[str]
    residenza: frozenset[str]
    familiari: frozenset[str]
    eta_min: float
    eta_max: float
    has_age: bool
    age_params: Params  # eta_min/eta_max as param strings
    isee_max: float | None
    closes_at: str | None  # latest weekday closing "HH:MM"
    opens_at: str | None  # earliest weekday opening "HH:MM"
    days: frozenset[Giorno]  # weekdays with opening hours (empty: unknown)
    months: frozenset[int]  # months the service runs in (empty: all year)
    base_score: float  # cost and coverage: does not depend on the profile
    reasons: tuple[Note, ...]  # profile-independent
    checks: tuple[Note, ...]  # profile-independent


def _cost_score(service: Service) -> tuple[float, tuple[Note, ...]]:
    costo = service.costo
    if costo.modello is ModelloCosto.GRATUITO:
        return 1.0, (Note(ReasonCode.GRATUITO, {}),)
    if costo.modello in (ModelloCosto.TARIFFA_ISEE, ModelloCosto.COMPARTECIPAZIONE):
        return 0.5, (Note(ReasonCode.COSTO_ISEE, {}),)
    if costo.modello is ModelloCosto.TARIFFA and costo.importo is not None:
        monthly = costo.importo * PER_MONTH[costo.unita] if costo.unita else costo.importo
        return 0.5 * (1 - min(monthly, 600.0) / 600.0), ()
    return 0.5, ()  # rimborso, buono: money back


def _static_checks(service: Service) -> tuple[Note, ...]:
    req = service.requisiti
    checks: list[Note] = []
    if service.richiede_valutazione:
        checks.append(Note(CheckCode.VALUTAZIONE, {}))
    if req.certificazioni:
        certs = ", ".join(c.value for c in req.certificazioni)
        checks.append(Note(CheckCode.CERTIFICAZIONE, {"certificazioni": certs}))
    return tuple(checks)


def prepare(service: Service) -> Entry:
    """Precomputes what `match` needs from one service."""
    closing = [
        f.alle.strftime("%H:%M")
        for f in (service.orari.fasce if service.orari else ())
        if WEEKDAYS.intersection(f.giorni)
    ]
    fasce = service.orari.fasce if service.orari else ()
    opening = [f.dalle.strftime("%H:%M") for f in fasce if WEEKDAYS.intersection(f.giorni)]
    cost, reasons = _cost_score(service)
    # Among equals, a service for the whole Ambito beats one for a single comune.
    coverage = min(len(service.area_servita), 8) / 8 * 0.25
    return Entry(
        service=service,
        contributo=service.tipo is Tipo.CONTRIBUTO,
        area=frozenset(service.area_servita),
        sede_comuni=frozenset(s.comune for s in service.sedi),
        residenza=frozenset(service.requisiti.comuni_residenza),
        familiari=frozenset(service.familiari),
        eta_min=service.eta_min if service.eta_min is not None else 0.0,
        eta_max=service.eta_max if service.eta_max is not None else 200.0,
        has_age=service.eta_min is not None or service.eta_max is not None,
        age_params={"eta_min": num(service.eta_min), "eta_max": num(service.eta_max)},
        isee_max=service.requisiti.isee_max,
        closes_at=max(closing) if closing else None,
        opens_at=min(opening) if opening else None,
        days=frozenset(g for f in fasce for g in f.giorni),
        months=_months(service.periodo_attivita),
        base_score=cost + coverage,
        reasons=reasons,
        checks=_static_checks(service),
    )


def _months(periodo: Periodo | None) -> frozenset[int]:
    if periodo is None:
        return frozenset()
    if periodo.mesi:
        return frozenset(periodo.mesi)
    assert periodo.dal is not None and periodo.al is not None
    span = (periodo.al.year - periodo.dal.year) * 12 + periodo.al.month - periodo.dal.month
    return frozenset((periodo.dal.month - 1 + i) % 12 + 1 for i in range(min(span, 11) + 1))


def in_period(periodo: Periodo, today: date) -> bool:
    """True when `today` falls within the activity period."""
    if periodo.mesi:
        return today.month in periodo.mesi
    assert periodo.dal is not None and periodo.al is not None
    return periodo.dal <= today <= periodo.al


def period_params(periodo: Periodo, today: date) -> Params:
    """Params of the `periodo_attivita` check."""
    if periodo.mesi:
        names = [MESI[m - 1] for m in periodo.mesi]
        dal, al, mesi = names[0], names[-1], ", ".join(names)
    else:
        dal, al, mesi = str(periodo.dal), str(periodo.al), ""
    in_corso = "si" if in_period(periodo, today) else "no"
    return {"dal": dal, "al": al, "mesi": mesi, "in_corso": in_corso}


class CatalogIndex:
    """The catalogue grouped by need category, ready for `catalog.matching.match`.

    Build it once per catalogue version; it is immutable and safe to share between
    threads. Social Points (`punto_accesso`) are kept apart: they are never matches.
    """

    def __init__(self, services: Iterable[Service]) -> None:
        """Prepares the services (ids are assumed unique, as the loader guarantees)."""
        ordered = sorted(services, key=lambda s: s.id)
        self.services: tuple[Service, ...] = tuple(ordered)
        self.social_points: tuple[Service, ...] = tuple(s for s in ordered if s.punto_accesso)
        groups: dict[str, list[Entry]] = {}
        for service in ordered:
            if not service.punto_accesso:
                groups.setdefault(service.categoria, []).append(prepare(service))
        self._by_category = {cat: tuple(entries) for cat, entries in groups.items()}
        self._by_id = {s.id: s for s in ordered}
        # Every comune the catalogue names: a query's spelling is matched against these.
        self.comuni = frozenset(
            c for s in ordered for c in (*s.area_servita, *(sede.comune for sede in s.sedi))
        )

    def entries(self, categoria: str) -> tuple[Entry, ...]:
        """The prepared services of one category, by id."""
        return self._by_category.get(categoria, ())

    def service(self, service_id: str) -> Service | None:
        """One service by id (None when the catalogue no longer has it)."""
        return self._by_id.get(service_id)

    def __len__(self) -> int:
        return len(self.services)
