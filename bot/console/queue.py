"""The handoff queue's rules as the console applies them (the queries: bot.db.handoff_repo)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.console.receipts import FAILED_PROVIDER
from bot.db import reply_repo
from bot.db.handoff_repo import QUEUED, VISIBLE
from bot.db.models import Handoff


def may_act(handoff: Handoff, *, operator_id: int, is_admin: bool) -> bool:
    """Notes and transfers: on an open case held by this operator or still unassigned."""
    if handoff.status not in VISIBLE:
        return False
    if is_admin:
        return True
    return handoff.operator_id == operator_id or (
        handoff.status in QUEUED and handoff.operator_id is None
    )


def fingerprint(session: Session, *, points: Sequence[str] | None) -> str:
    """Changes whenever the visible queue changes (what the SSE stream watches)."""
    stmt = select(func.count(Handoff.id), func.max(Handoff.updated_at)).where(
        Handoff.status.in_(VISIBLE)
    )
    if points is not None:
        stmt = stmt.where(Handoff.social_point.in_(list(points)))
    count, latest = session.execute(stmt).one()
    # A reply that fails does not touch its handoff: count failures so the card shows it.
    conv_ids = select(Handoff.conversation_id).where(Handoff.status.in_(VISIBLE))
    if points is not None:
        conv_ids = conv_ids.where(Handoff.social_point.in_(list(points)))
    failed = reply_repo.failed_lines(
        session, conversation_ids=list(session.scalars(conv_ids)), failed_codes=FAILED_PROVIDER
    )
    return f"{count}:{latest}:{len(failed)}"
