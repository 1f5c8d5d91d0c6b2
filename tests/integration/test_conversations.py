"""Scripted conversations through the real app and the real Rasa model (every flow path)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.seed import seed_catalog_if_empty
from bot.db import conversation_repo as repo
from bot.db.models import Handoff, NeedEvent
from bot.settings import Settings, SocialPoint
from bot.web.app import create_app
from nlu.client import NluClient
from nlu.comuni import gazetteer
from nlu.rasa_process import RasaServer
from territory.model import shipped_territory
from tests.integration.conftest import ROOT, free_port

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

pytestmark = pytest.mark.rasa
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Resident:
    """One web chat session talking to the app."""

    def __init__(self, client: TestClient, session: str) -> None:
        self.client, self.session = client, session

    def says(self, text: str) -> str:
        return self._post({"text": text})

    def taps(self, payload: str) -> str:
        return self._post({"payload": payload})

    def _post(self, body: dict[str, str]) -> str:
        resp = self.client.post("/api/chat", json={"session": self.session, **body})
        assert resp.status_code == 200, resp.text
        self.last = resp.json()["messages"]
        return "\n".join(m["text"] for m in self.last)

    def payloads(self) -> list[str]:
        return [b["payload"] for m in self.last for b in m["buttons"]]


def app_client(settings: Settings, sessions: sessionmaker[Session], nlu: NluClient) -> TestClient:
    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    return TestClient(create_app(settings, nlu=nlu))


@pytest.fixture
def client(
    settings: Settings, sessions: sessionmaker[Session], rasa_server: RasaServer
) -> Iterator[TestClient]:
    with app_client(
        settings, sessions, NluClient(rasa_server.url, places=TRADATE, token=rasa_server.token)
    ) as c:
        yield c


def consented(client: TestClient, session: str) -> Resident:
    resident = Resident(client, session)
    resident.says("buongiorno")
    resident.taps("consent:yes")
    return resident


def test_happy_path_and_correction(client: TestClient, sessions: sessionmaker[Session]) -> None:
    resident = Resident(client, "happy-path-01")
    resident.says("mio figlio ha 18 mesi e cerco un nido a tradate")
    answer = resident.taps("consent:yes")  # nothing asked again: the first message is kept
    assert "nido" in answer.lower() and "Tradate" in answer
    assert "menu:operator" in resident.payloads()
    corrected = resident.says("no scusa abito a vedano")
    assert "Vedano Olona" in corrected
    with sessions() as s:
        event = s.scalars(select(NeedEvent).order_by(NeedEvent.id)).first()
        assert event is not None and event.categoria == "prima_infanzia"


def test_interview_asks_only_what_is_missing(client: TestClient) -> None:
    resident = consented(client, "interview-01")
    question = resident.says("ciao ho bisogno x mia mamma ke nn e piu autosufficiente")
    assert "comune" in question.lower()
    answer = resident.says("abitiamo a venegono sup")
    assert "Venegono Superiore" in answer


def test_two_needs_in_one_message_are_both_handled(client: TestClient) -> None:
    resident = consented(client, "multi-need-01")
    resident.says("a tradate cerco un nido per la piccola di 2 anni")
    answer = resident.says("e poi anche un centro estivo per il grande di 8 anni")
    assert "centr" in answer.lower() or "campus" in answer.lower()


def test_no_match_offers_an_operator(client: TestClient, sessions: sessionmaker[Session]) -> None:
    resident = consented(client, "no-match-01")
    resident.says("cerco un nido a varese per mia figlia di 1 anno")
    assert resident.payloads() == ["yes", "no"]
    resident.taps("yes")
    with sessions() as s:
        assert s.scalars(select(Handoff)).one().reason == "nessun_servizio"
        assert s.scalars(select(NeedEvent)).one().matched is False


def test_emergency_numbers_first_then_priority_handoff(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    resident = Resident(client, "emergency-01")
    answer = resident.says("mio marito mi picchia")
    assert "112" in answer and "1522" in answer
    assert resident.says("ci sei?") == ""  # queued for a human: the bot stays silent
    with sessions() as s:
        assert s.scalars(select(Handoff)).one().priority == 1


def test_operator_request_out_of_hours_offers_a_callback(
    settings: Settings, sessions: sessionmaker[Session], rasa_server: RasaServer
) -> None:
    today = WEEKDAYS[datetime.now(ZoneInfo("Europe/Rome")).weekday()]
    other = WEEKDAYS[(WEEKDAYS.index(today) + 3) % 7]
    closed = tuple(
        p.model_copy(update={"hours": {other: ("00:00-00:01",)}})
        for p in settings.config.social_points
    )
    assert all(isinstance(p, SocialPoint) for p in closed)
    config = settings.config.model_copy(update={"social_points": closed})
    shut = settings.model_copy(update={"config": config})
    nlu = NluClient(rasa_server.url, places=TRADATE, token=rasa_server.token)
    with app_client(shut, sessions, nlu) as client:
        resident = consented(client, "closed-01")
        answer = resident.says("voglio parlare con un operatore")
        assert "chiuso" in answer and "riapre" in answer
        resident.taps("yes")
        resident.says("333 1234567")
    with sessions() as s:
        handoff = s.scalars(select(Handoff)).one()
        assert handoff.status == "callback" and handoff.callback_phone == "3331234567"


def test_degraded_mode_when_rasa_is_down(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    nlu = NluClient(f"http://127.0.0.1:{free_port()}", places=TRADATE, retries=0, timeout=0.5)
    with app_client(settings, sessions, nlu) as client:
        resident = consented(client, "degraded-01")
        resident.says("mi serve una mano con mia nonna")
        assert "cat:domiciliarita" in resident.payloads()
        resident.taps("cat:domiciliarita")
        answer = resident.says("Castelseprio")  # comuni are still found without the NLU
        assert "Castelseprio" in answer
    with sessions() as s:
        texts = [m.text for m in repo.transcript(s, channel="webchat", address="degraded-01")]
    assert "mi serve una mano con mia nonna" in texts  # nothing the resident wrote is lost


def test_erase_after_confirmation(client: TestClient, sessions: sessionmaker[Session]) -> None:
    resident = consented(client, "erase-01")
    resident.says("cerco un centro estivo a tradate per mio figlio di 8 anni")
    assert "menu:more" in resident.payloads()
    resident.says("cancella i miei dati")
    assert resident.payloads() == ["yes", "no"]
    resident.taps("yes")
    with sessions() as s:
        assert repo.transcript(s, channel="webchat", address="erase-01") == []
        assert s.scalars(select(NeedEvent)).first() is not None  # anonymous events stay
