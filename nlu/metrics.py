"""Evaluation metrics for `frontdesk nlu eval`, as plain functions.

Small enough to write out (sklearn would be a heavy dependency for 50 lines).
Conventions follow sklearn's `zero_division=0`: a ratio with an empty denominator
is 0.0. Labels are compared as given; `None` is a label like any other (the model
may return no intent).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

L = TypeVar("L", bound=Hashable)


@dataclass(frozen=True)
class LabelScore:
    """Precision, recall and F1 of one label, with its number of expected examples."""

    precision: float
    recall: float
    f1: float
    support: int


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _check(pairs: Sequence[tuple[L, L]]) -> None:
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"expected (expected, predicted) pairs, got {pair!r}")


def per_label_scores(pairs: Sequence[tuple[L, L]]) -> dict[L, LabelScore]:
    """Precision, recall and F1 for every label seen as expected or predicted.

    Args:
        pairs: (expected, predicted) label of each example.

    Returns:
        Scores by label, labels in order of first appearance.
    """
    _check(pairs)
    labels = list(dict.fromkeys(label for pair in pairs for label in pair))
    scores: dict[L, LabelScore] = {}
    for label in labels:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        expected = sum(1 for e, _ in pairs if e == label)
        predicted = sum(1 for _, p in pairs if p == label)
        precision, recall = _ratio(tp, predicted), _ratio(tp, expected)
        scores[label] = LabelScore(precision, recall, _f1(precision, recall), expected)
    return scores


def macro_f1(pairs: Sequence[tuple[L, L]]) -> float:
    """Unweighted mean F1 over every label seen, expected or predicted.

    Same as sklearn's `f1_score(average="macro")` (and so Rasa's reports): a label
    the model predicts but no example expects scores F1 0 and lowers the mean.

    Args:
        pairs: (expected, predicted) label of each example.

    Returns:
        Macro-averaged F1 in [0, 1]; 0.0 for no examples.
    """
    scores = per_label_scores(pairs)
    return sum(s.f1 for s in scores.values()) / len(scores) if scores else 0.0


def label_recall(pairs: Sequence[tuple[L, L]], label: L) -> float:
    """Recall of one label, e.g. of `emergenza` (the share of emergencies caught).

    Args:
        pairs: (expected, predicted) label of each example.
        label: The label of interest.

    Returns:
        Recall in [0, 1]; 0.0 when the label is never expected.
    """
    _check(pairs)
    expected = [p for e, p in pairs if e == label]
    return _ratio(sum(1 for p in expected if p == label), len(expected))


def entity_accuracy(
    examples: Sequence[tuple[Iterable[object], Iterable[object]]],
) -> float:
    """Exact-match accuracy of one entity type's values, per example.

    An example counts as correct when the *set* of predicted values equals the set
    of expected ones (both empty counts as correct: nothing to find, nothing found).
    Pass only the values of one entity type, e.g. every `comune` of each message.

    Args:
        examples: (expected values, predicted values) of each example.

    Returns:
        Share of examples with an exact match; 0.0 for no examples.
    """
    correct = sum(1 for expected, predicted in examples if set(expected) == set(predicted))
    return _ratio(correct, len(examples))


def confusion_matrix(pairs: Sequence[tuple[L, L]]) -> dict[L, dict[L, int]]:
    """Counts of predicted labels for each expected label.

    Args:
        pairs: (expected, predicted) label of each example.

    Returns:
        `matrix[expected][predicted] = count`, with every label seen (expected or
        predicted) as a row and a column, zeros included, in order of appearance.
    """
    _check(pairs)
    labels = list(dict.fromkeys(label for pair in pairs for label in pair))
    matrix = {row: dict.fromkeys(labels, 0) for row in labels}
    for expected, predicted in pairs:
        matrix[expected][predicted] += 1
    return matrix


def accuracy(pairs: Sequence[tuple[L, L]]) -> float:
    """Share of examples whose predicted label is the expected one (0.0 for none)."""
    _check(pairs)
    return _ratio(sum(1 for e, p in pairs if e == p), len(pairs))


def false_positive_rate(pairs: Sequence[tuple[L, L]], label: L) -> float:
    """Share of the examples *not* expecting `label` that were predicted as `label`.

    For `emergenza`, the false alarms: ordinary messages answered with helplines.

    Args:
        pairs: (expected, predicted) label of each example.
        label: The label of interest.

    Returns:
        Rate in [0, 1]; 0.0 when every example expects the label.
    """
    _check(pairs)
    others = [p for e, p in pairs if e != label]
    return _ratio(sum(1 for p in others if p == label), len(others))


def confusion_pairs(pairs: Sequence[tuple[L, L]], top: int = 10) -> list[tuple[L, L, int]]:
    """The most frequent mistakes as (expected, predicted, count), most frequent first.

    Ties keep the order in which the pair first appears.

    Args:
        pairs: (expected, predicted) label of each example.
        top: How many pairs to return at most.
    """
    _check(pairs)
    counts: dict[tuple[L, L], int] = {}
    for expected, predicted in pairs:
        if expected != predicted:
            counts[(expected, predicted)] = counts.get((expected, predicted), 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return [(e, p, n) for (e, p), n in ranked[:top]]
