"""Two senders on one campaign (real PostgreSQL): one holds the channel, the other stands by;
if the lease lapses while the first still sends, the row claims (FOR UPDATE SKIP LOCKED)
keep them from sending anything twice."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import channel_leases, store
from bot.campaigns.audience import Audience
from bot.campaigns.sender import Run, send_campaign
from bot.campaigns.transport import campaign_channels
from bot.db import lease_repo
from bot.db.engine import create_db_engine, session_factory
from bot.settings import Settings
from tests.campaigns.conftest import OPEN, add_subscribers, fast_config
from tests.channels.fakes import FakeTelegram


def run_senders(db_url: str, settings: Settings, campaign_id: int, count: int) -> list[Run]:
    runs: list[Run] = []

    def one() -> None:
        engine = create_db_engine(db_url)  # its own connections, as another process would have

        async def go() -> Run:
            async with campaign_channels(settings, session_factory(engine)) as channels:
                return await send_campaign(
                    sessions=session_factory(engine),
                    campaign_id=campaign_id,
                    channels=channels,
                    config=fast_config(concurrency=6),
                    now=lambda: OPEN,
                )

        runs.append(asyncio.run(go()))
        engine.dispose()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return runs


def new_campaign(sessions: sessionmaker[Session], chats: list[str]) -> int:
    add_subscribers(sessions, [("telegram", c) for c in chats])
    with sessions.begin() as s:
        campaign, _ = store.create_campaign(s, title="t", text="Ciao", audience=Audience())
    return campaign.id


def test_a_second_sender_stands_by(
    db_url: str,
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent senders need PostgreSQL (SQLite: one sender)")
    chats = [str(7000 + i) for i in range(60)]
    runs = run_senders(db_url, channel_settings, new_campaign(sessions, chats), 2)
    assert sorted(fake_telegram.sent_per_chat) == chats
    assert set(fake_telegram.sent_per_chat.values()) == {1}
    # One sender spends the bot's rate, not two: the other only waited for the end.
    assert sorted(r.sent for r in runs) == [0, len(chats)]
    assert all(r.done for r in runs)


def test_two_senders_never_send_twice(
    db_url: str,
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent senders need PostgreSQL (SQLite: one sender)")
    # Leases that lapse at once: as if each sender had stalled past its lease and the other
    # had taken the channel over, so both send at the same time.
    monkeypatch.setattr(channel_leases, "CHANNEL_LEASE_SECONDS", 0)
    chats = [str(8000 + i) for i in range(300)]  # ~0.6 s at 500/s: both get to start
    runs = run_senders(db_url, channel_settings, new_campaign(sessions, chats), 2)
    assert sorted(fake_telegram.sent_per_chat) == chats
    assert set(fake_telegram.sent_per_chat.values()) == {1}
    assert sorted(r.sent > 0 for r in runs) == [True, True]  # they really raced
    assert sum(r.sent for r in runs) == len(chats)


def test_a_dead_senders_channel_is_taken_over(
    db_url: str,
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
) -> None:
    chats = [str(9000 + i) for i in range(10)]
    campaign_id = new_campaign(sessions, chats)
    with sessions.begin() as s:  # a sender that died holding the channel for 2 more seconds
        assert lease_repo.acquire(s, name="campaign-send:telegram", holder="dead", seconds=2)
    started = time.monotonic()
    [run] = run_senders(db_url, channel_settings, campaign_id, 1)
    assert run.done and run.sent == len(chats)
    assert time.monotonic() - started >= 1.5  # it waited for the lease to lapse
    assert sorted(fake_telegram.sent_per_chat) == chats
