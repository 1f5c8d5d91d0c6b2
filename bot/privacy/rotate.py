"""Key rotation: every encrypted column re-encrypted under the first key of the keyring."""

from __future__ import annotations

from sqlalchemy import Table, bindparam, select, type_coerce, update
from sqlalchemy.orm import Session

from bot.db.metadata import metadata
from bot.privacy.crypto import EncryptedJSON, EncryptedText

BATCH = 500


def encrypted_columns() -> list[tuple[Table, str]]:
    """(table, column name) of every encrypted column in the schema."""
    return [
        (table, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText | EncryptedJSON)
    ]


def rotate_all(session: Session) -> dict[str, int]:
    """Re-encrypts every stored value; old keys must still be in the keyring while it runs.

    Values are read raw (the column's underlying type, bypassing decryption), so that
    rotation never holds plaintext and also upgrades rows written before encryption.

    Returns:
        Rows rewritten per "table.column".
    """
    counts: dict[str, int] = {}
    for table, name in encrypted_columns():
        column = table.c[name]
        kind = column.type
        assert isinstance(kind, EncryptedText | EncryptedJSON)
        (pk,) = table.primary_key.columns
        raw = type_coerce(column, kind.impl_instance)
        rows = session.execute(select(pk, raw).where(column.is_not(None)).order_by(pk)).all()
        # The raw value goes back through the plain type too, or it would be encrypted twice.
        stmt = (
            update(table)
            .where(pk == bindparam("_pk"))
            .values({name: type_coerce(bindparam("_raw"), kind.impl_instance)})
        )
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            params = [{"_pk": r[0], "_raw": kind.rotate_raw(r[1])} for r in batch]
            session.execute(stmt, params)
        counts[f"{table.name}.{name}"] = len(rows)
    return counts
