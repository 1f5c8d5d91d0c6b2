"""Keyword-only repository functions of the reply outbox (`reply_outbox`).

Rows of one resident are sent in id order: only the oldest queued row of an address may be
claimed, and only when it is due and nobody holds it. A claim is a lease (claimed_until):
a worker that dies while sending leaves its row to be sent again once the lease lapses.

A reply to a resident who erased their data (the confirmation of the erasure) is deleted
once delivered: nothing of them stays behind.

The web chat has no push connection: its rows are not sent but fetched by the page
(`pulled_for`, `pull`), in the response to its own message or by polling; fetching marks them
sent, and the page's next poll (`after`) acknowledges them, which clears their text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from bot.db.base import utcnow
from bot.db.channel_models import OutboundStatus
from bot.db.delivery_models import ReplyOutbox, ReplyStatus
from bot.db.models import Conversation, Message
from bot.privacy.crypto import address_index
from flows.replies import Button, Reply

_NO_SYNC = {"synchronize_session": False}
PULLED = frozenset({"webchat"})  # channels whose client fetches its replies
PULL_BATCH = 50
_OLDER = aliased(ReplyOutbox)  # built once: an alias costs more to build than its query


def queue(
    session: Session,
    *,
    channel: str,
    address: str,
    replies: Sequence[Reply],
    message_ids: Sequence[int | None] = (),
    inbox_id: int | None = None,
) -> list[int]:
    """Queues replies for one resident (in the caller's transaction). Returns their ids."""
    rows = [
        ReplyOutbox(
            channel=channel,
            address=address,
            text=reply.text,
            buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons] or None,
            message_id=message_ids[i] if i < len(message_ids) else None,
            inbox_id=inbox_id,
            status=ReplyStatus.QUEUED.value,
            next_attempt_at=utcnow(),
        )
        for i, reply in enumerate(replies)
    ]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


def as_reply(row: ReplyOutbox) -> Reply:
    """The queued reply, as the channel adapters send it."""
    buttons = tuple(Button(b["title"], b["payload"]) for b in row.buttons or [])
    return Reply(row.text or "", buttons)


def _head(channel: str, address: str) -> Any:
    return (
        select(ReplyOutbox.id, ReplyOutbox.next_attempt_at, ReplyOutbox.claimed_until)
        .where(
            ReplyOutbox.channel == channel,
            ReplyOutbox.address_hash == address_index(channel, address),
            ReplyOutbox.status == ReplyStatus.QUEUED.value,
        )
        .order_by(ReplyOutbox.id)
        .limit(1)
    )


def claim_next(
    session: Session, *, channel: str, address: str, holder: str, seconds: float
) -> ReplyOutbox | None:
    """Claims the resident's oldest queued reply if it is due and free; else None (the
    rows behind it wait: order is kept)."""
    if channel in PULLED:
        return None
    now = utcnow()
    head = session.execute(_head(channel, address)).first()
    if head is None or _aware(head.next_attempt_at) > now:
        return None
    if head.claimed_until is not None and _aware(head.claimed_until) > now:
        return None
    free = or_(ReplyOutbox.claimed_until.is_(None), ReplyOutbox.claimed_until < now)
    stmt = (
        update(ReplyOutbox)
        .where(ReplyOutbox.id == head.id, ReplyOutbox.status == ReplyStatus.QUEUED.value, free)
        .values(
            claimed_by=holder[:80],
            claimed_until=now + timedelta(seconds=seconds),
            attempts=ReplyOutbox.attempts + 1,
        )
    )
    if cast(CursorResult[Any], session.execute(stmt, execution_options=_NO_SYNC)).rowcount != 1:
        return None
    row = session.get(ReplyOutbox, head.id, populate_existing=True)
    return row


