"""What happened to a campaign: one bucket per recipient, failures by reason.

WhatsApp recipients accepted by Twilio move on to delivered/read/failed as status callbacks
arrive (stored by the channel in `outbound_statuses`, joined here by MessageSid). Telegram
has no delivery receipts: accepted means sent.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from bot.db.campaign_models import Campaign, CampaignRecipient, RecipientStatus
from bot.db.channel_models import OutboundStatus

BUCKETS = ("sent", "delivered", "read", "failed", "uncertain", "skipped", "pending")
_CALLBACK_BUCKET = {"delivered": "delivered", "read": "read", "failed": "failed"}
_CALLBACK_BUCKET |= {"undelivered": "failed", "canceled": "failed"}
_ROW_BUCKET = {
    RecipientStatus.PENDING: "pending",
    RecipientStatus.INFLIGHT: "pending",
    RecipientStatus.SENT: "sent",
    RecipientStatus.FAILED: "failed",
    RecipientStatus.UNCERTAIN: "uncertain",
    RecipientStatus.SKIPPED: "skipped",
    RecipientStatus.CANCELLED: "skipped",
}


def _rows(session: Session, campaign_id: int) -> Any:
    receipt = and_(
        OutboundStatus.channel == CampaignRecipient.channel,
        OutboundStatus.external_id == CampaignRecipient.external_id,
    )
    stmt = (
        select(
            CampaignRecipient.id,
            CampaignRecipient.channel,
            CampaignRecipient.status,
            CampaignRecipient.reason,
            CampaignRecipient.sent_at,
            OutboundStatus.status.label("receipt"),
            OutboundStatus.error_code,
        )
        .outerjoin(OutboundStatus, receipt)
        .where(CampaignRecipient.campaign_id == campaign_id)
        .order_by(CampaignRecipient.id)
    )
    return session.execute(stmt)


def _bucket(status: str, receipt: str | None, error_code: int | None) -> tuple[str, str | None]:
    bucket = _ROW_BUCKET[RecipientStatus(status)]
    if bucket == "sent" and receipt in _CALLBACK_BUCKET:
        bucket = _CALLBACK_BUCKET[receipt]
        if bucket == "failed":
            return bucket, f"twilio_{error_code or receipt}"
    return bucket, None


def summary(session: Session, *, campaign: Campaign) -> dict[str, Any]:
    """The JSON report: counts per bucket (they add up to `recipients`) and failure reasons."""
    counts: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for row in _rows(session, campaign.id):
        bucket, late_reason = _bucket(row.status, row.receipt, row.error_code)
        counts[bucket] += 1
        if bucket == "failed":
            failures[late_reason or row.reason or "unknown"] += 1
        elif bucket == "skipped":
            skipped[row.reason or "unknown"] += 1
    return {
        "id": campaign.id,
        "title": campaign.title,
        "status": campaign.status,
        "recipients": sum(counts.values()),
        **{b: counts[b] for b in BUCKETS},
        "failures": dict(failures),
        "skipped_reasons": dict(skipped),
    }


def as_csv(session: Session, *, campaign: Campaign) -> str:
    """One line per recipient, without addresses (the report travels by e-mail)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["recipient", "channel", "result", "reason", "sent_at"])
    for row in _rows(session, campaign.id):
        bucket, late_reason = _bucket(row.status, row.receipt, row.error_code)
        sent_at = row.sent_at.isoformat() if row.sent_at else ""
        writer.writerow([row.id, row.channel, bucket, late_reason or row.reason or "", sent_at])
    return out.getvalue()
