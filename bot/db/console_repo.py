"""Keyword-only repository functions of the operator console (accounts, sessions, audit...)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.console_models import (
    AuditEntry,
    ConsoleSession,
    Operator,
    OperatorNote,
    OperatorPoint,
    QuickReply,
    Role,
)


class DuplicateEmail(ValueError):
    """An operator with this e-mail already exists."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def add_operator(
    session: Session,
    *,
    email: str,
    name: str,
    password_hash: str,
    role: Role,
    social_points: Sequence[str],
) -> Operator:
    """Creates an account.

    Raises:
        DuplicateEmail: when the e-mail is taken.
    """
    email = normalise_email(email)
    if find_operator(session, email=email) is not None:
        raise DuplicateEmail(email)
    operator = Operator(
        email=email,
        name=name.strip(),
        password_hash=password_hash,
        role=role.value,
        active=True,
        points=[OperatorPoint(social_point=p) for p in sorted(set(social_points))],
    )
    session.add(operator)
    session.flush()
    return operator


def find_operator(session: Session, *, email: str) -> Operator | None:
    return session.scalars(select(Operator).where(Operator.email == normalise_email(email))).first()


def list_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.name)))


def operators_of_point(session: Session, *, social_point: str) -> list[Operator]:
    """Active operators who belong to a Social Point (transfer targets)."""
    stmt = (
        select(Operator)
        .join(OperatorPoint)
        .where(OperatorPoint.social_point == social_point, Operator.active.is_(True))
        .order_by(Operator.name)
    )
    return list(session.scalars(stmt))


def set_active(session: Session, *, operator_id: int, active: bool) -> Operator | None:
    """Enables or disables an account; disabling also ends its sessions."""
    operator = session.get(Operator, operator_id)
    if operator is None:
        return None
    operator.active = active
    if not active:
        session.execute(delete(ConsoleSession).where(ConsoleSession.operator_id == operator_id))
    return operator


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(
    session: Session, *, operator: Operator, token: str, csrf_token: str, expires_at: datetime
) -> None:
    """Stores a login (the cookie value only as its hash)."""
    operator.last_login_at = utcnow()
    session.add(
        ConsoleSession(
            token_hash=token_hash(token),
            operator_id=operator.id,
            csrf_token=csrf_token,
            expires_at=expires_at,
        )
    )


def session_operator(session: Session, *, token: str) -> tuple[Operator, str] | None:
    """The active operator and CSRF token of an unexpired login, if any."""
    stmt = (
        select(ConsoleSession, Operator)
        .join(Operator, Operator.id == ConsoleSession.operator_id)
        .where(
            ConsoleSession.token_hash == token_hash(token),
            ConsoleSession.expires_at > utcnow(),
            Operator.active.is_(True),
        )
    )
    row = session.execute(stmt).first()
    return (row[1], row[0].csrf_token) if row else None


def end_session(session: Session, *, token: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash(token)))


def audit(
    session: Session,
    *,
    operator_id: int | None,
    action: str,
    conversation_id: int | None = None,
    handoff_id: int | None = None,
    message_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Appends a row to the audit log (who, when, which conversation, what)."""
    session.add(
        AuditEntry(
            operator_id=operator_id,
            action=action,
            conversation_id=conversation_id,
            handoff_id=handoff_id,
            message_id=message_id,
            detail=detail,
        )
    )


def audit_trail(session: Session, *, conversation_id: int | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if conversation_id is not None:
        stmt = stmt.where(AuditEntry.conversation_id == conversation_id)
    return list(session.scalars(stmt))


def reply_authors(session: Session, *, conversation_id: int) -> dict[int, str]:
    """Message id -> name of the operator who wrote it (from the audit log)."""
    stmt = (
        select(AuditEntry.message_id, Operator.name)
        .join(Operator, Operator.id == AuditEntry.operator_id)
        .where(
            AuditEntry.conversation_id == conversation_id,
            AuditEntry.action == "reply",
            AuditEntry.message_id.is_not(None),
        )
    )
    return {int(mid): name for mid, name in session.execute(stmt) if mid is not None}


def add_note(session: Session, *, conversation_id: int, operator_id: int, text: str) -> None:
    session.add(OperatorNote(conversation_id=conversation_id, operator_id=operator_id, text=text))


def notes(session: Session, *, conversation_id: int) -> list[tuple[OperatorNote, str | None]]:
    """The internal notes with their authors' names, oldest first."""
    stmt = (
        select(OperatorNote, Operator.name)
        .outerjoin(Operator, Operator.id == OperatorNote.operator_id)
        .where(OperatorNote.conversation_id == conversation_id)
        .order_by(OperatorNote.id)
    )
    return [(note, name) for note, name in session.execute(stmt)]


def quick_replies(session: Session) -> list[QuickReply]:
    return list(session.scalars(select(QuickReply).order_by(QuickReply.title)))


def save_quick_reply(
    session: Session, *, reply_id: int | None, title: str, text: str
) -> tuple[int, bool]:
    """Creates (reply_id None) or updates a quick reply: (its id, created)."""
    row = session.get(QuickReply, reply_id) if reply_id else None
    if row is None:
        row = QuickReply(title=title.strip(), text=text.strip())
        session.add(row)
        session.flush()
        return row.id, True
    row.title, row.text = title.strip(), text.strip()
    return row.id, False


def delete_quick_reply(session: Session, *, reply_id: int) -> None:
    session.execute(delete(QuickReply).where(QuickReply.id == reply_id))
