"""Queued conversations and logins for the console tests (app and operators: tests/conftest.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.db import conversation_repo as repo
from bot.db import handoff_repo
from bot.db.models import Direction, Handoff
from bot.services import Services
from bot.web import chat_sessions
from flows.state import DialogueState, Step
from tests.conftest import PASSWORD

# A Wednesday morning: every Social Point of config.yml but Castiglione is open.
OPEN_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/Rome"))
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@pytest.fixture(autouse=True)
def fast_hashing(fast_hashing: None) -> None:
    """tests/conftest.py's cheap argon2, on for every console test."""


def login(web: TestClient, who: str, password: str = PASSWORD) -> str:
    """Logs in through the form; returns the session's CSRF token."""
    form = web.get("/operator/login")
    token = _CSRF.search(form.text)
    assert token, form.text
    resp = web.post(
        "/operator/login",
        data={"email": f"{who}@example.org", "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    return csrf_of(web)


def csrf_of(web: TestClient) -> str:
    page = web.get("/operator")
    found = _META.search(page.text)
    assert found and found.group(1), page.text
    return found.group(1)


def queue_resident(
    sessions: sessionmaker[Session],
    *,
    address: str,
    point: str = "tradate",
    priority: bool = False,
    channel: str = "webchat",
    consent: bool = True,
) -> int:
    """A resident waiting for an operator (flow step HUMAN), as FrontDesk leaves them."""
    with sessions.begin() as s:
        conv = repo.lock_conversation(s, channel=channel, address=address)
        state = DialogueState(step=Step.HUMAN, consent=consent)
        repo.save_state(s, conversation=conv, name=state.step.value, data=state.dump())
        repo.add_message(
            s, conversation=conv, direction=Direction.INBOUND, text="vorrei parlare con qualcuno"
        )
        handoff = handoff_repo.request_handoff(
            s,
            conversation=conv,
            reason="richiesta",
            social_point=point,
            priority=priority,
            summary={"categoria": "prima_infanzia", "comune": "Tradate", "eta": [2]},
        )
        return handoff.id


def handoff(sessions: sessionmaker[Session], handoff_id: int) -> Handoff:
    with sessions() as s:
        found = s.get(Handoff, handoff_id)
        assert found is not None
        return found


def resident_headers(session: str) -> dict[str, str]:
    """The session header and cookie the resident's page sends (as if it had started it)."""
    cookie = f"{chat_sessions.cookie_name(session)}={chat_sessions.cookie_value(session)}"
    return {"X-Chat-Session": session, "Cookie": cookie}


def updates(web: TestClient, session: str, after: int = 0) -> list[dict]:
    resp = web.get("/api/chat/updates", params={"after": after}, headers=resident_headers(session))
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


def at_fixed_time(web: TestClient, now: datetime = OPEN_NOW) -> None:
    """Makes the app's clock (flow context) say `now`, for opening-hours decisions."""
    real = app_services(web).flow_context
    swap_services(web, flow_context=lambda: replace(real(), now=now))


def app_services(web: TestClient) -> Services:
    """The services of the running app."""
    found: Services = web.app.state.services  # type: ignore[attr-defined]
    return found


def swap_services(web: TestClient, **changes: Any) -> Services:
    """Replaces some of the running app's services (routes and jobs read them per call)."""
    new = replace(app_services(web), **changes)
    web.app.state.services = new  # type: ignore[attr-defined]
    return new
