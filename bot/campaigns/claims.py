"""The persisted outbox's rows: reserving, claiming, recovering, recording outcomes.

A row goes pending -> inflight (committed before the API call) -> final. A row found in
flight after its sender died is marked uncertain and never resent: a resident may have
received it, and a duplicate broadcast is worse than one reported as uncertain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Executable,
    Table,
    and_,
    bindparam,
    exists,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from bot import crypto
from bot.campaigns import channel_leases, subscriptions
from bot.campaigns.attempt import Result
from bot.db import channel_repo
from bot.db.base import utcnow
from bot.db.campaign_models import (
    CampaignRecipient,
    RecipientStatus,
    Subscriber,
    Subscription,
)
from bot.db.channel_models import OutboundStatus
from bot.db.console_models import SchedulerLease


@dataclass(frozen=True)
class Claimed:
    """A recipient this sender now owns (in flight)."""

    id: int
    channel: str
    address: str


# No ORM objects of these rows live in the sessions that update them: skip synchronising
# them (it costs more than the UPDATE itself at a hundred messages a second).
_NO_SYNC = {"synchronize_session": False}


def rowcount(session: Session, statement: Executable) -> int:
    return cast(CursorResult[Any], session.execute(statement, execution_options=_NO_SYNC)).rowcount


def recover(session: Session, *, campaign_id: int, older_than: timedelta) -> int:
    """Marks rows left in flight by a dead sender as uncertain. Returns how many.

    A row is the dead sender's when its claim is older than `older_than`, or as soon as
    its sender no longer holds the channel's lease (bot.campaigns.channel_leases: renewed every
    few seconds while it sends, so a lapsed lease means the sender is gone or stalled past
    it, and any row it still has in flight is settled at once).
    """
    now = utcnow()
    cutoff = now - older_than
    held = exists(
        select(SchedulerLease.name).where(
            SchedulerLease.name == literal(channel_leases.PREFIX).concat(CampaignRecipient.channel),
            SchedulerLease.holder == CampaignRecipient.claimed_by,
            SchedulerLease.expires_at >= now,
        )
    )
    return rowcount(
        session,
        update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.status == RecipientStatus.INFLIGHT,
            or_(CampaignRecipient.claimed_at < cutoff, ~held),
        )
        .values(status=RecipientStatus.UNCERTAIN, reason="sender_died"),
    )


def _available(cutoff: datetime) -> Any:
    """Pending and not reserved by a live sender (a reservation older than `cutoff` lapsed)."""
    return and_(
        CampaignRecipient.status == RecipientStatus.PENDING,
        or_(CampaignRecipient.claimed_by.is_(None), CampaignRecipient.claimed_at < cutoff),
    )


def _pick(
    session: Session, *, campaign_id: int, channel: str | None, cutoff: datetime, n: int
) -> Any:
    """The next `n` available rows with everything needed to decide whether to send them."""
    opted_in = exists(
        select(Subscription.id).where(Subscription.subscriber_id == CampaignRecipient.subscriber_id)
    )
    pick = (
        select(
            CampaignRecipient.id,
            Subscriber.channel,
            Subscriber.address,
            Subscriber.active,
            Subscriber.inactive_reason,
            opted_in.label("opted_in"),
        )
        .join(Subscriber, Subscriber.id == CampaignRecipient.subscriber_id)
        .where(CampaignRecipient.campaign_id == campaign_id, _available(cutoff))
        .order_by(CampaignRecipient.id)
        .limit(n)
    )
    if channel is not None:
        pick = pick.where(CampaignRecipient.channel == channel)
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent senders skip each other's locked rows instead of waiting for them.
        pick = pick.with_for_update(skip_locked=True, of=CampaignRecipient)
    return session.execute(pick).all()


def reserve(
    session: Session,
    *,
    campaign_id: int,
    worker: str,
    channel: str | None = None,
    size: int = 1,
    lease: timedelta = timedelta(seconds=30),
) -> list[Claimed]:
    """Reserves up to `size` pending recipients for this sender in one round trip.

    A reservation is not a claim: the rows stay `pending` (with `claimed_by`/`claimed_at`
    as a lease), so a sender that dies holding reservations leaves nothing uncertain; once
    the lease lapses any sender may take them. Each row is marked in flight by `start`
    right before its API call. Rows to skip (opted out, unreachable) are marked here.
    On PostgreSQL concurrent senders skip each other's locked rows; everywhere, the
    conditional UPDATE is what guarantees a row is reserved by one sender at a time.
    """
    now = utcnow()
    cutoff = now - lease
    while True:
        rows = _pick(session, campaign_id=campaign_id, channel=channel, cutoff=cutoff, n=size)
        if not rows:
            return []
        keep = {}
        gone = _gone_addresses(session, [r.address for r in rows if r.channel == "whatsapp"])
        for row in rows:
            skip = _skip_reason(session, row, gone=gone)
            if skip is None:
                keep[row.id] = row
                continue
            session.execute(
                update(CampaignRecipient)
                .where(CampaignRecipient.id == row.id, _available(cutoff))
                .values(status=RecipientStatus.SKIPPED, reason=skip)
            )
        if not keep:
            continue  # all skipped: look further
        taken = session.scalars(
            update(CampaignRecipient)
            .where(CampaignRecipient.id.in_(list(keep)), _available(cutoff))
            .values(claimed_by=worker[:80], claimed_at=now)
            .returning(CampaignRecipient.id)
        ).all()
        if taken:
            return [
                Claimed(keep[i].id, keep[i].channel, keep[i].address) for i in sorted(set(taken))
            ]


def start(session: Session, *, claimed: Claimed, worker: str) -> bool:
    """Marks one reserved row in flight (see `start_many`)."""
    return claimed.id in start_many(session, claimed=[claimed], worker=worker)


def start_many(session: Session, *, claimed: Sequence[Claimed], worker: str) -> set[int]:
    """Marks reserved rows in flight, in one UPDATE, right before their API calls (the caller
    commits at once). Returns the ids now in flight.

    A row is not started when it is no longer this sender's (its lease lapsed and another
    sender took it) or the resident opted out or became unreachable since the reservation:
    then it is released, and the next reservation decides what to do with it.
    """
    ids = [c.id for c in claimed]
    still_wanted = and_(
        exists(
            select(Subscription.id).where(
                Subscription.subscriber_id == CampaignRecipient.subscriber_id
            )
        ),
        exists(
            select(Subscriber.id).where(
                Subscriber.id == CampaignRecipient.subscriber_id, Subscriber.active.is_(True)
            )
        ),
    )
    mine = and_(
        CampaignRecipient.id.in_(ids),
        CampaignRecipient.status == RecipientStatus.PENDING,
        CampaignRecipient.claimed_by == worker[:80],
    )
    stmt = (
        update(CampaignRecipient)
        .where(mine, still_wanted)
        .values(
            status=RecipientStatus.INFLIGHT,
            claimed_at=utcnow(),
            attempts=CampaignRecipient.attempts + 1,
        )
        .returning(CampaignRecipient.id)
    )
    started = set(session.scalars(stmt, execution_options=_NO_SYNC).all())
    if rest := [i for i in ids if i not in started]:
        release(session, ids=rest, worker=worker)
    return started


def release(session: Session, *, ids: list[int], worker: str) -> int:
    """Gives back reservations this sender will not use (stopping early). Returns how many."""
    if not ids:
        return 0
    return rowcount(
        session,
        update(CampaignRecipient)
        .where(
            CampaignRecipient.id.in_(ids),
            CampaignRecipient.status == RecipientStatus.PENDING,
            CampaignRecipient.claimed_by == worker[:80],
        )
        .values(claimed_by=None, claimed_at=None),
    )


def release_all(session: Session, *, campaign_id: int, worker: str) -> None:
    """Gives back every reservation this sender still holds in a campaign (at its end)."""
    session.execute(
        update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.status == RecipientStatus.PENDING,
            CampaignRecipient.claimed_by == worker[:80],
        )
        .values(claimed_by=None, claimed_at=None)
    )


def claim(
    session: Session, *, campaign_id: int, worker: str, channel: str | None = None
) -> Claimed | None:
    """Takes the next pending recipient and marks it in flight (the caller commits at once).

    One row at a time (`reserve` + `start` is the batched path the sender uses).
    With `channel`, only that channel's recipients.
    """
    for claimed in reserve(session, campaign_id=campaign_id, worker=worker, channel=channel):
        if start(session, claimed=claimed, worker=worker):
            return claimed
    return None


def _gone_addresses(session: Session, addresses: list[str]) -> set[str] | None:
    """Which of these WhatsApp addresses a status callback reported gone: one query for a
    whole reservation (None when there are too many to ask at once: asked one by one)."""
    if not addresses or len(addresses) > 500:
        return None
    hashes = {crypto.address_index("whatsapp", a): a for a in addresses}
    stmt = select(OutboundStatus.address_hash).where(
        OutboundStatus.channel == "whatsapp",
        OutboundStatus.address_hash.in_(list(hashes)),
        OutboundStatus.recipient_gone.is_(True),
    )
    return {hashes[h] for h in session.scalars(stmt) if h is not None}


def _skip_reason(session: Session, row: Any, gone: set[str] | None = None) -> str | None:
    if not row.active:
        return str(row.inactive_reason or "inactive")
    if not row.opted_in:
        return "opted_out"
    # Only WhatsApp reports failures after the fact (status callbacks with 21610, 63016...).
    if row.channel == "whatsapp" and (
        row.address in gone
        if gone is not None
        else channel_repo.recipient_gone(session, channel=row.channel, address=row.address)
    ):
        subscriptions.deactivate(
            session, channel=row.channel, address=row.address, reason="provider_refused"
        )
        return "provider_refused"
    return None


def touch(session: Session, *, recipient_id: int) -> None:
    """Renews an in-flight claim before a retry (so it is not taken for a dead sender's)."""
    session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.id == recipient_id)
        .values(claimed_at=utcnow())
    )


