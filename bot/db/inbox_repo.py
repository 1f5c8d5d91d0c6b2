"""Keyword-only repository functions of the durable inbox (`inbox_messages`).

A message is stored with its redelivery key in one transaction (`store`) and marked
handled in the transaction of its turn (`take`, the exactly-once arbiter). One resident's
messages are handled in id order, by whichever worker holds the conversation's turn lease
(a row of `scheduler_leases`, decided by the database, never by an in-process lock).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from bot.crypto import address_index
from bot.db import channel_repo, lease_repo
from bot.db.base import utcnow
from bot.db.console_models import SchedulerLease
from bot.db.delivery_models import InboxMessage

# A turn that keeps failing (a bug, a poison message) is given up after this many tries, so
# that the resident's later messages are not held back for ever.
MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 2.0


class _Part(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def ref(self) -> str: ...


class Received(Protocol):
    """What the inbox keeps of a message (bot.channels.base.InboundMessage has it)."""

    @property
    def channel(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def external_id(self) -> str | None: ...
    @property
    def text(self) -> str | None: ...
    @property
    def payload(self) -> str | None: ...
    @property
    def attachments(self) -> Sequence[_Part]: ...


def store(session: Session, *, message: Received, now: datetime | None = None) -> int | None:
    """Records a received message with its redelivery key; None for a redelivery."""
    now = now or utcnow()
    fresh = channel_repo.accept_inbound(
        session,
        channel=message.channel,
        address=message.address,
        external_id=message.external_id,
        now=now,
    )
    if not fresh:
        return None
    values = {
        "channel": message.channel,
        "address": message.address,
        "external_id": message.external_id and message.external_id[:64],
        "text": message.text,
        "payload": message.payload,
        "attachments": [{"kind": a.kind, "ref": a.ref} for a in message.attachments] or None,
        "received_at": now,
        "attempts": 0,
    }
    return cast(int, session.scalar(_INSERT, values))


def received(session: Session, *, channel: str, external_id: str) -> InboxMessage | None:
    """The stored message with this redelivery key (None: never stored, or purged)."""
    stmt = select(InboxMessage).where(
        InboxMessage.channel == channel, InboxMessage.external_id == external_id[:64]
    )
    return session.scalars(stmt).first()


def is_handled(session: Session, *, inbox_id: int) -> bool:
    """Whether the message's turn has been committed (or given up; or the row purged)."""
    row = session.execute(
        select(InboxMessage.handled_at).where(InboxMessage.id == inbox_id)
    ).first()
    return row is None or row.handled_at is not None


def _lease_name(channel: str, address: str) -> str:
    # Named by the address's pseudonym, not the conversation row: claiming a turn must not
    # create (or, after an erasure, re-create) the conversation.
    return f"turn:{address_index(channel, address)}"


def claim_turn(
    session: Session, *, channel: str, address: str, holder: str, seconds: float
) -> tuple[str, InboxMessage | None] | None:
    """Takes (or renews) the conversation's turn lease and returns its name and the oldest
    unhandled message (None when there is none, or when it waits for a retry). None when
    another worker holds the lease: that worker will see the message."""
    lease = _lease_name(channel, address)
    if not lease_repo.acquire(session, name=lease, holder=holder, seconds=seconds):
        return None
    head = session.scalars(_HEAD_ROW, _resident(channel, address)).first()
    if head is not None and not _due(head.next_attempt_at):
        return lease, None  # the head waits for its retry: later ones wait behind it
    return lease, head


def release_turn(session: Session, *, lease: str, holder: str) -> None:
    """Gives the turn lease up (deletes its row: conversations are many)."""
    session.execute(_RELEASE, {"p_name": lease, "p_holder": holder})


def release_dead_turns(session: Session, *, is_dead: Callable[[str], bool]) -> int:
    """Deletes the turn leases of holders that died (see replies.holder_is_dead), so their
    conversations go on at once after a restart. Returns how many."""
    stmt = select(SchedulerLease.name, SchedulerLease.holder).where(
        SchedulerLease.name.like("turn:%"), SchedulerLease.expires_at > utcnow()
    )
    dead = [(name, holder) for name, holder in session.execute(stmt).tuples() if is_dead(holder)]
    for name, holder in dead:
        session.execute(
            delete(SchedulerLease).where(
                SchedulerLease.name == name, SchedulerLease.holder == holder
            )
        )
    return len(dead)


