"""A real Rasa server with the trained model, shared by the integration tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlu.rasa_process import model_path
from tests.channels.fakes import FakeTelegram, ServerThread

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


@pytest.fixture
def fake_telegram() -> Iterator[tuple[FakeTelegram, str]]:
    """A fake Bot API on loopback (the `frontdesk run` processes talk to it over HTTP)."""
    fake = FakeTelegram()
    with ServerThread(fake.app) as server:
        yield fake, server.url
