"""The loader reports every problem with file, line, record and field; invalid means nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from catalog.loader import load_path, parse_text
from catalog.problems import Problem
from catalog.schema import validate_service
from territory.model import shipped_territory

# The comuni a catalogue service may serve: the Ambito di Tradate and its neighbours.
PLACES = tuple(shipped_territory("tradate").places)

GOOD = """\
servizi:
  - id: nido-prova
    nome: Nido di prova
    descrizione: Un nido inventato per i test.
    categoria: prima_infanzia
    destinatari: Famiglie
    ente_titolare: Comune di Tradate
    area_servita: [Tradate]
    costo: {modello: gratuito}
    contatti: {telefono: 0331 000 000}
    fonte: test
    data_verifica: 2026-11-20
    provenienza: esempio
"""

BAD = """\
servizi:
  - id: primo
    nome: Primo servizio
    descrizione: Un servizio con molti errori.
    categoria: nidi
    destinatari: Famiglie
    eta_min: 6
    eta_max: 3
    requisiti:
      isee_max: 15000
    ente_titolare: Comune di Tradate
    area_servita: [Tradate, Tradat]
    orari:
      fasce:
        - giorni: [lun]
          dalle: 18:00
          alle: 08:00
    costo: {modello: tariffa}
    contatti: {email: non-una-mail}
    fonte: test
    data_verifica: 2026-13-40
    provenienza: esempio
    colore: rosso
  - nome: Senza id
    descrizione: Manca l'identificativo.
