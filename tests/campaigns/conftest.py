"""Campaign fixtures: the app with every channel on (fake Telegram/Twilio servers), subscribers,
a clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.subscriptions import Consent, subscribe
from bot.settings import CampaignsConfig, Settings

# Monday 23 November 2026, 11:00 in Rome: broadcasting is open.
OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def app_settings(channel_settings: Settings) -> Settings:
    """Campaigns go out on Telegram and WhatsApp: the app has every channel on."""
    return channel_settings


def fast_config(**changes: object) -> CampaignsConfig:
    """Rates high enough for tests to run quickly (pacing has its own tests)."""
    base = {"telegram_rate": 500.0, "whatsapp_rate": 500.0, "concurrency": 8}
    return CampaignsConfig.model_validate(base | changes)


def add_subscribers(
    sessions: sessionmaker[Session],
    addresses: Iterable[tuple[str, str]],
    *,
    topics: tuple[str, ...] = ("novita",),
    comune: str | None = "Tradate",
) -> None:
    """Opts residents in as if they had tapped "avvisami" in the chat."""
    with sessions.begin() as session:
        for channel, address in addresses:
            subscribe(
                session,
                channel=channel,
                address=address,
                topics=topics,
                comune=comune,
                consent=Consent("test", "v1", "sub:novita"),
            )
