"""Who a campaign is for: the audience and the subscribers it selects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from bot.db.campaign_models import Subscriber, Subscription


@dataclass(frozen=True)
class Audience:
    """Who a campaign is for: a channel (or all), topics and comuni (empty: any)."""

    channel: str = "all"
    topics: tuple[str, ...] = ()
    comuni: tuple[str, ...] = ()


def audience_query(audience: Audience) -> Any:
    """SELECT of (subscriber id, channel): active, opted in to a matching topic, one row each."""
    opted_in = select(Subscription.id).where(Subscription.subscriber_id == Subscriber.id)
    if audience.topics:
        opted_in = opted_in.where(Subscription.topic.in_(audience.topics))
    stmt = select(Subscriber.id, Subscriber.channel).where(
        Subscriber.active.is_(True), exists(opted_in)
    )
    if audience.channel != "all":
        stmt = stmt.where(Subscriber.channel == audience.channel)
    if audience.comuni:
        stmt = stmt.where(Subscriber.comune.in_(audience.comuni))
    return stmt


def audience_size(session: Session, *, audience: Audience) -> int:
    """How many residents a campaign with this audience would reach now."""
    return (
        session.scalar(select(func.count()).select_from(audience_query(audience).subquery())) or 0
    )
