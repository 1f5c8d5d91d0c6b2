"""First start on an empty database: load the demo catalogue so the chat has answers."""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.cli.common import fail
from bot.db.catalog_repo import count_services, upsert_services
from catalog.loader import load_path

log = logging.getLogger(__name__)


def seed_catalog_if_empty(
    sessions: sessionmaker[Session], seed_dir: Path, *, places: Collection[str] | None = None
) -> int:
    """Imports `seed_dir` when no service is stored yet; returns how many were imported.

    `places`: the territory's comuni and neighbours the services may serve.
    """
    with sessions.begin() as session:
        if count_services(session) > 0:
            return 0
        result = load_path(seed_dir, places=places)
        if result.problems:
            fail(f"catalogue {seed_dir} is invalid: {result.problems[0]}")
        upsert_services(session, services=result.services)
        log.info("catalogue seeded from %s: %d services", seed_dir, len(result.services))
        return len(result.services)
