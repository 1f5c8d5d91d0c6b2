"""Export then re-import gives back equal records, in YAML and in CSV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.csv_io import COLUMNS, parse_csv
from catalog.loader import LoadResult, dump, load_path, parse_text
from catalog.schema import Service
from territory.model import shipped_territory

# The comuni a catalogue service may serve: the Ambito di Tradate and its neighbours.
PLACES = tuple(shipped_territory("tradate").places)


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_seed_round_trips(seed: LoadResult, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"catalogo.{'yml' if fmt == 'yaml' else 'csv'}"
    out.write_text(dump(seed.services, fmt=fmt), encoding="utf-8")
    again = load_path(out, places=PLACES)
    assert again.problems == ()
    assert again.services == seed.services


def test_yaml_export_is_stable(seed: LoadResult) -> None:
    text = dump(seed.services, fmt="yaml")
    services, _ = parse_text(text, fmt="yaml", places=PLACES)
    assert dump(services, fmt="yaml") == text
    assert "dalle: 07:30" in text or "dalle: '07:30'" in text


def test_csv_has_every_column_and_one_row_per_service(seed: LoadResult) -> None:
    text = dump(seed.services, fmt="csv")
    assert text.splitlines()[0].split(",") == list(COLUMNS)
    assert "sì" in text  # Italian booleans for spreadsheet users


def test_csv_problems_point_at_row_line_and_column() -> None:
    header = ",".join(COLUMNS)
    good = dict.fromkeys(COLUMNS, "")
    good.update(
        id="a", nome="Servizio A", descrizione="Descrizione del servizio.", categoria="salvatempo",
        destinatari="Tutti", ente_titolare="Comune", area_servita="Tradate",
        **{"costo.modello": "gratuito", "contatti.telefono": "0331 000 000"},
        fonte="test", data_verifica="2026-11-20", provenienza="esempio",
    )  # fmt: skip
    multi = dict(good, id="b", descrizione='"Prima riga\nseconda riga del testo."')
    bad = dict(good, id="c", area_servita="Tradat", sedi="solo nome")
    worse = dict(good, id="d", eta_min="10", eta_max="2", **{"orari.fasce": "lunedì mattina"})
    rows = [",".join(r[c] for c in COLUMNS) for r in (good, multi, bad, worse)]
    services, problems = parse_csv("\n".join([header, *rows]) + "\n", "c.csv", PLACES)
    assert [s.id for s in services] == ["a", "b"]
    found = {(p.record, p.field, p.line) for p in problems}
    assert found == {("c", "sedi", 5), ("d", "orari.fasce", 6)}
    _, problems = parse_csv(
        "\n".join([header, rows[0], rows[1], rows[3].replace("lunedì mattina", "")]),
        "c.csv",
        PLACES,
    )
    assert {(p.record, p.field, p.line) for p in problems} == {("d", "eta_max", 5)}
    _, problems = parse_csv("\n".join([header, rows[2].replace("solo nome", "")]), "c.csv", PLACES)
    assert {(p.field, p.line) for p in problems} == {("area_servita", 2)}


def test_csv_header_problems() -> None:
    _, problems = parse_csv("nome,colore\nx,y\n", "h.csv", PLACES)
    assert {(p.field, p.line) for p in problems} == {("colore", 1), ("id", 1)}


text_st = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=10, max_size=40
).filter(lambda t: t.strip() == t and len(t) >= 10)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    descrizione=text_st,
    eta=st.one_of(st.none(), st.tuples(st.floats(0, 50), st.floats(0, 50)).map(sorted)),
    importo=st.floats(0, 5000, allow_nan=False).map(lambda x: round(x, 2)),
    mesi=st.lists(st.integers(1, 12), max_size=4, unique=True),
)
def test_any_record_round_trips(
    make: Callable[..., Service],
    descrizione: str,
    eta: list[float] | None,
    importo: float,
    mesi: list[int],
) -> None:
    service = make(
        descrizione=descrizione,
        eta_min=eta[0] if eta else None,
        eta_max=eta[1] if eta else None,
        costo={"modello": "tariffa", "importo": importo, "unita": "al mese"},
        periodo_attivita={"mesi": mesi} if mesi else None,
    )
    for fmt in ("yaml", "csv"):
        services, problems = parse_text(dump([service], fmt=fmt), fmt=fmt, places=PLACES)
        assert problems == []
        assert services == [service]
