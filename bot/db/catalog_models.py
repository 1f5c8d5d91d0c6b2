"""The service catalogue table: indexed columns for queries, the full record as JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, Timestamped


class CatalogServiceRow(Timestamped, Base):
    """One validated `catalog.schema.Service`.

    `data` is the record as JSON (the source of truth when loading); the other columns
    are copies for filtering and for the idempotent import (`content_hash`). Records
    dropped from the imported catalogue are kept with `attivo = False`, so that past
    suggestions stay explainable and a re-import brings them back.
    """

    __tablename__ = "catalog_services"
    __table_args__ = (Index("ix_catalog_services_categoria_attivo", "categoria", "attivo"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    categoria: Mapped[str] = mapped_column(String(40))
    tipo: Mapped[str] = mapped_column(String(16))
    nome: Mapped[str] = mapped_column(String(200))
    attivo: Mapped[bool] = mapped_column(default=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
