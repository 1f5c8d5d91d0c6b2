"""Turns a need the flow identified into an anonymous observatory row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.db.models import NeedEvent
from bot.observatory import rollup
from flows.turn import NeedRecorded

# Brackets follow the services' own age limits (nido, scuola, adolescenza, adulti, anziani).
BRACKETS = ((3, "0-2"), (6, "3-5"), (11, "6-10"), (15, "11-14"), (18, "15-17"), (65, "18-64"))


def age_bracket(age: float | None) -> str | None:
    """The coarse bracket of an age, so the exact age is never stored."""
    if age is None:
        return None
    return next((label for limit, label in BRACKETS if age < limit), "65+")


def record_need(session: Session, *, event: NeedRecorded, channel: str, now: datetime) -> int:
    """Stores the event without anything that leads back to the person; returns its id."""
    row = NeedEvent(
        month=now.strftime("%Y-%m"),
        categoria=event.categoria,
        comune=event.comune,
        age_bracket=age_bracket(min(event.eta) if event.eta else None),
        familiare=event.familiare,
        channel=channel,
        matched=event.matched,
    )
    session.add(row)
    session.flush()
    rollup.bump(session, key=rollup.key_of(row), requests=1, unmet=0 if row.matched else 1)
    return row.id


def mark_handed_off(session: Session, *, need_event_id: int | None) -> None:
    """Counts the need as handed to an operator (the observatory's handoff rate)."""
    row = session.get(NeedEvent, need_event_id) if need_event_id is not None else None
    if row is not None and not row.handed_off:  # count each need once
        row.handed_off = True
        rollup.bump(session, key=rollup.key_of(row), handed_off=1)
