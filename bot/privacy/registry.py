"""Which tables hold personal data, and how each one is exported, erased and purged.

Every table of `Base.metadata` is declared here, by the module that owns it (see
`DECLARATION_MODULES`): either as personal data of a resident (`personal`) or as
anonymous/operational (`not_personal`, with the reason). A test walks the metadata and fails
when a table is missing or a personal table lacks export, erasure or retention, so a new
table cannot silently escape the resident's rights.

Export, erasure and purge are generic: a declaration says how to find a resident's rows
(`Match`), which columns to leave out of the export, which retention kind and timestamp
column apply. Tables that must outlive an erasure (e.g. the legal proof of a consent) say
so with `keep_on_erase` and the reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Table, select
from sqlalchemy.orm import Session

from bot.crypto import address_index
from bot.db.metadata import metadata

# Modules that call `personal`/`not_personal`; a package adding tables adds its module here.
DECLARATION_MODULES: tuple[str, ...] = ("bot.privacy.tables", "bot.privacy.tables_campaigns")


@dataclass(frozen=True)
class Subject:
    """A resident as the channels know them (`address`: chat id, whatsapp:+39..., session)."""

    channel: str
    address: str


# Builds the WHERE clause selecting one resident's rows of a table.
Match = Callable[[Table, Subject], ColumnElement[bool]]
# Given the rows the SQL found expired and the cutoff, the primary keys to keep after all.
Spare = Callable[[Session, Sequence[RowMapping], datetime], set[Any]]


def by_address(channel: str = "channel") -> Match:
    """Rows holding the address (a Fernet token), found by its blind index `address_hash`."""
    return by_address_hash(channel)


def by_parent(column: str, parent: str, parent_match: Match) -> Match:
    """Rows whose `column` points to the resident's rows of the `parent` table (by id)."""

    def match(table: Table, subject: Subject) -> ColumnElement[bool]:
        owner = metadata.tables[parent]
        ids = select(owner.c.id).where(parent_match(owner, subject))
        return table.c[column].in_(ids.scalar_subquery())

    return match


def by_conversation(column: str = "conversation_id") -> Match:
    """Rows linked to the resident's conversation through `column`."""
    return by_parent(column, "conversations", by_address())


def by_address_hash(channel: str = "channel", column: str = "address_hash") -> Match:
    """Rows holding the blind index of the address (`crypto.address_index`)."""

    def match(table: Table, subject: Subject) -> ColumnElement[bool]:
        hashed = address_index(subject.channel, subject.address)
        return (table.c[channel] == subject.channel) & (table.c[column] == hashed)

    return match


@dataclass(frozen=True)
class Retention:
    """Rows older than `config.privacy.retention_days[kind]` by `column` are purged.

    `only` narrows the purge (e.g. inactive subscribers only); `spare` keeps rows whose
    latest change the SQL cannot see (e.g. an opt-out, recorded in the consent ledger under
    a hash of the address); `purged_with` names a parent table whose purge removes these
    rows through ON DELETE CASCADE, instead of a column.
    """

    kind: str | None = None
    column: str | None = None
    only: Callable[[Table], ColumnElement[bool]] | None = None
    spare: Spare | None = None
    purged_with: str | None = None


@dataclass(frozen=True)
class Declaration:
    """How one table is treated; `reason` says why (shown in docs/privacy.md)."""

    table: str
    reason: str
    match: Match | None = None
    retention: Retention | None = None
    exclude: tuple[str, ...] = ()  # columns left out of the export (internal ids, hashes)
    keep_on_erase: str | None = None  # why the rows stay after an erasure (legal duty)
    personal: bool = True


_declarations: dict[str, Declaration] = {}


def personal(
    table: str,
    *,
    reason: str,
    match: Match,
    retention: Retention,
    exclude: tuple[str, ...] = (),
    keep_on_erase: str | None = None,
) -> None:
    """Declares a table holding a resident's personal data."""
    _add(Declaration(table, reason, match, retention, exclude, keep_on_erase))


def not_personal(table: str, *, reason: str, retention: Retention | None = None) -> None:
    """Declares a table as anonymous or operational (no resident can be found in it)."""
    _add(Declaration(table, reason, retention=retention, personal=False))


def _add(declaration: Declaration) -> None:
    if declaration.table in _declarations:
        raise ValueError(f"table {declaration.table} declared twice")
    _declarations[declaration.table] = declaration


def declarations() -> dict[str, Declaration]:
    """All declarations, after importing the modules that make them."""
    for module in DECLARATION_MODULES:
        importlib.import_module(module)
    return dict(_declarations)


def personal_tables() -> list[tuple[Table, Declaration]]:
    """Declared personal tables in dependency order (parents first), for export and erase."""
    found = declarations()
    return [
        (table, found[table.name])
        for table in metadata.sorted_tables
        if table.name in found and found[table.name].personal
    ]


def subject_audit(session: Session, subject: Subject) -> int | None:
    """The resident's conversation id, the only reference the audit log keeps."""
    conv = metadata.tables["conversations"]
    stmt = select(conv.c.id).where(
        conv.c.channel == subject.channel,
        conv.c.address_hash == address_index(subject.channel, subject.address),
    )
    return session.execute(stmt).scalar_one_or_none()
