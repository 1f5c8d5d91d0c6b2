"""Operator console tables: accounts, sessions, audit log, notes, quick replies, outbox, lease."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, Timestamped, utcnow
from bot.db.encrypted import EncryptedText


class Role(StrEnum):
    OPERATOR = "operator"
    ADMIN = "admin"


class Operator(Timestamped, Base):
    """A Social Point operator or an admin who logs into the console."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.OPERATOR.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None]

    points: Mapped[list[OperatorPoint]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def social_points(self) -> list[str]:
        return sorted(p.social_point for p in self.points)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


class OperatorPoint(Base):
    """Membership of an operator in a Social Point (config.yml `social_points[].id`)."""

    __tablename__ = "operator_social_points"

    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True
    )
    social_point: Mapped[str] = mapped_column(String(40), primary_key=True)


class ConsoleSession(Base):
    """A logged-in browser. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what, when, to which conversation. Kept when the conversation is erased."""

    __tablename__ = "console_audit"
    __table_args__ = (Index("ix_console_audit_conversation_at", "conversation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(24))
    conversation_id: Mapped[int | None]  # no foreign key: the trail outlives an erasure
    handoff_id: Mapped[int | None]
    message_id: Mapped[int | None]  # the outbound message an operator wrote (action reply)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OperatorNote(Base):
    """An internal note on a conversation: never shown to the resident, erased with it."""

    __tablename__ = "operator_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(EncryptedText)  # Fernet token at rest (bot.privacy)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuickReply(Timestamped, Base):
    """A canned answer the operators insert into the reply box (admin-editable)."""

    __tablename__ = "quick_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)


class SchedulerLease(Base):
    """One row per named lease: the process holding it runs the scheduled jobs."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime]


class CaseLabel(Base):
    """A label admins define for cases (migration 0013): offered first when labelling."""

    __tablename__ = "case_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandoffLabel(Base):
    """A short label on a case (admin-defined or free), removed with the case (0013)."""

    __tablename__ = "handoff_labels"

    handoff_id: Mapped[int] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    operator_id: Mapped[int | None]  # who added it; no foreign key (accounts are kept)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