"""


def by_field(problems: list[Problem]) -> dict[str | None, Problem]:
    return {p.field: p for p in problems}


def test_a_good_file_loads() -> None:
    services, problems = parse_text(GOOD, fmt="yaml", file="ok.yml", places=PLACES)
    assert problems == []
    assert services[0].id == "nido-prova"
    assert services[0].contatti.telefono == "0331 000 000"


def test_every_problem_has_file_line_record_and_field() -> None:
    services, problems = parse_text(BAD, fmt="yaml", file="bad.yml", places=PLACES)
    assert services == []
    first = by_field([p for p in problems if p.record == "primo"])
    expected_lines = {
        "categoria": 5,
        "eta_max": 8,
        "requisiti": 9,
        "area_servita[1]": 12,
        "orari.fasce[0].alle": 17,
        "costo": 18,
        "contatti.email": 19,
        "data_verifica": 21,
        "colore": 23,
    }
    assert {f: first[f].line for f in expected_lines} == expected_lines
    assert all(p.file == "bad.yml" for p in problems)
    assert "forse 'Tradate'" in first["area_servita[1]"].message
    assert "isee_tipo" in first["requisiti"].message
    assert "importo" in first["costo"].message
    second = {p.field for p in problems if p.record == "#2"}
    assert {"id", "categoria", "costo", "fonte"} <= second
    assert next(p for p in problems if p.record == "#2" and p.field == "id").line == 24


def test_problem_prints_as_one_line() -> None:
    problem = Problem("a.yml", 3, "nido", "eta_max", "troppo piccola")
    assert str(problem) == "a.yml:3: [nido] eta_max: troppo piccola"
    assert problem.to_json()["line"] == 3


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("servizi:\n  - id: [unclosed\n", 3, "YAML non valido"),
        ("servizi: 3\n", 1, "elenco"),
        ("- id: a\n  id: b\n", 2, "ripetuta"),
        ("- 42\n", 1, "scheda non valida"),
    ],
)
def test_structural_problems(text: str, line: int, fragment: str) -> None:
    _, problems = parse_text(text, fmt="yaml", file="x.yml", places=PLACES)
    assert problems, text
    assert problems[0].line == line
    assert fragment in problems[0].message


def test_an_invalid_file_means_nothing_is_imported(tmp_path: Path) -> None:
    (tmp_path / "a_good.yml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b_bad.yml").write_text(BAD, encoding="utf-8")
    result = load_path(tmp_path, places=PLACES)
    assert not result.ok
    assert result.services == ()
    assert {p.file for p in result.problems} == {str(tmp_path / "b_bad.yml")}


def test_ids_repeated_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yml").write_text(GOOD, encoding="utf-8")
    result = load_path(tmp_path, places=PLACES)
    assert [(p.record, p.field) for p in result.problems] == [("nido-prova", "id")]
    assert "a.yml" in result.problems[0].message


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    assert "inesistente" in load_path(tmp_path / "nope.yml", places=PLACES).problems[0].message
    assert "nessun file" in load_path(tmp_path, places=PLACES).problems[0].message


def test_friendly_values_staff_write(raw: Callable[..., dict[str, Any]]) -> None:
    service = validate_service(
        raw(
            area_servita=["castiglione  olona", "VENEGONO-SUPERIORE"],
            richiede_valutazione="sì",
            periodo_attivita={"mesi": ["giugno", 7, "Agosto"]},
        ),
        PLACES,
    )
    assert service.area_servita == ("Castiglione Olona", "Venegono Superiore")
    assert service.richiede_valutazione is True
    assert service.periodo_attivita is not None and service.periodo_attivita.mesi == (6, 7, 8)


def test_unquoted_hours_are_times_not_base_60_numbers() -> None:
    text = GOOD + "    orari:\n      fasce:\n        - {giorni: [lun], dalle: 7:30, alle: 16:30}\n"
    services, problems = parse_text(text, fmt="yaml", places=PLACES)
    assert problems == []
    orari = services[0].orari
    assert orari is not None
    assert [f.alle.strftime("%H:%M") for f in orari.fasce] == ["16:30"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id": "Nido Comunale"}, "id"),
        ({"tipo": "bonus"}, "tipo"),
        ({"provenienza": "inventata"}, "provenienza"),
        ({"area_servita": []}, "area_servita"),
        ({"area_servita": ["Tradate", "tradate"]}, "area_servita"),
        ({"familiari": ["cugino"]}, "familiari.0"),
        ({"eta_min": -1}, "eta_min"),
        (
            {"sedi": [{"nome": "X", "indirizzo": "Via Roma 1", "comune": "Tradate", "lat": 45.7}]},
            "sedi.0",
        ),
        ({"periodo_attivita": {"dal": "2026-06-01"}}, "periodo_attivita"),
        ({"periodo_attivita": {"mesi": [13]}}, "periodo_attivita.mesi.0"),
        (
            {"periodo_attivita": {"mesi": [6], "dal": "2026-06-01", "al": "2026-07-01"}},
            "periodo_attivita",
        ),
        ({"periodo_attivita": {"dal": "2026-08-01", "al": "2026-06-01"}}, "periodo_attivita"),
        (
            {"accesso": {"finestra_domanda": {"dal": "2026-05-01", "al": "2026-04-01"}}},
            "accesso.finestra_domanda.al",
        ),
        ({"accesso": {"canali": ["piccione"]}}, "accesso.canali.0"),
        ({"contatti": {}}, "contatti"),
        ({"contatti": {"web": "www.example.org"}}, "contatti.web"),
        ({"costo": {"modello": "gratuito", "importo": 5}}, "costo"),
        ({"costo": {"modello": "tariffa", "importo": 5}}, "costo"),
        ({"costo": {"modello": "rimborso"}}, "costo"),
        ({"costo": {"modello": "buono", "importo": 100, "percentuale": 20}}, "costo"),
        ({"costo": {"modello": "tariffa", "importo": 5, "unita": "al secolo"}}, "costo.unita"),
        ({"requisiti": {"certificazioni": ["patente"]}}, "requisiti.certificazioni.0"),
        ({"requisiti": {"isee_max": 1000, "isee_tipo": "strano"}}, "requisiti.isee_tipo"),
        ({"requisiti": {"comuni_residenza": ["Milano"]}}, "requisiti.comuni_residenza.0"),
    ],
)
def test_each_rule(
    overrides: dict[str, object], field: str, raw: Callable[..., dict[str, Any]]
) -> None:
    with pytest.raises(ValidationError) as info:
        validate_service(raw(**overrides), PLACES)
    locs = {".".join(str(p) for p in e["loc"]) for e in info.value.errors()}
    assert field in locs
