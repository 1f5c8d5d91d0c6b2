"""Retention: rows older than `privacy.retention_days` of config.yml are deleted.

Runs daily in the scheduler (`purge_job`) and on demand (`frontdesk privacy purge`). Every
declared table with a `Retention` takes part, personal or operational.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.db import console_repo
from bot.db.metadata import metadata
from bot.privacy.registry import declarations

log = logging.getLogger(__name__)


class UnknownRetentionKind(Exception):
    """A declaration names a retention kind that config.yml does not define."""


def purge(
    session: Session, *, retention_days: dict[str, int], now: datetime, dry_run: bool = False
) -> dict[str, int]:
    """Deletes (or, with dry_run, counts) the expired rows of every table with a retention.

    Args:
        session: an open transaction; the caller commits.
        retention_days: days per retention kind (config.yml `privacy.retention_days`).
        now: the clock (a parameter, so that tests freeze it).
        dry_run: count only, delete nothing and write no audit row.

    Returns:
        Rows deleted (or that would be) per table.

    Raises:
        UnknownRetentionKind: when a declared kind has no number of days.
    """
    found = declarations()
    counts: dict[str, int] = {}
    # Children first: a parent's ON DELETE CASCADE would otherwise hide the children's counts.
    for table in reversed(metadata.sorted_tables):
        declaration = found.get(table.name)
        rule = declaration.retention if declaration else None
        if rule is None or rule.kind is None or rule.column is None:
            continue  # no retention, or purged with its parent (ON DELETE CASCADE)
        if rule.kind not in retention_days:
            raise UnknownRetentionKind(f"privacy.retention_days.{rule.kind} missing in config.yml")
        expired = table.c[rule.column] < now - timedelta(days=retention_days[rule.kind])
        if rule.only is not None:
            expired = expired & rule.only(table)
        if dry_run:
            total = select(func.count()).select_from(table).where(expired)
            counts[table.name] = int(session.execute(total).scalar_one())
        else:
            result = session.execute(delete(table).where(expired))
            counts[table.name] = int(getattr(result, "rowcount", 0) or 0)
    if not dry_run:
        console_repo.audit(
            session, operator_id=None, action="privacy_purge", detail={"rows": counts}
        )
    return counts


def purge_job() -> None:
    """The daily scheduler job: purges with the running app's settings."""
    from bot.db.base import utcnow
    from bot.scheduler import runtime

    state = runtime()
    days = state.settings.config.privacy.retention_days.model_dump()
    with state.sessions.begin() as session:
        counts = purge(session, retention_days=days, now=utcnow())
    log.info("retention purge done rows=%d", sum(counts.values()))


def schedule(scheduler: Any) -> None:
    """Adds the daily purge (03:30 UTC, quiet hours) to the leader's scheduler."""
    scheduler.add_job(
        "bot.privacy.retention:purge_job",
        "cron",
        hour=3,
        minute=30,
        id="privacy.retention_purge",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,  # a leader that was down at 03:30 still purges that day
    )
