"""Campaign broadcasts: subscribers, their topics, the consent ledger, campaigns, the outbox.

Subscribers, their topics and the outbox are personal data (the address is a Fernet token,
found by its keyed blind index `address_hash`, because messages must reach it). The consent
ledger is legal proof of every opt-in and opt-out: it keeps only that blind index
(`crypto.address_index`), so it survives erasure.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, Timestamped, utcnow
from bot.db.encrypted import EncryptedText, address_index_default


class CampaignStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time (or for quiet hours to end)
    READY = "ready"  # created without a time: sent by `frontdesk campaign send`
    SENDING = "sending"
    DONE = "done"  # every recipient final
    CANCELLED = "cancelled"


class RecipientStatus(StrEnum):
    PENDING = "pending"
    INFLIGHT = "inflight"  # claimed, the API call may be under way
    SENT = "sent"  # accepted by the provider
    FAILED = "failed"
    UNCERTAIN = "uncertain"  # in flight when a sender died: never resent
    SKIPPED = "skipped"  # opted out or unreachable after the audience was frozen
    CANCELLED = "cancelled"


FINAL = frozenset(set(RecipientStatus) - {RecipientStatus.PENDING, RecipientStatus.INFLIGHT})


class Subscriber(Timestamped, Base):
    """A resident who may receive campaigns on one channel."""

    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(EncryptedText)  # Fernet token at rest
    address_hash: Mapped[str] = mapped_column(String(32), default=address_index_default)
    comune: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)  # False: unreachable (blocked, 21610)
    inactive_reason: Mapped[str | None] = mapped_column(String(32))


class Subscription(Base):
    """A topic a subscriber currently opted in to (deleted on opt-out; the ledger remains)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("subscriber_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(32))
    consent_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentEvent(Base):
    """One opt-in or opt-out, as given: the legal record, never updated or deleted."""

    __tablename__ = "consent_ledger"
    __table_args__ = (Index("ix_consent_ledger_address", "channel", "address_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)  # when consent was given / withdrawn
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(8))  # opt_in | opt_out
    topic: Mapped[str | None] = mapped_column(String(32))  # None: every topic (opt-out)
    comune: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))  # chat | import:<origin> | stop | ...
    wording_version: Mapped[str] = mapped_column(String(32))
    # The message or button that gave it; encrypted at rest (migration 0009).
    evidence: Mapped[str | None] = mapped_column(EncryptedText)


class Campaign(Timestamped, Base):
    """A broadcast, its audience filter and its schedule."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))  # telegram | whatsapp | all
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    comuni: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), index=True)
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class CampaignRecipient(Base):
    """The outbox: one row per (campaign, recipient), frozen when the campaign is created."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id"),
        Index("ix_campaign_recipients_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=RecipientStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    external_id: Mapped[str | None] = mapped_column(String(64))  # Twilio MessageSid
    reason: Mapped[str | None] = mapped_column(String(48))  # why failed / skipped
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
