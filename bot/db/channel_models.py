"""Transport bookkeeping of the messaging channels: redeliveries, service windows, receipts,
and the interactive WhatsApp contents the bot created at Twilio.

Addresses are stored only as their keyed blind index (`address_hash`, HMAC-SHA256 under a key
derived from FRONTDESK_DATA_KEY: `crypto.address_index`): enough to find a resident's rows
again from their address, not reversible by trying every phone number without the key. It
is still pseudonymous data, so erasing a resident deletes these rows too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, utcnow


class InboundReceipt(Base):
    """An update/message id already accepted: a redelivery hits the unique key and is dropped."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ChannelContact(Base):
    """When a resident last wrote on a channel (WhatsApp's 24-hour customer-service window)."""

    __tablename__ = "channel_contacts"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(32))
    last_inbound_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundStatus(Base):
    """The latest delivery status of one outbound message (Twilio MessageSid)."""

    __tablename__ = "outbound_statuses"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_outbound_statuses_address", "channel", "address_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    address_hash: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int]  # position of `status` in the delivery lifecycle (see channel_repo)
    error_code: Mapped[int | None]
    recipient_gone: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WhatsAppContent(Base):
    """A Twilio Content resource (quick-reply or list-picker) the bot created once for a set
    of buttons and reuses from every process: the SHA-256 of its exact JSON definition ->
    ContentSid. Only the bot's own copy, never anything a resident wrote."""

    __tablename__ = "whatsapp_contents"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_hash: Mapped[str] = mapped_column(String(64), unique=True)
    content_sid: Mapped[str] = mapped_column(String(34))
    content_type: Mapped[str] = mapped_column(String(32))  # twilio/quick-reply | list-picker
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
