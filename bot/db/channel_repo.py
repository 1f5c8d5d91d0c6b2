"""Keyword-only repository functions for the channels' transport bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from bot.crypto import address_index
from bot.db.base import dialect_insert, per_dialect, utcnow
from bot.db.channel_models import ChannelContact, InboundReceipt, OutboundStatus, WhatsAppContent

# Twilio's message lifecycle: a callback may arrive late ('sent' after 'delivered'), so a
# status only replaces one of a lower rank. Failures share a rank: the first one wins.
STATUS_RANK: dict[str, int] = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "failed": 4,
    "undelivered": 4,
    "canceled": 4,
    "delivered": 5,
    "read": 6,
}


def _rowcount(session: Session, statement: Executable) -> int:
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def _inserted(session: Session, statement: Executable) -> bool:
    # RETURNING rather than rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING
    # when SQLAlchemy adds its own RETURNING for the primary key.
    return session.execute(statement).first() is not None


_RECEIPTS = cast(Table, InboundReceipt.__table__)
_CONTACTS = cast(Table, ChannelContact.__table__)
_RECEIPT = per_dialect(
    lambda insert: (
        insert(_RECEIPTS)
        .values(
            channel=bindparam("p_channel"),
            external_id=bindparam("p_external"),
            received_at=bindparam("p_at"),
        )
        .on_conflict_do_nothing()
        .returning(_RECEIPTS.c.id)
    )
)
_CONTACT = per_dialect(
    lambda insert: (
        insert(_CONTACTS)
        .values(
            channel=bindparam("p_channel"),
            address_hash=bindparam("p_hash"),
            last_inbound_at=bindparam("p_at"),
        )
        .on_conflict_do_update(
            index_elements=["channel", "address_hash"],
            set_={"last_inbound_at": bindparam("p_at")},
        )
    )
)


def accept_inbound(
    session: Session,
    *,
    channel: str,
    address: str,
    external_id: str | None,
    now: datetime | None = None,
) -> bool:
    """Records an inbound message; False when its id was already accepted (a redelivery).

    The unique (channel, external_id) key makes the insert the arbiter, so two workers that
    receive the same redelivery at once still process it once. The resident's last inbound
    time (the WhatsApp service window) is updated only for new messages.
    """
    params = {"p_channel": channel, "p_at": now or utcnow()}
    if external_id is not None:
        receipt = params | {"p_external": external_id[:64]}
        if session.execute(_RECEIPT(session), receipt).first() is None:
            return False
    session.execute(_CONTACT(session), params | {"p_hash": address_index(channel, address)})
    return True


def last_inbound_many(
    session: Session, *, channel: str, addresses: Sequence[str]
) -> dict[str, datetime]:
    """When each of these residents last wrote on this channel (absent: never), one query."""
    hashes = {address_index(channel, a): a for a in addresses}
    stmt = select(ChannelContact.address_hash, ChannelContact.last_inbound_at).where(
        ChannelContact.channel == channel,
        ChannelContact.address_hash.in_(list(hashes)),
    )
    return {hashes[h]: at for h, at in session.execute(stmt)}


def record_status(
    session: Session,
    *,
    channel: str,
    external_id: str,
    status: str,
    error_code: int | None = None,
    recipient_gone: bool = False,
) -> bool:
    """Stores a status callback of an outbound message, keeping the most advanced status
    (`record_sent` stores the message itself when it is sent).

    Args:
        session: an open transaction.
        channel: "whatsapp".
        external_id: the provider's message id (Twilio MessageSid).
        status: one of STATUS_RANK; unknown statuses are ignored.
        error_code: the provider's error code, if the message failed.
        recipient_gone: the error means the resident cannot be reached any more.

    Returns:
        True when the stored status changed, False for an out-of-order or unknown status.
    """
    rank = STATUS_RANK.get(status)
    if rank is None:
        return False
    changes = {
        "status": status,
        "rank": rank,
        "error_code": error_code,
        "recipient_gone": recipient_gone,
        "updated_at": utcnow(),
    }
    insert = dialect_insert(session)(OutboundStatus).values(
        channel=channel, external_id=external_id[:64], **changes
    )
    if _inserted(session, insert.on_conflict_do_nothing().returning(OutboundStatus.id)):
        return True
    row = (OutboundStatus.channel == channel, OutboundStatus.external_id == external_id[:64])
    newer = update(OutboundStatus).where(*row, OutboundStatus.rank < rank).values(**changes)
    return _rowcount(session, newer) == 1


def record_sent(session: Session, *, channel: str, sent: Sequence[tuple[str, str]]) -> None:
    """Stores messages just sent, as (MessageSid, address) pairs: status `queued` with the
    resident's hash, in two statements for any number of them (a reply, or a campaign's
    batch).

    Status callbacks that arrived first keep their status and only get the hash added.
    """
    if not sent:
        return
    now = utcnow()
    rows = [
        {
            "p_channel": channel,
            "p_now": now,
            "sid": sid[:64],
            "hashed": address_index(channel, address),
        }
        for sid, address in sent
    ]
    session.execute(_SENT(session), rows)  # one executemany for the batch
    session.execute(_SENT_HASH, rows)


_STATUSES = cast(Table, OutboundStatus.__table__)
_SENT = per_dialect(
    lambda insert: (
        insert(_STATUSES)
        .values(
            channel=bindparam("p_channel"),
            external_id=bindparam("sid"),
            address_hash=bindparam("hashed"),
            status="queued",
            rank=STATUS_RANK["queued"],
            recipient_gone=False,
            updated_at=bindparam("p_now"),
        )
        .on_conflict_do_nothing()
    )
)
_SENT_HASH = (
    update(_STATUSES)
    .where(
        _STATUSES.c.channel == bindparam("p_channel"),
        _STATUSES.c.external_id == bindparam("sid"),
        _STATUSES.c.address_hash.is_(None),
    )
    .values(address_hash=bindparam("hashed"))
)


def outbound_status(session: Session, *, channel: str, external_id: str) -> OutboundStatus | None:
    """The stored status of one outbound message."""
    stmt = select(OutboundStatus).where(
        OutboundStatus.channel == channel, OutboundStatus.external_id == external_id
    )
    return session.scalars(stmt).first()


def recipient_gone(session: Session, *, channel: str, address: str) -> bool:
    """True when a delivery to this resident failed with a permanent error (for campaigns)."""
    stmt = select(OutboundStatus.id).where(
        OutboundStatus.channel == channel,
        OutboundStatus.address_hash == address_index(channel, address),
        OutboundStatus.recipient_gone.is_(True),
    )
    return session.scalars(stmt.limit(1)).first() is not None


def forget_address(session: Session, *, channel: str, address: str) -> None:
    """Deletes the resident's window and delivery rows (right to erasure)."""
    hashed = address_index(channel, address)
    session.execute(
        delete(ChannelContact).where(
            ChannelContact.channel == channel, ChannelContact.address_hash == hashed
        )
    )
    session.execute(
        delete(OutboundStatus).where(
            OutboundStatus.channel == channel, OutboundStatus.address_hash == hashed
        )
    )


