"""encrypt addresses and need data; keyed blind index instead of the plain address hash

- `conversations`, `inbox_messages`, `reply_outbox`, `subscribers`: `address` becomes a
  Fernet token (replies and campaigns must reach it) and the new `address_hash` column holds
  its keyed blind index (`crypto.address_index`: HMAC-SHA256 under a key derived from the
  data key), which the lookups and unique keys use instead of the address.
- `channel_contacts`, `outbound_statuses`, `consent_ledger`: `address_hash` was an unsalted
  SHA-256 prefix of "channel:address", reversible by trying every phone number. Each one is
  replaced by the blind index of the address it came from, found among the addresses the
  database still holds. One whose address is gone (a resident erased before this migration,
  whose ledger rows were kept) cannot be recomputed: it becomes an HMAC of the old hash,
  no longer reversible and no longer linkable to the resident.
- `conversation_states.data`, `messages.payload`/`attachments`/`intent`,
  `inbox_messages.payload`/`attachments` and `reply_outbox.buttons` are encrypted (need
  category, children's ages, button payloads such as `cat:disabilita`).

Needs the data key (the configured one, FRONTDESK_DATA_KEY or an existing var/data.key) when
there are rows to convert; with none it stops with one line instead of inventing a key.

On SQLite the tables are not rebuilt (batch mode would drop and recreate `conversations`,
and with foreign keys on the drop would cascade to its messages): the old unique
(channel, address) stays, harmless since every token differs, and a unique index on
(channel, address_hash) joins it; the declared varchar types have no length limit there.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:30:00
"""

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet

from bot import crypto

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDRESS_TABLES = ("conversations", "inbox_messages", "reply_outbox", "subscribers")
HASH_TABLES = ("channel_contacts", "outbound_statuses", "consent_ledger")
TEXTS = {"messages": ("payload", "intent"), "inbox_messages": ("payload",)}
DOCUMENTS = {
    "conversation_states": ("data",),
    "messages": ("attachments",),
    "inbox_messages": ("attachments",),
    "reply_outbox": ("buttons",),
}
KEY_COLUMN = {"conversation_states": "conversation_id"}
# (table, index, columns before this migration): "address" becomes "address_hash".
INDEXES = (
    ("inbox_messages", "ix_inbox_messages_pending", ("handled_at", "channel", "address")),
    ("reply_outbox", "ix_reply_outbox_address", ("channel", "address", "status")),
)
UNIQUE = ("conversations", "subscribers")
VARCHARS = {
    ("conversations", "address"): 128,
    ("inbox_messages", "address"): 128,
    ("reply_outbox", "address"): 128,
    ("subscribers", "address"): 128,
    ("messages", "payload"): 128,
    ("messages", "intent"): 48,
    ("inbox_messages", "payload"): 128,
}


def _plain_sha(channel: str, address: str) -> str:
    """The address hash before this migration (bot.db.channel_repo.address_hash)."""
    return hashlib.sha256(f"{channel}:{address}".encode()).hexdigest()[:32]


def _table(name: str, *columns: str) -> sa.TableClause:
    pk = KEY_COLUMN.get(name, "id")
    return sa.table(name, sa.column(pk), *(sa.column(c) for c in columns))


def _pk(table: sa.TableClause) -> sa.ColumnClause[Any]:
    return table.c[KEY_COLUMN.get(table.name, "id")]


def _has_rows() -> bool:
    conn = op.get_bind()
    names = (*ADDRESS_TABLES, *HASH_TABLES, *TEXTS, *DOCUMENTS)
    return any(
        conn.execute(sa.select(sa.literal(1)).select_from(sa.table(n))).first() for n in names
    )


def _keys() -> tuple[MultiFernet, bytes]:
    keys = crypto.existing_keys()
    if not keys:
        raise RuntimeError(
            f"{crypto.ENV_VAR} (or the embedded var/data.key) is needed to encrypt the addresses"
        )
    return MultiFernet([Fernet(k) for k in keys]), crypto.derive(keys[0], crypto.INDEX_PURPOSE)


def _rewrite(
    table: sa.TableClause, convert: Callable[[sa.Row[Any]], dict[str, Any] | None]
) -> None:
    """Updates each row of `table` with what `convert` returns for it (None: unchanged)."""
    conn = op.get_bind()
    pk = _pk(table)
    rows = conn.execute(sa.select(table)).all()
    params = []
    for row in rows:
        new = convert(row)
        if new:
            params.append({"_pk": getattr(row, pk.name), **{f"_{k}": v for k, v in new.items()}})
    if not params:
        return
    names = [k[1:] for k in params[0] if k != "_pk"]
    stmt = sa.update(table).where(pk == sa.bindparam("_pk"))
    conn.execute(stmt.values({n: sa.bindparam(f"_{n}") for n in names}), params)


def _index(key: bytes, channel: str, address: str) -> str:
    return crypto.address_index(channel, address, key=key)


