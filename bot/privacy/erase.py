"""Right to erasure: one function for the chat ("cancella i miei dati"), the CLI and the console.

Anonymous need events are not linked to the person and stay; rows a declaration keeps for a
legal duty (`keep_on_erase`, e.g. the proof of a consent) stay too. The audit log records
the erasure with the conversation id and the row counts, never the address.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.db import console_repo
from bot.privacy.registry import Subject, personal_tables, subject_audit

log = logging.getLogger(__name__)


def erase_subject(
    session: Session, subject: Subject, *, via: str, operator_id: int | None = None
) -> dict[str, int]:
    """Deletes the resident's personal data in the open transaction.

    Args:
        session: an open transaction; the caller commits (so the chat's erase is atomic
            with the rest of its turn).
        subject: the resident.
        via: where the request came from ("chat", "cli", "console").
        operator_id: the admin who erased, when it came from the console.

    Returns:
        Rows deleted per table.
    """
    session.flush()  # pending ORM changes first: the deletes below bypass the unit of work
    conversation_id = subject_audit(session, subject)
    deleted: dict[str, int] = {}
    # Children before parents, so that foreign keys never block a delete.
    for table, declaration in reversed(personal_tables()):
        if declaration.keep_on_erase:
            continue
        assert declaration.match is not None  # personal() requires it
        result = session.execute(delete(table).where(declaration.match(table, subject)))
        deleted[table.name] = int(getattr(result, "rowcount", 0) or 0)
    session.expire_all()  # ORM objects of the resident loaded earlier are gone now
    console_repo.audit(
        session,
        operator_id=operator_id,
        action="privacy_erase",
        conversation_id=conversation_id,
        detail={"via": via, "channel": subject.channel, "rows": deleted},
    )
    total = sum(deleted.values())
    log.info("personal data erased via=%s channel=%s rows=%d", via, subject.channel, total)
    return deleted
