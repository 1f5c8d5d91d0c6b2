"""The channel adapters a campaign sender uses (bot.channels.factory builds them).

A channel is available when its secrets are set (config.yml's `channels.enabled` governs
webhooks, not broadcasts to residents who opted in earlier).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from sqlalchemy.orm import Session, sessionmaker

from bot.channels import factory
from bot.channels.base import Channel
from bot.settings import Settings

log = logging.getLogger(__name__)


def usable(settings: Settings, channels: Mapping[str, Channel]) -> dict[str, Channel]:
    """The channels campaigns may use. WhatsApp needs an approved template: residents
    outside the 24-hour window could not be reached without one (and would look gone)."""
    found = {name: c for name, c in channels.items() if name in ("telegram", "whatsapp")}
    if "whatsapp" in found and settings.config.whatsapp.template_content_sid is None:
        log.warning("whatsapp campaigns need whatsapp.template_content_sid in config.yml")
        del found["whatsapp"]
    return found


@asynccontextmanager
async def campaign_channels(
    settings: Settings, sessions: sessionmaker[Session]
) -> AsyncIterator[dict[str, Channel]]:
    """The configured channels by name, opened for the duration of the block."""
    channels = factory.broadcast(settings, sessions)
    async with factory.opened(channels):
        yield usable(settings, channels)
