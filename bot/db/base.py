"""Declarative base shared by every SQLAlchemy model (one metadata for Alembic)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

# Stable constraint names so that Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the models use."""
    return datetime.now(UTC)


T = TypeVar("T")


def dialect_insert(session: Session) -> Any:
    """The session's dialect INSERT, which offers ON CONFLICT: races are decided inside the
    database, on SQLite and PostgreSQL alike."""
    return _insert_of(session.get_bind().dialect.name)


def _insert_of(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def per_dialect(build: Callable[[Any], T]) -> Callable[[Session], T]:
    """A statement built once per dialect by `build(insert)`, with the dialect's INSERT.

    For the upserts of every resident message: built once with bound parameters, they
    skip their construction and the ORM's bulk-insert path (SQLAlchemy still compiles
    an ON CONFLICT insert on each execution: its dialect classes opt out of the cache).
    """
    built = functools.cache(lambda dialect: build(_insert_of(dialect)))
    return lambda session: built(session.get_bind().dialect.name)


class Base(DeclarativeBase):
    """Base class of all models."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012 (SQLAlchemy API)


class Timestamped:
    """Mixin: creation and update times."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
