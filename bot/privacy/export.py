"""Right of access: everything held about one resident, as one JSON document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import console_repo
from bot.db.base import utcnow
from bot.privacy.registry import Subject, personal_tables, subject_audit


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def collect(session: Session, subject: Subject) -> dict[str, list[dict[str, Any]]]:
    """The resident's rows of every declared personal table, encrypted columns decrypted."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table, declaration in personal_tables():
        assert declaration.match is not None  # personal() requires it
        columns = [c for c in table.columns if c.name not in declaration.exclude]
        stmt = select(*columns).where(declaration.match(table, subject))
        rows = session.execute(stmt.order_by(*table.primary_key.columns)).mappings()
        found[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return found


def export_subject(
    session: Session, subject: Subject, *, via: str, operator_id: int | None = None
) -> dict[str, Any]:
    """The export document; the request is written to the audit log.

    Args:
        session: an open transaction (the audit row is added to it).
        subject: the resident.
        via: where the request came from ("cli", "console").
        operator_id: the admin who asked, when it came from the console.
    """
    tables = collect(session, subject)
    counts = {name: len(rows) for name, rows in tables.items()}
    console_repo.audit(
        session,
        operator_id=operator_id,
        action="privacy_export",
        conversation_id=subject_audit(session, subject),
        detail={"via": via, "channel": subject.channel, "rows": counts},
    )
    return {
        "subject": {"channel": subject.channel, "address": subject.address},
        "exported_at": utcnow().isoformat(),
        "found": any(counts.values()),
        "tables": tables,
    }
