"""Starts the managed Rasa server for a command, or connects to the external one."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from rich.console import Console

from bot.cli.common import fail
from bot.settings import Settings
from nlu.client import NluClient
from nlu.rasa_process import RasaError, RasaServer, model_path, train

err = Console(stderr=True)
RASA_LOG = Path("var/rasa.log")  # the managed Rasa's output (no message text at WARNING)


@dataclass(frozen=True)
class NluEndpoint:
    url: str
    token: str | None

    def client(self, settings: Settings) -> NluClient:
        return settings.nlu_client(self.url, self.token)


def _free_port(preferred: int | None) -> int:
    """The preferred port when it is free now, else one the system picks."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred or 0))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_model(settings: Settings) -> Path:
    """The trained model, training it first when missing."""
    path = model_path(settings.config.nlu.model_dir)
    if not path.exists():
        err.print("Addestro il modello NLU (la prima volta ci vuole circa un minuto)...")
        try:
            train(settings.config.nlu.model_dir)
        except RasaError as exc:
            fail(str(exc))
    return path


@contextmanager
def nlu_endpoint(settings: Settings, *, log_file: Path = RASA_LOG) -> Iterator[NluEndpoint]:
    """Yields where to reach Rasa.

    With `nlu.mode: external` or RASA_URL set, that server is used; otherwise (managed) a
    child process is started for as long as the block lasts.
    """
    if settings.config.nlu.mode == "external" or settings.env.RASA_URL:
        yield NluEndpoint(settings.rasa_url, settings.rasa_token)
        return
    model = ensure_model(settings)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    token = settings.rasa_token or secrets.token_urlsafe(24)
    server = RasaServer(model=model, port=_free_port(urlparse(settings.rasa_url).port), token=token)
    try:
        try:
            _start(server, log_file)
        except RasaError:
            # The port was free when chosen but Rasa binds it only after loading the model:
            # another program (a second `frontdesk chat`) may have taken it meanwhile.
            if not server.port_was_taken():
                raise
            server = RasaServer(model=model, port=_free_port(None), token=token)
            _start(server, log_file)
        yield NluEndpoint(server.url, token)
    except RasaError as exc:
        fail(str(exc))
    finally:
        server.stop()


def _start(server: RasaServer, log_file: Path) -> None:
    server.start(log_file=log_file)
    err.print(f"Avvio il server NLU (Rasa) su 127.0.0.1:{server.port}...")
    server.wait_ready()
