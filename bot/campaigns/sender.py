"""The paced sender: workers claim outbox rows, wait for a slot, send, record the outcome.

Safe to run in several processes at once (rows are claimed once) and to kill at any
instant: what was in flight is found by the next run and reported as uncertain.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import channel_leases, claims, db_pool, heap, store
from bot.campaigns.attempt import Result, attempt, campaign_reply
from bot.campaigns.group_commit import GroupCommit
from bot.campaigns.pacing import Pacer, pacers
from bot.campaigns.windows import closed_reason
from bot.channels.base import Channel, OutboundMessage, Windowed
from bot.db.base import utcnow
from bot.db.campaign_models import Campaign, CampaignStatus, RecipientStatus
from bot.settings import CampaignsConfig

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # while another sender finishes its rows in flight
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


def worker_id() -> str:
    """Who holds a claim: host, process and a random part (for the operator's eyes)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


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
    if not force and (why := closed_reason(now(), config)):
        raise SendRefused(f"invio rimandato: {why} (usa --force per inviare comunque)")
    campaign, names = await asyncio.to_thread(
        _prepare, sessions, campaign_id, channels, config, run
    )
    worker = worker_id()
    send = _Send(
        sessions=sessions,
        campaign=campaign,
        channels=channels,
        pacers=pacers(config),
        commits=GroupCommit(sessions, worker),
        config=config,
        worker=worker,
        run=run,
        force=force,
        now=now,
        progress=progress,
    )
    with db_pool.pool_for(sessions):
        try:
            with heap.out_of_sight():
                return await _rounds(send, names)
        finally:
            # Reservations not used (paused, cancelled, crashed task) go back at once, and
            # so do the channels, for another sender waiting for them.
            await db_pool.run(_release_all, sessions, campaign_id, worker)
            await db_pool.run(channel_leases.give_back, sessions, names, worker)


@dataclass
class _Send:
    """What every worker of one `send_campaign` call shares."""

    sessions: sessionmaker[Session]
    campaign: Campaign
    channels: Mapping[str, Channel]
    pacers: Mapping[str, Pacer]
    commits: GroupCommit
    config: CampaignsConfig
    worker: str
    run: Run
    force: bool
    now: Callable[[], datetime]
    progress: Callable[[int], None] | None
    held: set[str] = field(default_factory=set)  # channels whose lease this sender holds


async def _rounds(send: _Send, names: list[str]) -> Run:
    run, campaign_id = send.run, send.campaign.id
    while True:
        before = run.final
        send.held = await db_pool.run(channel_leases.take, send.sessions, names, send.worker)
        keeper = asyncio.create_task(_keep(send))
        try:
            await asyncio.gather(
                *(
                    _work(send, name)
                    for name in sorted(send.held)
                    for _ in range(send.config.concurrency)
                )
            )
        finally:
            keeper.cancel()
        if run.paused:
            return run
        pending, inflight = await db_pool.run(_unfinished, send.sessions, campaign_id)
        if not pending and not inflight:
            await db_pool.run(_set_status, send.sessions, campaign_id, CampaignStatus.DONE)
            run.done = True
            return run
        if run.final == before:
            # Nothing left for us: another sender holds the channel or is finishing (rows in
            # flight or reserved), or died (its lease and reservations lapse, its claims
            # become uncertain): wait and see.
            await asyncio.sleep(POLL_SECONDS)
            run.recovered += await db_pool.run(_recover, send.sessions, campaign_id, send.config)


async def _keep(send: _Send) -> None:
    """Renews the channel leases while the workers run. A lease lost (this process stalled
    past its expiry and another sender took the channel over) stops that channel's workers;
    the row claims still keep the two from sending anything twice."""
    while send.held:
        await asyncio.sleep(channel_leases.RENEW_SECONDS)
        try:
            kept = await db_pool.run(
                channel_leases.take, send.sessions, sorted(send.held), send.worker
            )
        except Exception as exc:  # a database hiccup: the lease outlives a few of them
            log.warning("campaign channel lease not renewed: %s", type(exc).__name__)
            continue
        if lost := send.held - kept:
            log.warning("campaign %d: channel lease lost: %s", send.campaign.id, sorted(lost))
        send.held &= kept


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
        names = store.channels_to_send(session, campaign_id)
        if missing := [c for c in names if c not in channels]:
            raise SendRefused(f"canale non configurato: {', '.join(missing)}")
        store.set_status(session, campaign_id=campaign_id, status=CampaignStatus.SENDING)
    run.recovered = _recover(sessions, campaign_id, config)
    if run.recovered:
        log.warning(
            "campaign %d: %d messages were in flight at a crash", campaign_id, run.recovered
        )
    return campaign, names


def _recover(sessions: sessionmaker[Session], campaign_id: int, config: CampaignsConfig) -> int:
    older = timedelta(seconds=config.inflight_timeout_seconds)
    with sessions.begin() as session:
        return claims.recover(session, campaign_id=campaign_id, older_than=older)


def _unfinished(sessions: sessionmaker[Session], campaign_id: int) -> tuple[int, int]:
    with sessions() as session:
        return store.unfinished(session, campaign_id=campaign_id)


def _set_status(sessions: sessionmaker[Session], campaign_id: int, status: CampaignStatus) -> None:
    with sessions.begin() as session:
        store.set_status(session, campaign_id=campaign_id, status=status)


def _lease(config: CampaignsConfig) -> timedelta:
    return timedelta(seconds=min(RESERVE_SECONDS, config.inflight_timeout_seconds))


@dataclass(frozen=True)
class _Reserved:
    row: claims.Claimed
    window: bool | None  # the service window, looked up with the reservation


def _reserve(send: _Send, channel: str) -> list[_Reserved]:
    """A batch of rows, with their service windows looked up in one query (not between the
    pacer's slot and the API call, where every millisecond bunches requests together)."""
    with send.sessions.begin() as session:
        rows = claims.reserve(
            session,
            campaign_id=send.campaign.id,
            worker=send.worker,
            channel=channel,
            size=BATCH,
            lease=_lease(send.config),
        )
    adapter = send.channels[channel]
    windows: dict[str, bool] = {}
    if rows and isinstance(adapter, Windowed):
        windows = adapter.service_windows([r.address for r in rows])
    return [_Reserved(r, windows.get(r.address)) for r in rows]


def _release_all(sessions: sessionmaker[Session], campaign_id: int, worker: str) -> None:
    with sessions.begin() as session:
        claims.release_all(session, campaign_id=campaign_id, worker=worker)


def _touch(sessions: sessionmaker[Session], recipient_id: int) -> None:
    with sessions.begin() as session:
        claims.touch(session, recipient_id=recipient_id)


async def _work(send: _Send, channel: str) -> None:
    run, config = send.run, send.config
    done: tuple[claims.Claimed, Result] | None = None
    reserved: list[_Reserved] = []
    try:
        while run.paused is None and channel in send.held:
            if not send.force and (why := closed_reason(send.now(), config)):
                run.paused = why
                break
            if not reserved:
                reserved = await db_pool.run(_reserve, send, channel)
                if not reserved:
                    break
            next_one = reserved.pop(0)
            claimed = next_one.row
            started = await send.commits.step(done, claimed)
            done = None
            if not started:
                continue
            message = OutboundMessage(
                claimed.channel,  # type: ignore[arg-type]  # only telegram/whatsapp are stored
                claimed.address,
                campaign_reply(claimed.channel, send.campaign.text),
                service_window=next_one.window,
            )
            result = await _deliver(send, claimed, message)
            done = (claimed, result)
            run.final += 1
            if result.status is RecipientStatus.SENT:
                run.sent += 1
                run.by_channel[claimed.channel] = run.by_channel.get(claimed.channel, 0) + 1
            if send.progress is not None:
                send.progress(1)
    finally:
        if done is not None:  # the last outcome of this worker
            await send.commits.step(done, None)
        if reserved:
            await db_pool.run(_release, send.sessions, [r.row.id for r in reserved], send.worker)


def _release(sessions: sessionmaker[Session], ids: list[int], worker: str) -> None:
    with sessions.begin() as session:
        claims.release(session, ids=ids, worker=worker)


async def _deliver(send: _Send, claimed: claims.Claimed, message: OutboundMessage) -> Result:
    pacer = send.pacers[claimed.channel]
    for number in range(1, send.config.max_attempts + 1):
        await pacer.wait()
        result = await attempt(send.channels[claimed.channel], message, backoff=2.0 ** (number - 1))
        if result.retry_after is None:
            return result
        log.info(
            "campaign send throttled reason=%s retry_in=%.1fs", result.reason, result.retry_after
        )
        pacer.hold(result.retry_after)  # the whole channel slows down, not just this worker
        await db_pool.run(_touch, send.sessions, claimed.id)
    return Result(RecipientStatus.FAILED, f"{result.reason}_gave_up")
