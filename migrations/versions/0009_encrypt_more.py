"""encrypt handoffs.callback_phone and consent_ledger.evidence at rest

`handoffs.callback_phone` becomes text (a Fernet token of a phone number is ~100 characters,
too long for its varchar(32)); `consent_ledger.evidence` is already text. Existing values are
encrypted here, with the keys the application uses (bot.crypto: the configured keys,
FRONTDESK_DATA_KEY from the environment or .env, or an existing var/data.key). When there is
no key yet the migration never invents one (the application could not read what it
encrypted): the values stay in clear, are read as they are (crypto.decrypt passes non-tokens
through) and `frontdesk privacy rotate-key` encrypts them later. New values are always
encrypted by the column type.

On SQLite the column keeps its declared type: VARCHAR(32) has TEXT affinity and no length
limit there, and rebuilding `handoffs` (batch mode) with foreign keys on would risk the ON
DELETE CASCADE of its children.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 13:40:00
"""

import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet

from bot import crypto

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# Plain views of the columns: values go in and out exactly as stored.
COLUMNS = (
    sa.table("handoffs", sa.column("id", sa.Integer), sa.column("callback_phone", sa.Text)),
    sa.table("consent_ledger", sa.column("id", sa.Integer), sa.column("evidence", sa.Text)),
)


def _value_column(table: sa.TableClause) -> sa.ColumnClause[str]:
    (column,) = [c for c in table.c if c.name != "id"]
    return column


def _count(predicate: Callable[[str], bool]) -> int:
    """Stored values (of every column of COLUMNS) for which `predicate` holds."""
    conn = op.get_bind()
    found = 0
    for table in COLUMNS:
        column = _value_column(table)
        values = conn.execute(sa.select(column).where(column.is_not(None))).scalars()
        found += sum(1 for value in values if predicate(value))
    return found


def _is_token(value: str) -> bool:
    return value.startswith(crypto.TOKEN_PREFIX)


def _keyring() -> MultiFernet | None:
    keys = crypto.existing_keys()
    return MultiFernet([Fernet(k) for k in keys]) if keys else None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "handoffs",
            "callback_phone",
            existing_type=sa.String(length=32),
            type_=sa.Text(),
            existing_nullable=True,
        )
    if not _count(lambda value: not _is_token(value)):
        return
    fernet = _keyring()
    if fernet is None:
        log.warning(
            "no data key yet: callback phones and consent evidence stay in clear until "
            "`frontdesk privacy rotate-key`"
        )
        return

    def encrypt(value: str) -> str | None:
        return None if _is_token(value) else fernet.encrypt(value.encode()).decode("ascii")

    for table in COLUMNS:
        _convert(table, _value_column(table).name, encrypt)


def _convert(table: sa.TableClause, name: str, convert: Callable[[str], str | None]) -> None:
    """Rewrites the values of `table.name` that `convert` maps to something (None: keep)."""
    conn = op.get_bind()
    pk, column = table.c.id, table.c[name]
    rows = conn.execute(sa.select(pk, column).where(column.is_not(None))).all()
    params = [{"_id": i, "_value": new} for i, value in rows if (new := convert(value)) is not None]
    if params:
        stmt = sa.update(table).where(pk == sa.bindparam("_id"))
        conn.execute(stmt.values({name: sa.bindparam("_value")}), params)


def downgrade() -> None:
    if _count(_is_token):
        fernet = _keyring()
        if fernet is None:
            raise RuntimeError(f"{crypto.ENV_VAR} needed to decrypt before downgrading")

        def decrypt(value: str) -> str | None:
            return fernet.decrypt(value.encode("ascii")).decode() if _is_token(value) else None

        for table in COLUMNS:
            _convert(table, _value_column(table).name, decrypt)
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "handoffs",
            "callback_phone",
            existing_type=sa.Text(),
            type_=sa.String(length=32),
            existing_nullable=True,
        )
