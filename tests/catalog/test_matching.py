"""Matching: each hard filter, each reason and check, ranking, unmet, determinism."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.loader import LoadResult, load_path
from catalog.matching import (
    CatalogIndex,
    CheckCode,
    MatchOutcome,
    NeedProfile,
    ReasonCode,
    match,
)
from catalog.schema import Service
from catalog.taxonomy import FAMILIARI, NEED_CATEGORIES
from territory.model import shipped_territory

# The comuni a catalogue service may serve: the Ambito di Tradate and its neighbours.
PLACES = tuple(shipped_territory("tradate").places)

TODAY = date(2026, 11, 23)
Make = Callable[..., Service]


def ids(outcome: MatchOutcome) -> list[str]:
    return [m.service.id for m in outcome.matches]


def notes(outcome: MatchOutcome, service_id: str) -> dict[str, dict[str, str]]:
    found = next(m for m in outcome.matches if m.service.id == service_id)
    return {str(n.code): dict(n.params) for n in (*found.reasons, *found.checks)}


def run(services: list[Service], **profile: object) -> MatchOutcome:
    categoria = str(profile.pop("categoria", "prima_infanzia"))
    return match(services, NeedProfile(categoria, **profile), today=TODAY)  # type: ignore[arg-type]


def test_category_is_a_hard_filter(make: Make) -> None:
    services = [make(id="a"), make(id="b", categoria="salvatempo")]
    assert ids(run(services)) == ["a"]
    assert ids(run(services, categoria="salvatempo")) == ["b"]
    with pytest.raises(ValueError, match="unknown need category"):
        run(services, categoria="nidi")


def test_social_points_are_never_matches(make: Make) -> None:
    outcome = run([make(id="sp", punto_accesso=True)])
    assert outcome.unmet and outcome.matches == ()
    assert [s.id for s in CatalogIndex([make(id="sp", punto_accesso=True)]).social_points] == ["sp"]


def test_comune_outside_area_or_residence_excludes(make: Make) -> None:
    services = [
        make(id="tradate", area_servita=["Tradate"]),
        make(id="both", area_servita=["Tradate", "Vedano Olona"],
             requisiti={"comuni_residenza": ["Tradate"]}),
    ]  # fmt: skip
    # equal but for coverage: the service for more comuni first
    assert ids(run(services, comune="tradate")) == ["both", "tradate"]
    assert run(services, comune="Vedano Olona").unmet
    assert run(services, comune="Milano").unmet
    unknown = run(services)
    assert notes(unknown, "both")[CheckCode.RESIDENZA_RICHIESTA] == {"comuni": "Tradate"}


def test_same_comune_ranks_before_served_comune(make: Make) -> None:
    sede = {"nome": "Sede", "indirizzo": "Via Roma 1", "comune": "Tradate"}
    services = [
        make(id="a-elsewhere", area_servita=["Tradate", "Venegono Inferiore"],
             sedi=[dict(sede, comune="Venegono Inferiore")]),
        make(id="z-here", area_servita=["Tradate"], sedi=[sede]),
    ]  # fmt: skip
    outcome = run(services, comune="Tradate")
    assert ids(outcome) == ["z-here", "a-elsewhere"]
    assert notes(outcome, "z-here")[ReasonCode.STESSO_COMUNE] == {"comune": "Tradate"}
    assert notes(outcome, "a-elsewhere")[ReasonCode.COMUNE_SERVITO] == {"comune": "Tradate"}


def test_ages_filter_and_explain(make: Make) -> None:
    services = [make(id="nido", eta_min=0.25, eta_max=3), make(id="tutti")]
    assert ids(run(services, eta=(5,))) == ["tutti"]
    two_children = run(services, eta=(1.5, 8))
    assert ids(two_children) == ["nido", "tutti"]
    assert notes(two_children, "nido")[ReasonCode.ETA_COMPRESA] == {
        "eta": "1.5", "eta_min": "0.25", "eta_max": "3",
    }  # fmt: skip
    unknown = run(services)
    assert ids(unknown) == ["tutti", "nido"]  # an unverified age range ranks lower
    assert notes(unknown, "nido")[CheckCode.ETA] == {"eta_min": "0.25", "eta_max": "3"}


def test_isee_filters_when_known_and_is_a_check_otherwise(make: Make) -> None:
    capped = make(id="voucher", requisiti={"isee_max": 15000, "isee_tipo": "ordinario"})
    assert run([capped], isee=20000).unmet
    within = run([capped], isee=9000)
    assert notes(within, "voucher")[ReasonCode.ISEE_COMPATIBILE]["isee_max"] == "15000"
    unknown = run([capped])
    assert notes(unknown, "voucher")[CheckCode.ISEE_MAX] == {
        "isee_max": "15000", "isee_tipo": "ordinario",
    }  # fmt: skip


def test_family_member_is_a_soft_signal(make: Make) -> None:
    services = [make(id="a-genitori", familiari=["se_stesso"]), make(id="b-tutti")]
    assert ids(run(services, familiare="madre")) == ["b-tutti", "a-genitori"]
    mine = run(services, familiare="se_stesso")
    assert ids(mine) == ["a-genitori", "b-tutti"]
    assert notes(mine, "a-genitori")[ReasonCode.PER_FAMILIARE] == {"familiare": "se_stesso"}
    other = run(services, familiare="madre")
    assert notes(other, "a-genitori")[CheckCode.FAMILIARI] == {"familiari": "se_stesso"}


def test_working_parents(make: Make) -> None:
    services = [make(id="a-lavoratori", requisiti={"genitori_lavoratori": True}), make(id="b")]
    unknown = run(services)
    assert CheckCode.GENITORI_LAVORATORI in notes(unknown, "a-lavoratori")
    assert ids(run(services, genitori_lavoratori=False)) == ["b", "a-lavoratori"]
    working = run(services, genitori_lavoratori=True)
    assert CheckCode.GENITORI_LAVORATORI not in notes(working, "a-lavoratori")


def test_opening_hours_against_needed_time(make: Make) -> None:
    def hours(alle: str) -> dict[str, object]:
        return {"fasce": [{"giorni": ["lun", "ven"], "dalle": "08:00", "alle": alle}]}

    services = [make(id="a-presto", orari=hours("16:00")), make(id="b-tardi", orari=hours("18:00"))]
    outcome = run(services, orario="17.30")
    assert ids(outcome) == ["b-tardi", "a-presto"]
    assert notes(outcome, "b-tardi")[ReasonCode.ORARIO_COMPATIBILE] == {"alle": "18:00"}
    assert notes(outcome, "a-presto")[CheckCode.ORARIO] == {"alle": "16:00", "richiesto": "17:30"}
    assert ids(run(services, orario="boh")) == ["a-presto", "b-tardi"]  # unreadable: ignored


def test_application_window(make: Make) -> None:
    def window(dal: str, al: str) -> dict[str, object]:
        return {"finestra_domanda": {"dal": dal, "al": al}}

    services = [
        make(id="a-chiusa", accesso=window("2026-01-01", "2026-02-01")),
        make(id="b-futura", accesso=window("2027-03-01", "2027-04-01")),
        make(id="c-aperta", accesso=window("2026-11-01", "2026-12-01")),
    ]
    outcome = run(services)
    assert ids(outcome) == ["c-aperta", "b-futura", "a-chiusa"]
    state = {i: notes(outcome, i)[CheckCode.FINESTRA_DOMANDA]["stato"] for i in ids(outcome)}
    assert state == {"c-aperta": "aperta", "b-futura": "futura", "a-chiusa": "chiusa"}
    assert notes(outcome, "c-aperta")[ReasonCode.DOMANDA_APERTA] == {
        "dal": "2026-11-01", "al": "2026-12-01",
    }  # fmt: skip


def test_activity_period(make: Make) -> None:
    services = [
        make(id="a-estate", periodo_attivita={"mesi": [6, 7, 8]}),
        make(id="b-ora", periodo_attivita={"dal": "2026-09-01", "al": "2027-06-30"}),
    ]
    outcome = run(services)
    assert ids(outcome) == ["b-ora", "a-estate"]
    assert notes(outcome, "a-estate")[CheckCode.PERIODO_ATTIVITA] == {
        "dal": "giugno", "al": "agosto", "mesi": "giugno, luglio, agosto", "in_corso": "no",
    }  # fmt: skip
    assert notes(outcome, "b-ora")[CheckCode.PERIODO_ATTIVITA]["in_corso"] == "si"


def test_costs_rank_free_first_then_cheaper(make: Make) -> None:
    services = [
        make(id="a-cara", costo={"modello": "tariffa", "importo": 500, "unita": "al mese"}),
        make(id="b-economica", costo={"modello": "tariffa", "importo": 5, "unita": "all'ora"}),
        make(id="c-isee", costo={"modello": "tariffa_isee"}),
        make(id="d-gratis"),
    ]
    outcome = run(services)
    assert ids(outcome) == ["d-gratis", "c-isee", "b-economica", "a-cara"]
    assert ReasonCode.GRATUITO in notes(outcome, "d-gratis")
    assert ReasonCode.COSTO_ISEE in notes(outcome, "c-isee")


def test_assessment_and_certification_checks(make: Make) -> None:
    service = make(
        id="cdd", richiede_valutazione=True,
        requisiti={"certificazioni": ["invalidita_civile", "legge_104"]},
    )  # fmt: skip
    found = notes(run([service]), "cdd")
    assert found[CheckCode.VALUTAZIONE] == {}
    assert found[CheckCode.CERTIFICAZIONE] == {"certificazioni": "invalidita_civile, legge_104"}


def test_contributions_come_after_services(make: Make) -> None:
    services = [
        make(id="a-bonus", tipo="contributo"),
        make(id="z-servizio", costo={"modello": "compartecipazione"}),
    ]
    assert ids(run(services)) == ["z-servizio", "a-bonus"]


def test_unmet_limit_and_ties(make: Make) -> None:
    services = [make(id=i) for i in ("c", "a", "b")]
    assert ids(run(services)) == ["a", "b", "c"]
    limited = match(services, NeedProfile("prima_infanzia"), today=TODAY, limit=1)
    assert ids(limited) == ["a"] and not limited.unmet
    assert run(services, comune="Varese").unmet


def test_index_and_sequence_agree(seed: LoadResult) -> None:
    index = CatalogIndex(seed.services)
    profile = NeedProfile("chiusure_scolastiche", comune="Tradate", eta=(7,))
    assert match(index, profile, today=TODAY) == match(list(seed.services), profile, today=TODAY)


def test_seed_examples(seed: LoadResult) -> None:
    index = CatalogIndex(seed.services)
    nido = match(index, NeedProfile("prima_infanzia", comune="Tradate", eta=(1,)), today=TODAY)
    assert ids(nido)[0] == "nido-comunale-tradate"
    b2 = match(index, NeedProfile("caregiver", comune="Gornate Olona"), today=TODAY)
    assert "misura-b2-ambito-tradate" in ids(b2)
    assert CheckCode.VALUTAZIONE in notes(b2, "misura-b2-ambito-tradate")
    for categoria in NEED_CATEGORIES:
        for comune in tuple(shipped_territory("tradate").comuni):
            assert not match(index, NeedProfile(categoria, comune=comune), today=TODAY).unmet


SEED_INDEX = CatalogIndex(
    load_path(Path(__file__).resolve().parents[2] / "catalog" / "data", places=PLACES).services
)
profiles = st.builds(
    NeedProfile,
    categoria=st.sampled_from(NEED_CATEGORIES),
    comune=st.none()
    | st.sampled_from([*tuple(shipped_territory("tradate").comuni), "Varese", "Milano"]),
    eta=st.lists(st.floats(0, 90), max_size=3).map(tuple),
    familiare=st.none() | st.sampled_from(FAMILIARI),
    genitori_lavoratori=st.none() | st.booleans(),
    orario=st.none() | st.sampled_from(["08:00", "16:30", "18:00", "19:30"]),
    isee=st.none() | st.floats(0, 60000),
)


@settings(max_examples=200, deadline=None)
@given(profile=profiles, day=st.dates(date(2026, 1, 1), date(2028, 12, 31)))
def test_matches_always_respect_the_hard_filters(profile: NeedProfile, day: date) -> None:
    outcome = match(SEED_INDEX, profile, today=day)
    assert outcome.unmet == (outcome.matches == ())
    for m in outcome.matches:
        s = m.service
        assert s.categoria == profile.categoria and not s.punto_accesso
        if profile.comune:
            assert profile.comune in s.area_servita
        if profile.eta and (s.eta_min is not None or s.eta_max is not None):
            lo, hi = s.eta_min or 0, s.eta_max if s.eta_max is not None else 200
            assert any(lo <= a <= hi for a in profile.eta)
        if profile.isee is not None and s.requisiti.isee_max is not None:
            assert profile.isee <= s.requisiti.isee_max
    keys = [(m.service.tipo == "contributo", -m.score, m.service.id) for m in outcome.matches]
    assert keys == sorted(keys)


@settings(max_examples=50, deadline=None)
@given(profile=profiles, order=st.randoms())
def test_order_of_the_catalogue_does_not_matter(profile: NeedProfile, order: object) -> None:
    shuffled = list(SEED_INDEX.services)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    assert match(shuffled, profile, today=TODAY) == match(SEED_INDEX, profile, today=TODAY)


def test_months_asked_for_exclude_services_that_never_run_then(make: Make) -> None:
    summer = make(id="a-estate", periodo_attivita={"mesi": [6, 7, 8]})
    christmas = make(id="b-natale", periodo_attivita={"dal": "2026-12-23", "al": "2027-01-05"})
    always = make(id="c-sempre")
    outcome = run([summer, christmas, always], mesi=(7,))
    assert ids(outcome)[0] == "a-estate" and "b-natale" not in ids(outcome)
    assert "c-sempre" in ids(outcome)
    assert "mesi_compatibili" in notes(outcome, "a-estate")
    assert "mesi" in notes(run([summer], mesi=(7, 9)), "a-estate")  # only partly


def test_schedule_constraints_rank_services(make: Make) -> None:
    early = make(
        id="b-presto",
        orari={"fasce": [{"giorni": ["lun", "sab"], "dalle": "07:00", "alle": "13:00"}]},
    )
    late = make(
        id="a-tardi", orari={"fasce": [{"giorni": ["lun"], "dalle": "09:00", "alle": "19:30"}]}
    )
    outcome = run([early, late], vincoli=("mattina_presto", "sabato"))
    assert ids(outcome) == ["b-presto", "a-tardi"]
    assert {"apre_presto", "aperto_sabato"} <= set(notes(outcome, "b-presto"))
    assert "sabato" in notes(outcome, "a-tardi")
    assert "aperto_sera" in notes(run([early, late], vincoli=("sera",)), "a-tardi")
