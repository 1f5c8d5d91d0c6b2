"""/api/chat, /chat, /healthz and /privacy through the real app and database."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import conversation_repo as repo
from bot.db.models import Conversation, Handoff, NeedEvent
from tests.conftest import FakeRasa, rasa_says

SESSION = "test-session-0001"


def post(client: TestClient, **body: str) -> list[dict]:
    resp = client.post("/api/chat", json={"session": SESSION, **body})
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


def test_conversation_is_stored_only_after_consent(
    client: TestClient, fake_rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    fake_rasa.table["cerco un nido a Tradate"] = rasa_says(
        "bisogno_prima_infanzia",
        entities=[{"entity": "comune", "value": "Tradate", "start": 16, "end": 23}],
    )
    fake_rasa.table["ha 2 anni"] = rasa_says(
        "fornisci_info", entities=[{"entity": "eta", "value": "2 anni", "start": 3, "end": 9}]
    )
    first = post(client, text="cerco un nido a Tradate")
    assert first[-1]["buttons"][0]["payload"] == "consent:yes"
    with sessions() as s:
        assert repo.transcript(s, channel="webchat", address=SESSION) == []  # nothing yet
        conv = s.scalars(select(Conversation)).one()
        saved = json.dumps(repo.load_state(s, conversation=conv))
        assert "cerco un nido" not in saved and "intake" in saved  # kept, but encrypted
    post(client, payload="consent:yes")
    answer = post(client, text="ha 2 anni")
    assert "nido" in "\n".join(m["text"] for m in answer).lower()
    with sessions() as s:
        stored = repo.transcript(s, channel="webchat", address=SESSION)
        # The request written before consent comes first; the tap reads as its button.
        inbound = [m for m in stored if m.direction == "in"]
        assert [m.text for m in inbound] == ["cerco un nido a Tradate", "Sì, va bene", "ha 2 anni"]
        assert inbound[1].payload == "consent:yes"
        event = s.scalars(select(NeedEvent)).one()
        assert (event.categoria, event.comune, event.age_bracket) == (
            "prima_infanzia",
            "Tradate",
            "0-2",
        )


def test_rasa_down_serves_buttons_and_loses_nothing(
    client: TestClient, fake_rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    post(client, text="ciao")
    post(client, payload="consent:yes")
    fake_rasa.down = True
    out = post(client, text="mi serve aiuto per mia mamma")
    assert any(b["payload"].startswith("cat:") for m in out for b in m["buttons"])
    with sessions() as s:
        texts = [m.text for m in repo.transcript(s, channel="webchat", address=SESSION)]
    assert "mi serve aiuto per mia mamma" in texts


def test_emergency_creates_a_priority_handoff_with_summary(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    out = post(client, text="mio marito mi picchia")  # the safety net, whatever Rasa says
    assert "1522" in out[0]["text"]
    with sessions() as s:
        handoff = s.scalars(select(Handoff)).one()
    assert handoff.priority == 1 and handoff.reason == "emergenza"
    assert handoff.summary["messaggio_emergenza"] == "mio marito mi picchia"


def test_erase_deletes_messages_and_state(
    client: TestClient, fake_rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    fake_rasa.table["cancella i miei dati"] = rasa_says("cancellazione_dati")
    post(client, text="ciao")
    post(client, payload="consent:yes")
    post(client, text="cancella i miei dati")
    out = post(client, payload="yes")
    assert "cancellato" in out[0]["text"]
    with sessions() as s:
        assert repo.transcript(s, channel="webchat", address=SESSION) == []


def test_stop_never_reaches_the_nlu(client: TestClient, fake_rasa: FakeRasa) -> None:
    out = post(client, text="STOP")
    assert fake_rasa.calls == 0
    assert "non ti manderò" in out[0]["text"].lower()


def test_bad_requests_get_clear_errors(client: TestClient) -> None:
    assert client.post("/api/chat", content=b"{not json").status_code == 400
    resp = client.post("/api/chat", json={"session": "x", "text": "ciao"})
    assert resp.status_code == 422 and "session" in resp.json()["error"]
    assert client.post("/api/chat", json={"session": SESSION}).status_code == 422
    assert (
        client.post("/api/chat", json={"session": SESSION, "text": "x" * 5000}).status_code == 422
    )
    assert client.post("/api/chat", json=["a"]).status_code == 422


def test_pages_and_health(client: TestClient, fake_rasa: FakeRasa) -> None:
    assert "Rete di Conciliazione" in client.get("/chat").text
    assert "Social Point Tradate" in client.get("/privacy").text
    health = client.get("/healthz").json()
    assert health == {"database": "ok", "nlu": "ok", "channels": {"webchat": "ok"}}
    fake_rasa.down = True
    assert client.get("/healthz").json()["nlu"] == "unavailable"
