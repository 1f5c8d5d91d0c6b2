"""The deployment's recurring jobs, in one table: (id, trigger, function).

APScheduler's SQLAlchemy job store pickles references, not live objects: every stored job
is the same call, `run(<job id>)`, and `run` finds the function here and calls it with the
services of the process leading the scheduler (bound by bot.scheduler while it leads).
A store written by an older version holds other references under the same ids:
registering with replace_existing overwrites them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.campaigns import jobs as campaigns
from bot.campaigns.transport import usable
from bot.console import jobs as console
from bot.privacy import retention
from bot.services import Services
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    trigger: Callable[[Settings], BaseTrigger]  # from config.yml, read when registering
    function: Callable[[Services], Awaitable[None]]
    misfire_grace_time: int  # seconds late a missed run still runs (coalesced into one)


def _every(seconds: int) -> Callable[[Settings], BaseTrigger]:
    return lambda _settings: IntervalTrigger(seconds=seconds, timezone=UTC)


# Each job gets from the services what it needs: the packages below know no Services.


async def _campaigns(services: Services) -> None:
    await campaigns.send_due(
        sessions=services.sessions,
        channels=usable(services.settings, services.channels),
        config=services.settings.config.campaigns,
        now=services.clock,
    )


async def _expire_intakes(services: Services) -> None:
    await asyncio.to_thread(retention.expire_intakes_job, services.sessions, services.clock())


async def _purge(services: Services) -> None:
    privacy = services.settings.config.privacy
    await asyncio.to_thread(retention.purge_job, services.sessions, privacy, services.clock())


INTAKE_SWEEP = int(retention.INTAKE_SWEEP.total_seconds())

JOBS: tuple[Job, ...] = (
    Job(
        "console.handoff_tick",
        lambda s: IntervalTrigger(seconds=s.config.console.tick_seconds, timezone=UTC),
        console.run_tick,
        misfire_grace_time=60,
    ),
    Job(
        "campaigns.tick",
        _every(campaigns.TICK_SECONDS),
        _campaigns,
        misfire_grace_time=campaigns.TICK_SECONDS,
    ),
    Job(
        "privacy.expire_intakes",
        _every(INTAKE_SWEEP),
        _expire_intakes,
        misfire_grace_time=INTAKE_SWEEP,
    ),
    Job(
        "privacy.retention_purge",  # 03:30 UTC, in the quiet hours
        lambda _settings: CronTrigger(hour=3, minute=30, timezone=UTC),
        _purge,
        misfire_grace_time=6 * 3600,  # a leader that was down at 03:30 still purges that day
    ),
)
BY_ID = {job.id: job for job in JOBS}

_bound: list[Services] = []  # the leader's services; see `serving`


def register(scheduler: Any, settings: Settings) -> None:
    """Adds every job (replace_existing: the stored copy follows config and this table)."""
    for job in JOBS:
        scheduler.add_job(
            run,
            job.trigger(settings),
            args=[job.id],
            id=job.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,  # a long run (a campaign's send) never overlaps the next
            misfire_grace_time=job.misfire_grace_time,
        )


@contextmanager
def serving(services: Services) -> Iterator[None]:
    """Binds the services the stored jobs run with, for the block."""
    _bound.append(services)
    try:
        yield
    finally:
        _bound.remove(services)


async def run(job_id: str) -> None:
    """The one function the job store references: runs the job `job_id` of the table."""
    job = BY_ID.get(job_id)
    if job is None:  # a stored job this version no longer has
        log.warning("unknown scheduled job %s skipped", job_id)
        return
    if not _bound:
        raise RuntimeError("scheduled jobs run only inside the web app")
    await job.function(_bound[-1])
