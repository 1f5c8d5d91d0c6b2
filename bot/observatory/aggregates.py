"""Aggregates of the observatory page: anonymous need events and handoff statistics.

Counts come back raw; suppression ("<k") is applied where they are shown, with
`bot.observatory.report.suppress`, so every view uses the same rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.console_models import Operator
from bot.db.metadata import metadata
from bot.db.models import Conversation, Handoff, NeedCount
from bot.observatory.report import Cell, Filters, sums


@dataclass(frozen=True)
class Count:
    """A labelled count with its unmet and handed-off parts."""

    label: str
    total: int
    unmet: int = 0
    handed_off: int = 0


def _grouped(session: Session, filters: Filters, *keys: Any) -> list[tuple[Any, ...]]:
    stmt = filters.apply(select(*keys, *sums()).group_by(*keys).order_by(*keys))
    return [tuple(row) for row in session.execute(stmt)]


def by_key(session: Session, filters: Filters, key: Any) -> list[Count]:
    """Need counts grouped by one rollup column (comune, categoria, age bracket, channel)."""
    return [
        Count(str(label or "non indicato"), int(n), int(u or 0), int(h or 0))
        for label, n, u, h in _grouped(session, filters, key)
    ]


def summed(cells: list[Cell], key: str) -> list[Count]:
    """Cells summed by "categoria" or "comune", in label order."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for cell in cells:
        acc = totals[getattr(cell, key) or "non indicato"]
        acc[0] += cell.requests
        acc[1] += cell.unmet
        acc[2] += cell.handed_off
    return [Count(label, *acc) for label, acc in sorted(totals.items())]


def trend(cells: list[Cell]) -> dict[str, dict[str, int]]:
    """Requests per category per month: {categoria: {YYYY-MM: n}}."""
    series: dict[str, dict[str, int]] = defaultdict(dict)
    for cell in cells:
        per = series[cell.categoria]
        per[cell.month] = per.get(cell.month, 0) + cell.requests
    return dict(series)


def _period(filters: Filters) -> tuple[datetime | None, datetime | None]:
    """The months of the filters as a [start, end) range of handoff creation times."""
    start = end = None
    if filters.month_from:
        start = datetime.strptime(filters.month_from, "%Y-%m").replace(tzinfo=UTC)
    if filters.month_to:
        year, month = map(int, filters.month_to.split("-"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        end = datetime(year, month, 1, tzinfo=UTC)
    return start, end


def _handoffs(filters: Filters, *columns: Any) -> Any:
    stmt = select(*columns)
    start, end = _period(filters)
    if start:
        stmt = stmt.where(Handoff.created_at >= start)
    if end:
        stmt = stmt.where(Handoff.created_at < end)
    if filters.channel:
        stmt = stmt.join(Conversation, Conversation.id == Handoff.conversation_id).where(
            Conversation.channel == filters.channel
        )
    return stmt


def handoff_reasons(session: Session, filters: Filters) -> list[Count]:
    """Handoffs per reason (richiesta, nessun_servizio, emergenza...)."""
    stmt = _handoffs(filters, Handoff.reason, func.count()).group_by(Handoff.reason)
    return [Count(reason, int(n)) for reason, n in session.execute(stmt.order_by(Handoff.reason))]


def ratings(session: Session, filters: Filters) -> list[Count]:
    """How many handoffs got each satisfaction score."""
    stmt = _handoffs(filters, Handoff.rating, func.count()).where(Handoff.rating.is_not(None))
    rows = session.execute(stmt.group_by(Handoff.rating).order_by(Handoff.rating))
    return [Count(str(score), int(n)) for score, n in rows]


def first_response(session: Session, filters: Filters) -> list[tuple[str, int, float]]:
    """Per operator: handoffs taken and median minutes from request to taking it."""
    stmt = _handoffs(filters, Operator.name, Handoff.created_at, Handoff.taken_at).join(
        Operator, Operator.id == Handoff.operator_id
    )
    waits: dict[str, list[float]] = defaultdict(list)
    for name, created, taken in session.execute(stmt.where(Handoff.taken_at.is_not(None))):
        waits[name].append((taken - created).total_seconds() / 60)
    return [(name, len(w), round(median(w), 1)) for name, w in sorted(waits.items())]


def campaign_reach(session: Session) -> list[tuple[str, int]] | None:
    """Messages sent per campaign, or None when the campaign tables are not installed."""
    if "campaign_recipients" not in metadata.tables:
        return None
    campaigns, recipients = metadata.tables["campaigns"], metadata.tables["campaign_recipients"]
    stmt = (
        select(campaigns.c.title, func.count(recipients.c.id))
        .join(recipients, recipients.c.campaign_id == campaigns.c.id)
        .where(recipients.c.sent_at.is_not(None))
        .group_by(campaigns.c.id, campaigns.c.title)
        .order_by(campaigns.c.id)
    )
    return [(title, int(n)) for title, n in session.execute(stmt)]


def options(session: Session) -> dict[str, list[str]]:
    """The months the period filter offers (read from the rollup's primary key index)."""
    months = session.scalars(select(NeedCount.month).distinct().order_by(NeedCount.month))
    return {"months": list(months)}
