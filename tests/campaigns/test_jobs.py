"""Scheduled campaigns: due ones go out from the scheduler tick, quiet hours defer them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import jobs, store
from bot.campaigns.audience import Audience
from bot.campaigns.transport import campaign_channels, usable
from bot.settings import Settings
from tests.campaigns.conftest import OPEN, add_subscribers, fast_config
from tests.channels.fakes import FakeTelegram

NIGHT = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 23:00 in Rome


def tick(settings: Settings, sessions: sessionmaker[Session], now: datetime) -> list[int]:
    async def go() -> list[int]:
        async with campaign_channels(settings, sessions) as channels:
            return await jobs.send_due(
                sessions=sessions, channels=channels, config=fast_config(), now=lambda: now
            )

    return asyncio.run(go())


def test_due_campaigns_wait_for_their_time_and_for_quiet_hours(
    channel_settings: Settings, sessions: sessionmaker[Session], fake_telegram: FakeTelegram
) -> None:
    add_subscribers(sessions, [("telegram", "9001")])
    with sessions.begin() as s:
        later, _ = store.create_campaign(
            s,
            title="t",
            text="Ciao",
            audience=Audience(),
            scheduled_at=OPEN + timedelta(hours=1),
        )
        soon, _ = store.create_campaign(
            s,
            title="t",
            text="Ciao",
            audience=Audience(),
            scheduled_at=OPEN - timedelta(hours=13),
        )
    assert tick(channel_settings, sessions, NIGHT - timedelta(days=1)) == []  # night: deferred
    assert fake_telegram.sent_per_chat == {}
    assert tick(channel_settings, sessions, OPEN) == [soon.id]
    assert tick(channel_settings, sessions, OPEN + timedelta(hours=2)) == [later.id]
    assert fake_telegram.sent_per_chat == {"9001": 2}


def test_whatsapp_without_a_template_is_not_used_for_campaigns(settings: Settings) -> None:
    channels = {"telegram": object(), "whatsapp": object(), "webchat": object()}
    assert settings.config.whatsapp.template_content_sid is None
    assert list(usable(settings, channels)) == ["telegram"]  # type: ignore[arg-type]