def finish(session: Session, outcomes: Sequence[tuple[Claimed, Result]]) -> None:
    """Records the outcomes of sends, in one statement for any number of them (plus one for
    the WhatsApp MessageSids, and a deactivation for each resident who is gone).

    The MessageSid is stored here with the resident's hash, so that Twilio's status
    callbacks reach the recipient (the adapter does not store it on the send path).
    """
    if not outcomes:
        return
    now = utcnow()
    rows, sids = [], []
    for claimed, result in outcomes:
        assert result.status is not None, "a retry is not an outcome"
        sent = result.status is RecipientStatus.SENT
        sid = result.external_id if sent and claimed.channel == "whatsapp" else None
        rows.append(
            {
                "row": claimed.id,
                "new_status": result.status,
                "new_reason": result.reason and result.reason[:48],
                "new_sent_at": now if sent else None,
                "new_external_id": sid and sid[:64],
            }
        )
        if sid:
            sids.append((sid, claimed.address))
    table = cast(Table, CampaignRecipient.__table__)  # Core: one executemany for the batch
    session.execute(
        update(table)
        .where(table.c.id == bindparam("row"))
        .values(
            status=bindparam("new_status"),
            reason=bindparam("new_reason"),
            sent_at=bindparam("new_sent_at"),
            external_id=bindparam("new_external_id"),
        ),
        rows,
    )
    channel_repo.record_sent(session, channel="whatsapp", sent=sids)
    for claimed, result in outcomes:
        if result.gone:
            subscriptions.deactivate(
                session,
                channel=claimed.channel,
                address=claimed.address,
                reason=result.reason or "gone",
            )
