"""Runs Alembic migrations from code (`frontdesk db upgrade`, `frontdesk run`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.db.engine import create_db_engine, normalise_url

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at our migrations folder and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Brings the database at `url` to `revision` (creating the SQLite file if needed)."""
    create_db_engine(url).dispose()  # creates the folder of a SQLite file
    command.upgrade(alembic_config(url), revision)
