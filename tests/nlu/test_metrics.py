"""Tests for nlu.metrics, checked against hand-computed values."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.metrics import (
    LabelScore,
    confusion_matrix,
    entity_accuracy,
    label_recall,
    macro_f1,
    per_label_scores,
)

PAIRS = [
    ("saluto", "saluto"),
    ("saluto", "saluto"),
    ("emergenza", "emergenza"),
    ("emergenza", "fuori_ambito"),
    ("bisogno_caregiver", "bisogno_caregiver"),
    ("bisogno_caregiver", "saluto"),
]


def test_per_label_scores() -> None:
    scores = per_label_scores(PAIRS)
    assert list(scores) == ["saluto", "emergenza", "fuori_ambito", "bisogno_caregiver"]
    assert scores["saluto"] == LabelScore(2 / 3, 1.0, 0.8, 2)
    assert scores["emergenza"] == LabelScore(1.0, 0.5, 2 / 3, 2)
    assert scores["fuori_ambito"] == LabelScore(0.0, 0.0, 0.0, 0)  # spurious prediction
    assert scores["bisogno_caregiver"] == LabelScore(1.0, 0.5, 2 / 3, 2)


def test_macro_f1_averages_every_label_seen() -> None:
    assert macro_f1(PAIRS) == pytest.approx((0.8 + 2 / 3 + 0.0 + 2 / 3) / 4)


def test_label_recall() -> None:
    assert label_recall(PAIRS, "emergenza") == 0.5
    assert label_recall(PAIRS, "saluto") == 1.0
    assert label_recall(PAIRS, "mai_visto") == 0.0


def test_none_is_a_label() -> None:
    pairs = [("saluto", None), ("saluto", "saluto")]
    assert label_recall(pairs, "saluto") == 0.5
    assert confusion_matrix(pairs)["saluto"] == {"saluto": 1, None: 1}


def test_confusion_matrix() -> None:
    matrix = confusion_matrix(PAIRS)
    assert matrix["emergenza"] == {
        "saluto": 0,
        "emergenza": 1,
        "fuori_ambito": 1,
        "bisogno_caregiver": 0,
    }
    assert matrix["fuori_ambito"] == dict.fromkeys(matrix, 0)
    assert matrix["bisogno_caregiver"]["saluto"] == 1


def test_entity_accuracy() -> None:
    examples: list[tuple[list[object], list[object]]] = [
        (["Tradate"], ["Tradate"]),
        (["Tradate", "Varese"], ["Varese", "Tradate"]),  # order does not matter
        ([], []),  # nothing to find, nothing found
        (["Venegono Superiore"], []),
        ([], ["Tradate"]),
        ([1.5], [1.5, 1.5]),  # a set: a repeated value is the same value
    ]
    assert entity_accuracy(examples) == pytest.approx(4 / 6)


def test_empty_inputs() -> None:
    assert per_label_scores([]) == {}
    assert macro_f1([]) == 0.0
    assert label_recall([], "x") == 0.0
    assert entity_accuracy([]) == 0.0
    assert confusion_matrix([]) == {}


def test_rejects_malformed_pairs() -> None:
    with pytest.raises(ValueError, match="pairs"):
        per_label_scores(cast(Any, [("a", "b", "c")]))


labels = st.sampled_from(["a", "b", "c", "d"])
pairs_strategy = st.lists(st.tuples(labels, labels), max_size=50)


@given(pairs_strategy)
def test_properties(pairs: list[tuple[str, str]]) -> None:
    scores = per_label_scores(pairs)
    for score in scores.values():
        assert 0.0 <= score.precision <= 1.0
        assert 0.0 <= score.recall <= 1.0
        low, high = sorted((score.precision, score.recall))
        assert low - 1e-9 <= score.f1 <= high + 1e-9  # a harmonic mean lies between
    assert sum(s.support for s in scores.values()) == len(pairs)
    assert 0.0 <= macro_f1(pairs) <= 1.0
    matrix = confusion_matrix(pairs)
    assert sum(sum(row.values()) for row in matrix.values()) == len(pairs)
    for label, score in scores.items():
        assert sum(matrix[label].values()) == score.support


@given(pairs_strategy)
def test_perfect_predictions(pairs: list[tuple[str, str]]) -> None:
    perfect = [(e, e) for e, _ in pairs]
    assert macro_f1(perfect) == (1.0 if perfect else 0.0)
    assert entity_accuracy([([e], [e]) for e, _ in pairs]) == (1.0 if pairs else 0.0)
