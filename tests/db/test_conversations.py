"""Persistence of conversations, state and messages, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import conversation_repo as repo
from bot.db.models import Conversation, Direction


def test_migrations_create_the_tables(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        tables = set(inspect(session.get_bind()).get_table_names())
    assert {"conversations", "conversation_states", "messages", "need_events"} <= tables


def test_state_and_messages_round_trip(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        conv = repo.lock_conversation(session, channel="webchat", address="abc12345")
        repo.save_state(session, conversation=conv, name="ask_comune", data={"step": "x"})
        repo.add_message(session, conversation=conv, direction=Direction.INBOUND, text="ciao")
    with sessions.begin() as session:
        conv = repo.lock_conversation(session, channel="webchat", address="abc12345")
        assert repo.load_state(session, conversation=conv) == {"step": "x"}
        repo.save_state(session, conversation=conv, name="suggested", data={"step": "y"})
    with sessions() as session:
        msgs = repo.transcript(session, channel="webchat", address="abc12345")
        assert [(m.direction, m.text) for m in msgs] == [("in", "ciao")]
        conv = repo.lock_conversation(session, channel="webchat", address="abc12345")
        assert repo.load_state(session, conversation=conv) == {"step": "y"}


def test_get_or_create_is_safe_under_concurrency(sessions: sessionmaker[Session]) -> None:
    """Eight threads open the same conversation at once: exactly one row exists."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            with sessions.begin() as session:
                repo.lock_conversation(session, channel="telegram", address="42")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as session:
        count = session.scalar(select(func.count()).select_from(Conversation))
    assert count == 1
