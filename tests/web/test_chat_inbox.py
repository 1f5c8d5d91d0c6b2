"""The web chat through the durable inbox and the reply outbox: a retried request is
answered once, a failed or slow turn reaches the page by polling, fetched replies are
acknowledged and their text cleared."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import OutboundMessage
from bot.console.delivery import Deliverer
from bot.db.delivery_models import InboxMessage, ReplyOutbox
from bot.web import routes_chat
from flows.replies import Reply
from tests.conftest import FakeRasa, rasa_says

SESSION = "inbox-session-0001"


def chat(client: TestClient, **body: str) -> dict:
    resp = client.post("/api/chat", json={"session": SESSION, **body})
    assert resp.status_code == 200, resp.text
    return resp.json()


def updates(client: TestClient, after: int | None) -> dict:
    params = {} if after is None else {"after": after}
    resp = client.get("/api/chat/updates", params=params, headers={"X-Chat-Session": SESSION})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_a_retried_request_is_handled_once_and_gets_the_same_replies(
    client: TestClient, fake_rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    fake_rasa.table["cerco un nido a tradate"] = rasa_says("bisogno_prima_infanzia")
    first = chat(client, text="cerco un nido a tradate", client_id="a" * 32)
    again = chat(client, text="cerco un nido a tradate", client_id="a" * 32)
    assert first["messages"] and again["messages"] == first["messages"]
    assert fake_rasa.calls == 1  # understood once
    with sessions() as s:
        assert len(s.scalars(select(InboxMessage)).all()) == 1
        rows = s.scalars(select(ReplyOutbox)).all()
    assert [r.id for r in rows] == [m["id"] for m in first["messages"]]
    assert {r.status for r in rows} == {"sent"}  # handed to the page in the response
    # A new message (new id) is a new turn.
    chat(client, text="cerco un nido a tradate", client_id="b" * 32)
    assert fake_rasa.calls == 2


def test_a_failed_turn_is_retried_and_its_replies_come_by_polling(
    client: TestClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_chat, "REPLY_WAIT_SECONDS", 0.3)
    desk = client.app.state.services.desk  # type: ignore[attr-defined]
    real = desk.handle_stored
    failures = [RuntimeError("database hiccup")]

    async def flaky(message, inbox_id, *, finish):  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        return await real(message, inbox_id, finish=finish)

    monkeypatch.setattr(desk, "handle_stored", flaky)
    start = updates(client, None)["last"]
    out = chat(client, text="ciao", client_id="c" * 32)
    assert out["messages"] == [] and out["pending"] is True
    # The recovery loop retries the turn (after its backoff); the page's polling gets it.
    deadline = time.monotonic() + 20
    got: list[dict] = []
    after = start
    while not got:
        assert time.monotonic() < deadline, "the failed turn was not retried"
        data = updates(client, after)
        got, after = data["messages"], data["last"]
        time.sleep(0.2)
    assert "ciao" in got[0]["text"].lower() or got[0]["buttons"]
    with sessions() as s:
        row = s.scalars(select(InboxMessage)).one()
    assert row.handled_at is not None and row.attempts == 1 and row.last_error == "RuntimeError"
    # Polling again from the new cursor acknowledges them: nothing twice, the text goes.
    assert updates(client, after)["messages"] == []
    with sessions() as s:
        texts = [r.text for r in s.scalars(select(ReplyOutbox))]
    assert texts and all(t is None for t in texts)


def test_operator_words_wait_in_the_outbox_until_the_page_fetches_them(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    chat(client, text="ciao", client_id="d" * 32)
    start = updates(client, None)["last"]
    services = client.app.state.services  # type: ignore[attr-defined]
    reply = OutboundMessage("webchat", SESSION, Reply("Sono Anna del Social Point"))
    failures = client.portal.call(Deliverer.of(services).send, [reply])  # type: ignore[attr-defined]
    assert failures == 0  # waiting for the page is not a failure
    with sessions() as s:
        row = s.scalars(select(ReplyOutbox).order_by(ReplyOutbox.id.desc())).first()
    assert row is not None and row.status == "queued"
    data = updates(client, start)
    assert [m["text"] for m in data["messages"]] == ["Sono Anna del Social Point"]
    assert data["messages"][0]["id"] == row.id
    with sessions() as s:
        fetched = s.get(ReplyOutbox, row.id)
        assert fetched is not None and fetched.status == "sent" and fetched.sent_at
    # A page that reloads starts after what it was handed, so it is not shown again.
    assert updates(client, None)["last"] == row.id