def claim_turn(
    session: Session, *, channel: str, address: str, inbox_id: int, holder: str, seconds: float
) -> list[ReplyOutbox]:
    """Claims the replies a turn has just queued, in the turn's own transaction, so that
    they are sent without another round trip; none if other replies of the resident are
    still queued (older ones: they go first, through `claim_next`)."""
    if channel in PULLED:
        return []
    others_first = exists().where(
        _OLDER.channel == channel,
        _OLDER.address_hash == address_index(channel, address),
        _OLDER.status == ReplyStatus.QUEUED.value,
        or_(_OLDER.inbox_id.is_(None), _OLDER.inbox_id != inbox_id),
    )
    stmt = (
        update(ReplyOutbox)
        .where(
            ReplyOutbox.inbox_id == inbox_id,
            ReplyOutbox.status == ReplyStatus.QUEUED.value,
            ~others_first,
        )
        .values(
            claimed_by=holder[:80],
            claimed_until=utcnow() + timedelta(seconds=seconds),
            attempts=ReplyOutbox.attempts + 1,
        )
        .returning(ReplyOutbox)
    )
    options = {"populate_existing": True, "synchronize_session": False}
    rows = session.scalars(stmt, execution_options=options).all()
    return sorted(rows, key=lambda r: r.id)


def _mine(row_id: int, holder: str) -> Any:
    return and_(
        ReplyOutbox.id == row_id,
        ReplyOutbox.claimed_by == holder[:80],
        ReplyOutbox.status == ReplyStatus.QUEUED.value,
    )


