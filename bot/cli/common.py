"""Helpers shared by the commands: settings, database, one-line failures, JSON output."""

from __future__ import annotations

import json
import os
import sys
from typing import NoReturn

from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.db.engine import create_db_engine, session_factory
from bot.db.migrate import upgrade
from bot.settings import Settings, SettingsError, load_settings


def fail(reason: str, code: int = 1) -> NoReturn:
    """Exits non-zero with a one-line reason on stderr (the CLI contract)."""
    print(f"error: {reason}", file=sys.stderr)
    raise SystemExit(code)


def settings_or_exit() -> Settings:
    """Loads settings, or exits with the one line that names the bad key."""
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)


def database_url() -> str:
    return os.environ.get("DATABASE_URL", "sqlite:///var/frontdesk.db")


def open_sessions(url: str | None = None) -> sessionmaker[Session]:
    """Migrates the database to the latest schema and returns a session factory."""
    url = url or database_url()
    try:
        crypto.require_key(url, crypto.environment_key())
    except crypto.DataKeyError as exc:
        fail(str(exc), code=2)
    try:
        upgrade(url)
    except Exception as exc:
        fail(f"database {_safe(url)} not usable: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    return session_factory(create_db_engine(url))


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def print_json(obj: object) -> None:
    """Machine-readable output: one JSON document on the last line."""
    print(json.dumps(obj, ensure_ascii=False))


def audit_command(session: Session, action: str, **ids: int) -> None:
    """A command's admin action in the console audit log (no operator: run from the shell)."""
    from bot.db import console_repo

    console_repo.audit(session, operator_id=None, action=action, detail={"via": "cli", **ids})
