"""Named leases in `scheduler_leases`: at most one holder per name, taken over on expiry.

Used for the scheduler's leader (one process runs the jobs) and for campaign channels (one
sender at a time per channel, so the provider's rate is never shared out twice).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from bot.db.base import per_dialect, utcnow
from bot.db.console_models import SchedulerLease


def _acquire(insert: Any) -> Any:
    # The insert takes a free name; on conflict the update's WHERE is the arbiter, so the
    # holder renews and anyone takes an expired lease; no row back: another holder has it.
    stmt = insert(_T).values(
        name=bindparam("p_name"), holder=bindparam("p_holder"), expires_at=bindparam("p_until")
    )
    return stmt.on_conflict_do_update(
        index_elements=[_T.c.name],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=(_T.c.holder == bindparam("p_holder")) | (_T.c.expires_at < bindparam("p_now")),
    ).returning(_T.c.name)


_T = cast(Any, SchedulerLease.__table__)
_ACQUIRE = per_dialect(_acquire)  # one statement: the turn lease is taken on every message


def acquire(session: Session, *, name: str, holder: str, seconds: float) -> bool:
    """Takes or renews the lease `name`; True when `holder` now owns it for `seconds`."""
    now = utcnow()
    params = {
        "p_name": name,
        "p_holder": holder,
        "p_until": now + timedelta(seconds=seconds),
        "p_now": now,
    }
    return session.execute(_ACQUIRE(session), params).first() is not None


def release(session: Session, *, name: str, holder: str) -> None:
    """Gives the lease up (if still held), so that another process takes over at once."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