def settle(
    session: Session,
    *,
    row_id: int,
    holder: str,
    status: ReplyStatus,
    provider_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Records a final outcome (sent, failed, gone); the text is no longer needed."""
    session.execute(
        update(ReplyOutbox)
        .where(_mine(row_id, holder))
        .values(
            status=status.value,
            provider_id=provider_id and provider_id[:64],
            reason=reason and reason[:64],
            sent_at=utcnow() if status is ReplyStatus.SENT else None,
            claimed_by=None,
            claimed_until=None,
            text=None,
        ),
        execution_options=_NO_SYNC,
    )
    _forget_erased(session, ids=[row_id])


def _forget_erased(session: Session, *, ids: Sequence[int]) -> None:
    """Deletes these rows if their resident has no conversation any more (erased)."""
    erased = ~exists().where(
        Conversation.channel == ReplyOutbox.channel,
        Conversation.address_hash == ReplyOutbox.address_hash,
    )
    session.execute(
        delete(ReplyOutbox).where(ReplyOutbox.id.in_(list(ids)), erased),
        execution_options=_NO_SYNC,
    )


def retry(session: Session, *, row_id: int, holder: str, at: datetime, reason: str) -> None:
    """Gives the row back, due again at `at` (the rows behind it wait), with any other row
    the same holder had claimed behind it."""
    session.execute(
        update(ReplyOutbox)
        .where(_mine(row_id, holder))
        .values(next_attempt_at=at, reason=reason[:64], claimed_by=None, claimed_until=None),
        execution_options=_NO_SYNC,
    )
    session.execute(
        update(ReplyOutbox)
        .where(
            ReplyOutbox.claimed_by == holder[:80],
            ReplyOutbox.status == ReplyStatus.QUEUED.value,
        )
        .values(claimed_by=None, claimed_until=None),
        execution_options=_NO_SYNC,
    )


def release_dead_claims(session: Session, *, is_dead: Callable[[str], bool]) -> int:
    """Frees the claims of holders that died (see replies.holder_is_dead): their rows are
    sent again at once (a send cut short by the crash may reach the resident twice, as after
    a lapsed claim: the providers take no idempotency key). Returns how many."""
    now = utcnow()
    stmt = select(ReplyOutbox.id, ReplyOutbox.claimed_by).where(
        ReplyOutbox.status == ReplyStatus.QUEUED.value, ReplyOutbox.claimed_until > now
    )
    dead = [(i, h) for i, h in session.execute(stmt).tuples() if h and is_dead(h)]
    for row_id, holder in dead:
        session.execute(
            update(ReplyOutbox)
            .where(_mine(row_id, holder))
            .values(claimed_by=None, claimed_until=None),
            execution_options=_NO_SYNC,
        )
    return len(dead)


def gone(session: Session, *, channel: str, address: str, reason: str) -> int:
    """Marks every queued reply of an unreachable resident gone. Returns how many."""
    stmt = (
        update(ReplyOutbox)
        .where(
            ReplyOutbox.channel == channel,
            ReplyOutbox.address_hash == address_index(channel, address),
            ReplyOutbox.status == ReplyStatus.QUEUED.value,
        )
        .values(
            status=ReplyStatus.GONE.value,
            reason=reason[:64],
            claimed_by=None,
            claimed_until=None,
            text=None,
        )
    )
    return cast(CursorResult[Any], session.execute(stmt, execution_options=_NO_SYNC)).rowcount


def recent_sends(session: Session, *, channel: str, address: str, n: int) -> list[datetime]:
    """When the last `n` replies to this resident were sent, newest first (pacing)."""
    stmt = (
        select(ReplyOutbox.sent_at)
        .where(
            ReplyOutbox.channel == channel,
            ReplyOutbox.address_hash == address_index(channel, address),
            ReplyOutbox.status == ReplyStatus.SENT.value,
            ReplyOutbox.sent_at.is_not(None),
        )
        .order_by(ReplyOutbox.id.desc())
        .limit(n)
    )
    return [_aware(t) for t in session.scalars(stmt) if t is not None]


def due_addresses(session: Session, *, limit: int = 200) -> list[tuple[str, str]]:
    """Residents whose oldest queued reply could be sent now (recovery)."""
    now = utcnow()
    # Grouped by the blind index (each address token differs), then read from the first row.
    first = (
        select(func.min(ReplyOutbox.id).label("id"))
        .where(
            ReplyOutbox.status == ReplyStatus.QUEUED.value,
            ReplyOutbox.channel.not_in(list(PULLED)),
            ReplyOutbox.next_attempt_at <= now,
            or_(ReplyOutbox.claimed_until.is_(None), ReplyOutbox.claimed_until < now),
        )
        .group_by(ReplyOutbox.channel, ReplyOutbox.address_hash)
        .order_by(func.min(ReplyOutbox.id))
        .limit(limit)
        .subquery()
    )
    stmt = select(ReplyOutbox.channel, ReplyOutbox.address).join(
        first, ReplyOutbox.id == first.c.id
    )
    return [(c, a) for c, a in session.execute(stmt.order_by(ReplyOutbox.id)).tuples()]


def statuses(session: Session, *, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    """(status, reason) of outbox rows by id."""
    if not ids:
        return {}
    stmt = select(ReplyOutbox.id, ReplyOutbox.status, ReplyOutbox.reason).where(
        ReplyOutbox.id.in_(list(ids))
    )
    return {i: (s, r) for i, s, r in session.execute(stmt).tuples()}


@dataclass(frozen=True)
class Delivery:
    """What is known of the reply behind a transcript line: the outbox row's outcome and,
    for providers with receipts (Twilio), the latest status callback of its message id."""

    status: str  # ReplyStatus
    reason: str | None
    provider_id: str | None = None
    provider_status: str | None = None  # channel_repo.STATUS_RANK's names
    error_code: int | None = None


def by_message(session: Session, *, message_ids: Sequence[int]) -> dict[int, Delivery]:
    """The deliveries behind these transcript lines (the console's marks), in one query:
    line -> outbox row (message_id) -> provider message id -> its status callbacks."""
    if not message_ids:
        return {}
    stmt = (
        select(
            ReplyOutbox.message_id,
            ReplyOutbox.channel,
            ReplyOutbox.status,
            ReplyOutbox.reason,
            ReplyOutbox.provider_id,
            OutboundStatus.status,
            OutboundStatus.error_code,
        )
        .outerjoin(
            OutboundStatus,
            and_(
                OutboundStatus.channel == ReplyOutbox.channel,
                OutboundStatus.external_id == ReplyOutbox.provider_id,
            ),
        )
        .where(ReplyOutbox.message_id.in_(list(message_ids)))
        .order_by(ReplyOutbox.id)
    )
    # A pulled row is sent when its page fetched it: that is the web chat's delivery receipt.
    return {
        m: Delivery(s, r, p, "delivered" if ch in PULLED and s == ReplyStatus.SENT else ps, code)
        for m, ch, s, r, p, ps, code in session.execute(stmt).tuples()
        if m is not None
    }


def failed_lines(
    session: Session, *, conversation_ids: Sequence[int], failed_codes: Sequence[str]
) -> list[tuple[int, datetime]]:
    """(conversation id, line time) of replies that did not reach the resident: refused or
    given up in the outbox, or reported failed by the provider (`failed_codes`)."""
    if not conversation_ids:
        return []
    stmt = (
        select(Message.conversation_id, Message.created_at)
        .join(ReplyOutbox, ReplyOutbox.message_id == Message.id)
        .outerjoin(
            OutboundStatus,
            and_(
                OutboundStatus.channel == ReplyOutbox.channel,
                OutboundStatus.external_id == ReplyOutbox.provider_id,
            ),
        )
        .where(
            Message.conversation_id.in_(list(conversation_ids)),
            or_(
                ReplyOutbox.status.in_([ReplyStatus.FAILED.value, ReplyStatus.GONE.value]),
                OutboundStatus.status.in_(list(failed_codes)),
            ),
        )
    )
    return [(c, _aware(at)) for c, at in session.execute(stmt).tuples()]


def _fetched(session: Session, rows: list[ReplyOutbox]) -> list[ReplyOutbox]:
    """Marks pulled rows sent (handed to the page); a row fetched again keeps its time."""
    fresh = [r.id for r in rows if r.status == ReplyStatus.QUEUED.value]
    if fresh:
        session.execute(
            update(ReplyOutbox)
            .where(ReplyOutbox.id.in_(fresh), ReplyOutbox.status == ReplyStatus.QUEUED.value)
            .values(status=ReplyStatus.SENT.value, sent_at=utcnow()),
            execution_options=_NO_SYNC,
        )
        _forget_erased(session, ids=fresh)
    return rows


def pulled_for(session: Session, *, inbox_id: int) -> list[ReplyOutbox]:
    """The web chat replies to one inbound message, in order, marked sent (the response to
    that message carries them; a retried request gets the same ones again)."""
    stmt = (
        select(ReplyOutbox)
        .where(ReplyOutbox.inbox_id == inbox_id, ReplyOutbox.channel.in_(list(PULLED)))
        .order_by(ReplyOutbox.id)
    )
    return _fetched(session, list(session.scalars(stmt)))


def pull(session: Session, *, channel: str, address: str, after: int) -> list[ReplyOutbox]:
    """The page's replies after id `after`, oldest first, marked sent; those up to `after`
    have been shown, so their text goes."""
    session.execute(
        update(ReplyOutbox)
        .where(
            ReplyOutbox.channel == channel,
            ReplyOutbox.address_hash == address_index(channel, address),
            ReplyOutbox.id <= after,
            ReplyOutbox.status == ReplyStatus.SENT.value,
            ReplyOutbox.text.is_not(None),
        )
        .values(text=None),
        execution_options=_NO_SYNC,
    )
    stmt = (
        select(ReplyOutbox)
        .where(
            ReplyOutbox.channel == channel,
            ReplyOutbox.address_hash == address_index(channel, address),
            ReplyOutbox.id > after,
            ReplyOutbox.text.is_not(None),
        )
        .order_by(ReplyOutbox.id)
        .limit(PULL_BATCH)
    )
    return _fetched(session, list(session.scalars(stmt)))


def expire_pulled(session: Session, *, before: datetime) -> int:
    """Clears the text of web chat replies older than `before`: their page is long gone.
    The row stays as the record of what happened; one never fetched is failed. Returns how
    many."""
    queued = ReplyOutbox.status == ReplyStatus.QUEUED.value
    stmt = (
        update(ReplyOutbox)
        .where(
            ReplyOutbox.channel.in_(list(PULLED)),
            ReplyOutbox.created_at < before,
            ReplyOutbox.text.is_not(None),
        )
        .values(
            text=None,
            status=case((queued, ReplyStatus.FAILED.value), else_=ReplyOutbox.status),
            reason=case((queued, "not_fetched"), else_=ReplyOutbox.reason),
        )
    )
    return cast(CursorResult[Any], session.execute(stmt, execution_options=_NO_SYNC)).rowcount


def last_fetched(session: Session, *, channel: str, address: str) -> int:
    """The newest reply id already handed out (0: none): where a page that just opened
    starts, so that replies still waiting reach it."""
    stmt = select(func.max(ReplyOutbox.id)).where(
        ReplyOutbox.channel == channel,
        ReplyOutbox.address_hash == address_index(channel, address),
        ReplyOutbox.status != ReplyStatus.QUEUED.value,
    )
    return int(session.scalar(stmt) or 0)


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they are stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)
