"""Two operators press "Prendi in carico" at the same instant: exactly one gets it.

Real concurrency: threads, each with its own connection, released together by a barrier.
On PostgreSQL (TEST_POSTGRES_URL) this exercises row locking under READ COMMITTED; on
SQLite, whole-database write locking.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.db import handoff_repo
from tests.console.conftest import handoff, queue_resident

RACERS = 6


@pytest.mark.parametrize("round_", range(5))
def test_exactly_one_operator_wins(sessions: sessionmaker[Session], round_: int) -> None:
    hid = queue_resident(sessions, address=f"resident-race-{round_:04d}")
    barrier = threading.Barrier(RACERS)
    results: dict[int, bool] = {}

    def racer(operator_id: int) -> None:
        with sessions.begin() as session:
            session.connection()  # open the transaction before the start signal
            barrier.wait()
            results[operator_id] = handoff_repo.take(
                session, handoff_id=hid, operator_id=operator_id, points=("tradate",)
            )

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(1, RACERS + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [op for op, won in results.items() if won]
    assert len(results) == RACERS and len(winners) == 1
    taken = handoff(sessions, hid)
    assert (taken.status, taken.operator_id) == ("active", winners[0])
