"""Scheduled campaigns: a recurring job on the scheduler leader sends those that are due.

The schedule lives in the campaigns table, the job in APScheduler's SQLAlchemy job store:
after a restart the next tick finds the due campaigns (and resumes interrupted ones).
Quiet hours and holidays simply make the tick wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.sender import SendRefused, send_campaign
from bot.campaigns.windows import closed_reason
from bot.channels.base import Channel
from bot.db.base import utcnow
from bot.db.campaign_models import Campaign, CampaignStatus
from bot.settings import CampaignsConfig

log = logging.getLogger(__name__)
TICK_SECONDS = 60


def due(session: Session, *, now: datetime) -> list[int]:
    """Scheduled campaigns whose time has come, and scheduled ones a crash interrupted."""
    stmt = (
        select(Campaign.id)
        .where(
            Campaign.status.in_((CampaignStatus.SCHEDULED, CampaignStatus.SENDING)),
            Campaign.scheduled_at.is_not(None),
            Campaign.scheduled_at <= now,
        )
        .order_by(Campaign.scheduled_at)
    )
    return list(session.scalars(stmt))


async def send_due(
    *,
    sessions: sessionmaker[Session],
    channels: Mapping[str, Channel],
    config: CampaignsConfig,
    now: Callable[[], datetime] = utcnow,
) -> list[int]:
    """Sends every due campaign unless broadcasting is closed now. Returns those finished."""
    if closed_reason(now(), config) is not None:
        return []  # deferred: the next open tick sends them

    def find() -> list[int]:
        with sessions() as session:
            return due(session, now=now())

    finished = []
    for campaign_id in await asyncio.to_thread(find):
        try:
            run = await send_campaign(
                sessions=sessions,
                campaign_id=campaign_id,
                channels=channels,
                config=config,
                now=now,
            )
        except SendRefused as exc:
            log.warning("scheduled campaign %d not sent: %s", campaign_id, exc)
            continue
        if run.done:
            finished.append(campaign_id)
        log.info("scheduled campaign %d: sent=%d done=%s", campaign_id, run.sent, run.done)
    return finished
