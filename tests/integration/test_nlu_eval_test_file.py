"""`frontdesk nlu eval --test FILE.jsonl` against the real Rasa server and model."""

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
SMALL = ROOT / "tests" / "nlu" / "fixtures" / "eval_small.jsonl"

pytestmark = pytest.mark.rasa


def test_nlu_eval_test_scores_a_jsonl_file(rasa_server: RasaServer, tmp_path: Path) -> None:
    env = {**os.environ, "RASA_URL": rasa_server.url, "RASA_TOKEN": rasa_server.token}
    proc = subprocess.run(
        [FRONTDESK, "nlu", "eval", "--test", str(SMALL), "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert "5 examples (1 skipped: in_training)" in lines[0]
    scores = json.loads(lines[-1])
    assert scores["examples"] == 5 and scores["skipped_in_training"] == 1
    assert scores["emergenza_recall"] == 1.0
    assert scores["false_emergencies"] == 0
    assert scores["comune_examples"] == 2
    assert scores["accuracy"] >= 0.8
    assert set(scores["per_intent"]) >= {"emergenza", "fuori_ambito", "saluto"}
    detail = json.loads(Path(scores["report"]).read_text(encoding="utf-8"))
    assert len(detail["errors"]) == round(5 * (1 - scores["accuracy"]))
