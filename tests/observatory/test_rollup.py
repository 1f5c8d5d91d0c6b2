"""The need_counts rollup stays equal to a recount of the events; migration 0008 backfills."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.db.engine import create_db_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import NeedCount, NeedEvent
from bot.observatory import needs, rollup
from flows.turn import NeedRecorded

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def snapshot(session: Session) -> list[tuple]:
    rows = session.scalars(select(NeedCount).order_by(*NeedCount.__table__.primary_key.columns))
    return [
        (
            r.month,
            r.categoria,
            r.comune,
            r.age_bracket,
            r.channel,
            r.requests,
            r.unmet,
            r.handed_off,
        )
        for r in rows
    ]


def test_incremental_counts_equal_a_rebuild(sessions: sessionmaker[Session]) -> None:
    events = [
        NeedRecorded("prima_infanzia", "Tradate", (2.0,), "figlia", True),
        NeedRecorded("prima_infanzia", "Tradate", (1.5,), None, False),
        NeedRecorded("caregiver", None, (), "madre", False),
    ]
    with sessions.begin() as s:
        ids = [needs.record_need(s, event=e, channel="telegram", now=NOW) for e in events]
        needs.mark_handed_off(s, need_event_id=ids[1])
        needs.mark_handed_off(s, need_event_id=ids[1])  # counted once
        needs.mark_handed_off(s, need_event_id=None)
    with sessions.begin() as s:
        incremental = snapshot(s)
        rollup.rebuild(s)
        assert snapshot(s) == incremental
    assert incremental == [
        ("2026-11", "caregiver", "", "", "telegram", 1, 1, 0),
        ("2026-11", "prima_infanzia", "Tradate", "0-2", "telegram", 2, 1, 1),
    ]


def test_migration_0008_backfills_existing_events(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    upgrade(url, "0007")
    engine = create_db_engine(url)
    with engine.begin() as conn:
        for matched in (1, 1, 0):
            conn.execute(
                text(
                    "INSERT INTO need_events (month, categoria, comune, age_bracket, familiare,"
                    " channel, matched, handed_off) VALUES ('2026-10', 'caregiver', NULL, '65+',"
                    " NULL, 'webchat', :m, 0)"
                ),
                {"m": matched},
            )
    upgrade(url)
    with session_factory(engine)() as s:
        assert snapshot(s) == [("2026-10", "caregiver", "", "65+", "webchat", 3, 1, 0)]
        assert s.scalar(select(NeedEvent.id).limit(1)) is not None
    engine.dispose()
