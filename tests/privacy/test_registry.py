"""Every table is declared; every personal table can be exported, erased and purged."""

from __future__ import annotations

from sqlalchemy import ForeignKey

from bot.db.metadata import metadata
from bot.privacy.registry import declarations
from bot.settings import RetentionDays


def test_every_table_is_declared_personal_or_not() -> None:
    declared = declarations()
    missing = sorted(set(metadata.tables) - set(declared))
    assert not missing, (
        f"tables without a privacy declaration: {missing}; declare them with "
        "bot.privacy.registry.personal(...) or not_personal(..., reason=...)"
    )
    assert not set(declared) - set(metadata.tables), "declarations of tables that do not exist"


def test_personal_tables_are_exported_erased_and_purged() -> None:
    kinds = set(RetentionDays.model_fields)
    for name, decl in declarations().items():
        assert decl.reason.strip(), name
        if not decl.personal:
            continue
        assert decl.match is not None, f"{name}: no way to find a resident's rows"
        table = metadata.tables[name]
        assert set(decl.exclude) <= set(table.columns.keys()), name
        rule = decl.retention
        assert rule is not None, f"{name}: personal data without retention"
        if rule.purged_with:
            # Purged through the parent's ON DELETE CASCADE: the foreign key must say so.
            fks: list[ForeignKey] = [
                fk
                for c in table.columns
                for fk in c.foreign_keys
                if fk.column.table.name == rule.purged_with
            ]
            assert fks and all(fk.ondelete == "CASCADE" for fk in fks), name
            assert declarations()[rule.purged_with].retention is not None
        else:
            assert rule.kind in kinds, f"{name}: retention kind {rule.kind} not in config"
            assert rule.column in table.columns, f"{name}: no column {rule.column}"


def test_anonymous_need_events_are_not_personal() -> None:
    assert not declarations()["need_events"].personal
