"""Benchmark of the writes every resident message makes with upserts: CPU per message.

Run: `python bench/bench_upserts.py [--messages 1000] [--database-url URL]`.
Per message, in one transaction: the receipt and contact (`accept_inbound`), the
conversation (`open_for_message`), the turn lease (`acquire`) and the flow state
(`save_state`), then the commit: the statements of bot.db.base.per_dialect. Prints one
JSON object with the process CPU milliseconds per message (the Python side: SQLAlchemy
and the driver) and the wall milliseconds. PostgreSQL runs in a schema of its own, dropped
afterwards; FRONTDESK_DATA_KEY must be set for it (encrypted columns).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bench.scratch_schema import scratch_schema  # noqa: E402
from bot.db import channel_repo, conversation_repo, lease_repo  # noqa: E402
from bot.db.engine import create_db_engine, session_factory  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402

WARM_UP = 50


def _message(sessions: sessionmaker[Session], i: int) -> None:
    with sessions.begin() as session:
        address = str(i)
        channel_repo.accept_inbound(
            session, channel="telegram", address=address, external_id=f"u{i}"
        )
        conversation = conversation_repo.open_for_message(
            session, channel="telegram", address=address
        )
        lease_repo.acquire(session, name=f"turn:{i}", holder="bench", seconds=30)
        conversation_repo.save_state(
            session, conversation=conversation, name="intake", data={"i": i}
        )


def measure(url: str, messages: int) -> dict[str, float]:
    upgrade(url)
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    for i in range(WARM_UP):
        _message(sessions, i)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(WARM_UP, WARM_UP + messages):
        _message(sessions, i)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    engine.dispose()
    return {
        "cpu_ms_per_message": round(cpu / messages * 1000, 3),
        "wall_ms_per_message": round(wall / messages * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()
    if not args.database_url:
        with tempfile.TemporaryDirectory() as tmp:
            scores = measure(f"sqlite:///{Path(tmp) / 'bench.db'}", args.messages)
        print(json.dumps({"database": "sqlite", "messages": args.messages, **scores}))
        return
    with scratch_schema(args.database_url, "bench_upserts") as url:
        scores = measure(url, args.messages)
    print(json.dumps({"database": "postgresql", "messages": args.messages, **scores}))


if __name__ == "__main__":
    main()
