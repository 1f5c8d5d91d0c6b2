"""The paced sender: workers claim outbox rows, wait for a slot, send, record the outcome.

Safe to run in several processes at once (rows are claimed once) and to kill at any
instant: what was in flight is found by the next run and reported as uncertain.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import outbox
from bot.campaigns.attempt import Result, attempt, campaign_reply
from bot.campaigns.pacing import Pacer
from bot.campaigns.windows import closed_reason
from bot.channels.base import Channel, OutboundMessage
from bot.db.base import utcnow
from bot.db.campaign_models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from bot.settings import CampaignsConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_SECONDS = 1.0  # while another sender finishes its rows in flight
# Paced a little under the configured rate: network jitter bunches arrivals, and the
# provider counts what arrives in each second, not what we sent.
HEADROOM = 0.97
# Rows a worker reserves per round trip (each is still marked in flight on its own, right
# before its API call): fewer queries per message without widening what a crash leaves.
BATCH = 8
# How long a reservation holds (capped by inflight_timeout_seconds): a dead sender's
# reserved-but-unsent rows go back to the pool after this, never to `uncertain`.
RESERVE_SECONDS = 30


class SendRefused(Exception):
    """The campaign cannot be sent now (cancelled, quiet hours, channel not configured)."""


@dataclass
class Run:
    """What one call of `send_campaign` did."""

    sent: int = 0
    final: int = 0  # rows this run made final (sent, failed, uncertain)
    recovered: int = 0  # rows a dead sender left in flight, now uncertain
    paused: str | None = None  # why the run stopped before the end (quiet hours began)
    done: bool = False
    by_channel: dict[str, int] = field(default_factory=dict)


# The sender's own database calls run on a small pool of their own: on SQLite one thread,
# so that the workers never contend for the write lock among themselves (SQLite's busy
# handler sleeps up to 100 ms per retry, which starved the pacer's slots); on PostgreSQL a
# few threads. The channel adapters keep the default pool for their own calls.
_EXECUTOR: ContextVar[Executor | None] = ContextVar("campaign_db_executor", default=None)


def _db_executor(sessions: sessionmaker[Session]) -> ThreadPoolExecutor:
    bind = sessions.kw.get("bind")
    sqlite = bind is None or bind.dialect.name == "sqlite"
    return ThreadPoolExecutor(max_workers=1 if sqlite else 4, thread_name_prefix="campaign-db")


async def _db(function: Callable[..., T], /, *args: Any) -> T:
    """Runs a blocking database call on the sender's pool (the default one outside a send)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_EXECUTOR.get(), functools.partial(function, *args))


