"""`frontdesk run` as a real process: Rasa child, migrations, web chat, clean Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import free_port, require_model

ROOT = Path(__file__).resolve().parents[2]
FRONTDESK = Path(sys.executable).parent / "frontdesk"

pytestmark = pytest.mark.rasa


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_healthy(base: str, proc: subprocess.Popen[str], timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, _ = proc.communicate()
            raise AssertionError(f"frontdesk run exited early ({proc.returncode}):\n{out[-3000:]}")
        try:
            body = httpx.get(f"{base}/healthz", timeout=2).json()
            if body["nlu"] == "ok":
                return body
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError("front desk did not become healthy")


def test_run_serves_the_web_chat_and_stops_cleanly(tmp_path: Path) -> None:
    require_model()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RASA_", "DATABASE_URL"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'frontdesk.db'}"
    proc = subprocess.Popen(
        [str(FRONTDESK), "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_healthy(base, proc)
        assert health["database"] == "ok"
        assert "text/html" in httpx.get(f"{base}/chat").headers["content-type"]

        browser = httpx.Client()  # keeps the session's cookie, as the page does

        def chat(**body: str) -> list[dict]:
            resp = browser.post(
                f"{base}/api/chat", json={"session": "e2e-session-1", **body}, timeout=30
            )
            assert resp.status_code == 200, resp.text
            return resp.json()["messages"]

        welcome = chat(text="cerco un nido a Tradate")
        assert any("consent:yes" in [b["payload"] for b in m["buttons"]] for m in welcome)
        question = chat(payload="consent:yes")
        assert "anni" in question[-1]["text"]  # it asks only what is missing: the age
        answer = chat(text="ha 18 mesi")
        text = "\n".join(m["text"] for m in answer).lower()
        assert "nido" in text and "tradate" in text
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out[-2000:]
    assert "Apri la chat: http://127.0.0.1:" in out
    rasa_port = int(re.search(r"\(Rasa\) su 127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]
    assert not port_open(rasa_port), "the Rasa child process outlived frontdesk run"
    assert not port_open(port)
