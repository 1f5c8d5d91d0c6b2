"""Keyword-only repository functions of case labels (admin-defined names, labels on cases)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.base import dialect_insert, utcnow
from bot.db.console_models import CaseLabel, HandoffLabel

MAX_LABEL = 32
_SPACES = re.compile(r"\s+")
_ALLOWED = re.compile(r"^[\w][\w \-'’.]*$")


def normalise(label: str) -> str | None:
    """A label as stored (trimmed, single spaces, lower case), or None if not acceptable:
    empty, longer than MAX_LABEL or with symbols other than - ' ."""
    clean = _SPACES.sub(" ", label).strip().lower()
    if not clean or len(clean) > MAX_LABEL or not _ALLOWED.match(clean):
        return None
    return clean


def defined(session: Session) -> list[CaseLabel]:
    """The labels admins defined, by name."""
    return list(session.scalars(select(CaseLabel).order_by(CaseLabel.name)))


def define(session: Session, *, name: str) -> None:
    """Adds an admin-defined label (a name already there is left alone)."""
    insert = dialect_insert(session)(CaseLabel).values(name=name, created_at=utcnow())
    session.execute(insert.on_conflict_do_nothing())


def undefine(session: Session, *, label_id: int) -> None:
    """Removes a name from the admins' list (cases keep the labels they carry)."""
    session.execute(delete(CaseLabel).where(CaseLabel.id == label_id))


def add(session: Session, *, handoff_id: int, label: str, operator_id: int | None) -> None:
    """Puts a label on a case (idempotent)."""
    insert = dialect_insert(session)(HandoffLabel).values(
        handoff_id=handoff_id, label=label, operator_id=operator_id, created_at=utcnow()
    )
    session.execute(insert.on_conflict_do_nothing())


def remove(session: Session, *, handoff_id: int, label: str) -> None:
    session.execute(
        delete(HandoffLabel).where(
            HandoffLabel.handoff_id == handoff_id, HandoffLabel.label == label
        )
    )


def of_handoffs(session: Session, *, handoff_ids: Sequence[int]) -> dict[int, list[str]]:
    """Handoff id -> its labels, sorted (one query)."""
    if not handoff_ids:
        return {}
    stmt = (
        select(HandoffLabel.handoff_id, HandoffLabel.label)
        .where(HandoffLabel.handoff_id.in_(list(handoff_ids)))
        .order_by(HandoffLabel.label)
    )
    found: dict[int, list[str]] = {}
    for hid, label in session.execute(stmt).tuples():
        found.setdefault(hid, []).append(label)
    return found