def purge_receipts(session: Session, *, older_than: datetime) -> int:
    """Deletes redelivery receipts older than `older_than` (providers retry for hours, not days)."""
    stmt = delete(InboundReceipt).where(InboundReceipt.received_at < older_than)
    return _rowcount(session, stmt)


def find_content(session: Session, *, definition_hash: str) -> str | None:
    """The ContentSid created for this exact content definition, if any process made it."""
    stmt = select(WhatsAppContent.content_sid).where(
        WhatsAppContent.definition_hash == definition_hash
    )
    return session.scalars(stmt).first()


def store_content(
    session: Session, *, definition_hash: str, content_sid: str, content_type: str
) -> str:
    """Records a content just created at Twilio and returns the ContentSid to use.

    Two processes may create the same content at once: the first row stored wins and both
    use its ContentSid (the other resource stays unused at Twilio, which is harmless).
    """
    insert = dialect_insert(session)(WhatsAppContent).values(
        definition_hash=definition_hash,
        content_sid=content_sid,
        content_type=content_type,
        created_at=utcnow(),
    )
    session.execute(insert.on_conflict_do_nothing())
    return find_content(session, definition_hash=definition_hash) or content_sid


def forget_content(session: Session, *, definition_hash: str, content_sid: str) -> None:
    """Drops a cached ContentSid that Twilio refused (e.g. deleted in the Console), so that
    the next send creates the content again; a newer row for the same hash is kept."""
    session.execute(
        delete(WhatsAppContent).where(
            WhatsAppContent.definition_hash == definition_hash,
            WhatsAppContent.content_sid == content_sid,
        )
    )
