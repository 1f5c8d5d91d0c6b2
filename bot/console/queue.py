"""The handoff queue as the console sees it: keyword-only queries and atomic transitions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from bot.console.receipts import FAILED_PROVIDER
from bot.db import reply_repo
from bot.db.base import utcnow
from bot.db.models import Conversation, Handoff, HandoffStatus

QUEUED = (HandoffStatus.WAITING.value, HandoffStatus.CALLBACK.value)
VISIBLE = (*QUEUED, HandoffStatus.ACTIVE.value)


# Emergencies first, then whoever has waited longest.
ORDER = (Handoff.priority.desc(), Handoff.created_at, Handoff.id)


def open_handoffs(session: Session, *, points: Sequence[str] | None) -> list[Handoff]:
    """Waiting, callback and active handoffs of the given Social Points (None: all).

    Requests folded into a burst's card (bot.db.handoffs) are left out while that card is
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


def may_act(handoff: Handoff, *, operator_id: int, is_admin: bool) -> bool:
    """Notes and transfers: on an open case held by this operator or still unassigned."""
    if handoff.status not in VISIBLE:
        return False
    if is_admin:
        return True
    return handoff.operator_id == operator_id or (
        handoff.status in QUEUED and handoff.operator_id is None
    )


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


def _changed_one(result: object) -> bool:
    return int(getattr(result, "rowcount", 0) or 0) == 1
