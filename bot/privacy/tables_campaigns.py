"""Privacy declarations of the campaign tables (bot/db/campaign_models.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, RowMapping, Table, exists, select
from sqlalchemy.orm import Session

from bot.db.metadata import metadata
from bot.privacy.registry import (
    Retention,
    by_address,
    by_address_hash,
    by_parent,
    not_personal,
    personal,
)

BATCH = 500


def _unreachable_or_opted_out(subscribers: Table) -> ColumnElement[bool]:
    """Subscribers who get no campaign: unreachable (inactive), or with no topic left.

    An opt-out deletes the subscriptions but leaves the subscriber active.
    """
    subscriptions = metadata.tables["subscriptions"]
    has_topic = exists().where(subscriptions.c.subscriber_id == subscribers.c.id)
    return subscribers.c.active.is_(False) | ~has_topic


def _changed_consent_since(
    session: Session, rows: Sequence[RowMapping], cutoff: datetime
) -> set[int]:
    """The subscribers whose consent changed after `cutoff`, by the consent ledger.

    An opt-out deletes the subscriptions without touching the subscriber, so its
    `updated_at` may be years older than the opt-out: the retention runs from the ledger.
    """
    ledger = metadata.tables["consent_ledger"]
    owner = {(r["channel"], r["address_hash"]): r["id"] for r in rows}
    keys = list(owner)
    recent: set[int] = set()
    for start in range(0, len(keys), BATCH):
        hashes = {hashed for _, hashed in keys[start : start + BATCH]}
        stmt = (
            select(ledger.c.channel, ledger.c.address_hash)
            .where(ledger.c.address_hash.in_(hashes))
            .where((ledger.c.at >= cutoff) | (ledger.c.recorded_at >= cutoff))
            .distinct()
        )
        for channel, hashed in session.execute(stmt):
            if (channel, hashed) in owner:
                recent.add(owner[(channel, hashed)])
    return recent


personal(
    "subscribers",
    reason="residents who opted in to campaigns: channel, address, comune",
    match=by_address(),
    # Subscribers with a topic stay while they want the news; unreachable and opted-out
    # ones go after the retention, counted from their last change or consent event (the
    # ledger rows stay: they are the proof, with their own retention).
    retention=Retention(
        "subscribers",
        "updated_at",
        only=_unreachable_or_opted_out,
        spare=_changed_consent_since,
    ),
)
personal(
    "subscriptions",
    reason="the topics a subscriber opted in to",
    match=by_parent("subscriber_id", "subscribers", by_address()),
    retention=Retention(purged_with="subscribers"),
    exclude=("subscriber_id",),
)
personal(
    "campaign_recipients",
    reason="the campaign outbox: which message went to whom, and when",
    match=by_parent("subscriber_id", "subscribers", by_address()),
    retention=Retention("campaign_outbox", "sent_at"),
    exclude=("subscriber_id", "claimed_by"),
)
personal(
    "consent_ledger",
    reason="proof of each opt-in and opt-out (hashed address, wording, evidence)",
    match=by_address_hash(),
    retention=Retention("consent_ledger", "recorded_at"),
    exclude=("address_hash",),
    keep_on_erase="proof of consent the controller must be able to show (GDPR art. 7.1)",
)
not_personal("campaigns", reason="operational: the broadcasts admins write")