def worker_id() -> str:
    """Who holds a claim: host, process and a random part (for the operator's eyes)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def rates(config: CampaignsConfig) -> dict[str, float]:
    return {"telegram": config.telegram_rate, "whatsapp": config.whatsapp_rate}


def pacers(config: CampaignsConfig) -> dict[str, Pacer]:
    """One pacer per channel, shared by every worker of this sender: slots spaced at
    HEADROOM x the rate, and never more than the configured rate in any sliding second."""
    return {
        # The cap is on a plain sliding second: stretching it to 1/HEADROOM s (room for
        # jitter on the way to the provider) cost catch-up after late wake-ups and did not
        # lower the busiest second the fake servers saw (jitter there is above 30 ms).
        name: Pacer(rate * HEADROOM, limit=max(1, math.floor(rate)))
        for name, rate in rates(config).items()
    }


async def send_campaign(
    *,
    sessions: sessionmaker[Session],
    campaign_id: int,
    channels: Mapping[str, Channel],
    config: CampaignsConfig,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> Run:
    """Sends a campaign until every recipient is final (or quiet hours begin).

    Args:
        sessions: database sessions.
        campaign_id: the campaign.
        channels: adapters by name; every channel of the audience must be there.
        config: rates, concurrency, retries, quiet hours.
        force: send even in quiet hours or on a public holiday.
        progress: called with the number of recipients made final, as it happens.
        now: the clock (tests freeze it).

    Raises:
        SendRefused: nothing was sent, with the reason in Italian for the admin.
    """
    run = Run()
    worker = worker_id()
    if not force and (why := closed_reason(now(), config)):
        raise SendRefused(f"invio rimandato: {why} (usa --force per inviare comunque)")
    campaign, names = await asyncio.to_thread(
        _prepare, sessions, campaign_id, channels, config, run
    )
    executor = _db_executor(sessions)
    token = _EXECUTOR.set(executor)
    paced = pacers(config)
    try:
        return await _rounds(
            sessions, campaign, names, channels, paced, config, worker, run, force, now, progress
        )
    finally:
        # Reservations not used (paused, cancelled, crashed task) go back at once.
        await _db(_release_all, sessions, campaign_id, worker)
        _EXECUTOR.reset(token)
        executor.shutdown(wait=False)


async def _rounds(
    sessions: sessionmaker[Session],
    campaign: Campaign,
    names: list[str],
    channels: Mapping[str, Channel],
    paced: Mapping[str, Pacer],
    config: CampaignsConfig,
    worker: str,
    run: Run,
    force: bool,
    now: Callable[[], datetime],
    progress: Callable[[int], None] | None,
) -> Run:
    campaign_id = campaign.id
    while True:
        before = run.final
        tasks = [
            _work(
                sessions,
                campaign,
                name,
                channels,
                paced,
                config,
                worker,
                run,
                force,
                now,
                progress,
            )
            for name in names
            for _ in range(config.concurrency)
        ]
        await asyncio.gather(*tasks)
        if run.paused:
            return run
        pending, inflight = await _db(_unfinished, sessions, campaign_id)
        if not pending and not inflight:
            await _db(_set_status, sessions, campaign_id, CampaignStatus.DONE)
            run.done = True
            return run
        if run.final == before:
            # Nothing left for us: another sender is finishing (rows in flight or reserved),
            # or died (its claims become uncertain, its reservations lapse): wait and see.
            await asyncio.sleep(POLL_SECONDS)
            run.recovered += await _db(_recover, sessions, campaign_id, config)


def _prepare(
    sessions: sessionmaker[Session],
    campaign_id: int,
    channels: Mapping[str, Channel],
    config: CampaignsConfig,
    run: Run,
) -> tuple[Campaign, list[str]]:
    with sessions.begin() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise SendRefused(f"la campagna {campaign_id} non esiste")
        if campaign.status == CampaignStatus.CANCELLED:
            raise SendRefused(f"la campagna {campaign_id} è annullata")
        names = outbox.channels_to_send(session, campaign_id)
        if missing := [c for c in names if c not in channels]:
            raise SendRefused(f"canale non configurato: {', '.join(missing)}")
        outbox.set_status(session, campaign_id=campaign_id, status=CampaignStatus.SENDING)
    run.recovered = _recover(sessions, campaign_id, config)
    if run.recovered:
        log.warning(
            "campaign %d: %d messages were in flight at a crash", campaign_id, run.recovered
        )
    return campaign, names


def _recover(sessions: sessionmaker[Session], campaign_id: int, config: CampaignsConfig) -> int:
    older = timedelta(seconds=config.inflight_timeout_seconds)
    with sessions.begin() as session:
        return outbox.recover(session, campaign_id=campaign_id, older_than=older)


def _unfinished(sessions: sessionmaker[Session], campaign_id: int) -> tuple[int, int]:
    with sessions() as session:
        return outbox.unfinished(session, campaign_id=campaign_id)


def _set_status(sessions: sessionmaker[Session], campaign_id: int, status: CampaignStatus) -> None:
    with sessions.begin() as session:
        outbox.set_status(session, campaign_id=campaign_id, status=status)


def _lease(config: CampaignsConfig) -> timedelta:
    return timedelta(seconds=min(RESERVE_SECONDS, config.inflight_timeout_seconds))


def _reserve(
    sessions: sessionmaker[Session],
    campaign_id: int,
    worker: str,
    channel: str,
    config: CampaignsConfig,
) -> list[outbox.Claimed]:
    with sessions.begin() as session:
        return outbox.reserve(
            session,
            campaign_id=campaign_id,
            worker=worker,
            channel=channel,
            size=BATCH,
            lease=_lease(config),
        )


def _step(
    sessions: sessionmaker[Session],
    done: tuple[outbox.Claimed, Result] | None,
    following: outbox.Claimed | None,
    worker: str,
) -> bool:
    """One transaction per message: records the previous outcome and marks the next row in
    flight (committed before its API call). False when the next row is no longer ours."""
    with sessions.begin() as session:
        if done is not None:
            claimed, result = done
            assert result.status is not None
            outbox.finish(
                session,
                claimed=claimed,
                status=result.status,
                reason=result.reason,
                gone=result.gone,
                external_id=result.external_id,
            )
        if following is None:
            return False
        return outbox.start(session, claimed=following, worker=worker)


def _release_all(sessions: sessionmaker[Session], campaign_id: int, worker: str) -> None:
    with sessions.begin() as session:
        session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.status == RecipientStatus.PENDING,
                CampaignRecipient.claimed_by == worker[:80],
            )
            .values(claimed_by=None, claimed_at=None)
        )


def _touch(sessions: sessionmaker[Session], recipient_id: int) -> None:
    with sessions.begin() as session:
        outbox.touch(session, recipient_id=recipient_id)


async def _work(
    sessions: sessionmaker[Session],
    campaign: Campaign,
    channel: str,
    channels: Mapping[str, Channel],
    pacers: Mapping[str, Pacer],
    config: CampaignsConfig,
    worker: str,
    run: Run,
    force: bool,
    now: Callable[[], datetime],
    progress: Callable[[int], None] | None,
) -> None:
    done: tuple[outbox.Claimed, Result] | None = None
    reserved: list[outbox.Claimed] = []
    try:
        while run.paused is None:
            if not force and (why := closed_reason(now(), config)):
                run.paused = why
                break
            if not reserved:
                reserved = await _db(_reserve, sessions, campaign.id, worker, channel, config)
                if not reserved:
                    break
            claimed = reserved.pop(0)
            started = await _db(_step, sessions, done, claimed, worker)
            done = None
            if not started:
                continue
            message = OutboundMessage(
                claimed.channel,  # type: ignore[arg-type]  # only telegram/whatsapp are stored
                claimed.address,
                campaign_reply(claimed.channel, campaign.text),
            )
            result = await _deliver(sessions, claimed, message, channels, pacers, config)
            done = (claimed, result)
            run.final += 1
            if result.status is RecipientStatus.SENT:
                run.sent += 1
                run.by_channel[claimed.channel] = run.by_channel.get(claimed.channel, 0) + 1
            if progress is not None:
                progress(1)
    finally:
        if done is not None:  # the last outcome of this worker
            await _db(_step, sessions, done, None, worker)
        if reserved:
            await _db(_release, sessions, [c.id for c in reserved], worker)


def _release(sessions: sessionmaker[Session], ids: list[int], worker: str) -> None:
    with sessions.begin() as session:
        outbox.release(session, ids=ids, worker=worker)


async def _deliver(
    sessions: sessionmaker[Session],
    claimed: outbox.Claimed,
    message: OutboundMessage,
    channels: Mapping[str, Channel],
    pacers: Mapping[str, Pacer],
    config: CampaignsConfig,
) -> Result:
    pacer = pacers[claimed.channel]
    for number in range(1, config.max_attempts + 1):
        await pacer.wait()
        result = await attempt(channels[claimed.channel], message, backoff=2.0 ** (number - 1))
        if result.retry_after is None:
            return result
        log.info(
            "campaign send throttled reason=%s retry_in=%.1fs", result.reason, result.retry_after
        )
        pacer.hold(result.retry_after)  # the whole channel slows down, not just this worker
        await _db(_touch, sessions, claimed.id)
    return Result(RecipientStatus.FAILED, f"{result.reason}_gave_up")
