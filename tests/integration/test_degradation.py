"""`frontdesk run` as a real process while its dependencies fail for real: Rasa unreachable,
the database away for a few seconds (PostgreSQL: its connections cut; SQLite: another
writer holds the lock), the Bot API answering 502. Nothing is lost, nothing is answered
twice, and the backlog drains in each resident's order once they are back."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.delivery_models import InboxMessage
from nlu.rasa_process import RasaServer
from tests.channels.fakes import FakeTelegram, wait_for
from tests.channels.payloads import tg_text
from tests.integration.tcp_cut import CuttableRelay
from tests.integration.test_crash_safety import (
    CONVERSATION,
    FrontDeskProcess,
    assert_answered_once_in_order,
    environment,
    settled,
)

pytestmark = pytest.mark.rasa
OUTAGE_SECONDS = 5.0
BAD_GATEWAY = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})


def deliver(desk: FrontDeskProcess, update: dict) -> int:
    """Posts like Telegram does: again (same update) until the webhook answers 200.

    Returns how many attempts were refused (the database was away)."""
    refused = 0
    deadline = time.monotonic() + 90
    while True:
        try:
            if desk.post(update) == 200:
                return refused
        except httpx.TransportError:
            pass
        refused += 1
        assert time.monotonic() < deadline, "the webhook never took the update"
        time.sleep(0.5)


def handled(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        stmt = select(func.count()).where(InboxMessage.handled_at.is_not(None))
        return int(s.scalar(stmt) or 0)


@contextmanager
def database_away(db_url: str, relay: CuttableRelay | None) -> Iterator[None]:
    """PostgreSQL: every connection through the relay cut and new ones refused. SQLite:
    an exclusive transaction of another process-like writer holds the file."""
    if relay is not None:
        relay.cut()
        try:
            yield
        finally:
            relay.restore()
        return
    lock = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def test_rasa_down_database_away_and_bot_api_failing_lose_nothing(
    db_url: str,
    sessions: sessionmaker[Session],
    rasa_server: RasaServer,
    fake_telegram: tuple[FakeTelegram, str],
    tmp_path: Path,
) -> None:
    fake, url = fake_telegram
    rasa = CuttableRelay(("127.0.0.1", rasa_server.port))
    pg = db_url.startswith("postgresql")
    db = CuttableRelay(("127.0.0.1", 5432)) if pg else None
    app_db_url = db_url.replace(":5432/", f":{db.port}/") if db is not None else db_url
    env = environment(app_db_url, rasa_server, url, tmp_path)
    env["RASA_URL"] = f"http://127.0.0.1:{rasa.port}"
    chats = [str(6300 + i) for i in range(3)]
    updates = [tg_text(text, chat_id=int(chat)) for text in CONVERSATION for chat in chats]
    first, second, third = updates[:3], updates[3:6], updates[6:]

    desk = FrontDeskProcess(env)
    try:
        # 1. Rasa unreachable: the first messages are answered all the same (the topics as
        # buttons), kept, and not retried into a second answer.
        rasa.cut()
        for update in first:
            deliver(desk, update)
        wait_for(lambda: handled(sessions) == len(first), timeout=60)
        rasa.restore()

        # 2. The database away while messages arrive: the webhook refuses them (Telegram
        # redelivers) or waits for the lock; turns cut short are retried.
        refused: list[int] = []
        with database_away(db_url, db):
            sender = threading.Thread(
                target=lambda: refused.extend(deliver(desk, u) for u in second)
            )
            sender.start()
            time.sleep(OUTAGE_SECONDS)
        sender.join(timeout=120)
        assert len(refused) == len(second)
        if pg:
            assert sum(refused) >= 1  # the outage was real: updates were refused

        # 3. The Bot API failing: the replies wait and go out in order once it answers.
        fake.fail_next["sendMessage"] = [BAD_GATEWAY] * 5
        for update in third:
            deliver(desk, update)
        wait_for(lambda: settled(sessions, len(updates)), timeout=180)
    finally:
        out = desk.stop()
        rasa.close()
        if db is not None:
            db.close()
    assert desk.proc.returncode == 0, out[-2000:]
    assert not fake.fail_next["sendMessage"]  # every 502 was met and retried
    assert_answered_once_in_order(sessions, fake, chats)
