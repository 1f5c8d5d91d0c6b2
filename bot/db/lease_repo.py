"""Named leases in `scheduler_leases`: at most one holder per name, taken over on expiry.

Used for the scheduler's leader (one process runs the jobs) and for campaign channels (one
sender at a time per channel, so the provider's rate is never shared out twice).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.db.base import dialect_insert, utcnow
from bot.db.console_models import SchedulerLease


def acquire(session: Session, *, name: str, holder: str, seconds: float) -> bool:
    """Takes or renews the lease `name`; True when `holder` now owns it for `seconds`."""
    now = utcnow()
    session.execute(
        dialect_insert(session)(SchedulerLease)
        .values(name=name, holder=holder, expires_at=now - timedelta(seconds=1))
        .on_conflict_do_nothing()
    )
    # A conditional UPDATE is the arbiter: the holder renews, anyone takes an expired lease.
    result = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + timedelta(seconds=seconds))
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def release(session: Session, *, name: str, holder: str) -> None:
    """Gives the lease up (if still held), so that another process takes over at once."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
