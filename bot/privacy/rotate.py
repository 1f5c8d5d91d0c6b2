"""Key rotation: every encrypted column re-encrypted under the first key of the keyring."""

from __future__ import annotations

from sqlalchemy import Table, bindparam, select, type_coerce, update
from sqlalchemy.orm import Session

from bot import crypto
from bot.db.encrypted import EncryptedJSON, EncryptedText
from bot.db.metadata import metadata

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
    counts.update(reindex_all(session))
    return counts


def reindex_all(session: Session) -> dict[str, int]:
    """Recomputes every blind index (`address_hash`) under the newest key.

    An HMAC cannot be re-keyed without its input: tables that hold the encrypted address get
    the index of the decrypted value; tables that hold only the index (contacts, statuses,
    consent ledger) are mapped old index -> new index through those addresses, for every
    old key still in the keyring. An index whose address is held nowhere any more (an
    erased resident's consent rows) keeps its old value: once the old key is removed it can
    no longer be linked to anyone.

    Returns:
        Rows whose index changed, per "table.address_hash".
    """
    new_key, *old_keys = crypto.derived_keys(crypto.INDEX_PURPOSE)
    remap: dict[tuple[str, str], str] = {}
    counts: dict[str, int] = {}
    with_address = [
        t for t in metadata.sorted_tables if {"address", "address_hash"} <= set(t.c.keys())
    ]
    only_index = [
        t for t in metadata.sorted_tables if "address_hash" in t.c and "address" not in t.c
    ]
    for table in with_address:
        (pk,) = table.primary_key.columns
        changes = []
        for key, channel, address, old in session.execute(
            select(pk, table.c.channel, table.c.address, table.c.address_hash)
        ):
            new = crypto.address_index(channel, address, key=new_key)
            remap.update(
                {(channel, crypto.address_index(channel, address, key=k)): new for k in old_keys}
            )
            if new != old:
                changes.append({"_pk": key, "_index": new})
        _set_index(session, table, changes)
        counts[f"{table.name}.address_hash"] = len(changes)
    for table in only_index:
        (pk,) = table.primary_key.columns
        rows = session.execute(select(pk, table.c.channel, table.c.address_hash)).all()
        changes = [
            {"_pk": key, "_index": remap[(channel, old)]}
            for key, channel, old in rows
            if (channel, old) in remap and remap[(channel, old)] != old
        ]
        _set_index(session, table, changes)
        counts[f"{table.name}.address_hash"] = len(changes)
    return counts


def _set_index(session: Session, table: Table, changes: list[dict[str, object]]) -> None:
    (pk,) = table.primary_key.columns
    stmt = update(table).where(pk == bindparam("_pk")).values(address_hash=bindparam("_index"))
    for start in range(0, len(changes), BATCH):
        session.execute(stmt, changes[start : start + BATCH])