def take(session: Session, *, inbox_id: int) -> bool:
    """Marks the message handled and clears its content, inside the turn's transaction:
    False when it was handled already (another worker won the race; nothing to do)."""
    result = session.execute(_TAKE, {"p_id": inbox_id, "p_at": utcnow()})
    return cast(CursorResult[Any], result).rowcount == 1


def failed(session: Session, *, inbox_id: int, error: str) -> bool:
    """Records a failed turn: retried later with backoff, given up after MAX_ATTEMPTS.

    Returns:
        True when it was given up.
    """
    row = session.get(InboxMessage, inbox_id)
    if row is None or row.handled_at is not None:
        return False
    row.attempts += 1
    row.last_error = error[:64]
    if row.attempts >= MAX_ATTEMPTS:
        row.handled_at, row.text, row.payload, row.attachments = utcnow(), None, None, None
        return True
    row.next_attempt_at = utcnow() + timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (row.attempts - 1))
    return False


def has_unhandled(session: Session, *, channel: str, address: str) -> bool:
    """Whether the resident's oldest unhandled message is due (checked after giving a lease
    up; a later message waits behind a head that waits for its retry, as in `claim_turn`)."""
    head = session.execute(_HEAD_DUE, _resident(channel, address)).first()
    return head is not None and _due(head.next_attempt_at)


def _resident(channel: str, address: str) -> dict[str, str]:
    return {"p_channel": channel, "p_hash": address_index(channel, address)}


def _oldest_unhandled(what: Any) -> Any:
    """SELECT `what` of the resident's oldest unhandled message (the head of their turns)."""
    return (
        select(what)
        .where(
            InboxMessage.channel == bindparam("p_channel"),
            InboxMessage.address_hash == bindparam("p_hash"),
            InboxMessage.handled_at.is_(None),
        )
        .order_by(InboxMessage.id)
        .limit(1)
    )


# Built once with bound parameters (each resident message runs them): see reply_repo.
_T = cast(Any, InboxMessage.__table__)
_INSERT = insert(_T).returning(_T.c.id)
_HEAD_ROW = _oldest_unhandled(InboxMessage)
_HEAD_DUE = _oldest_unhandled(InboxMessage.next_attempt_at)
_TAKE = (
    update(_T)
    .where(_T.c.id == bindparam("p_id"), _T.c.handled_at.is_(None))
    .values(handled_at=bindparam("p_at"), text=None, payload=None, attachments=None)
)
_LEASES = cast(Any, SchedulerLease.__table__)
_RELEASE = delete(_LEASES).where(
    _LEASES.c.name == bindparam("p_name"), _LEASES.c.holder == bindparam("p_holder")
)


def _due(next_attempt_at: datetime | None) -> bool:
    return next_attempt_at is None or _aware(next_attempt_at) <= utcnow()


def pending_addresses(session: Session, *, limit: int = 200) -> list[tuple[str, str]]:
    """Residents with unhandled messages that are due, oldest first (recovery)."""
    # Grouped by the blind index (each address token differs), then read from the first row.
    first = (
        select(func.min(InboxMessage.id).label("id"))
        .where(
            InboxMessage.handled_at.is_(None),
            or_(InboxMessage.next_attempt_at.is_(None), InboxMessage.next_attempt_at <= utcnow()),
        )
        .group_by(InboxMessage.channel, InboxMessage.address_hash)
        .order_by(func.min(InboxMessage.id))
        .limit(limit)
        .subquery()
    )
    stmt = select(InboxMessage.channel, InboxMessage.address).join(
        first, InboxMessage.id == first.c.id
    )
    return [(c, a) for c, a in session.execute(stmt.order_by(InboxMessage.id)).tuples()]


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they are stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)
