"""Fixtures of the catalogue tests: the seed catalogue, a minimal valid record, a fixed today."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db.base import Base
from bot.db.catalog_models import CatalogServiceRow
from catalog.loader import LoadResult, load_path
from catalog.schema import Service
from territory.model import shipped_territory

# The comuni a catalogue service may serve: the Ambito di Tradate and its neighbours.
PLACES = tuple(shipped_territory("tradate").places)

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "catalog" / "data"
TODAY = date(2026, 11, 23)  # a Monday; the seed's windows are written around it


@pytest.fixture(scope="session")
def seed() -> LoadResult:
    return load_path(SEED, places=PLACES)


def record(**overrides: Any) -> dict[str, Any]:
    """A minimal valid service record, with top-level fields replaced."""
    data: dict[str, Any] = {
        "id": "servizio-prova",
        "nome": "Servizio di prova",
        "descrizione": "Un servizio inventato per i test.",
        "categoria": "prima_infanzia",
        "destinatari": "Famiglie",
        "ente_titolare": "Comune di Tradate",
        "area_servita": ["Tradate"],
        "costo": {"modello": "gratuito"},
        "contatti": {"telefono": "0331 000 000"},
        "fonte": "test",
        "data_verifica": "2026-11-20",
        "provenienza": "esempio",
    }
    data.update(overrides)
    return data


@pytest.fixture
def raw() -> Callable[..., dict[str, Any]]:
    """The `record` builder, for tests that validate by hand."""
    return record


@pytest.fixture
def make() -> Callable[..., Service]:
    """Builds a validated Service from `record(**overrides)`."""

    def build(**overrides: Any) -> Service:
        return Service.model_validate(record(**overrides))

    return build


@pytest.fixture
def db() -> Iterator[sessionmaker[Session]]:
    """An in-memory SQLite database with the catalogue table only."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[CatalogServiceRow.__table__])  # type: ignore[list-item]
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()
