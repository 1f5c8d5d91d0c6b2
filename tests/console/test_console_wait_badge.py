"""The waiting-time badge on queue cards, against FRONTDESK_WAIT_TARGET_MINUTES."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.db.base import utcnow
from bot.db.models import Handoff
from bot.settings import Env
from tests.console.conftest import login, queue_resident


def _waited(sessions: sessionmaker[Session], hid: int, minutes: int) -> None:
    with sessions.begin() as s:
        h = s.get(Handoff, hid)
        assert h is not None
        h.created_at = utcnow() - timedelta(minutes=minutes, seconds=5)


def test_the_badge_says_how_long_and_warns_over_the_target(
    client: TestClient, operators: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    early = queue_resident(sessions, address="resident-web-wait1")
    late = queue_resident(sessions, address="resident-web-wait2")
    _waited(sessions, early, 12)
    _waited(sessions, late, 16)
    login(client, "anna")
    page = client.get("/operator").text
    assert "in attesa da 12 min" in page and "in attesa da 16 min" in page
    assert page.count('class="badge wait over"') == 1
    assert "oltre l&#39;obiettivo di 15 min" in page


def test_the_target_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_WAIT_TARGET_MINUTES", "30")
    assert Env().FRONTDESK_WAIT_TARGET_MINUTES == 30
    monkeypatch.delenv("FRONTDESK_WAIT_TARGET_MINUTES")
    assert Env().FRONTDESK_WAIT_TARGET_MINUTES == 15
