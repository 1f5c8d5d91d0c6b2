"""Reading the audit log (Admin -> Registro attività): filters, newest first, by pages.

The log holds ids and action names only (`console_repo.audit`); what an entry means is
shown with the Italian label of its action from messages.it.yml (`audit.actions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.console import copy
from bot.db.console_models import AuditEntry, Operator

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    operator_id: int | None = None
    action: str | None = None
    day_from: date | None = None
    day_to: date | None = None


def action_label(action: str) -> str:
    """The Italian label of an action (the raw name for one the copy does not know yet)."""
    try:
        return copy.text(f"audit.actions.{action}")
    except KeyError:
        return action


def known_actions() -> list[tuple[str, str]]:
    """(name, label) of every action with a label, for the filter."""
    names = copy.keys("audit.actions")
    return sorted(((n, action_label(n)) for n in names), key=lambda p: p[1])


def _utc(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight at the start of `day`, in UTC like the stored timestamps."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _where(stmt: Select[Any], filters: AuditFilters, zone: ZoneInfo) -> Select[Any]:
    if filters.operator_id is not None:
        stmt = stmt.where(AuditEntry.operator_id == filters.operator_id)
    if filters.action:
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.day_from:
        stmt = stmt.where(AuditEntry.at >= _utc(filters.day_from, zone))
    if filters.day_to:
        stmt = stmt.where(AuditEntry.at < _utc(filters.day_to + timedelta(days=1), zone))
    return stmt


@dataclass(frozen=True)
class AuditPage:
    rows: list[tuple[AuditEntry, str | None]]  # entry, operator's name
    total: int
    page: int
    pages: int


def read(session: Session, filters: AuditFilters, page: int = 1, *, zone: ZoneInfo) -> AuditPage:
    """One page of entries matching the filters, newest first (days of `zone`)."""
    total = session.scalar(_where(select(func.count(AuditEntry.id)), filters, zone)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    stmt = _where(
        select(AuditEntry, Operator.name).outerjoin(
            Operator, Operator.id == AuditEntry.operator_id
        ),
        filters,
        zone,
    )
    stmt = stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    rows = session.execute(stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return AuditPage([(e, name) for e, name in rows], total, page, pages)


def refs(entry: AuditEntry) -> list[str]:
    """What an entry touched, as short Italian references (ids and counts only)."""
    out = [
        copy.text(f"audit.{kind}", id=value)
        for kind, value in (
            ("conversation", entry.conversation_id),
            ("handoff", entry.handoff_id),
            ("message", entry.message_id),
        )
        if value is not None
    ]
    for key, value in (entry.detail or {}).items():
        if isinstance(value, dict):  # row counts per table (privacy commands)
            value = sum(v for v in value.values() if isinstance(v, int))
        out.append(f"{key}: {value}")
    return out
