"""Retention: rows older than `privacy.retention_days` of config.yml are deleted.

Runs daily in the scheduler (`purge_job`) and on demand (`frontdesk privacy purge`). Every
declared table with a `Retention` takes part, personal or operational; so do the log files
of `privacy.log_dir` (kind `logs`), reported as "files:<path>".
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, Table, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import console_repo
from bot.db.metadata import metadata
from bot.db.models import ConversationState
from bot.privacy.registry import Retention, declarations
from bot.settings import PrivacyConfig
from flows.intake import INTAKE_TTL
from flows.state import Step

log = logging.getLogger(__name__)

BATCH = 500
INTAKE_SWEEP = timedelta(minutes=5)
LOG_KIND = "logs"
FILES = "files:"  # prefix of the log files' keys in the counts


class UnknownRetentionKind(Exception):
    """A declaration names a retention kind that config.yml does not define."""


def purge(
    session: Session,
    *,
    retention_days: dict[str, int],
    now: datetime,
    dry_run: bool = False,
    log_dir: Path | None = None,
) -> dict[str, int]:
    """Deletes (or, with dry_run, counts) the expired rows of every table with a retention.

    Args:
        session: an open transaction; the caller commits.
        retention_days: days per retention kind (config.yml `privacy.retention_days`).
        now: the clock (a parameter, so that tests freeze it).
        dry_run: count only, delete nothing and write no audit row.
        log_dir: the log folder (config.yml `privacy.log_dir`); None leaves files alone.

    Returns:
        Rows deleted (or that would be) per table, then "files:<path>": 1 for each log file
        emptied or deleted (or that would be), 0 for the log files still within retention.

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
        cutoff = now - timedelta(days=retention_days[rule.kind])
        expired = table.c[rule.column] < cutoff
        if rule.only is not None:
            expired = expired & rule.only(table)
        if rule.spare is not None:
            counts[table.name] = _purge_sparing(session, table, rule, expired, cutoff, dry_run)
        elif dry_run:
            total = select(func.count()).select_from(table).where(expired)
            counts[table.name] = int(session.execute(total).scalar_one())
        else:
            result = session.execute(delete(table).where(expired))
            counts[table.name] = int(getattr(result, "rowcount", 0) or 0)
    if log_dir is not None:
        if LOG_KIND not in retention_days:
            raise UnknownRetentionKind(f"privacy.retention_days.{LOG_KIND} missing in config.yml")
        cutoff = now - timedelta(days=retention_days[LOG_KIND])
        counts.update(purge_log_files(log_dir, cutoff=cutoff, dry_run=dry_run))
    if not dry_run:
        console_repo.audit(
            session, operator_id=None, action="privacy_purge", detail={"rows": counts}
        )
    return counts


def _purge_sparing(
    session: Session,
    table: Table,
    rule: Retention,
    expired: ColumnElement[bool],
    cutoff: datetime,
    dry_run: bool,
) -> int:
    """Purges the expired rows but those `rule.spare` keeps; returns how many (would) go."""
    assert rule.spare is not None
    (pk,) = table.primary_key.columns
    rows = session.execute(select(table).where(expired).order_by(pk)).mappings().all()
    keep = rule.spare(session, rows, cutoff)
    ids = [row[pk.name] for row in rows if row[pk.name] not in keep]
    if not dry_run:
        for start in range(0, len(ids), BATCH):
            session.execute(delete(table).where(pk.in_(ids[start : start + BATCH])))
    return len(ids)


def log_files(log_dir: Path) -> list[Path]:
    """The log files of the folder: `*.log` (written in append mode) and rotated `*.log.*`."""
    if not log_dir.is_dir():
        return []
    found = {*log_dir.glob("*.log"), *log_dir.glob("*.log.*")}
    return sorted(p for p in found if p.is_file() and not p.is_symlink())


def purge_log_files(log_dir: Path, *, cutoff: datetime, dry_run: bool) -> dict[str, int]:
    """Empties the log files last written before `cutoff`, by their modification time.

    A `*.log` file is truncated, not deleted: a process may still hold it open in append
    mode (`frontdesk run` keeps var/rasa.log open for Rasa), and would go on writing to a
    deleted file nobody can read or purge. Rotated `*.log.N` files are deleted. Empty files
    hold nothing and count 0.

    Returns:
        "files:<path>": 1 when the file is (or would be) emptied or deleted, else 0.
    """
    counts: dict[str, int] = {}
    for path in log_files(log_dir):
        stat = path.stat()
        expired = stat.st_size > 0 and stat.st_mtime < cutoff.timestamp()
        counts[f"{FILES}{path}"] = int(expired)
        if not expired or dry_run:
            continue
        if path.suffix == ".log":
            os.truncate(path, 0)
        else:
            path.unlink()
    return counts


def purge_job(sessions: sessionmaker[Session], privacy: PrivacyConfig, now: datetime) -> None:
    """The daily scheduler job (bot.jobs): purges as config.yml's `privacy` says."""
    days = privacy.retention_days.model_dump()
    with sessions.begin() as session:
        counts = purge(session, retention_days=days, now=now, log_dir=privacy.log_dir)
    files = sum(n for key, n in counts.items() if key.startswith(FILES))
    log.info("retention purge done rows=%d files=%d", sum(counts.values()) - files, files)


def expire_intakes(session: Session, *, now: datetime) -> int:
    """Drops the words kept before the consent answer once INTAKE_TTL has passed.

    The flow ignores an old intake anyway; this removes it from the database too, so what a
    resident wrote and never agreed to store lasts at most INTAKE_TTL plus the job's interval.

    Returns:
        How many conversations had their intake removed.
    """
    cutoff = now - INTAKE_TTL
    stmt = select(ConversationState).where(
        ConversationState.name == Step.CONSENT.value, ConversationState.updated_at < cutoff
    )
    expired = 0
    for row in session.scalars(stmt):
        if row.data.get("intake") is not None:
            row.data = {**row.data, "intake": None}
            expired += 1
    return expired


def expire_intakes_job(sessions: sessionmaker[Session], now: datetime) -> None:
    """The scheduler job (bot.jobs) behind `expire_intakes`, every INTAKE_SWEEP."""
    with sessions.begin() as session:
        expired = expire_intakes(session, now=now)
    if expired:
        log.info("expired intakes removed count=%d", expired)
