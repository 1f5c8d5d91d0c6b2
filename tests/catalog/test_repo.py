"""Idempotent import: upsert by id, edits update, missing records are deactivated, never deleted."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.catalog_models import CatalogServiceRow
from bot.db.catalog_repo import count_services, load_services, upsert_services
from catalog.loader import LoadResult
from catalog.schema import Service


def test_import_twice_gives_the_same_rows(seed: LoadResult, db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        first = upsert_services(session, services=seed.services)
    with db.begin() as session:
        second = upsert_services(session, services=seed.services)
        rows = session.scalar(select(func.count()).select_from(CatalogServiceRow))
    assert len(first.created) == len(seed.services) and first.updated == ()
    assert second.created == () and second.updated == ()
    assert len(second.unchanged) == rows == len(seed.services)
    with db() as session:
        assert tuple(load_services(session)) == seed.services


def test_an_edit_updates_the_row(seed: LoadResult, db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        upsert_services(session, services=seed.services)
    edited = [
        s.model_copy(update={"nome": "Nido rinnovato"}) if s.id == "nido-comunale-tradate" else s
        for s in seed.services
    ]
    with db.begin() as session:
        report = upsert_services(session, services=edited)
    assert report.updated == ("nido-comunale-tradate",)
    with db() as session:
        row = session.get(CatalogServiceRow, "nido-comunale-tradate")
        assert row is not None and row.nome == "Nido rinnovato"
        assert {s.id: s for s in load_services(session)}[
            "nido-comunale-tradate"
        ].nome == "Nido rinnovato"


def test_missing_records_are_deactivated_then_come_back(
    make: Callable[..., Service], db: sessionmaker[Session]
) -> None:
    a, b = make(id="a"), make(id="b")
    with db.begin() as session:
        upsert_services(session, services=[a, b])
    with db.begin() as session:
        report = upsert_services(session, services=[a])
    assert report.deactivated == ("b",)
    with db() as session:
        assert [s.id for s in load_services(session)] == ["a"]
        assert [s.id for s in load_services(session, include_inactive=True)] == ["a", "b"]
        assert count_services(session) == 2 and count_services(session, include_inactive=False) == 1
    with db.begin() as session:
        again = upsert_services(session, services=[a, b])
    assert again.updated == ("b",) and again.unchanged == ("a",)


def test_partial_import_leaves_others_alone(
    make: Callable[..., Service], db: sessionmaker[Session]
) -> None:
    with db.begin() as session:
        upsert_services(session, services=[make(id="a"), make(id="b")])
    with db.begin() as session:
        report = upsert_services(session, services=[make(id="a")], deactivate_missing=False)
    assert report.missing == ("b",) and report.deactivated == ()
    assert report.counts()["imported"] == 1
    with db() as session:
        assert [s.id for s in load_services(session)] == ["a", "b"]


def test_progress_is_reported_per_service(
    make: Callable[..., Service], db: sessionmaker[Session]
) -> None:
    ticks: list[int] = []
    with db.begin() as session:
        upsert_services(session, services=[make(id="a"), make(id="b")], progress=ticks.append)
    assert ticks == [1, 1]


def test_nothing_is_written_when_the_transaction_fails(
    make: Callable[..., Service], db: sessionmaker[Session]
) -> None:
    try:
        with db.begin() as session:
            upsert_services(session, services=[make(id="a")])
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with db() as session:
        assert count_services(session) == 0
