"""Abuse limits and server-bound sessions of /api/chat, over real HTTP where it matters."""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.db import handoff_repo
from bot.db.base import utcnow
from bot.db.models import Conversation, Handoff
from bot.settings import AbuseConfig, Settings
from bot.web import chat_sessions
from bot.web.app import create_app
from bot.web.limits import json_depth_exceeds
from nlu.client import NluClient
from nlu.comuni import gazetteer
from territory.model import shipped_territory
from tests.conftest import FakeRasa

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

SESSION = "abuse-session-0001"


def test_body_cap_and_json_depth_answer_413_never_500(client: TestClient) -> None:
    big = b'{"session": "' + SESSION.encode() + b'", "text": "' + b"a" * 20_000 + b'"}'
    resp = client.post("/api/chat", content=big, headers={"content-type": "application/json"})
    assert resp.status_code == 413 and "troppo lungo" in resp.json()["error"]
    deep = b"[" * 100_000 + b"]" * 100_000
    assert client.post("/api/chat", content=deep[:16_000]).status_code == 413
    nested = b'{"session": "' + SESSION.encode() + b'", "text": ' + b"[" * 20 + b"]" * 20 + b"}"
    assert client.post("/api/chat", content=nested).status_code == 413
    # Brackets inside strings are text, not depth.
    assert not json_depth_exceeds(b'{"text": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 8)


def test_server_binds_the_session_to_its_cookie(
    client: TestClient, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    first = client.post("/api/chat", json={"session": SESSION, "text": "ciao"})
    assert first.json()["session"] == SESSION
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/api/chat" in cookie
    again = client.post("/api/chat", json={"session": SESSION, "payload": "consent:yes"})
    assert again.json()["session"] == SESSION and "set-cookie" not in again.headers
    # Another browser naming the same session gets a conversation of its own.
    stranger = TestClient(client.app)  # no `with`: the app is already running
    other = stranger.post("/api/chat", json={"session": SESSION, "text": "ciao"}).json()
    assert other["session"] != SESSION and len(other["session"]) >= 32
    with sessions() as s:
        addresses = set(s.scalars(select(Conversation.address)))
    assert addresses == {SESSION, other["session"]}
    # The updates of a session need its cookie and the header; the query string is ignored.
    assert client.get(f"/api/chat/updates?session={SESSION}").status_code == 422
    ok = client.get("/api/chat/updates", headers={"X-Chat-Session": SESSION})
    assert ok.status_code == 200
    # An idle conversation is not resumed.
    with sessions.begin() as s:
        s.execute(
            update(Conversation)
            .where(Conversation.address_hash == crypto.address_index("webchat", SESSION))
            .values(last_message_at=utcnow() - timedelta(hours=48))
        )
    stale = client.post("/api/chat", json={"session": SESSION, "text": "ciao"}).json()
    assert stale["session"] != SESSION


def test_the_page_gets_a_random_server_issued_session(client: TestClient) -> None:
    found = [re.search(r'data-session="([^"]+)"', client.get("/chat").text) for _ in range(2)]
    ids = [m.group(1) for m in found if m]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(len(i) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids)  # 192 bits
    assert chat_sessions.cookie_value(ids[0]) != chat_sessions.cookie_value(ids[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[str]:
    """The real app under uvicorn on loopback (one process, memory:// storage)."""
    from bot.cli.seed import seed_catalog_if_empty
    from tests.conftest import ROOT

    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    rasa = FakeRasa()
    nlu = NluClient(
        "http://rasa.test", places=TRADATE, transport=httpx.MockTransport(rasa.handler), retries=0
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, nlu=nlu), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=20)


def test_flood_of_emergencies_gets_429s_helplines_and_one_folded_card(
    server: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """200 new sessions from one address writing "mi picchia, aiuto" (the issue's flood)."""
    abuse = AbuseConfig()
    statuses: list[int] = []
    helplines = 0
    started = time.monotonic()
    with httpx.Client(timeout=30) as http:
        for _ in range(200):
            http.cookies.clear()
            resp = http.post(
                f"{server}/api/chat",
                json={"session": uuid.uuid4().hex, "text": "mi picchia, aiuto"},
            )
            statuses.append(resp.status_code)
            body = resp.json()
            helplines += any("112" in m["text"] for m in body["messages"])
            if resp.status_code == 429:
                assert int(resp.headers["retry-after"]) >= 1
                assert "troppi messaggi" in body["error"].lower()
    elapsed = time.monotonic() - started
    allowed = int(abuse.new_sessions_per_address.split()[0])
    assert statuses.count(200) == allowed and statuses.count(429) == 200 - allowed
    assert helplines == 200  # every one of them was given the emergency numbers at once
    with sessions() as s:
        visible = handoff_repo.open_handoffs(s, points=None)
        every = list(s.scalars(select(Handoff)))
    emergencies = [h for h in visible if h.priority >= 1]
    assert len(every) == allowed  # only the allowed requests reached the queue
    assert len(emergencies) == abuse.priority_fold_after == len(visible)
    lead = max(emergencies, key=lambda h: h.id)
    assert lead.summary["burst"] == allowed - abuse.priority_fold_after
    print(f"flood: {statuses.count(200)} x 200, {statuses.count(429)} x 429 in {elapsed:.1f} s")


def test_webhook_senders_are_limited_but_emergencies_go_through() -> None:
    from types import SimpleNamespace

    from limits.storage import MemoryStorage

    from bot.channels.base import InboundMessage
    from bot.web.limits import AbuseLimits, over_resident_limit

    app = SimpleNamespace(
        state=SimpleNamespace(abuse_limits=AbuseLimits(MemoryStorage(), AbuseConfig()))
    )
    request = SimpleNamespace(app=app)
    spam = InboundMessage(channel="telegram", address="4242", text="ciao")
    dropped = [over_resident_limit(request, spam) for _ in range(25)]  # type: ignore[arg-type]
    assert dropped == [False] * 20 + [True] * 5
    help_me = InboundMessage(channel="telegram", address="4242", text="mio marito mi picchia")
    assert not over_resident_limit(request, help_me)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload", ['comune:=HYPERLINK("http://x","clic")', "cat:zzz", "comune:", "cat:"]
)
def test_forged_button_payloads_are_not_understood_never_an_error(
    client: TestClient, payload: str
) -> None:
    client.post("/api/chat", json={"session": SESSION, "text": "ciao"})
    client.post("/api/chat", json={"session": SESSION, "payload": "consent:yes"})
    resp = client.post("/api/chat", json={"session": SESSION, "payload": payload})
    assert resp.status_code == 200
    assert resp.json()["messages"]
