"""Long, story-like residents' letters (nlu/heldout/lettere_residenti.jsonl, issue 16).

The held-out file is scored with the real model through `frontdesk nlu eval --test`, the
same client the app uses (entity normalisation, the safety net and the vote of the request
sentences of nlu.long_messages included). With the vote and the safety net's closeness and
denial rules (docs/nlu.md, "The safety net on long letters"): accuracy 0.889-0.900 over two
trainings (floor 0.86), accuracy on the 72 `bisogno_*` letters 0.931 (floor 0.88, the issue's
target is 0.85), no false emergency (at most one allowed); the model alone read them 0.678 and
0.764. A change that loses more of the long-message kinds is noticed; raise the floors when a
change that passes every other set improves the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlu.rasa_process import RasaServer

ROOT = Path(__file__).resolve().parents[2]
FRONTDESK = str(Path(sys.executable).parent / "frontdesk")
LETTERE = ROOT / "nlu" / "heldout" / "lettere_residenti.jsonl"
ACCURACY_FLOOR = 0.86
NEED_ACCURACY_FLOOR = 0.88
MAX_FALSE_EMERGENCIES = 1  # none of the letters is an emergency

pytestmark = pytest.mark.rasa


def test_the_held_out_file_covers_every_kind_and_request() -> None:
    rows = [json.loads(line) for line in LETTERE.read_text(encoding="utf-8").splitlines()]
    intents = {r["intent"] for r in rows}
    assert len(rows) >= 80
    assert {"chiedi_contributi", "orari_sedi", "richiesta_operatore"} <= intents
    assert sum(1 for i in intents if i.startswith("bisogno_")) == 9
    assert {r["kind"] for r in rows} >= {"lettera_formale", "forum", "vocale", "altra_categoria"}
    assert all(len(r["text"].split()) >= 60 for r in rows)


def test_long_letters_keep_their_accuracy(rasa_server: RasaServer, tmp_path: Path) -> None:
    env = {**os.environ, "RASA_URL": rasa_server.url, "RASA_TOKEN": rasa_server.token}
    proc = subprocess.run(
        [FRONTDESK, "nlu", "eval", "--test", str(LETTERE), "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    scores = json.loads(proc.stdout.strip().splitlines()[-1])
    assert scores["accuracy"] >= ACCURACY_FLOOR
    assert scores["false_emergencies"] <= MAX_FALSE_EMERGENCIES
    needs = {k: v for k, v in scores["per_intent"].items() if k.startswith("bisogno_")}
    need_support = sum(v["support"] for v in needs.values())
    need_hits = sum(v["recall"] * v["support"] for v in needs.values())
    assert need_hits / need_support >= NEED_ACCURACY_FLOOR
    assert scores["comune_accuracy"] is not None and scores["comune_accuracy"] >= 0.95
