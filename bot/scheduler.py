"""APScheduler wiring: one leader per deployment runs the jobs, elected by a lease row.

Every web worker runs `leadership(app)`. Each one tries, every few seconds, to take or renew
the `scheduler_leases` row with a conditional UPDATE (holder is me, or the lease expired);
the one that succeeds starts an AsyncIOScheduler whose jobs live in the app database
(SQLAlchemy job store), the others wait. If the leader dies, its lease expires and another
worker takes over with the same stored jobs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.orm import Session

from bot.db import lease_repo
from bot.privacy import retention

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_SECONDS = 30
RENEW_SECONDS = 10

# The running app's state, for jobs restored from the persistent store (they are stored as
# "module:function" references, so they cannot carry live objects as arguments).
_runtime: dict[str, Any] = {}


def runtime() -> Any:
    """The app state of the process running the scheduler (sessions, settings, channels)."""
    try:
        return _runtime["state"]
    except KeyError:
        raise RuntimeError("scheduler jobs run only inside the web app") from None


def acquire(session: Session, *, holder: str, seconds: int = LEASE_SECONDS) -> bool:
    """Takes or renews the scheduler's lease; True when `holder` now owns it."""
    return lease_repo.acquire(session, name=LEASE_NAME, holder=holder, seconds=seconds)


def release(session: Session, *, holder: str) -> None:
    """Gives the lease up at shutdown, so that another worker takes over at once."""
    lease_repo.release(session, name=LEASE_NAME, holder=holder)


def register_jobs(scheduler: AsyncIOScheduler, state: Any) -> None:
    """The deployment's recurring jobs (replace_existing: the stored copy follows config)."""
    console = state.settings.config.console
    scheduler.add_job(
        "bot.console.jobs:handoff_tick",
        "interval",
        seconds=console.tick_seconds,
        id="console.handoff_tick",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=60,
    )
    from bot.campaigns import jobs as campaign_jobs  # imports bot.scheduler: not at the top

    campaign_jobs.register(scheduler, state)
    retention.schedule(scheduler)


def _new_scheduler(state: Any) -> AsyncIOScheduler:
    engine = state.sessions.kw["bind"]
    return AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine)}, timezone=UTC)


async def _lead(state: Any, holder: str, jobs: Callable[[AsyncIOScheduler, Any], None]) -> None:
    scheduler: AsyncIOScheduler | None = None

    def try_lease() -> bool:
        with state.sessions.begin() as session:
            return acquire(session, holder=holder)

    try:
        while True:
            try:
                leader = await asyncio.to_thread(try_lease)
            except Exception as exc:  # a database hiccup: keep trying
                log.warning("scheduler lease check failed: %s", type(exc).__name__)
                leader = False
            if leader and scheduler is None:
                scheduler = _new_scheduler(state)
                jobs(scheduler, state)
                scheduler.start()
                log.info("scheduler started (leader %s)", holder)
            elif not leader and scheduler is not None:
                scheduler.shutdown(wait=False)
                scheduler = None
                log.info("scheduler stopped: lease lost")
            await asyncio.sleep(RENEW_SECONDS)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


@asynccontextmanager
async def leadership(
    state: Any, jobs: Callable[[AsyncIOScheduler, Any], None] = register_jobs
) -> AsyncIterator[str]:
    """Runs the lease loop while the app runs; yields this process's holder id."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    _runtime["state"] = state
    task = asyncio.create_task(_lead(state, holder, jobs))
    try:
        yield holder
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        with suppress(Exception), state.sessions.begin() as session:
            release(session, holder=holder)
        _runtime.pop("state", None)
