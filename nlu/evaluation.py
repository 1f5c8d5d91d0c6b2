"""`frontdesk nlu eval`: Rasa cross-validation plus our held-out set through the real client.

Cross-validation and Rasa's own held-out test write the intent/entity reports and the
confusion matrix images; the held-out set is also parsed through `NluClient`, so that
the headline scores include what residents actually get (entity normalisation and the
emergency safety net).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from nlu.client import NluClient
from nlu.comuni import canonical_comune
from nlu.metrics import confusion_matrix, entity_accuracy, label_recall, macro_f1, per_label_scores
from nlu.rasa_process import NLU_DIR, rasa_test
from nlu.training_data import Example, read_examples

HELDOUT = NLU_DIR / "heldout" / "test.yml"
NO_INTENT = "(nessuno)"


async def _predict(client: NluClient, examples: list[Example]) -> list[dict[str, Any]]:
    async with client:
        results = [await client.parse(ex.text) for ex in examples]
    return [r.to_json() for r in results]


def _expected_comuni(example: Example) -> set[str]:
    return {canonical_comune(v) or v for name, v in example.entities if name == "comune"}


def score_heldout(examples: list[Example], predictions: list[dict[str, Any]]) -> dict[str, Any]:
    """Headline scores and details of the held-out set (pure: easy to test)."""
    pairs = [
        (ex.intent, str(p["intent"] or NO_INTENT))
        for ex, p in zip(examples, predictions, strict=True)
    ]
    with_comune = [
        (_expected_comuni(ex), {e["value"] for e in p["entities"] if e["entity"] == "comune"})
        for ex, p in zip(examples, predictions, strict=True)
        if _expected_comuni(ex)
    ]
    return {
        "examples": len(examples),
        "intent_macro_f1": round(macro_f1(pairs), 4),
        "fuori_ambito_recall": round(label_recall(pairs, "fuori_ambito"), 4),
        "emergenza_recall": round(label_recall(pairs, "emergenza"), 4),
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
        "fuori_ambito_recall",
        "emergenza_recall",
        "comune_accuracy",
        "comune_examples",
    )
    summary.update({k: detail[k] for k in keys})
    return summary
