"""The managed Rasa child: its port taken while it loads, and a child that dies at start."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from bot.cli import nlu_runtime
from bot.settings import Settings
from nlu.rasa_process import RasaError, RasaServer
from tests.integration.conftest import ROOT, require_model

pytestmark = pytest.mark.rasa


def managed(settings: Settings) -> Settings:
    nlu = settings.config.nlu.model_copy(update={"model_dir": ROOT / "var" / "models"})
    config = settings.config.model_copy(update={"nlu": nlu})
    return settings.model_copy(update={"config": config})


def test_a_port_taken_while_rasa_loads_moves_it_to_another(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_model()
    log = tmp_path / "rasa.log"
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        taken = other_program.getsockname()[1]
        # The race: the port looked free when it was chosen, then someone else bound it.
        choices = iter([taken])
        choose = nlu_runtime._free_port
        monkeypatch.setattr(
            nlu_runtime, "_free_port", lambda preferred: next(choices, None) or choose(preferred)
        )
        with nlu_runtime.nlu_endpoint(managed(settings), log_file=log) as endpoint:
            assert urlparse(endpoint.url).port != taken
            status = httpx.get(f"{endpoint.url}/status", params={"token": endpoint.token})
            assert status.status_code == 200 and status.json()["model_file"]
    assert "address already in use" in log.read_text().lower()


def test_a_rasa_that_dies_is_reported_with_this_runs_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "rasa"
    fake.write_text("#!/bin/sh\necho 'InvalidModelError: model.tar.gz is not a model'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("RASA_BIN", str(fake))
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    log = tmp_path / "rasa.log"
    log.write_text("address already in use (an earlier run)\n")
    server = RasaServer(model=model, port=1, token=secrets.token_urlsafe(8))
    server.start(log_file=log)
    with pytest.raises(RasaError) as failure:
        server.wait_ready(timeout=30)
    message = str(failure.value)
    assert "exited with code 1" in message and str(log) in message
    assert "is not a model" in message
    assert "earlier run" not in message  # only this run's lines
    assert not server.port_was_taken()
