"""Tests for nlu.entities: ages, family members, normalisation of model entities."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu import entities as nlu_entities
from nlu.comuni import gazetteer
from nlu.entities import FAMILIARI, normalise_familiare, parse_age
from nlu.types import Entity
from territory.model import shipped_territory

PLACES = gazetteer(shipped_territory("tradate"))


def normalise_entities(text: str, raw: list[dict[str, Any]]) -> tuple[Entity, ...]:
    return nlu_entities.normalise_entities(text, raw, PLACES)


@pytest.mark.parametrize(
    ("span", "years"),
    [
        ("18 mesi", 1.5),
        ("3 anni", 3.0),
        ("tre anni", 3.0),
        ("Tre Anni", 3.0),
        ("3 anni e mezzo", 3.5),
        ("un anno e mezzo", 1.5),
        ("anno e mezzo", 1.5),
        ("1 anno", 1.0),
        ("un anno", 1.0),
        ("6 mesi", 0.5),
        ("sei mesi", 0.5),
        ("8 mesi", 0.67),
        ("mezzo anno", 0.5),
        ("17enne", 17.0),
        ("diciassettenne", 17.0),
        ("ottantenne", 80.0),
        ("novantenne", 90.0),
        ("ha 80 anni", 80.0),
        ("ha quasi 4 anni", 4.0),
        ("2 anni e 3 mesi", 2.25),
        ("2 anni 6 mesi", 2.5),
        ("2,5 anni", 2.5),
        ("1.5 anni", 1.5),
        ("ventitré anni", 23.0),
        ("ventitre anni", 23.0),
        ("trentotto anni", 38.0),
        ("ventun anni", 21.0),
        ("novantanove anni", 99.0),
        ("cento anni", 100.0),
        ("3 e mezzo", 3.5),
        ("due settimane", 0.04),
        ("neonato", 0.0),
        ("neonata", 0.0),
        ("appena nato", 0.0),
        ("3", 3.0),
        ("ha 85", 85.0),
        ("4 ANNI!!", 4.0),
    ],
)
def test_parse_age(span: str, years: float) -> None:
    assert parse_age(span) == years


@pytest.mark.parametrize("span", ["", "ciao", "anni", "1000 anni", "200", "mesi", "molti anni"])
def test_parse_age_none(span: str) -> None:
    assert parse_age(span) is None


@pytest.mark.parametrize(
    ("span", "value"),
    [
        ("figlio", "figlio"),
        ("mio figlio", "figlio"),
        ("i miei figli", "figlio"),
        ("bambini", "figlio"),
        ("bimbo", "figlio"),
        ("il piccolo", "figlio"),
        ("ragazzi", "figlio"),
        ("bimba", "figlia"),
        ("bambina", "figlia"),
        ("la piccola", "figlia"),
        ("mia figlia", "figlia"),
        ("mamma", "madre"),
        ("la mia mamma", "madre"),
        ("mami", "madre"),
        ("mammà", "madre"),
        ("madre", "madre"),
        ("papà", "padre"),
        ("papa", "padre"),
        ("babbo", "padre"),
        ("mio padre", "padre"),
        ("nonno", "nonno"),
        ("i nonni", "nonno"),
        ("nonna", "nonna"),
        ("marito", "marito"),
        ("compagno", "marito"),
        ("il mio ragazzo", "marito"),
        ("moglie", "moglie"),
        ("compagna", "moglie"),
        ("mia suocera", "suocera"),
        ("suocero", "suocero"),
        ("fratello", "fratello"),
        ("sorella", "sorella"),
        ("io", "se_stesso"),
        ("me", "se_stesso"),
        ("per me", "se_stesso"),
        ("me stessa", "se_stesso"),
        # typos
        ("mogle", "moglie"),
        ("suocra", "suocera"),
        ("fratelo", "fratello"),
        ("mama", "madre"),
        ("nona", "nonna"),
        ("fliglio", "figlio"),
        ("MAMMAAA", "madre"),
    ],
)
def test_normalise_familiare(span: str, value: str) -> None:
    assert normalise_familiare(span) == value


@pytest.mark.parametrize("span", ["", "zio", "il mio capo", "ragazzo", "lavoro", "la vicina"])
def test_normalise_familiare_none(span: str) -> None:
    assert normalise_familiare(span) is None


def raw(text: str, entity: str, span: str, value: Any = None) -> dict[str, Any]:
    start = text.index(span)
    return {
        "entity": entity,
        "start": start,
        "end": start + len(span),
        "value": span if value is None else value,
        "extractor": "DIETClassifier",
    }


def test_normalises_model_entities() -> None:
    text = "abito a venegono sup, mia figlia ha 18 mesi"
    entities = normalise_entities(
        text,
        [
            raw(text, "comune", "venegono sup"),
            raw(text, "familiare", "figlia"),
            raw(text, "eta", "18 mesi"),
        ],
    )
    assert entities == (
        Entity("comune", "Venegono Superiore"),
        Entity("familiare", "figlia"),
        Entity("eta", 1.5),
    )


def test_model_number_without_unit_uses_the_text_after_the_span() -> None:
    text = "cerco un nido, 18 mesi"
    assert normalise_entities(text, [raw(text, "eta", "18")]) == (Entity("eta", 1.5),)


def test_numeric_value_is_kept() -> None:
    text = "ha tre anni"
    assert normalise_entities(text, [raw(text, "eta", "tre anni", 3)]) == (Entity("eta", 3.0),)


def test_drops_unknown_types_bad_values_and_duplicates() -> None:
    text = "Tradate, tradate, venegono, sono a Tradate"
    entities = normalise_entities(
        text,
        [
            {"entity": "comune", "value": "Tradate", "start": 0, "end": 7},
            {"entity": "comune", "value": "tradate", "start": 9, "end": 16},
            {"entity": "comune", "value": "venegono", "start": 18, "end": 26},
            {"entity": "orario", "value": "18:00"},
            {"entity": "comune", "value": "Atlantide"},
            {"entity": "eta", "value": "tanti"},
            {"entity": "familiare", "value": "zio"},
            {"entity": "comune"},
        ],
    )
    assert entities == (Entity("comune", "Tradate"),)


def test_entities_without_offsets_are_kept() -> None:
    entities = normalise_entities("x", [{"entity": "familiare", "value": "mamma"}])
    assert entities == (Entity("familiare", "madre"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Buongiorno, abito a Tradate e mio figlio ha 3 anni",
            [Entity("comune", "Tradate"), Entity("familiare", "figlio"), Entity("eta", 3.0)],
        ),
        (
            "cerco un nido per la mia bimba di 18 mesi",
            [Entity("familiare", "figlia"), Entity("eta", 1.5)],
        ),
        (
            "mia mamma, 80 anni, vive sola a vedano",
            [Entity("familiare", "madre"), Entity("eta", 80.0), Entity("comune", "Vedano Olona")],
        ),
        ("ho un 17enne", [Entity("eta", 17.0)]),
        ("i miei due figli", [Entity("familiare", "figlio")]),
        ("mio ex marito", [Entity("familiare", "marito")]),
        ("la babysitter è per me", [Entity("familiare", "se_stesso")]),
        # durations, not ages
        ("lavoro da 3 anni a Saronno", [Entity("comune", "Saronno")]),
        ("3 anni fa ho cambiato lavoro", []),
        ("mio figlio da 2 anni va al nido", [Entity("familiare", "figlio")]),
        ("tra 2 mesi rientro al lavoro", []),
        ("il contratto dura 2 anni", []),
    ],
)
def test_deterministic_completion(text: str, expected: list[Entity]) -> None:
    assert list(normalise_entities(text, [])) == expected


def test_longer_deterministic_span_replaces_a_partial_model_span() -> None:
    text = "la bimba di 18 mesi e mezzo"
    entities = normalise_entities(text, [raw(text, "eta", "18", 18)])
    assert [e for e in entities if e.entity == "eta"] == [Entity("eta", 1.54)]


def test_model_and_deterministic_agree_no_duplicate() -> None:
    text = "mio figlio ha 3 anni"
    entities = normalise_entities(
        text, [raw(text, "eta", "3 anni"), raw(text, "familiare", "figlio")]
    )
    assert entities == (Entity("familiare", "figlio"), Entity("eta", 3.0))


def test_familiari_are_taxonomy_values() -> None:
    assert set(FAMILIARI) == {
        "figlio",
        "figlia",
        "madre",
        "padre",
        "nonno",
        "nonna",
        "marito",
        "moglie",
        "suocero",
        "suocera",
        "fratello",
        "sorella",
        "se_stesso",
    }


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_never_raise_on_arbitrary_text(text: str) -> None:
    age = parse_age(text)
    assert age is None or 0 <= age <= 120
    assert normalise_familiare(text) in (None, *FAMILIARI)
    for entity in normalise_entities(text, []):
        assert entity.entity in {"comune", "eta", "familiare"}


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=40),
    st.lists(
        st.fixed_dictionaries(
            {
                "entity": st.sampled_from(["comune", "eta", "familiare", "altro"]),
                "value": st.one_of(
                    st.none(),
                    st.text(max_size=15),
                    st.integers(),
                    st.floats(allow_nan=True),
                    st.booleans(),
                ),
                "start": st.one_of(st.none(), st.integers(-5, 50)),
                "end": st.one_of(st.none(), st.integers(-5, 50)),
            }
        ),
        max_size=4,
    ),
)
def test_normalise_entities_never_raises_on_garbage(text: str, items: list[dict[str, Any]]) -> None:
    result = normalise_entities(text, items)
    assert len(result) == len(set(result))
