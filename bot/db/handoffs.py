"""Keyword-only repository functions for the handoff queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.models import OPEN_HANDOFF, Conversation, Handoff, HandoffStatus


def open_handoff(session: Session, *, conversation: Conversation) -> Handoff | None:
    """The handoff currently waiting or active for this conversation, if any."""
    stmt = (
        select(Handoff)
        .where(
            Handoff.conversation_id == conversation.id,
            Handoff.status.in_([s.value for s in OPEN_HANDOFF]),
        )
        .order_by(Handoff.id.desc())
    )
    return session.scalars(stmt).first()


def request_handoff(
    session: Session,
    *,
    conversation: Conversation,
    reason: str,
    social_point: str,
    priority: bool,
    summary: dict[str, Any],
) -> Handoff:
    """Queues the conversation, or raises the priority of the entry already queued."""
    current = open_handoff(session, conversation=conversation)
    if current is not None:
        if priority and not current.priority:
            current.priority, current.reason = 1, reason
        current.summary = {**current.summary, **summary}
        return current
    handoff = Handoff(
        conversation_id=conversation.id,
        reason=reason,
        social_point=social_point,
        priority=int(priority),
        summary=summary,
    )
    session.add(handoff)
    session.flush()
    return handoff


def set_status(
    session: Session, *, conversation: Conversation, status: HandoffStatus, phone: str | None = None
) -> Handoff | None:
    """Moves the open handoff of the conversation to `status` (callback, cancelled, closed)."""
    current = open_handoff(session, conversation=conversation)
    if current is None:
        return None
    current.status = status.value
    if phone:
        current.callback_phone = phone
    if status in (HandoffStatus.CLOSED, HandoffStatus.CANCELLED):
        current.closed_at = utcnow()
    return current


def rate_last(session: Session, *, conversation: Conversation, score: int) -> None:
    """Stores the satisfaction score on the most recently closed handoff."""
    stmt = (
        select(Handoff)
        .where(
            Handoff.conversation_id == conversation.id, Handoff.status == HandoffStatus.CLOSED.value
        )
        .order_by(Handoff.id.desc())
    )
    last = session.scalars(stmt).first()
    if last is not None:
        last.rating = score