def _widen(to_text: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for (table, column), length in VARCHARS.items():
        old, new = (sa.String(length), sa.Text()) if to_text else (sa.Text(), sa.String(length))
        op.alter_column(table, column, existing_type=old, type_=new)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _widen(to_text=True)
    for name in ADDRESS_TABLES:
        op.add_column(name, sa.Column("address_hash", sa.String(length=32), nullable=True))
    if _has_rows():
        fernet, key = _keys()
        _convert_rows(fernet, key)
    for name in ADDRESS_TABLES:
        # SQLite: no ALTER COLUMN ... SET NOT NULL without a rebuild (see the docstring).
        if not sqlite:
            op.alter_column(name, "address_hash", existing_type=sa.String(32), nullable=False)
    for table, index, columns in INDEXES:
        op.drop_index(index, table_name=table)
        new = [("address_hash" if c == "address" else c) for c in columns]
        op.create_index(index, table, new)
    for table in UNIQUE:
        if sqlite:
            op.create_index(
                f"uq_{table}_address_hash", table, ["channel", "address_hash"], unique=True
            )
        else:
            op.drop_constraint(f"uq_{table}_channel", table, type_="unique")
            op.create_unique_constraint(f"uq_{table}_channel", table, ["channel", "address_hash"])


def _convert_rows(fernet: MultiFernet, key: bytes) -> None:
    def token(value: str) -> str:
        if value.startswith(crypto.TOKEN_PREFIX):
            return value
        return fernet.encrypt(value.encode()).decode("ascii")

    # Old hash -> new index, for every address still held in clear.
    remap: dict[tuple[str, str], str] = {}
    for name in ADDRESS_TABLES:
        table = _table(name, "channel", "address", "address_hash")

        def address(row: sa.Row[Any]) -> dict[str, Any]:
            remap[(row.channel, _plain_sha(row.channel, row.address))] = _index(
                key, row.channel, row.address
            )
            return {
                "address": token(row.address),
                "address_hash": _index(key, row.channel, row.address),
            }

        _rewrite(table, address)
    for name in HASH_TABLES:
        table = _table(name, "channel", "address_hash")

        def rehash(row: sa.Row[Any]) -> dict[str, Any] | None:
            if row.address_hash is None:
                return None
            found = remap.get((row.channel, row.address_hash))
            legacy = hmac.new(key, f"legacy:{row.address_hash}".encode(), hashlib.sha256)
            return {"address_hash": found or legacy.hexdigest()[:32]}

        _rewrite(table, rehash)

    def document(value: Any) -> Any:
        if value is None or _is_sealed(value):
            return None
        text = json.dumps(value, ensure_ascii=False)
        return {"enc": fernet.encrypt(text.encode()).decode("ascii")}

    _convert_values(lambda v: token(v) if not v.startswith(crypto.TOKEN_PREFIX) else None, document)


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"enc"}


def _convert_values(text: Callable[[str], Any], document: Callable[[Any], Any]) -> None:
    """Rewrites the TEXTS and DOCUMENTS columns with `text` / `document` (None: keep)."""
    for name, columns in TEXTS.items():
        _rewrite(_table(name, *columns), lambda row, cols=columns: _changed(row, cols, text))
    for name, columns in DOCUMENTS.items():
        key = sa.column(KEY_COLUMN.get(name, "id"))
        table = sa.table(name, key, *(sa.column(c, sa.JSON) for c in columns))
        _rewrite(table, lambda row, cols=columns: _changed(row, cols, document))


def _changed(
    row: sa.Row[Any], columns: tuple[str, ...], convert: Callable[[Any], Any]
) -> dict[str, Any]:
    out = {}
    for c in columns:
        value = getattr(row, c)
        new = None if value is None else convert(value)
        if new is not None:
            out[c] = new
    return out


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in UNIQUE:
        if sqlite:
            op.drop_index(f"uq_{table}_address_hash", table_name=table)
        else:
            op.drop_constraint(f"uq_{table}_channel", table, type_="unique")
    for table, index, columns in INDEXES:
        op.drop_index(index, table_name=table)
    if _has_rows():
        fernet, _ = _keys()
        _decrypt_rows(fernet)
    for table, index, columns in INDEXES:
        op.create_index(index, table, list(columns))
    if not sqlite:
        for table in UNIQUE:
            op.create_unique_constraint(f"uq_{table}_channel", table, ["channel", "address"])
    for name in ADDRESS_TABLES:
        if sqlite:
            op.execute(f"ALTER TABLE {name} DROP COLUMN address_hash")
        else:
            op.drop_column(name, "address_hash")
    _widen(to_text=False)


def _decrypt_rows(fernet: MultiFernet) -> None:
    def clear(value: str) -> str:
        if not value.startswith(crypto.TOKEN_PREFIX):
            return value
        return fernet.decrypt(value.encode("ascii")).decode()

    back: dict[tuple[str, str], str] = {}
    for name in ADDRESS_TABLES:
        table = _table(name, "channel", "address", "address_hash")

        def address(row: sa.Row[Any]) -> dict[str, Any]:
            plain = clear(row.address)
            back[(row.channel, row.address_hash)] = _plain_sha(row.channel, plain)
            return {"address": plain}

        _rewrite(table, address)
    for name in HASH_TABLES:
        table = _table(name, "channel", "address_hash")
        _rewrite(
            table,
            lambda row: (
                {"address_hash": back[(row.channel, row.address_hash)]}
                if (row.channel, row.address_hash) in back
                else None
            ),
        )
    _convert_values(
        lambda v: clear(v) if v.startswith(crypto.TOKEN_PREFIX) else None,
        lambda v: json.loads(clear(v["enc"])) if _is_sealed(v) else None,
    )
