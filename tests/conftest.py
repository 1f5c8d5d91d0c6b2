"""Shared fixtures: settings from the repository's config.yml, databases on every backend."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.db.engine import create_db_engine, session_factory
from bot.db.migrate import upgrade
from bot.settings import Env, Settings, load_config
from nlu.rasa_process import RasaServer
from tests.integration.conftest import MODEL, free_port, require_model
from tests.integration.conftest import ROOT as ROOT_DIR

ROOT = Path(__file__).resolve().parents[1]


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
    server = RasaServer(model=MODEL, port=free_port(), token=secrets.token_urlsafe(16))
    server.start(log_file=ROOT_DIR / "var" / "rasa-test.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
