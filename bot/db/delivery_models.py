"""The durable inbox and the reply outbox of conversations (migration 0011).

An inbound message is stored in the transaction that records its redelivery key and
marked handled in the transaction that saves the conversation's new state and queues its
replies; the replies are sent from `reply_outbox`, in order, with retries. Both hold
personal data (encrypted), cleared as soon as it is no longer needed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, utcnow
from bot.db.encrypted import EncryptedJSON, EncryptedText, address_index_default


class InboxMessage(Base):
    """A resident's message as received, until the conversation has handled it.

    The text, payload and attachments are cleared when it is handled: the transcript (with
    consent) or the flow state keep what the conversation needs.
    """

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_inbox_messages_pending", "handled_at", "channel", "address_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(EncryptedText)  # Fernet token at rest
    address_hash: Mapped[str] = mapped_column(String(32), default=address_index_default)
    external_id: Mapped[str | None] = mapped_column(String(64))  # the redelivery key
    text: Mapped[str | None] = mapped_column(EncryptedText)
    payload: Mapped[str | None] = mapped_column(EncryptedText)
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(EncryptedJSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(64))


class ReplyStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # refused, or still undelivered when retries ran out
    GONE = "gone"  # the resident cannot be reached (blocked the bot, invalid number)


class ReplyOutbox(Base):
    """One reply (conversation, operator, notice) to send to a resident, in id order."""

    __tablename__ = "reply_outbox"
    __table_args__ = (Index("ix_reply_outbox_address", "channel", "address_hash", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(EncryptedText)  # Fernet token at rest
    address_hash: Mapped[str] = mapped_column(String(32), default=address_index_default)
    # The transcript line this reply is (None without consent); the console marks it.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    inbox_id: Mapped[int | None]  # the inbound message it answers, if any
    text: Mapped[str | None] = mapped_column(EncryptedText)  # cleared once final
    # Encrypted: the buttons offered follow the need ("cat:disabilita"...).
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(EncryptedJSON)
    status: Mapped[str] = mapped_column(String(8), default=ReplyStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
