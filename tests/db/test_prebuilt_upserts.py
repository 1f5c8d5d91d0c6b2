"""The upserts of every resident message (bot.db.base.per_dialect) are compiled once.

SQLAlchemy compiles a dialect ON CONFLICT insert on every execution; per_dialect runs the
same SQL as a typed text statement, which its statement cache keeps. Checked on the real
databases: the second execution reuses the first one's compiled form, the types still
apply (an encrypted column, a datetime), and a parameter left out is an error, not a NULL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, event
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import conversation_repo, lease_repo
from bot.db.base import per_dialect, utcnow


def _compiled_forms(session: Session, run: Any) -> list[Any]:
    seen: list[Any] = []

    def record(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any
    ) -> None:
        seen.append(context.compiled)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_the_turn_upserts_are_compiled_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = conversation_repo.open_for_message(session, channel="telegram", address="42")

        def turn() -> None:
            again = conversation_repo.open_for_message(session, channel="telegram", address="42")
            assert again.id == first.id and again.address == "42"  # decrypted, same row
            assert lease_repo.acquire(session, name="turn:42", holder="w1", seconds=30)

        one, two = _compiled_forms(session, turn), _compiled_forms(session, turn)
    assert len(one) == len(two) == 2
    assert all(a is b for a, b in zip(one, two, strict=True))


def test_the_lease_upsert_keeps_its_arbiter(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert lease_repo.acquire(session, name="turn:7", holder="w1", seconds=30)
        assert not lease_repo.acquire(session, name="turn:7", holder="w2", seconds=30)
        assert lease_repo.acquire(session, name="turn:7", holder="w1", seconds=30)


def test_a_missing_parameter_is_an_error_not_a_null(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        acquire = lease_repo._ACQUIRE(session)
        params = {"p_name": "x", "p_holder": "w1", "p_now": utcnow()}  # no p_until
        with pytest.raises(StatementError, match="p_until"):
            session.execute(acquire, params)
        session.rollback()
        until = utcnow() + timedelta(seconds=5)
        assert session.execute(acquire, params | {"p_until": until}).first() is not None


def test_a_default_computed_in_python_is_refused() -> None:
    table = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("name", String(10)),
        Column("at", DateTime(timezone=True), default=utcnow),
    )
    statement = per_dialect(
        lambda insert: insert(table).values(name=bindparam("p_name")).on_conflict_do_nothing()
    )

    class _Bind:
        class dialect:
            name = "sqlite"

    class _Session:
        def get_bind(self) -> Any:
            return _Bind()

    with pytest.raises(ValueError, match="defaults to Python"):
        statement(_Session())  # type: ignore[arg-type]
