"""`frontdesk nlu eval --test FILE.jsonl` without Rasa: the reader, the scores, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import nlu as nlu_cli
from nlu.client import NluClient
from nlu.comuni import gazetteer
from nlu.evaluation import evaluate_file, format_test_report, score_test_file
from nlu.metrics import accuracy, confusion_pairs, false_positive_rate
from nlu.taxonomy import INTENTS
from nlu.training_data import EvalFileError, Example, read_jsonl
from territory.model import shipped_territory

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

runner = CliRunner()

ROWS: list[dict[str, Any]] = [
    {"text": "metti la sveglia alle sette", "intent": "fuori_ambito", "source": "x"},
    {"text": "cerco un nido a tradate", "intent": "bisogno_prima_infanzia", "comune": ["Tradate"]},
    {"text": "ciao", "intent": "saluto", "in_training": True},
    {"text": "mio marito mi picchia", "intent": "emergenza", "orig_label": "y"},
    {"text": "che tempo fa", "intent": "fuori_ambito", "comune": "Varese", "in_training": False},
]

# What a fake Rasa answers for each text (the safety net adds its own emergenza).
ANSWERS = {
    "metti la sveglia alle sette": "emergenza",
    "cerco un nido a tradate": "bisogno_prima_infanzia",
    "ciao": "saluto",
    "mio marito mi picchia": "bisogno_benessere",
    "che tempo fa": "fuori_ambito",
}


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def fake_client() -> NluClient:
    def handler(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        intent = ANSWERS[text]
        entities = []
        if "tradate" in text:
            start = text.index("tradate")
            entities = [{"entity": "comune", "value": "tradate", "start": start, "end": start + 7}]
        body = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities,
            "intent_ranking": [{"name": intent, "confidence": 0.9}],
        }
        return httpx.Response(200, json=body)

    return NluClient("http://rasa.test", places=TRADATE, transport=httpx.MockTransport(handler))


# --- reading the shared/eval format -----------------------------------------------


def test_read_jsonl_skips_in_training_and_reads_comuni(tmp_path: Path) -> None:
    test_set = read_jsonl(write_jsonl(tmp_path / "t.jsonl", ROWS), intents=INTENTS)
    assert test_set.skipped_in_training == 1
    assert [ex.text for ex in test_set.examples] == [
        "metti la sveglia alle sette",
        "cerco un nido a tradate",
        "mio marito mi picchia",
        "che tempo fa",
    ]
    assert test_set.examples[1].entities == (("comune", "Tradate"),)
    assert test_set.examples[3].entities == (("comune", "Varese"),)
    everything = read_jsonl(tmp_path / "t.jsonl", intents=INTENTS, include_in_training=True)
    assert len(everything.examples) == 5 and everything.skipped_in_training == 0


def test_read_jsonl_ignores_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('\n{"text": "ciao", "intent": "saluto"}\n\n', encoding="utf-8")
    assert len(read_jsonl(path, intents=INTENTS).examples) == 1


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('["ciao", "saluto"]', "line 2: expected a JSON object"),
        ('{"intent": "saluto"}', "line 2: 'text' must be a non-empty string"),
        ('{"text": "  ", "intent": "saluto"}', "line 2: 'text' must be a non-empty string"),
        ('{"text": "ciao"}', "line 2: unknown intent None"),
        ('{"text": "ciao", "intent": "greeting"}', "line 2: unknown intent 'greeting'"),
        ('{"text": "ciao", "intent": "saluto", "comune": 3}', "line 2: 'comune' must be"),
    ],
)
def test_read_jsonl_names_the_malformed_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ciao", "intent": "saluto"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(EvalFileError) as info:
        read_jsonl(path, intents=INTENTS)
    assert f"{path}:{reason.split(':', 1)[0].removeprefix('line ')}" in str(info.value)
    assert reason.split(": ", 1)[1] in str(info.value)


def test_read_jsonl_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EvalFileError, match="cannot read"):
        read_jsonl(tmp_path / "nope.jsonl", intents=INTENTS)


# --- scores -------------------------------------------------------------------------

PAIRS = [
    ("fuori_ambito", "fuori_ambito"),
    ("fuori_ambito", "emergenza"),
    ("fuori_ambito", "bisogno_salvatempo"),
    ("fuori_ambito", "emergenza"),
    ("emergenza", "emergenza"),
    ("saluto", "saluto"),
]


def test_accuracy_and_false_positive_rate() -> None:
    assert accuracy(PAIRS) == pytest.approx(3 / 6)
    assert false_positive_rate(PAIRS, "emergenza") == pytest.approx(2 / 5)
    assert false_positive_rate([("emergenza", "emergenza")], "emergenza") == 0.0
    assert accuracy([]) == 0.0


def test_confusion_pairs_most_frequent_first() -> None:
    assert confusion_pairs(PAIRS) == [
        ("fuori_ambito", "emergenza", 2),
        ("fuori_ambito", "bisogno_salvatempo", 1),
    ]
    assert confusion_pairs(PAIRS, top=1) == [("fuori_ambito", "emergenza", 2)]


def test_score_test_file() -> None:
    examples = [Example(t, e, ()) for t, (e, _) in zip("abcdef", PAIRS, strict=True)]
    examples[5] = Example("f", "saluto", (("comune", "Tradate"),))
    predictions: list[dict[str, Any]] = [{"intent": p, "entities": []} for _, p in PAIRS]
    predictions[5]["entities"] = [{"entity": "comune", "value": "Tradate"}]
    scores = score_test_file(examples, predictions)
    assert scores["examples"] == 6
    assert scores["accuracy"] == 0.5
    assert scores["fuori_ambito_recall"] == 0.25
    assert scores["emergenza_recall"] == 1.0
    assert scores["false_emergencies"] == 2
    assert scores["false_emergency_rate"] == 0.4
    assert scores["comune_accuracy"] == 1.0 and scores["comune_examples"] == 1
    # per-intent rows only for the intents the file expects (not bisogno_salvatempo)
    assert set(scores["per_intent"]) == {"fuori_ambito", "emergenza", "saluto"}
    assert scores["per_intent"]["emergenza"] == {"precision": 0.3333, "recall": 1.0, "support": 1}
    assert scores["confusion_pairs"][0] == {
        "expected": "fuori_ambito",
        "predicted": "emergenza",
        "count": 2,
    }
    assert len(scores["errors"]) == 3
    assert "main confusions" in "\n".join(format_test_report(scores))


def test_evaluate_file_through_the_client(tmp_path: Path) -> None:
    test_set = read_jsonl(write_jsonl(tmp_path / "t.jsonl", ROWS), intents=INTENTS)
    summary = evaluate_file(fake_client(), test_set, name="t.jsonl", out=tmp_path / "out")
    assert summary["skipped_in_training"] == 1 and summary["examples"] == 4
    # the fake model misses the beating, the safety net catches it
    assert summary["emergenza_recall"] == 1.0
    assert summary["false_emergencies"] == 1  # the alarm clock
    assert summary["comune_accuracy"] == 0.5  # Varese expected, none found
    detail = json.loads((tmp_path / "out" / "test_report.json").read_text(encoding="utf-8"))
    assert detail["errors"] == [
        {
            "text": "metti la sveglia alle sette",
            "expected": "fuori_ambito",
            "predicted": "emergenza",
        }
    ]
    assert "errors" not in summary


# --- the command --------------------------------------------------------------------


def test_eval_test_prints_a_report_and_json_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Endpoint:
        def client(self, settings: object) -> NluClient:
            return fake_client()

    @contextmanager
    def endpoint(settings: object) -> Iterator[Endpoint]:
        yield Endpoint()

    monkeypatch.setattr(nlu_cli, "nlu_endpoint", endpoint)
    path = write_jsonl(tmp_path / "t.jsonl", ROWS)
    result = runner.invoke(nlu_cli.nlu_app, ["eval", "--test", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert "1 skipped" in lines[0]
    assert any(line.startswith("fuori_ambito") for line in lines)
    scores = json.loads(lines[-1])
    assert scores["examples"] == 4 and scores["skipped_in_training"] == 1
    assert scores["test"] == str(path)


def test_eval_test_fails_on_a_malformed_line_before_starting_rasa(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ciao", "intent": "saluto"}\n{"text": \n', encoding="utf-8")
    result = runner.invoke(nlu_cli.nlu_app, ["eval", "--test", str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {path}:2: not valid JSON (Expecting value)"
    ]


def test_eval_test_fails_on_an_empty_file(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "seen.jsonl", [ROWS[2]])
    result = runner.invoke(nlu_cli.nlu_app, ["eval", "--test", str(path)])
    assert result.exit_code == 1 and "no examples to score" in result.stderr
