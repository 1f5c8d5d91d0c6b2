"""The `need_counts` rollup: kept in step with `need_events`, read by every report.

Each new event adds one to its row with an upsert (INSERT ... ON CONFLICT DO UPDATE, atomic
on SQLite and PostgreSQL, so concurrent workers never lose a count). `rebuild` recomputes
the whole rollup from the events (migration 0008, and a repair after manual edits).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, case, delete, func, insert, select
from sqlalchemy.orm import Session

from bot.db.base import dialect_insert
from bot.db.models import NeedCount, NeedEvent

KEY = ("month", "categoria", "comune", "age_bracket", "channel")
NONE = ""  # stands for a missing comune or age: NULLs would make the key non-unique


def bump(
    session: Session,
    *,
    key: dict[str, Any],
    requests: int = 0,
    unmet: int = 0,
    handed_off: int = 0,
) -> None:
    """Adds to the counts of one (month, categoria, comune, age_bracket, channel) row."""
    values = {k: key[k] if key[k] is not None else NONE for k in KEY}
    stmt = dialect_insert(session)(NeedCount).values(
        **values, requests=requests, unmet=unmet, handed_off=handed_off
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=list(KEY),
            set_={
                "requests": NeedCount.requests + stmt.excluded.requests,
                "unmet": NeedCount.unmet + stmt.excluded.unmet,
                "handed_off": NeedCount.handed_off + stmt.excluded.handed_off,
            },
        )
    )


def key_of(event: NeedEvent) -> dict[str, Any]:
    """The rollup key of one event."""
    return {k: getattr(event, k) for k in KEY}


def rebuild(session: Session) -> int:
    """Recomputes the rollup from every need event; returns the number of rows."""
    comune = func.coalesce(NeedEvent.comune, NONE)
    age = func.coalesce(NeedEvent.age_bracket, NONE)
    keys = (NeedEvent.month, NeedEvent.categoria, comune, age, NeedEvent.channel)
    source = select(
        *keys,
        func.count(),
        func.sum(case((NeedEvent.matched, 0), else_=1)).cast(Integer),
        func.sum(case((NeedEvent.handed_off, 1), else_=0)).cast(Integer),
    ).group_by(*keys)
    session.execute(delete(NeedCount))
    columns = [*KEY, "requests", "unmet", "handed_off"]
    session.execute(insert(NeedCount).from_select(columns, source))
    return int(session.scalar(select(func.count()).select_from(NeedCount)) or 0)
