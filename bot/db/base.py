"""Declarative base shared by every SQLAlchemy model (one metadata for Alembic)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Executable, MetaData, TextClause, bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import BindTyping
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


def dialect_insert(session: Session) -> Any:
    """The session's dialect INSERT, which offers ON CONFLICT: races are decided inside the
    database, on SQLite and PostgreSQL alike."""
    return _insert_of(session.get_bind().dialect.name)


def _insert_of(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def per_dialect(
    build: Callable[[Any], Any], *, load: type | None = None
) -> Callable[[Session], Executable]:
    """An upsert built once per dialect by `build(insert)`, with the dialect's INSERT, and run
    as text that SQLAlchemy compiles once (as the ORM objects `load`, if given).

    For the upserts of every resident message. SQLAlchemy never caches a dialect ON CONFLICT
    insert (its classes opt out of the statement cache) and would compile each one on every
    execution, ~0.2-0.5 ms apiece; the same SQL as a typed text statement is cached
    (bench/bench_upserts.py: 3.4 -> 1.2 ms of CPU per message on SQLite, 4.5 -> 2.2 on
    PostgreSQL).
    """

    @functools.cache
    def built(dialect: str) -> Executable:
        statement = build(_insert_of(dialect))
        textual = _as_text(statement, dialect)
        if not statement.exported_columns:
            return textual
        rows = textual.columns(*statement.exported_columns)  # typed RETURNING columns
        return select(load).from_statement(rows) if load is not None else rows

    return lambda session: built(session.get_bind().dialect.name)


class _PlainPostgres(postgresql.dialect):  # type: ignore[misc,valid-type]
    # No "::TYPE" casts in the SQL string: the driver's dialect adds its own when it runs.
    bind_typing = BindTyping.NONE


def _as_text(statement: Any, dialect: str) -> TextClause:
    plain = _PlainPostgres if dialect == "postgresql" else sqlite.dialect
    compiled = statement.compile(dialect=plain(paramstyle="named"))
    if compiled.insert_prefetch or compiled.update_prefetch:
        # a column default computed in Python would be skipped by the text: give it a value
        raise ValueError(f"prebuilt upsert leaves defaults to Python: {compiled.string}")
    binds = [
        bindparam(name, bind.value, type_=bind.type, required=bind.required)
        for bind, name in compiled.bind_names.items()
    ]
    return text(compiled.string).bindparams(*binds)


class Base(DeclarativeBase):
    """Base class of all models."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012 (SQLAlchemy API)


class Timestamped:
    """Mixin: creation and update times."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
