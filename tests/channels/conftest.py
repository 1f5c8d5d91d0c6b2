"""The real app with Telegram and WhatsApp enabled, talking to fake provider servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.seed import seed_catalog_if_empty
from bot.settings import ChannelsConfig, Env, Settings, WhatsAppConfig
from bot.web.app import create_app
from nlu.client import NluClient
from nlu.comuni import gazetteer
from territory.model import shipped_territory
from tests.channels.fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TOKEN,
    FakeTelegram,
    FakeTwilio,
    ServerThread,
)
from tests.channels.payloads import OUR_NUMBER, twilio_signature
from tests.web.conftest import FakeRasa

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_BASE_URL = "https://frontdesk.example.org"
WEBHOOK_SECRET = "s3cret-Token_for-tests"
TEMPLATE_SID = "HX" + "b" * 32


@pytest.fixture(scope="session")
def fake_telegram_server() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with ServerThread(fake.app) as server:
        yield fake, server.url


@pytest.fixture(scope="session")
def fake_twilio_server() -> Iterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    with ServerThread(fake.app) as server:
        yield fake, server.url


@pytest.fixture
def fake_telegram(fake_telegram_server: tuple[FakeTelegram, str]) -> FakeTelegram:
    fake = fake_telegram_server[0]
    fake.calls.clear()
    fake.fail_next.clear()
    fake.updates.clear()
    fake.sent_per_chat.clear()
    fake.delivered.clear()
    fake.stall_next = 0
    return fake


@pytest.fixture
def fake_twilio(fake_twilio_server: tuple[FakeTwilio, str]) -> FakeTwilio:
    fake = fake_twilio_server[0]
    fake.reset()
    return fake


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def channel_settings(
    settings: Settings,
    fake_telegram_server: tuple[FakeTelegram, str],
    fake_twilio_server: tuple[FakeTwilio, str],
) -> Settings:
    """config.yml with every channel on, secrets and API bases pointing at the fakes."""
    env = Env(
        DATABASE_URL=settings.env.DATABASE_URL,
        FRONTDESK_CONFIG=settings.env.FRONTDESK_CONFIG,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_API_BASE_URL=f"{fake_telegram_server[1]}/bot",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_WHATSAPP_FROM=OUR_NUMBER,
        TWILIO_API_BASE_URL=fake_twilio_server[1],
    )
    config = settings.config.model_copy(
        update={
            "channels": ChannelsConfig(enabled=("webchat", "telegram", "whatsapp")),
            "whatsapp": WhatsAppConfig(template_content_sid=TEMPLATE_SID),
        }
    )
    return Settings(env=env, config=config)


def nlu_client(fake_rasa: FakeRasa) -> NluClient:
    return NluClient(
        "http://rasa.test",
        places=TRADATE,
        transport=httpx.MockTransport(fake_rasa.handler),
        retries=0,
    )


@pytest.fixture
def client(
    channel_settings: Settings, sessions: sessionmaker[Session], fake_rasa: FakeRasa
) -> Iterator[TestClient]:
    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    app = create_app(channel_settings, nlu=nlu_client(fake_rasa))
    with TestClient(app) as c:
        yield c


def settle(client: TestClient) -> None:
    """Waits until the background work of every accepted message is done."""
    client.portal.call(client.app.state.dispatcher.drain)  # type: ignore[attr-defined]


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
