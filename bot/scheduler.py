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

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.orm import Session

from bot import jobs as job_table
from bot.db import lease_repo
from bot.services import Services
from bot.settings import Settings

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_SECONDS = 30
RENEW_SECONDS = 10

Register = Callable[[AsyncIOScheduler, Settings], None]


def acquire(session: Session, *, holder: str, seconds: int = LEASE_SECONDS) -> bool:
    """Takes or renews the scheduler's lease; True when `holder` now owns it."""
    return lease_repo.acquire(session, name=LEASE_NAME, holder=holder, seconds=seconds)


def release(session: Session, *, holder: str) -> None:
    """Gives the lease up at shutdown, so that another worker takes over at once."""
    lease_repo.release(session, name=LEASE_NAME, holder=holder)


def _new_scheduler(services: Services) -> AsyncIOScheduler:
    engine = services.sessions.kw["bind"]
    return AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine)}, timezone=UTC)


async def _lead(services: Services, holder: str, jobs: Register) -> None:
    scheduler: AsyncIOScheduler | None = None

    def try_lease() -> bool:
        with services.sessions.begin() as session:
            return acquire(session, holder=holder)

    try:
        while True:
            try:
                leader = await asyncio.to_thread(try_lease)
            except Exception as exc:  # a database hiccup: keep trying
                log.warning("scheduler lease check failed: %s", type(exc).__name__)
                leader = False
            if leader and scheduler is None:
                scheduler = _new_scheduler(services)
                jobs(scheduler, services.settings)
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
async def leadership(services: Services, jobs: Register = job_table.register) -> AsyncIterator[str]:
    """Runs the lease loop while the app runs; yields this process's holder id."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with job_table.serving(services):
        task = asyncio.create_task(_lead(services, holder, jobs))
        try:
            yield holder
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            with suppress(Exception), services.sessions.begin() as session:
                release(session, holder=holder)
