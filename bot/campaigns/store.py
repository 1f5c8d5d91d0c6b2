"""Campaigns themselves: creating one (its audience frozen into the outbox), cancelling,
moving its status along, what is left to send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from bot.campaigns.audience import Audience, audience_query
from bot.campaigns.claims import rowcount
from bot.db.base import utcnow
from bot.db.campaign_models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientStatus,
    Subscriber,
)


def create_campaign(
    session: Session,
    *,
    title: str,
    text: str,
    audience: Audience,
    scheduled_at: datetime | None = None,
) -> tuple[Campaign, int]:
    """Creates a campaign and freezes its audience into the outbox.

    Returns:
        The campaign and its number of recipients.
    """
    status = CampaignStatus.SCHEDULED if scheduled_at else CampaignStatus.READY
    campaign = Campaign(
        title=title,
        text=text,
        channel=audience.channel,
        topics=list(audience.topics),
        comuni=list(audience.comuni),
        status=status,
        scheduled_at=scheduled_at,
    )
    session.add(campaign)
    session.flush()
    # Subscriber order: the first to opt in are the first to receive.
    query = audience_query(audience).order_by(Subscriber.id)
    rows = query.add_columns(literal(campaign.id), literal("pending"))
    columns = ["subscriber_id", "channel", "campaign_id", "status"]
    session.execute(insert(CampaignRecipient).from_select(columns, rows))
    count = session.scalar(select(func.count()).where(CampaignRecipient.campaign_id == campaign.id))
    return campaign, count or 0


def cancel(session: Session, *, campaign_id: int) -> int:
    """Cancels a campaign: pending recipients will not be sent. Returns how many."""
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(status=CampaignStatus.CANCELLED, finished_at=utcnow())
    )
    return rowcount(
        session,
        update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.status == RecipientStatus.PENDING,
        )
        .values(status=RecipientStatus.CANCELLED, reason="cancelled"),
    )


def unfinished(session: Session, *, campaign_id: int) -> tuple[int, int]:
    """(pending, inflight) recipients of a campaign."""
    stmt = (
        select(CampaignRecipient.status, func.count())
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.status.in_((RecipientStatus.PENDING, RecipientStatus.INFLIGHT)),
        )
        .group_by(CampaignRecipient.status)
    )
    counts = {status: n for status, n in session.execute(stmt).tuples()}
    return counts.get(RecipientStatus.PENDING, 0), counts.get(RecipientStatus.INFLIGHT, 0)


def channels_to_send(session: Session, campaign_id: int) -> list[str]:
    """The channels that still have pending recipients in a campaign."""
    stmt = select(CampaignRecipient.channel).distinct()
    stmt = stmt.where(
        CampaignRecipient.campaign_id == campaign_id,
        CampaignRecipient.status == RecipientStatus.PENDING,
    )
    return sorted(session.scalars(stmt))


def set_status(session: Session, *, campaign_id: int, status: CampaignStatus) -> None:
    """Moves a campaign along (sending, done); a cancelled campaign stays cancelled."""
    values: dict[str, Any] = {"status": status}
    if status is CampaignStatus.SENDING:
        values["started_at"] = func.coalesce(Campaign.started_at, utcnow())
    if status is CampaignStatus.DONE:
        values["finished_at"] = utcnow()
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status != CampaignStatus.CANCELLED)
        .values(**values)
    )
