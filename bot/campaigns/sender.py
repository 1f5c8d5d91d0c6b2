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

from bot.campaigns import outbox
from bot.campaigns.attempt import Result, attempt, campaign_reply
from bot.campaigns.pacing import Pacer
from bot.campaigns.windows import closed_reason
from bot.channels.base import Channel, OutboundMessage
from bot.db.base import utcnow
from bot.db.campaign_models import Campaign, CampaignStatus, RecipientStatus
from bot.settings import CampaignsConfig

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # while another sender finishes its rows in flight
# Paced a little under the configured rate: network jitter bunches arrivals, and the
# provider counts what arrives in each second, not what we sent.
HEADROOM = 0.97


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


def rates(config: CampaignsConfig) -> dict[str, float]:
    return {"telegram": config.telegram_rate, "whatsapp": config.whatsapp_rate}


def pacers(config: CampaignsConfig) -> dict[str, Pacer]:
    """One pacer per channel, shared by every worker of this sender."""
    return {name: Pacer(rate * HEADROOM) for name, rate in rates(config).items()}


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
    paced = pacers(config)
    while True:
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
        pending, inflight = await asyncio.to_thread(_unfinished, sessions, campaign_id)
        if not pending and not inflight:
            await asyncio.to_thread(_set_status, sessions, campaign_id, CampaignStatus.DONE)
            run.done = True
            return run
        if inflight and not pending:  # another sender is finishing, or died: wait and see
            await asyncio.sleep(POLL_SECONDS)
            run.recovered += await asyncio.to_thread(_recover, sessions, campaign_id, config)


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


def _claim(
    sessions: sessionmaker[Session], campaign_id: int, worker: str, channel: str
) -> outbox.Claimed | None:
    with sessions.begin() as session:
        return outbox.claim(session, campaign_id=campaign_id, worker=worker, channel=channel)


def _finish(sessions: sessionmaker[Session], claimed: outbox.Claimed, result: Result) -> None:
    assert result.status is not None
    with sessions.begin() as session:
        outbox.finish(
            session, claimed=claimed, status=result.status, reason=result.reason, gone=result.gone
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
    while run.paused is None:
        if not force and (why := closed_reason(now(), config)):
            run.paused = why
            return
        claimed = await asyncio.to_thread(_claim, sessions, campaign.id, worker, channel)
        if claimed is None:
            return
        message = OutboundMessage(
            claimed.channel,  # type: ignore[arg-type]  # only telegram/whatsapp are stored
            claimed.address,
            campaign_reply(claimed.channel, campaign.text),
        )
        result = await _deliver(sessions, claimed, message, channels, pacers, config)
        await asyncio.to_thread(_finish, sessions, claimed, result)
        run.final += 1
        if result.status is RecipientStatus.SENT:
            run.sent += 1
            run.by_channel[claimed.channel] = run.by_channel.get(claimed.channel, 0) + 1
        if progress is not None:
            progress(1)


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
        await asyncio.to_thread(_touch, sessions, claimed.id)
    return Result(RecipientStatus.FAILED, f"{result.reason}_gave_up")
