"""A real Rasa server with the trained model, shared by the integration tests."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlu.rasa_process import RasaServer, model_path

ROOT = Path(__file__).resolve().parents[2]
MODEL = model_path(ROOT / "var" / "models")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_model() -> None:
    """`make test` trains the model first; a bare `pytest` without it skips, CI fails."""
    missing = not MODEL.exists() or not (ROOT / ".venv-rasa" / "bin" / "rasa").exists()
    if missing:
        if os.environ.get("FRONTDESK_REQUIRE_RASA"):
            pytest.fail(f"no trained model at {MODEL}: run `make model`")
        pytest.skip("no trained Rasa model: run `make model` (make test does)")


@pytest.fixture(scope="session")
def rasa_server() -> Iterator[RasaServer]:
    require_model()
    server = RasaServer(model=MODEL, port=free_port(), token=secrets.token_urlsafe(16))
    server.start(log_file=ROOT / "var" / "rasa-test.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
