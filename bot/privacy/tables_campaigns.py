"""Privacy declarations of the campaign tables (bot/db/campaign_models.py)."""

from __future__ import annotations

from bot.privacy.registry import (
    Retention,
    by_address,
    by_address_hash,
    by_parent,
    not_personal,
    personal,
)

personal(
    "subscribers",
    reason="residents who opted in to campaigns: channel, address, comune",
    match=by_address(),
    # Active subscribers stay while they want the news; the rest go after the retention.
    retention=Retention("subscribers", "updated_at", only=lambda t: t.c.active.is_(False)),
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
