"""Keyword-only repository of the service catalogue; the caller owns the transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.catalog_models import CatalogServiceRow
from catalog.schema import Service


@dataclass(frozen=True)
class UpsertReport:
    """What an import changed, by service id (each tuple sorted).

    Attributes:
        created: ids new to the database.
        updated: ids whose content changed, or that were inactive and came back.
        unchanged: ids identical to the stored record.
        deactivated: ids missing from the import, now marked inactive.
        missing: ids missing from the import and left as they were (partial import).
    """

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    deactivated: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """The numbers for the CLI's JSON line."""
        return {
            "imported": len(self.created) + len(self.updated) + len(self.unchanged),
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "deactivated": len(self.deactivated),
            "missing": len(self.missing),
        }


def service_json(service: Service) -> dict[str, object]:
    """The record as stored in the `data` column."""
    return service.model_dump(mode="json")


def content_hash(service: Service) -> str:
    """SHA-256 of the record's canonical JSON: equal records, equal hashes."""
    text = json.dumps(service_json(service), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upsert_services(
    session: Session,
    *,
    services: Sequence[Service],
    deactivate_missing: bool = True,
    progress: Callable[[int], None] | None = None,
) -> UpsertReport:
    """Inserts new services, updates changed ones, never duplicates (upsert by id).

    Args:
        session: an open session; nothing is committed here, so the caller can make the
            whole import one transaction.
        services: the validated catalogue (ids unique).
        deactivate_missing: mark stored services absent from `services` inactive (a full
            catalogue import); False leaves them untouched (a partial import).
        progress: called with 1 after each service, e.g. to advance a progress bar.

    Returns:
        The ids created, updated, unchanged, deactivated or left missing.
    """
    existing = {row.id: row for row in session.scalars(select(CatalogServiceRow))}
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for service in services:
        digest = content_hash(service)
        row = existing.get(service.id)
        if row is None:
            session.add(_new_row(service, digest))
            created.append(service.id)
        elif row.content_hash != digest or not row.attivo:
            row.categoria, row.tipo, row.nome = service.categoria, service.tipo.value, service.nome
            row.data, row.content_hash, row.attivo = service_json(service), digest, True
            updated.append(service.id)
        else:
            unchanged.append(service.id)
        if progress is not None:
            progress(1)
    seen = {s.id for s in services}
    gone = sorted(i for i, row in existing.items() if i not in seen and row.attivo)
    if deactivate_missing:
        for service_id in gone:
            existing[service_id].attivo = False
    session.flush()
    return UpsertReport(
        created=tuple(sorted(created)),
        updated=tuple(sorted(updated)),
        unchanged=tuple(sorted(unchanged)),
        deactivated=tuple(gone) if deactivate_missing else (),
        missing=() if deactivate_missing else tuple(gone),
    )


def _new_row(service: Service, digest: str) -> CatalogServiceRow:
    return CatalogServiceRow(
        id=service.id,
        categoria=service.categoria,
        tipo=service.tipo.value,
        nome=service.nome,
        attivo=True,
        content_hash=digest,
        data=service_json(service),
    )


def load_services(session: Session, *, include_inactive: bool = False) -> list[Service]:
    """The stored services (active only, unless asked), sorted by id."""
    query = select(CatalogServiceRow).order_by(CatalogServiceRow.id)
    if not include_inactive:
        query = query.where(CatalogServiceRow.attivo.is_(True))
    return [Service.model_validate(row.data) for row in session.scalars(query)]


def count_services(session: Session, *, include_inactive: bool = True) -> int:
    """How many services are stored (e.g. to seed an empty catalogue once)."""
    query = select(func.count()).select_from(CatalogServiceRow)
    if not include_inactive:
        query = query.where(CatalogServiceRow.attivo.is_(True))
    return int(session.scalar(query) or 0)
