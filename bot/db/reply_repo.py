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

from sqlalchemy import (
    CursorResult,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.crypto import address_index
from bot.db.base import utcnow
from bot.db.channel_models import OutboundStatus
from bot.db.delivery_models import ReplyOutbox, ReplyStatus
from bot.db.models import Conversation, Message
from flows.replies import Button, Reply

_NO_SYNC = {"synchronize_session": False}
PULLED = frozenset({"webchat"})  # channels whose client fetches its replies
PULL_BATCH = 50

# The statements of every resident message are built once, with bound parameters, on the
# table rather than the ORM class: SQLAlchemy then reuses their compiled form and skips the
# ORM's bulk-update machinery (about a third of the app's CPU per message went there).
_T = cast(Any, ReplyOutbox.__table__)
_OLDER = _T.alias("older")
_QUEUED = ReplyStatus.QUEUED.value
_CLAIMED = [_T.c[n] for n in ("id", "channel", "address", "text", "buttons", "attempts")]
_CLAIMED.append(_T.c.created_at)


@dataclass(frozen=True)
class Claimed:
    """A reply claimed for sending: what the sender needs of its row."""

    id: int
    channel: str
    address: str
    text: str | None
    buttons: list[dict[str, Any]] | None
    attempts: int
    created_at: datetime


def _claimed(rows: Any) -> list[Claimed]:
    return sorted((Claimed(*r) for r in rows), key=lambda c: c.id)


_INSERT = insert(_T).returning(_T.c.id, sort_by_parameter_order=True)


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
    if not replies:
        return []
    now = utcnow()
    rows = [
        {
            "channel": channel,
            "address": address,
            "text": reply.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons] or None,
            "message_id": message_ids[i] if i < len(message_ids) else None,
            "inbox_id": inbox_id,
            "status": _QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i, reply in enumerate(replies)
    ]
    return list(session.scalars(_INSERT, rows))


def as_reply(row: ReplyOutbox | Claimed) -> Reply:
    """The queued reply, as the channel adapters send it."""
    buttons = tuple(Button(b["title"], b["payload"]) for b in row.buttons or [])
    return Reply(row.text or "", buttons)


_HEAD = (
    select(_T.c.id, _T.c.next_attempt_at, _T.c.claimed_until)
    .where(
        _T.c.channel == bindparam("p_channel"),
        _T.c.address_hash == bindparam("p_hash"),
        _T.c.status == _QUEUED,
    )
    .order_by(_T.c.id)
    .limit(1)
)
_CLAIM = (
    update(_T)
    .where(
        _T.c.id == bindparam("p_id"),
        _T.c.status == _QUEUED,
        or_(_T.c.claimed_until.is_(None), _T.c.claimed_until < bindparam("p_now")),
    )
    .values(
        claimed_by=bindparam("p_holder"),
        claimed_until=bindparam("p_until"),
        attempts=_T.c.attempts + 1,
    )
    .returning(*_CLAIMED)
)


def claim_next(
    session: Session, *, channel: str, address: str, holder: str, seconds: float
) -> Claimed | None:
    """Claims the resident's oldest queued reply if it is due and free; else None (the
    rows behind it wait: order is kept)."""
    if channel in PULLED:
        return None
    now = utcnow()
    key = {"p_channel": channel, "p_hash": address_index(channel, address)}
    head = session.execute(_HEAD, key).first()
    if head is None or _aware(head.next_attempt_at) > now:
        return None
    if head.claimed_until is not None and _aware(head.claimed_until) > now:
        return None
    params = {"p_id": head.id, "p_now": now, "p_holder": holder[:80]}
    claimed = session.execute(_CLAIM, params | {"p_until": now + timedelta(seconds=seconds)})
    return next(iter(_claimed(claimed)), None)


_OTHERS_FIRST = exists().where(
    _OLDER.c.channel == bindparam("p_channel"),
    _OLDER.c.address_hash == bindparam("p_hash"),
    _OLDER.c.status == _QUEUED,
    or_(_OLDER.c.inbox_id.is_(None), _OLDER.c.inbox_id != bindparam("p_inbox")),
)
_CLAIM_TURN = (
    update(_T)
    .where(_T.c.inbox_id == bindparam("p_inbox"), _T.c.status == _QUEUED, ~_OTHERS_FIRST)
    .values(
        claimed_by=bindparam("p_holder"),
        claimed_until=bindparam("p_until"),
        attempts=_T.c.attempts + 1,
    )
    .returning(*_CLAIMED)
)


def claim_turn(
    session: Session, *, channel: str, address: str, inbox_id: int, holder: str, seconds: float
) -> list[Claimed]:
    """Claims the replies a turn has just queued, in the turn's own transaction, so that
    they are sent without another round trip; none if other replies of the resident are
    still queued (older ones: they go first, through `claim_next`)."""
    if channel in PULLED:
        return []
    params = {
        "p_channel": channel,
        "p_hash": address_index(channel, address),
        "p_inbox": inbox_id,
        "p_holder": holder[:80],
        "p_until": utcnow() + timedelta(seconds=seconds),
    }
    return _claimed(session.execute(_CLAIM_TURN, params))


def _mine(row_id: int, holder: str) -> Any:
    return and_(
        ReplyOutbox.id == row_id,
        ReplyOutbox.claimed_by == holder[:80],
        ReplyOutbox.status == ReplyStatus.QUEUED.value,
    )


_SETTLE = (
    update(_T)
    .where(_T.c.id == bindparam("p_id"), _T.c.claimed_by == bindparam("p_holder"))
    .where(_T.c.status == _QUEUED)
    .values(
        status=bindparam("p_status"),
        provider_id=bindparam("p_provider"),
        reason=bindparam("p_reason"),
        sent_at=bindparam("p_sent"),
        claimed_by=None,
        claimed_until=None,
        text=None,
    )
)
_CONVERSATIONS = cast(Any, Conversation.__table__)
_FORGET_ERASED = delete(_T).where(
    _T.c.id.in_(bindparam("p_ids", expanding=True)),
    ~exists().where(
        _CONVERSATIONS.c.channel == _T.c.channel,
        _CONVERSATIONS.c.address_hash == _T.c.address_hash,
    ),
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
    params = {
        "p_id": row_id,
        "p_holder": holder[:80],
        "p_status": status.value,
        "p_provider": provider_id and provider_id[:64],
        "p_reason": reason and reason[:64],
        "p_sent": utcnow() if status is ReplyStatus.SENT else None,
    }
    session.execute(_SETTLE, params)
    _forget_erased(session, ids=[row_id])


def _forget_erased(session: Session, *, ids: Sequence[int]) -> None:
    """Deletes these rows if their resident has no conversation any more (erased)."""
    session.execute(_FORGET_ERASED, {"p_ids": list(ids)})


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


_RECENT_SENDS = (
    select(_T.c.sent_at)
    .where(
        _T.c.channel == bindparam("p_channel"),
        _T.c.address_hash == bindparam("p_hash"),
        _T.c.status == ReplyStatus.SENT.value,
        _T.c.sent_at.is_not(None),
    )
    .order_by(_T.c.id.desc())
    .limit(bindparam("p_n"))
)


def recent_sends(session: Session, *, channel: str, address: str, n: int) -> list[datetime]:
    """When the last `n` replies to this resident were sent, newest first (pacing)."""
    params = {"p_channel": channel, "p_hash": address_index(channel, address), "p_n": n}
    return [_aware(t) for t in session.scalars(_RECENT_SENDS, params) if t is not None]


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
