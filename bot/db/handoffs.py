"""Keyword-only repository functions for the handoff queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.models import OPEN_HANDOFF, Conversation, Handoff, HandoffStatus

if TYPE_CHECKING:
    from bot.settings import AbuseConfig

QUEUED = (HandoffStatus.WAITING.value, HandoffStatus.CALLBACK.value)
BURST_IDS_KEPT = 50


@dataclass(frozen=True)
class Folding:
    """When priority cards of brand-new web chat sessions fold into one (config `abuse`)."""

    after: int = 3
    window: timedelta = timedelta(minutes=10)
    new_session: timedelta = timedelta(minutes=10)


_folding = Folding()


def configure_folding(config: AbuseConfig) -> None:
    """Sets the folding policy from config.yml (the app calls it at start-up)."""
    global _folding
    _folding = Folding(
        after=config.priority_fold_after,
        window=timedelta(minutes=config.priority_fold_minutes),
        new_session=timedelta(minutes=config.new_session_minutes),
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _burst_lead(
    session: Session, *, conversation: Conversation, social_point: str
) -> Handoff | None:
    """The card a new priority request should fold into, if a burst is going on.

    Only brand-new anonymous sessions (web chat conversations younger than `new_session`)
    fold: once `after` priority cards of such sessions were queued at this Social Point in
    the last `window`, the next ones are counted on the newest of them instead of each
    standing at the top of the queue. The resident got the helplines already (the flow's
    reply); only the operators' queue is spared. The lead row is locked, so concurrent
    requests count exactly.
    """
    now, policy = utcnow(), _folding
    if conversation.channel != "webchat":
        return None
    if _aware(conversation.created_at) < now - policy.new_session:
        return None
    stmt = (
        select(Handoff.id, Handoff.created_at, Conversation.created_at)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(
            Handoff.social_point == social_point,
            Handoff.priority >= 1,
            Handoff.status.in_(QUEUED),
            Handoff.created_at >= now - policy.window,
            Conversation.channel == "webchat",
            Handoff.conversation_id != conversation.id,
        )
        .order_by(Handoff.id)
    )
    fresh = [
        hid
        for hid, opened, started in session.execute(stmt)
        if _aware(opened) - _aware(started) <= policy.new_session
    ]
    if len(fresh) < policy.after:
        return None
    return session.scalars(select(Handoff).where(Handoff.id == fresh[-1]).with_for_update()).first()


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
    """Queues the conversation, or raises the priority of the entry already queued.

    A priority request from a brand-new web chat session during a burst is queued without
    priority and folded into the burst's card (`summary.folded_into`; the lead card counts
    them in `summary.burst`), see `_burst_lead`.
    """
    current = open_handoff(session, conversation=conversation)
    if current is not None:
        if priority and not current.priority and not current.summary.get("folded_into"):
            current.priority, current.reason = 1, reason
        current.summary = {**current.summary, **summary}
        return current
    lead = (
        _burst_lead(session, conversation=conversation, social_point=social_point)
        if priority
        else None
    )
    if lead is not None:
        handoff = Handoff(
            conversation_id=conversation.id,
            reason=reason,
            social_point=social_point,
            priority=0,
            summary={**summary, "folded_into": lead.id},
        )
        session.add(handoff)
        session.flush()
        card = lead.summary or {}
        ids = [*card.get("burst_ids", []), handoff.id][-BURST_IDS_KEPT:]
        lead.summary = {**card, "burst": int(card.get("burst", 0)) + 1, "burst_ids": ids}
        lead.updated_at = utcnow()
        return handoff
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
