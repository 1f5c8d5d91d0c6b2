"""The real app (tests/conftest.py) with Telegram and WhatsApp enabled, talking to fake provider
servers; helpers that post webhooks as Telegram and Twilio do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from tests.channels.payloads import twilio_signature
from tests.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET


@pytest.fixture
def app_settings(channel_settings: Settings) -> Settings:
    """The channel tests' app has every channel on, talking to the fake providers."""
    return channel_settings


def settle(client: TestClient) -> None:
    """Waits until the background work of every accepted message is done."""
    client.portal.call(client.app.state.services.dispatcher.drain)  # type: ignore[attr-defined]


def post_update(
    client: TestClient, update: Any, *, secret: str = WEBHOOK_SECRET, settle_after: bool = True
) -> httpx.Response:
    resp = client.post(
        "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )
    if settle_after:
        settle(client)
    return resp


def post_twilio(
    client: TestClient, path: str, form: dict[str, str], *, signed_url: str | None = None
) -> httpx.Response:
    """Posts form fields signed as Twilio signs them (for the public URL by default)."""
    signature = twilio_signature(signed_url or PUBLIC_BASE_URL + path, form)
    resp = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    settle(client)
    return resp
