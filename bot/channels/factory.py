"""The one place channel adapters are built from settings, for the app, campaigns and CLI.

A channel needs its secrets (and WhatsApp the public URL Twilio reports deliveries to).
The web app also requires it in config.yml's `channels.enabled`, which governs webhooks;
campaigns do not (residents who opted in earlier stay reachable).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Channel
from bot.channels.telegram import Telegram, build_bot
from bot.channels.webchat import WebChat
from bot.channels.whatsapp import WhatsApp, build_client
from bot.settings import Settings

log = logging.getLogger(__name__)

STATUS_PATH = "/webhooks/whatsapp/status"


def status_callback_url(settings: Settings) -> str | None:
    """Where Twilio posts delivery statuses: PUBLIC_BASE_URL + the status webhook."""
    base = (settings.env.PUBLIC_BASE_URL or "").rstrip("/")
    return f"{base}{STATUS_PATH}" if base else None


def telegram(settings: Settings, *, max_retries: int | None = None) -> Telegram | None:
    """The Telegram adapter, or None without TELEGRAM_BOT_TOKEN (not started)."""
    env = settings.env
    if env.TELEGRAM_BOT_TOKEN is None:
        return None
    config = settings.config.telegram
    bot = build_bot(
        env.TELEGRAM_BOT_TOKEN.get_secret_value(),
        base_url=env.TELEGRAM_API_BASE_URL,
        max_retries=config.max_retries if max_retries is None else max_retries,
        timeout=config.timeout_seconds,
        overall_rate=config.overall_rate,
    )
    return Telegram(bot, centroids=settings.config.territory.centroids)


def whatsapp(
    settings: Settings, sessions: sessionmaker[Session], *, record_sends: bool = True
) -> WhatsApp | None:
    """The WhatsApp adapter, or None without the Twilio secrets or PUBLIC_BASE_URL.

    record_sends=False: the caller stores each MessageSid itself (the campaign sender).
    """
    env = settings.env
    callback = status_callback_url(settings)
    if not (env.TWILIO_ACCOUNT_SID and env.TWILIO_AUTH_TOKEN and env.TWILIO_WHATSAPP_FROM):
        return None
    if callback is None:  # Twilio could not report deliveries
        return None
    token = env.TWILIO_AUTH_TOKEN.get_secret_value()
    return WhatsApp(
        client=build_client(env.TWILIO_ACCOUNT_SID, token, base_url=env.TWILIO_API_BASE_URL),
        auth_token=token,
        sender=env.TWILIO_WHATSAPP_FROM,
        sessions=sessions,
        status_callback=callback,
        config=settings.config.whatsapp,
        record_sends=record_sends,
        centroids=settings.config.territory.centroids,
    )


def _missing(settings: Settings, channel: str) -> list[str]:
    env = settings.env
    required: dict[str, object] = {"TELEGRAM_BOT_TOKEN": env.TELEGRAM_BOT_TOKEN}
    if channel == "whatsapp":
        required = {"TWILIO_ACCOUNT_SID": env.TWILIO_ACCOUNT_SID,
                    "TWILIO_AUTH_TOKEN": env.TWILIO_AUTH_TOKEN,
                    "TWILIO_WHATSAPP_FROM": env.TWILIO_WHATSAPP_FROM,
                    "PUBLIC_BASE_URL": env.PUBLIC_BASE_URL}  # fmt: skip
    return [name for name, value in required.items() if not value]


def messaging(settings: Settings, sessions: sessionmaker[Session]) -> dict[str, Channel]:
    """The web app's channels by name: the web chat, and each enabled and configured one."""
    channels: dict[str, Channel] = {"webchat": WebChat()}
    for name in ("telegram", "whatsapp"):
        if name not in settings.config.channels.enabled:
            continue
        if missing := _missing(settings, name):
            log.warning("%s channel enabled but not configured: set %s", name, ", ".join(missing))
            continue
        adapter = telegram(settings) if name == "telegram" else whatsapp(settings, sessions)
        assert adapter is not None
        channels[name] = adapter
    return channels


def broadcast(settings: Settings, sessions: sessionmaker[Session]) -> dict[str, Channel]:
    """The channels a campaign sender may use: each one with its secrets set."""
    found: dict[str, Channel] = {}
    if (tg := telegram(settings)) is not None:
        found["telegram"] = tg
    if (wa := whatsapp(settings, sessions, record_sends=False)) is not None:
        found["whatsapp"] = wa
    return found


@asynccontextmanager
async def opened(channels: Mapping[str, Channel]) -> AsyncIterator[None]:
    """Starts the adapters that hold a connection (Telegram) and stops them after."""
    tg = channels.get("telegram")
    if isinstance(tg, Telegram):
        await tg.start()
    try:
        yield
    finally:
        if isinstance(tg, Telegram):
            await tg.stop()
