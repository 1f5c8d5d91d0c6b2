"""The job table: every job is stored as the one runner, and an older store restarts."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot import jobs
from bot.settings import Settings

IDS = [
    "console.handoff_tick",
    "campaigns.tick",
    "privacy.expire_intakes",
    "privacy.retention_purge",
]
# What the store held before the job table: one function reference per job.
OLD_REFS = {
    "console.handoff_tick": "bot.console.jobs:handoff_tick",
    "campaigns.tick": "bot.campaigns.jobs:campaigns_tick",
    "privacy.expire_intakes": "bot.privacy.retention:expire_intakes_job",
    "privacy.retention_purge": "bot.privacy.retention:purge_job",
}


@pytest.fixture
def store(sessions: sessionmaker[Session]) -> Iterator[SQLAlchemyJobStore]:
    yield SQLAlchemyJobStore(engine=sessions.kw["bind"])


def started(store: SQLAlchemyJobStore, settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=UTC)
    jobs.register(scheduler, settings)
    scheduler.start(paused=True)
    return scheduler


def test_every_job_is_stored_as_the_runner_with_its_id(
    store: SQLAlchemyJobStore, settings: Settings
) -> None:
    for _ in range(2):  # a restart finds the same jobs
        scheduler = started(store, settings)
        found = {j.id: j for j in scheduler.get_jobs()}
        assert sorted(found) == sorted(IDS)
        for job_id, job in found.items():
            assert (job.func_ref, job.args) == ("bot.jobs:run", (job_id,))
        scheduler.shutdown(wait=False)


def test_the_purge_runs_daily_at_half_past_three_utc(settings: Settings) -> None:
    trigger = jobs.BY_ID["privacy.retention_purge"].trigger(settings)
    assert isinstance(trigger, CronTrigger)
    after = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 12, 4, 3, 30, tzinfo=UTC)
    sweep = jobs.BY_ID["privacy.expire_intakes"].trigger(settings)
    assert sweep.interval.total_seconds() <= 600  # type: ignore[attr-defined]


def test_a_store_of_the_old_references_restarts_with_the_runner(
    store: SQLAlchemyJobStore, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    started(store, settings).shutdown(wait=False)
    with sessions.begin() as s:  # rewrite each row as the previous version stored it
        for job_id, ref in OLD_REFS.items():
            blob = s.execute(
                text("SELECT job_state FROM apscheduler_jobs WHERE id = :id"), {"id": job_id}
            ).scalar_one()
            state = pickle.loads(blob)
            state.update(func=ref, args=())
            s.execute(
                text("UPDATE apscheduler_jobs SET job_state = :b WHERE id = :id"),
                {"b": pickle.dumps(state, pickle.HIGHEST_PROTOCOL), "id": job_id},
            )
    scheduler = started(store, settings)
    found = {j.id: j.func_ref for j in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert found == dict.fromkeys(IDS, "bot.jobs:run")


def test_an_unknown_stored_job_is_skipped() -> None:
    asyncio.run(jobs.run("gone.job"))  # no services bound either: nothing runs, nothing raises
