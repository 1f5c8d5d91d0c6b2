"""Conversations, their messages and their flow state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, Timestamped, utcnow
from bot.db.encrypted import EncryptedJSON, EncryptedText, address_index_default


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class Conversation(Timestamped, Base):
    """One resident on one channel (`address` = Telegram chat id, whatsapp:+39..., session).

    The address is a Fernet token (replies must reach it); lookups and the unique key use
    `address_hash`, its keyed blind index (`crypto.address_index`).
    """

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(EncryptedText)  # Fernet token at rest
    address_hash: Mapped[str] = mapped_column(String(32), default=address_index_default)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)

    state: Mapped[ConversationState] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", uselist=False
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.id"
    )


class ConversationState(Base):
    """Where the flow is (named state) and what it has learnt (slots), per conversation."""

    __tablename__ = "conversation_states"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40))
    # Encrypted: the slots name the need (disabilità...), children's ages, the comune.
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="state")


class Message(Base):
    """A message in or out. Text is personal data: kept only with consent, purged on retention."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_created", "conversation_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    text: Mapped[str | None] = mapped_column(EncryptedText)  # Fernet token at rest
    # Encrypted too (migration 0015): a button's payload or the intent names the need.
    payload: Mapped[str | None] = mapped_column(EncryptedText)
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(EncryptedJSON)
    intent: Mapped[str | None] = mapped_column(EncryptedText)
    confidence: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class NeedEvent(Base):
    """An anonymous need the interview identified: no link to the person, survives erasure."""

    __tablename__ = "need_events"
    __table_args__ = (Index("ix_need_events_month_categoria", "month", "categoria"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM: coarse on purpose
    categoria: Mapped[str] = mapped_column(String(32))
    comune: Mapped[str | None] = mapped_column(String(64))
    age_bracket: Mapped[str | None] = mapped_column(String(8))
    familiare: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    matched: Mapped[bool]
    handed_off: Mapped[bool] = mapped_column(default=False)


class NeedCount(Base):
    """Need events counted per month, category, comune, age bracket and channel.

    The observatory reads these few thousand rows instead of scanning every event; they are
    kept in step by bot.observatory.rollup (None is stored as "" so the key stays unique).
    """

    __tablename__ = "need_counts"
    # The primary key starts with the month (period filter); these serve the other filters.
    __table_args__ = (
        Index("ix_need_counts_comune_month", "comune", "month"),
        Index("ix_need_counts_channel_month", "channel", "month"),
    )

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    categoria: Mapped[str] = mapped_column(String(32), primary_key=True)
    comune: Mapped[str] = mapped_column(String(64), primary_key=True)
    age_bracket: Mapped[str] = mapped_column(String(8), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    requests: Mapped[int] = mapped_column(default=0)
    unmet: Mapped[int] = mapped_column(default=0)
    handed_off: Mapped[int] = mapped_column(default=0)


class HandoffStatus(StrEnum):
    WAITING = "waiting"  # in the queue of a Social Point
    CALLBACK = "callback"  # waiting, and the resident asked to be called back
    ACTIVE = "active"  # an operator holds the conversation
    CLOSED = "closed"
    CANCELLED = "cancelled"  # the resident left the queue


OPEN_HANDOFF = (HandoffStatus.WAITING, HandoffStatus.CALLBACK, HandoffStatus.ACTIVE)


class Handoff(Timestamped, Base):
    """A conversation handed to the operators, with the summary card they read first."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_queue", "social_point", "status", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=HandoffStatus.WAITING.value)
    priority: Mapped[int] = mapped_column(default=0)  # 1 = emergency, served first
    reason: Mapped[str] = mapped_column(String(24))
    social_point: Mapped[str] = mapped_column(String(40))
    # Encrypted at rest: the card quotes the resident's last messages.
    summary: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    callback_phone: Mapped[str | None] = mapped_column(EncryptedText)  # migration 0009
    rating: Mapped[int | None]
    taken_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Console (migration 0006). No foreign key to operators: accounts are disabled, not deleted.
    operator_id: Mapped[int | None] = mapped_column(index=True)  # who holds it (active)
    announced_at: Mapped[datetime | None]  # queue position sent, operators notified
    callback_offered_at: Mapped[datetime | None]  # the wait ran out: callback offered
