"""Shared fixtures: settings from the repository's config.yml, databases on every backend, the
app with a fake NLU (and fake Telegram/Twilio servers), operator accounts, the app in a browser.

The fixtures used by more than one test directory live here; a directory's own conftest.py
overrides `app_settings` when its tests need a different app (every channel on).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.cli.seed import seed_catalog_if_empty
from bot.console import auth
from bot.console.accounts import create_operator
from bot.db.engine import create_db_engine, session_factory
from bot.db.migrate import upgrade
from bot.settings import ChannelsConfig, Env, Settings, WhatsAppConfig, load_config
from bot.web.app import create_app
from nlu.client import NluClient
from nlu.comuni import gazetteer
from nlu.rasa_process import RasaServer
from territory.model import shipped_territory
from tests.browser import Served
from tests.channels.fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TOKEN,
    FakeTelegram,
    FakeTwilio,
    ServerThread,
)
from tests.channels.payloads import OUR_NUMBER
from tests.integration.conftest import MODEL, free_port, require_model
from tests.integration.conftest import ROOT as ROOT_DIR

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_BASE_URL = "https://frontdesk.example.org"
WEBHOOK_SECRET = "s3cret-Token_for-tests"
TEMPLATE_SID = "HX" + "b" * 32
PASSWORD = "una-password-lunga-1"
ADMIN_EMAIL = "carla@example.org"
TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places


def backends() -> list[str]:
    """SQLite always; PostgreSQL too when TEST_POSTGRES_URL is set (CI sets it)."""
    names = ["sqlite"]
    if os.environ.get("TEST_POSTGRES_URL"):
        names.append("postgresql")
    return names


# Commands refuse PostgreSQL without FRONTDESK_DATA_KEY (bot.crypto.require_key).
TEST_DATA_KEY = "cG9zdGdyZXNxbC10ZXN0cy1kYXRhLWtleS0zMmJ5dGU="


@pytest.fixture(params=backends())
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty database URL; on PostgreSQL a fresh schema for each test."""
    if request.param != "sqlite" and not os.environ.get("FRONTDESK_DATA_KEY"):
        monkeypatch.setenv("FRONTDESK_DATA_KEY", TEST_DATA_KEY)
    # The keys the app and the commands (subprocesses too) will take from the environment or
    # the key file: never those an earlier test left configured in this process.
    crypto.configure()
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    # A schema of our own per test process: parallel runs (or another checkout's) on the
    # same server never see each other's tables.
    schema = f"t_{os.getpid()}"
    base = os.environ["TEST_POSTGRES_URL"]
    engine = create_db_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A migrated database."""
    upgrade(db_url)
    engine = create_db_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """The repository's config.yml with the test database."""
    env = Env(DATABASE_URL=db_url, FRONTDESK_CONFIG=ROOT / "config.yml")
    return Settings(env=env, config=load_config(ROOT / "config.yml"))


@pytest.fixture(scope="session")
def rasa_server() -> Iterator[RasaServer]:
    """One real Rasa server with the trained model for the whole run (integration and
    dialogue tests alike: a second one would cost ~20 s and ~1 GB)."""
    require_model()
    # A token may start with "-" (token_urlsafe): this one always does, so the command line
    # that starts Rasa is checked for it on every run.
    token = "-" + secrets.token_urlsafe(16)
    server = RasaServer(model=MODEL, port=free_port(), token=token)
    server.start(log_file=ROOT_DIR / "var" / "rasa-test.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def rasa_says(intent: str, confidence: float = 0.95, entities: list[dict] | None = None) -> dict:
    return {
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }


class FakeRasa:
    """Answers /model/parse from a table text -> response (default: fuori_ambito, low)."""

    def __init__(self) -> None:
        self.table: dict[str, dict] = {}
        self.down = False
        self.calls = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("refused")
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "frontdesk-nlu.tar.gz"})
        text = json.loads(request.content)["text"]
        return httpx.Response(200, json=self.table.get(text, rasa_says("fuori_ambito", 0.3)))


def nlu_client(fake_rasa: FakeRasa) -> NluClient:
    return NluClient(
        "http://rasa.test",
        places=TRADATE,
        transport=httpx.MockTransport(fake_rasa.handler),
        retries=0,
    )


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


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


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """The settings `client` runs the app with: the web chat only, unless overridden."""
    return settings


@pytest.fixture
def client(
    app_settings: Settings, sessions: sessionmaker[Session], fake_rasa: FakeRasa
) -> Iterator[TestClient]:
    """The real app (database, flows, catalogue) with the NLU on httpx.MockTransport."""
    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    with TestClient(create_app(app_settings, nlu=nlu_client(fake_rasa))) as c:
        yield c


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: the tests are about the console, not about argon2's cost."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", cheap)


@pytest.fixture
def operators(sessions: sessionmaker[Session], settings: Settings) -> dict[str, int]:
    """anna (Tradate), bruno (Vedano Olona), carla (admin, no Social Point)."""
    people = {
        "anna": ("Anna Rossi", "operator", ["tradate"]),
        "bruno": ("Bruno Bianchi", "operator", ["vedano-olona"]),
        "carla": ("Carla Verdi", "admin", []),
    }
    return {
        key: create_operator(
            sessions,
            settings,
            email=f"{key}@example.org",
            name=name,
            password=PASSWORD,
            role=role,
            social_points=points,
        )
        for key, (name, role, points) in people.items()
    }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """The app under uvicorn for the browser tests, with anna (Tradate) as its operator."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    settings = Settings(
        env=Env(DATABASE_URL=url, FRONTDESK_CONFIG=ROOT / "config.yml"),
        config=load_config(ROOT / "config.yml"),
    )
    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    create_operator(
        sessions,
        settings,
        email="anna@example.org",
        name="Anna Rossi",
        password=PASSWORD,
        role="operator",
        social_points=["tradate"],
    )
    with Served(create_app(settings, nlu=nlu_client(FakeRasa()))) as server:
        yield server.url, sessions
    engine.dispose()


def add_admin(sessions: sessionmaker[Session]) -> None:
    """An admin account (no Social Point) for the admin pages' browser tests."""
    settings = Settings(
        env=Env(FRONTDESK_CONFIG=ROOT / "config.yml"), config=load_config(ROOT / "config.yml")
    )
    create_operator(
        sessions,
        settings,
        email=ADMIN_EMAIL,
        name="Carla Verdi",
        password=PASSWORD,
        role="admin",
        social_points=[],
    )


def log_in(page: Any, base: str, email: str) -> None:
    """Fills and sends the console's login form in the browser."""
    page.goto(f"{base}/operator")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Entra").click()
