"""The handoff timer (queue position, operators' group, callback offer) and the leader lease."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bot import jobs, scheduler
from bot.db import conversation_repo as repo
from bot.db.base import utcnow
from bot.db.console_models import SchedulerLease
from bot.db.models import Handoff
from bot.settings import ConsoleConfig
from flows.state import DialogueState, Step
from tests.console.conftest import (
    OPEN_NOW,
    app_services,
    at_fixed_time,
    handoff,
    queue_resident,
    resident_headers,
    swap_services,
    updates,
)
from tests.console.test_console_actions import FakeTelegram

RESIDENT = "resident-web-0002"


def tick(client: TestClient) -> None:
    """One run of the stored job, as the scheduler leader makes it."""
    with jobs.serving(app_services(client)):
        client.portal.call(jobs.run, "console.handoff_tick")


def test_new_requests_get_position_and_estimate_and_the_group_is_told(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    group = FakeTelegram()
    settings = app_services(client).settings
    console = ConsoleConfig(telegram_operators_chat_id="-100123")
    config = settings.config.model_copy(update={"console": console})
    swap_services(
        client,
        channels={"telegram": group},
        settings=settings.model_copy(update={"config": config}),
    )
    at_fixed_time(client)
    queue_resident(sessions, address="resident-first")
    queue_resident(sessions, address=RESIDENT)
    tick(client)
    assert "primo posto" in updates(client, "resident-first")[0]["text"]
    [second] = updates(client, RESIDENT)
    assert second["text"] == (
        "Sei al 2° posto in coda per il Social Point Tradate. Attesa stimata: circa 8 minuti."
    )
    assert [(m.address, m.text) for m in group.sent] == [
        ("-100123", "Nuova richiesta in coda, priorità normale, Social Point Tradate.")
    ] * 2
    tick(client)  # announced once only
    assert len(updates(client, RESIDENT)) == 1


def test_closed_social_point_waits_for_opening(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    at_fixed_time(client, OPEN_NOW.replace(hour=22))
    hid = queue_resident(sessions, address=RESIDENT)
    tick(client)
    assert updates(client, RESIDENT) == [] and handoff(sessions, hid).announced_at is None
    urgent = queue_resident(sessions, address="resident-urgent", priority=True)
    tick(client)  # emergencies are announced at any hour
    assert handoff(sessions, urgent).announced_at is not None


def test_timeout_offers_a_callback_and_keeps_the_case_queued(
    client: TestClient, sessions: sessionmaker[Session], fake_rasa
) -> None:  # type: ignore[no-untyped-def]
    at_fixed_time(client)
    hid = queue_resident(sessions, address=RESIDENT)
    tick(client)
    with sessions.begin() as s:
        s.execute(
            update(Handoff)
            .where(Handoff.id == hid)
            .values(announced_at=utcnow() - timedelta(minutes=11))
        )
    tick(client)
    offer = updates(client, RESIDENT)[-1]
    assert "richiamiamo" in offer["text"] and [b["payload"] for b in offer["buttons"]] == [
        "yes",
        "no",
    ]
    assert handoff(sessions, hid).status == "callback"
    with sessions() as s:
        conv = repo.lock_conversation(s, channel="webchat", address=RESIDENT)
        assert DialogueState.load(repo.load_state(s, conversation=conv)).step is Step.OFFER_CALLBACK
    resident = resident_headers(RESIDENT)
    client.post("/api/chat", json={"session": RESIDENT, "payload": "yes"}, headers=resident)
    client.post("/api/chat", json={"session": RESIDENT, "text": "333 1234567"}, headers=resident)
    called = handoff(sessions, hid)
    assert (called.status, called.callback_phone) == ("callback", "3331234567")
    tick(client)  # offered once only
    assert len([m for m in updates(client, RESIDENT) if "richiamiamo" in m["text"]]) == 1


def test_one_lease_holder_at_a_time(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        assert scheduler.acquire(s, holder="a")
    with sessions.begin() as s:
        assert not scheduler.acquire(s, holder="b")
        assert scheduler.acquire(s, holder="a")  # renewal
    with sessions.begin() as s:
        scheduler.release(s, holder="a")
    with sessions.begin() as s:
        assert scheduler.acquire(s, holder="b")
        assert not scheduler.acquire(s, holder="a")


def test_expired_lease_is_taken_over(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        assert scheduler.acquire(s, holder="a", seconds=0)
    time.sleep(0.01)
    with sessions.begin() as s:
        assert scheduler.acquire(s, holder="b")


def test_the_running_app_leads_and_stores_its_job(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    # The scheduler starts in the app's background: wait for its table, job and lease.
    deadline = time.monotonic() + 10
    engine = sessions.kw["bind"]
    ids: list[str] = []
    holder = None
    while time.monotonic() < deadline and not ("console.handoff_tick" in ids and holder):
        time.sleep(0.05)
        if "apscheduler_jobs" not in inspect(engine).get_table_names():
            continue
        with sessions() as s:
            ids = list(s.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
            stmt = select(SchedulerLease.holder).where(SchedulerLease.name == scheduler.LEASE_NAME)
            holder = s.execute(stmt).scalar_one_or_none()
    assert "console.handoff_tick" in ids and holder
