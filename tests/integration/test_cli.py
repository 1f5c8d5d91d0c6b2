"""`frontdesk nlu parse` and `frontdesk chat` against the real Rasa server."""

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

pytestmark = pytest.mark.rasa


def run(
    args: list[str], server: RasaServer, tmp_path: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RASA_URL": server.url,
        "RASA_TOKEN": server.token,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    return subprocess.run(
        [FRONTDESK, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_parse_one_text_prints_the_public_json(rasa_server: RasaServer, tmp_path: Path) -> None:
    proc = run(
        ["nlu", "parse", "mio figlio ha 18 mesi e cerco un nido a venegono sup"],
        rasa_server,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(out) == {"text", "intent", "confidence", "entities"}
    assert out["intent"] == "bisogno_prima_infanzia"
    assert {"entity": "eta", "value": 1.5} in out["entities"]
    assert {"entity": "comune", "value": "Venegono Superiore"} in out["entities"]


def test_parse_stdin_prints_one_json_line_per_message(
    rasa_server: RasaServer, tmp_path: Path
) -> None:
    lines = ["mio marito mi picchia", "chi vince stasera?", "buongiorno"]
    proc = run(["nlu", "parse"], rasa_server, tmp_path, stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(x) for x in proc.stdout.strip().splitlines()]
    assert [r["text"] for r in results] == lines
    assert results[0]["intent"] == "emergenza"
    assert results[1]["intent"] == "fuori_ambito"


def test_terminal_chat_runs_the_same_conversation(rasa_server: RasaServer, tmp_path: Path) -> None:
    script = "cerco un nido a Tradate\n1\nha 2 anni\n"
    proc = run(["chat", "--session", "term-test"], rasa_server, tmp_path, stdin=script)
    assert proc.returncode == 0, proc.stderr
    assert "1. Sì, va bene" in proc.stdout  # buttons rendered as numbered options
    assert "nido" in proc.stdout.lower() and "📍" in proc.stdout
