"""Two senders racing on one campaign (real PostgreSQL: FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import outbox
from bot.campaigns.sender import Run, send_campaign
from bot.campaigns.transport import campaign_channels
from bot.db.engine import create_db_engine, session_factory
from bot.settings import Settings
from tests.campaigns.conftest import OPEN, add_subscribers, fast_config
from tests.channels.fakes import FakeTelegram


def test_two_senders_never_send_twice(
    db_url: str,
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fake_telegram: FakeTelegram,
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent senders need PostgreSQL (SQLite: one sender)")
    chats = [str(8000 + i) for i in range(90)]
    add_subscribers(sessions, [("telegram", c) for c in chats])
    with sessions.begin() as s:
        campaign, _ = outbox.create_campaign(s, title="t", text="Ciao", audience=outbox.Audience())
    runs: list[Run] = []

    def sender() -> None:
        engine = create_db_engine(db_url)  # its own connections, as another process would have

        async def go() -> Run:
            async with campaign_channels(channel_settings, session_factory(engine)) as channels:
                return await send_campaign(
                    sessions=session_factory(engine),
                    campaign_id=campaign.id,
                    channels=channels,
                    config=fast_config(concurrency=6),
                    now=lambda: OPEN,
                )

        runs.append(asyncio.run(go()))
        engine.dispose()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(fake_telegram.sent_per_chat) == chats
    assert set(fake_telegram.sent_per_chat.values()) == {1}
    assert sorted(r.sent > 0 for r in runs) == [True, True]  # they really raced
    assert sum(r.sent for r in runs) == len(chats)
