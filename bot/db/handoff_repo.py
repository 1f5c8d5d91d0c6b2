"""Keyword-only repository functions for the handoff queue: the flow's requests, the console's
queries and its atomic transitions (take, transfer, close)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.models import OPEN_HANDOFF, Conversation, Handoff, HandoffStatus

if TYPE_CHECKING:
    from bot.settings import AbuseConfig

QUEUED = (HandoffStatus.WAITING.value, HandoffStatus.CALLBACK.value)
VISIBLE = (*QUEUED, HandoffStatus.ACTIVE.value)
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


# Emergencies first, then whoever has waited longest.
ORDER = (Handoff.priority.desc(), Handoff.created_at, Handoff.id)


def open_handoffs(session: Session, *, points: Sequence[str] | None) -> list[Handoff]:
    """Waiting, callback and active handoffs of the given Social Points (None: all).

    Requests folded into a burst's card (request_handoff) are left out while that card is
    open: the card shows their count and links; once it is closed they show on their own.
    """
    stmt = select(Handoff).where(Handoff.status.in_(VISIBLE)).order_by(*ORDER)
    if points is not None:
        stmt = stmt.where(Handoff.social_point.in_(list(points)))
    found = list(session.scalars(stmt))
    shown = {h.id for h in found}
    return [h for h in found if (h.summary or {}).get("folded_into") not in shown]


def visible_handoff(
    session: Session,
    *,
    handoff_id: int,
    points: Sequence[str] | None,
    operator_id: int | None = None,
) -> tuple[Handoff, Conversation] | None:
    """The handoff and its conversation, if this operator may see it (None: admins, all).

    An operator sees a case of their Social Points while it is open, and afterwards only a
    case they held themselves; never a case now at another Social Point.
    """
    stmt = (
        select(Handoff, Conversation)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Handoff.id == handoff_id)
    )
    if points is not None:
        stmt = stmt.where(
            Handoff.social_point.in_(list(points)),
            Handoff.status.in_(VISIBLE) | (Handoff.operator_id == operator_id),
        )
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row else None


def case_start(session: Session, *, handoff: Handoff) -> datetime | None:
    """Where the case's part of the conversation begins: when the previous case ended."""
    stmt = select(func.max(Handoff.closed_at)).where(
        Handoff.conversation_id == handoff.conversation_id, Handoff.id < handoff.id
    )
    return session.scalar(stmt)


def case_window(session: Session, stmt: Select[Any], column: Any, handoff: Handoff) -> Select[Any]:
    """Limits a query on `column` (a creation time) to this case's part of the conversation.

    From the end of the conversation's previous case (so the request that led to this one
    is there) to this case's closing: what was said in earlier or later cases, perhaps with
    another Social Point, is not shown.
    """
    start = case_start(session, handoff=handoff)
    if start is not None:
        stmt = stmt.where(column > start)
    if handoff.closed_at is not None:
        stmt = stmt.where(column <= handoff.closed_at)
    return stmt


def take(
    session: Session, *, handoff_id: int, operator_id: int, points: Sequence[str] | None
) -> bool:
    """Gives the handoff to the operator if still queued: exactly one of two racers wins.

    A single conditional UPDATE: the database re-checks the status under its row lock, so
    the loser's statement matches no row (rowcount 0) instead of overwriting the winner.
    """
    stmt = (
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status.in_(QUEUED))
        .values(
            status=HandoffStatus.ACTIVE.value,
            operator_id=operator_id,
            taken_at=utcnow(),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if points is not None:
        stmt = stmt.where(Handoff.social_point.in_(list(points)))
    return _changed_one(session.execute(stmt))


def claim_close(session: Session, *, handoff_id: int, operator_id: int | None) -> bool:
    """Closes an active handoff held by `operator_id` (None: any holder, for admins)."""
    stmt = (
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.ACTIVE.value)
        .values(status=HandoffStatus.CLOSED.value, closed_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if operator_id is not None:
        stmt = stmt.where(Handoff.operator_id == operator_id)
    return _changed_one(session.execute(stmt))


def transfer(
    session: Session, *, handoff_id: int, social_point: str, to_operator: int | None
) -> bool:
    """Moves an open handoff to another Social Point's queue or straight to an operator."""
    values: dict[str, object] = {"social_point": social_point, "updated_at": utcnow()}
    if to_operator is None:
        values |= {
            "status": HandoffStatus.WAITING.value,
            "operator_id": None,
            "taken_at": None,
            "announced_at": None,
        }
    else:
        values |= {
            "status": HandoffStatus.ACTIVE.value,
            "operator_id": to_operator,
            "taken_at": utcnow(),
        }
    stmt = (
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status.in_(VISIBLE))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _changed_one(session.execute(stmt))


def position(session: Session, *, handoff: Handoff) -> int:
    """1-based place of a queued handoff in its Social Point's queue."""
    ahead = select(func.count(Handoff.id)).where(
        Handoff.social_point == handoff.social_point,
        Handoff.status.in_(QUEUED),
        Handoff.id != handoff.id,
        (Handoff.priority > handoff.priority)
        | ((Handoff.priority == handoff.priority) & (Handoff.created_at < handoff.created_at)),
    )
    return int(session.scalar(ahead) or 0) + 1


def unannounced(session: Session) -> list[Handoff]:
    """Queued handoffs whose resident and operators have not been told yet."""
    stmt = select(Handoff).where(Handoff.status.in_(QUEUED), Handoff.announced_at.is_(None))
    return list(session.scalars(stmt.order_by(Handoff.id)))


def timed_out(session: Session, *, before: datetime) -> list[Handoff]:
    """Handoffs announced before `before`, still waiting, whose resident had no callback offer.

    The wait counts from the announcement (made while the Social Point is open), so a request
    left overnight is not "late" the moment the office opens.
    """
    stmt = select(Handoff).where(
        Handoff.status == HandoffStatus.WAITING.value,
        Handoff.callback_offered_at.is_(None),
        Handoff.announced_at < before,
    )
    return list(session.scalars(stmt.order_by(Handoff.id)))


def _changed_one(result: object) -> bool:
    return int(getattr(result, "rowcount", 0) or 0) == 1
