"""`frontdesk nlu eval`: Rasa cross-validation plus our held-out set through the real client.

Cross-validation and Rasa's own held-out test write the intent/entity reports and the
confusion matrix images; the held-out set is also parsed through `NluClient`, so that
the headline scores include what residents actually get (entity normalisation and the
emergency safety net). `--test FILE.jsonl` scores any file in the shared/eval format
(e.g. shared/eval/external_it.jsonl) the same way, instead of the held-out set.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from nlu.client import NluClient
from nlu.comuni import gazetteer
from nlu.metrics import (
    accuracy,
    confusion_matrix,
    confusion_pairs,
    entity_accuracy,
    false_positive_rate,
    label_recall,
    macro_f1,
    per_label_scores,
)
from nlu.rasa_process import NLU_DIR, rasa_test
from nlu.training_data import EvalFile, Example, read_examples
from territory.model import shipped_territory

HELDOUT = NLU_DIR / "heldout" / "test.yml"
NO_INTENT = "(nessuno)"
EMERGENCY = "emergenza"


async def _predict(client: NluClient, examples: list[Example]) -> list[dict[str, Any]]:
    async with client:
        results = [await client.parse(ex.text) for ex in examples]
    return [r.to_json() for r in results]


def _expected_comuni(example: Example) -> set[str]:
    # The training, held-out and test sets are written in the Ambito di Tradate's words.
    places = gazetteer(shipped_territory("tradate"))
    return {places.guess_italian_comune(v) or v for name, v in example.entities if name == "comune"}


def _paired(
    examples: list[Example], predictions: list[dict[str, Any]]
) -> tuple[list[tuple[str, str]], list[tuple[set[str], set[str]]]]:
    """(expected, predicted) intents, and comuni for the lines that name one."""
    pairs = [
        (ex.intent, str(p["intent"] or NO_INTENT))
        for ex, p in zip(examples, predictions, strict=True)
    ]
    with_comune = [
        (_expected_comuni(ex), {e["value"] for e in p["entities"] if e["entity"] == "comune"})
        for ex, p in zip(examples, predictions, strict=True)
        if _expected_comuni(ex)
    ]
    return pairs, with_comune


def score_heldout(examples: list[Example], predictions: list[dict[str, Any]]) -> dict[str, Any]:
    """Headline scores and details of the held-out set (pure: easy to test)."""
    pairs, with_comune = _paired(examples, predictions)
    return {
        "examples": len(examples),
        "intent_macro_f1": round(macro_f1(pairs), 4),
        "accuracy": round(accuracy(pairs), 4),
        "fuori_ambito_recall": round(label_recall(pairs, "fuori_ambito"), 4),
        "emergenza_recall": round(label_recall(pairs, EMERGENCY), 4),
        "false_emergency_rate": round(false_positive_rate(pairs, EMERGENCY), 4),
        "comune_accuracy": round(entity_accuracy(with_comune), 4) if with_comune else None,
        "comune_examples": len(with_comune),
        "per_intent": {
            label: vars(score) for label, score in sorted(per_label_scores(pairs).items())
        },
        "confusion": confusion_matrix(pairs),
        "errors": [
            {"text": ex.text, "expected": ex.intent, "predicted": p["intent"]}
            for ex, p in zip(examples, predictions, strict=True)
            if ex.intent != p["intent"]
        ],
    }


def evaluate(client: NluClient, *, out: Path, folds: int, model: Path) -> dict[str, Any]:
    """Runs the whole evaluation and returns the headline scores (details go to `out`)."""
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"reports": str(out)}
    if folds > 0:
        cv_dir = out / "cross-validation"
        rasa_test(cv_dir, folds=folds)
        report = json.loads((cv_dir / "intent_report.json").read_text(encoding="utf-8"))
        summary["cv_intent_macro_f1"] = round(report["macro avg"]["f1-score"], 4)
    rasa_test(out / "heldout-rasa", model=model, data=HELDOUT)
    examples = read_examples(HELDOUT)
    detail = score_heldout(examples, asyncio.run(_predict(client, examples)))
    (out / "heldout_report.json").write_text(
        json.dumps(detail, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    keys = (
        "examples",
        "intent_macro_f1",
        "accuracy",
        "fuori_ambito_recall",
        "emergenza_recall",
        "false_emergency_rate",
        "comune_accuracy",
        "comune_examples",
    )
    summary.update({k: detail[k] for k in keys})
    return summary


def score_test_file(
    examples: list[Example], predictions: list[dict[str, Any]], *, top: int = 10
) -> dict[str, Any]:
    """Scores of a JSONL test set (pure: easy to test).

    Args:
        examples: The gold examples, in file order.
        predictions: `ParseResult.to_json()` of each example, same order.
        top: How many confusion pairs to keep.

    Returns:
        accuracy, macro-F1, fuori_ambito and emergenza recall, the false-emergency rate
        (share of non-emergency messages answered as emergenza), comune accuracy (over the
        lines that name a comune), per-intent precision/recall/support of the intents the
        file expects, the main confusion pairs and every error.
    """
    pairs, with_comune = _paired(examples, predictions)
    expected_labels = {e for e, _ in pairs}
    per_label = per_label_scores(pairs)
    false_alarms = sum(1 for e, p in pairs if e != EMERGENCY and p == EMERGENCY)
    return {
        "examples": len(examples),
        "accuracy": round(accuracy(pairs), 4),
        "intent_macro_f1": round(macro_f1(pairs), 4),
        "fuori_ambito_recall": round(label_recall(pairs, "fuori_ambito"), 4),
        "emergenza_recall": round(label_recall(pairs, EMERGENCY), 4),
        "false_emergency_rate": round(false_positive_rate(pairs, EMERGENCY), 4),
        "false_emergencies": false_alarms,
        "comune_accuracy": round(entity_accuracy(with_comune), 4) if with_comune else None,
        "comune_examples": len(with_comune),
        "per_intent": {
            label: {
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
                "support": s.support,
            }
            for label, s in sorted(per_label.items())
            if label in expected_labels
        },
        "confusion_pairs": [
            {"expected": e, "predicted": p, "count": n} for e, p, n in confusion_pairs(pairs, top)
        ],
        "errors": [
            {"text": ex.text, "expected": ex.intent, "predicted": p["intent"]}
            for ex, p in zip(examples, predictions, strict=True)
            if ex.intent != p["intent"]
        ],
    }


def evaluate_file(client: NluClient, test: EvalFile, *, name: str, out: Path) -> dict[str, Any]:
    """Parses every line of a test file through `client`; the errors go to `out`.

    Returns:
        The scores of `score_test_file` without the error list, plus the file's name
        and the number of lines skipped because their text is in the training data.
    """
    out.mkdir(parents=True, exist_ok=True)
    detail = score_test_file(test.examples, asyncio.run(_predict(client, test.examples)))
    detail = {"test": name, "skipped_in_training": test.skipped_in_training, **detail}
    report = out / "test_report.json"
    report.write_text(json.dumps(detail, ensure_ascii=False, indent=2), encoding="utf-8")
    summary = {k: v for k, v in detail.items() if k != "errors"}
    summary["report"] = str(report)
    return summary


def format_test_report(summary: dict[str, Any]) -> list[str]:
    """Human-readable lines for a `score_test_file`/`evaluate_file` summary."""
    comune = summary.get("comune_accuracy")
    lines = [
        f"{summary.get('test', 'test set')}: {summary['examples']} examples"
        f" ({summary.get('skipped_in_training', 0)} skipped: in_training)",
        f"accuracy {summary['accuracy']:.3f}   macro-F1 {summary['intent_macro_f1']:.3f}"
        f"   fuori_ambito recall {summary['fuori_ambito_recall']:.3f}"
        f"   emergenza recall {summary['emergenza_recall']:.3f}",
        f"false emergencies {summary['false_emergencies']}"
        f" ({summary['false_emergency_rate']:.1%} of non-emergency messages)"
        + (
            f"   comune accuracy {comune:.3f} ({summary['comune_examples']})"
            if comune is not None
            else ""
        ),
        "",
        f"{'intent':<30}{'precision':>10}{'recall':>10}{'support':>9}",
    ]
    for label, s in summary["per_intent"].items():
        lines.append(f"{label:<30}{s['precision']:>10.3f}{s['recall']:>10.3f}{s['support']:>9}")
    if summary["confusion_pairs"]:
        lines += ["", "main confusions (expected -> predicted):"]
        lines += [
            f"  {c['count']:>4}  {c['expected']} -> {c['predicted']}"
            for c in summary["confusion_pairs"]
        ]
    return lines
