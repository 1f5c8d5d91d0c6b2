"""The channel adapters a sender process needs, built from the environment.

The web app builds its own for webhooks; the CLI sender and the benchmark build these.
A channel is available when its secrets are set (config.yml's `channels.enabled` governs
webhooks, not broadcasts to residents who opted in earlier).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Channel
from bot.channels.telegram import Telegram, build_bot
from bot.channels.whatsapp import WhatsApp, build_client
from bot.settings import Settings

log = logging.getLogger(__name__)


def _whatsapp(settings: Settings, sessions: sessionmaker[Session]) -> WhatsApp | None:
    env = settings.env
    base = (env.PUBLIC_BASE_URL or "").rstrip("/")
    # Twilio reports deliveries to PUBLIC_BASE_URL: without it the channel is off, as for
    # the webhooks (see bot.web.routes_webhooks).
    if not (env.TWILIO_ACCOUNT_SID and env.TWILIO_AUTH_TOKEN and env.TWILIO_WHATSAPP_FROM and base):
        return None
    token = env.TWILIO_AUTH_TOKEN.get_secret_value()
    return WhatsApp(
        client=build_client(env.TWILIO_ACCOUNT_SID, token, base_url=env.TWILIO_API_BASE_URL),
        auth_token=token,
        sender=env.TWILIO_WHATSAPP_FROM,
        sessions=sessions,
        status_callback=f"{base}/webhooks/whatsapp/status",
        config=settings.config.whatsapp,
        record_sends=False,  # the sender stores each MessageSid with its outcome
    )


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
    channels: dict[str, Channel] = {}
    telegram: Telegram | None = None
    env = settings.env
    if env.TELEGRAM_BOT_TOKEN:
        bot = build_bot(
            env.TELEGRAM_BOT_TOKEN.get_secret_value(),
            base_url=env.TELEGRAM_API_BASE_URL,
            max_retries=settings.config.telegram.max_retries,
            timeout=settings.config.telegram.timeout_seconds,
        )
        telegram = Telegram(bot)
        await telegram.start()
        channels["telegram"] = telegram
    if (whatsapp := _whatsapp(settings, sessions)) is not None:
        channels["whatsapp"] = whatsapp
    try:
        yield usable(settings, channels)
    finally:
        if telegram is not None:
            await telegram.stop()
