"""The seed catalogue is valid, complete and clearly marked as demo data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from catalog.loader import LoadResult
from catalog.taxonomy import FAMILIARI, NEED_CATEGORIES
from catalog.vocab import Provenienza, Tipo
from territory.model import shipped_territory

ROOT = Path(__file__).resolve().parents[2]


def test_seed_validates(seed: LoadResult) -> None:
    assert [str(p) for p in seed.problems] == []
    assert len(seed.services) >= 34


def test_every_need_category_has_services(seed: LoadResult) -> None:
    counts = Counter(s.categoria for s in seed.services if not s.punto_accesso)
    assert set(counts) == set(NEED_CATEGORIES)


def test_every_comune_has_services_nearby(seed: LoadResult) -> None:
    served = Counter(c for s in seed.services for c in s.area_servita)
    assert all(served[c] >= 10 for c in tuple(shipped_territory("tradate").comuni)), served


def test_the_four_social_points(seed: LoadResult) -> None:
    points = [s for s in seed.services if s.punto_accesso]
    assert sorted(s.sedi[0].comune for s in points) == [
        "Castiglione Olona",
        "Tradate",
        "Vedano Olona",
        "Venegono Inferiore",
    ]
    addresses = {p.address for p in shipped_territory("tradate").social_points}
    assert {s.sedi[0].indirizzo for s in points} == addresses


def test_marked_as_demo_data(seed: LoadResult) -> None:
    assert {s.provenienza for s in seed.services} == {Provenienza.ESEMPIO}
    assert {s.fonte for s in seed.services} == {"dati di esempio, da verificare"}


def test_required_kinds_of_service_are_there(seed: LoadResult) -> None:
    by_id = {s.id: s for s in seed.services}
    assert by_id["misura-b2-ambito-tradate"].tipo is Tipo.CONTRIBUTO
    assert by_id["misura-b2-ambito-tradate"].richiede_valutazione
    assert by_id["misura-b2-ambito-tradate"].requisiti.isee_tipo == "socio-sanitario"
    voucher = by_id["voucher-conciliazione-centri-estivi"]
    assert voucher.requisiti.isee_max and voucher.accesso.finestra_domanda
    assert by_id["centro-estivo-tradate"].periodo_attivita is not None
    assert by_id["sad-ambito-tradate"].richiede_valutazione
    assert any(s.tipo is Tipo.CONTRIBUTO for s in seed.services if s.categoria == "prima_infanzia")


def test_catalogue_taxonomy_is_the_contract() -> None:
    contract = yaml.safe_load((ROOT / "nlu" / "taxonomy.yml").read_text(encoding="utf-8"))
    assert tuple(contract["need_categories"]) == NEED_CATEGORIES
    listed = contract["entities"]["familiare"].split(", ")
    assert tuple(listed) == FAMILIARI
