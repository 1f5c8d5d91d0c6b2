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
    # One statement (the turn lease is taken on every resident message): the insert takes a
    # free name; on conflict the update's WHERE is the arbiter, so the holder renews and anyone
    # takes an expired lease; no row back means another holder has it.
    stmt = dialect_insert(session)(SchedulerLease).values(
        name=name, holder=holder, expires_at=now + timedelta(seconds=seconds)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[SchedulerLease.name],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=(SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
    )
    return session.execute(stmt.returning(SchedulerLease.name)).first() is not None


def release(session: Session, *, name: str, holder: str) -> None:
    """Gives the lease up (if still held), so that another process takes over at once."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
