"""Tests for nlu.comuni: canonical names and mentions in free text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.comuni import gazetteer, is_comune
from territory.model import shipped_territory

TRADATE = shipped_territory("tradate")
PLACES = gazetteer(TRADATE)
find_comuni, find_comuni_spans = PLACES.find_comuni, PLACES.find_comuni_spans
guess_italian_comune = PLACES.guess_italian_comune


def test_ambito_has_the_eight_comuni_with_istat_names() -> None:
    assert len(TRADATE.comuni) == 8
    assert all(is_comune(name) for name in TRADATE.places)
    assert gazetteer(TRADATE) is PLACES  # built once per territory


@pytest.mark.parametrize(
    ("mention", "expected"),
    [
        ("Tradate", "Tradate"),
        ("tradate", "Tradate"),
        ("TRADATE", "Tradate"),
        ("tradà", "Tradate"),
        ("Tradaa", "Tradate"),
        ("abbiate guazzone", "Tradate"),
        ("Abbiate", "Tradate"),
        ("castelseprio", "Castelseprio"),
        ("castel seprio", "Castelseprio"),
        ("Castel-Seprio", "Castelseprio"),
        ("castiglione", "Castiglione Olona"),
        ("Castiglione O.", "Castiglione Olona"),
        ("castiglione olona", "Castiglione Olona"),
        ("castiglone olona", "Castiglione Olona"),
        ("gornate", "Gornate Olona"),
        ("Gornate O.", "Gornate Olona"),
        ("lonate", "Lonate Ceppino"),
        ("lonate c.", "Lonate Ceppino"),
        ("Lonate Ceppino", "Lonate Ceppino"),
        ("vedano", "Vedano Olona"),
        ("Vedano O.", "Vedano Olona"),
        ("venegono sup", "Venegono Superiore"),
        ("venegono sup.", "Venegono Superiore"),
        ("Venegono Superiore (VA)", "Venegono Superiore"),
        ("v. sup", "Venegono Superiore"),
        ("ven. inferiore", "Venegono Inferiore"),
        ("Venegono Inf.", "Venegono Inferiore"),
        ("venegono inferire", "Venegono Inferiore"),
        ("tradte", "Tradate"),
        ("a Tradate", "Tradate"),
        ("comune di Vedano Olona", "Vedano Olona"),
        ("tradate centro", "Tradate"),
    ],
)
def test_ambito_mentions(mention: str, expected: str) -> None:
    assert guess_italian_comune(mention) == expected


@pytest.mark.parametrize(
    ("mention", "expected"),
    [
        ("varese", "Varese"),
        ("Busto Arsizio", "Busto Arsizio"),
        ("busto", "Busto Arsizio"),
        ("gallarte", "Gallarate"),
        ("Lonate Pozzolo", "Lonate Pozzolo"),
        ("cardano al campo", "Cardano al Campo"),
        ("Campione d'Italia", "Campione d'Italia"),
        ("viggiu", "Viggiù"),
        ("milano", "Milano"),
        ("Sesto S. Giovanni", "Sesto San Giovanni"),
        ("Vedano al Lambro", "Vedano al Lambro"),
        ("bozen", "Bolzano"),
        ("roma", "Roma"),
    ],
)
def test_other_comuni(mention: str, expected: str) -> None:
    assert guess_italian_comune(mention) == expected


@pytest.mark.parametrize("mention", ["venegono", "Venegono", "", "   ", "xyz", "san", "ciao", "!!"])
def test_not_a_comune_or_ambiguous(mention: str) -> None:
    assert guess_italian_comune(mention) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abito a tradate e lavoro a Varese", ["Tradate", "Varese"]),
        ("Buongiorno, sono di venegono sup", ["Venegono Superiore"]),
        ("sto a castiglione o. vicino a gornate", ["Castiglione Olona", "Gornate Olona"]),
        ("mio figlio va a calcio a tradate", ["Tradate"]),
        ("abito a Lonate Pozzolo", ["Lonate Pozzolo"]),
        ("vivo a lonate", ["Lonate Ceppino"]),
        ("Abito a Milano", ["Milano"]),
        ("abito a milano", ["Milano"]),
        ("vivo a Erba", ["Erba"]),
        ("lavoro a Saronno, abito a Tradate, lavoro a Saronno", ["Saronno", "Tradate"]),
        ("siamo di castel seprio", ["Castelseprio"]),
        ("abito ad abbiate guazzone", ["Tradate"]),
        ("vivo a tradte", ["Tradate"]),
        ("abito a Cardano al Campo", ["Cardano al Campo"]),
        ("sono di Vedano al Lambro", ["Vedano al Lambro"]),
        ("quanti treni ci sono per milano domani", ["Milano"]),
        ("vengo da napoli e cerco lavoro", ["Napoli"]),
        ("che tempo fa a reggio di calabria", ["Reggio di Calabria"]),
    ],
)
def test_find_comuni(text: str, expected: list[str]) -> None:
    assert find_comuni(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ho un bimbo di nove anni",
        "torno a casa alle 18",
        "mio figlio va a calcio",
        "vengono a prendermi alle 5",
        "scegliere tra date diverse",
        "ho giornate libere il martedì",
        "un prato d'erba",
        "vivo a venegono",  # ambiguous: the flow asks which one
        "buongiorno, cerco un nido",
        "mio figlio si chiama Marzio",
        "sono arrivati in massa",  # capoluoghi named like words stay words lowercase
        "la foto l'ho fatta da fermo",
        "milano e bella",  # a capoluogo without a preposition is not a cue on its own
    ],
)
def test_find_comuni_no_false_positives(text: str) -> None:
    assert find_comuni(text) == []


def test_find_comuni_spans_point_into_the_text() -> None:
    text = "Abito a Venegono Sup. da due anni"
    [(name, start, end)] = find_comuni_spans(text)
    assert name == "Venegono Superiore"
    assert text[start:end] == "Venegono Sup"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_never_raises_and_returns_real_names(text: str) -> None:
    result = guess_italian_comune(text)
    assert result is None or is_comune(result)
    assert all(is_comune(name) for name in find_comuni(text))
