"""One message at a time per conversation, across connections (hence across processes)."""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from bot.db import conversation_repo as repo


def test_second_writer_waits_for_the_first_to_commit(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        repo.lock_conversation(s, channel="whatsapp", address="whatsapp:+390000000001")
    held = threading.Event()
    order: list[str] = []

    def first() -> None:
        with sessions.begin() as s:
            repo.lock_conversation(s, channel="whatsapp", address="whatsapp:+390000000001")
            held.set()
            time.sleep(0.6)  # the flow step of a slow message
            order.append("first committed")

    def second() -> None:
        held.wait(5)
        with sessions.begin() as s:
            repo.lock_conversation(s, channel="whatsapp", address="whatsapp:+390000000001")
            order.append("second locked")
            # SQLite takes its write lock lazily: writing makes the wait observable there too.
            repo.save_state(
                s,
                conversation=repo.lock_conversation(
                    s, channel="whatsapp", address="whatsapp:+390000000001"
                ),
                name="x",
                data={},
            )

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert order == ["first committed", "second locked"]
