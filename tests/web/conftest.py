"""The real app (database, flows, catalogue) with an NLU client on httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.seed import seed_catalog_if_empty
from bot.settings import Settings
from bot.web.app import create_app
from nlu.client import NluClient
from nlu.comuni import gazetteer
from territory.model import shipped_territory

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

ROOT = Path(__file__).resolve().parents[2]
Rasa = Callable[[str], dict[str, object]]


def rasa_says(intent: str, confidence: float = 0.95, entities: list[dict] | None = None) -> dict:
    return {
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }


class FakeRasa:
    """Answers /model/parse from a table text -> response (default: fuori_ambito, low)."""

    def __init__(self) -> None:
        self.table: dict[str, dict] = {}
        self.down = False
        self.calls = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("refused")
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "frontdesk-nlu.tar.gz"})
        import json

        text = json.loads(request.content)["text"]
        return httpx.Response(200, json=self.table.get(text, rasa_says("fuori_ambito", 0.3)))


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(
    settings: Settings, sessions: sessionmaker[Session], fake_rasa: FakeRasa
) -> Iterator[TestClient]:
    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    nlu = NluClient(
        "http://rasa.test",
        places=TRADATE,
        transport=httpx.MockTransport(fake_rasa.handler),
        retries=0,
    )
    with TestClient(create_app(settings, nlu=nlu)) as c:
        yield c
