"""Opt-in, opt-out and reachability of subscribers; every consent change goes to the ledger.

Keyword-only functions on an open transaction (the caller commits).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.crypto import address_index
from bot.db.base import utcnow
from bot.db.campaign_models import ConsentEvent, Subscriber, Subscription
from flows.copy import group
from flows.turn import SubscribeRequested, UnsubscribeRequested

NEWS_TOPIC = "novita"
CAMPAIGN_CHANNELS = ("telegram", "whatsapp")
EVIDENCE_CHARS = 500


def topics() -> tuple[str, ...]:
    """Every topic one can subscribe to: the need categories, plus general news."""
    return (*group("categories"), NEWS_TOPIC)


@dataclass(frozen=True)
class Consent:
    """How and when consent was given or withdrawn (what the ledger must prove)."""

    source: str  # chat | stop | import:<origin> | ...
    wording_version: str
    evidence: str | None = None  # the message or button that gave it
    at: datetime | None = None  # default: now


def find(session: Session, *, channel: str, address: str) -> Subscriber | None:
    """The subscriber with this address, if any."""
    stmt = select(Subscriber).where(
        Subscriber.channel == channel, Subscriber.address_hash == address_index(channel, address)
    )
    return session.scalars(stmt).first()


def subscribe(
    session: Session,
    *,
    channel: str,
    address: str,
    topics: Iterable[str],
    comune: str | None,
    consent: Consent,
    reactivate: bool = True,
) -> tuple[Subscriber, list[str]]:
    """Opts the resident in to `topics` (idempotent).

    Args:
        session: an open transaction.
        channel: telegram or whatsapp.
        address: chat id or whatsapp:+39...
        topics: need categories and/or `novita`.
        comune: where the resident lives, for audiences by comune.
        consent: source, wording and evidence for the ledger.
        reactivate: the resident is reachable again (they just wrote to us); an import
            cannot know that, so it leaves an unreachable subscriber inactive.

    Returns:
        The subscriber and the topics that were not subscribed before (ledgered).
    """
    sub = find(session, channel=channel, address=address)
    if sub is None:
        sub = Subscriber(channel=channel, address=address, comune=comune)
        session.add(sub)
        session.flush()
    if reactivate:
        sub.active, sub.inactive_reason = True, None
    if comune:
        sub.comune = comune
    current = set(
        session.scalars(select(Subscription.topic).where(Subscription.subscriber_id == sub.id))
    )
    at = consent.at or utcnow()
    added = [t for t in dict.fromkeys(topics) if t not in current]
    for topic in added:
        session.add(Subscription(subscriber_id=sub.id, topic=topic, consent_at=at))
        _ledger(session, sub, "opt_in", topic, consent)
    return sub, added


def unsubscribe(session: Session, *, channel: str, address: str, consent: Consent) -> bool:
    """Opts the resident out of everything; True when they had a subscription."""
    sub = find(session, channel=channel, address=address)
    if sub is None:
        return False
    removed = session.execute(
        delete(Subscription).where(Subscription.subscriber_id == sub.id)
    ).rowcount  # type: ignore[attr-defined]  # CursorResult at runtime
    if removed:
        _ledger(session, sub, "opt_out", None, consent)
    return bool(removed)


def opted_out_since(session: Session, *, channel: str, address: str, since: datetime) -> bool:
    """True when the resident withdrew consent at or after `since` (an old form must not
    override a later STOP)."""
    stmt = select(ConsentEvent.id).where(
        ConsentEvent.channel == channel,
        ConsentEvent.address_hash == address_index(channel, address),
        ConsentEvent.action == "opt_out",
        ConsentEvent.at >= since,
    )
    return session.scalars(stmt.limit(1)).first() is not None


def deactivate(session: Session, *, channel: str, address: str, reason: str) -> None:
    """Marks an unreachable resident (blocked the bot, Twilio 21610...): no more campaigns."""
    sub = find(session, channel=channel, address=address)
    if sub is not None and sub.active:
        sub.active, sub.inactive_reason = False, reason[:32]


def _ledger(
    session: Session, sub: Subscriber, action: str, topic: str | None, consent: Consent
) -> None:
    session.add(
        ConsentEvent(
            at=consent.at or utcnow(),
            channel=sub.channel,
            address_hash=address_index(sub.channel, sub.address),
            action=action,
            topic=topic,
            comune=sub.comune,
            source=consent.source[:64],
            wording_version=consent.wording_version[:32],
            evidence=(consent.evidence or "")[:EVIDENCE_CHARS] or None,
        )
    )


def record_chat_event(
    session: Session,
    *,
    channel: str,
    address: str,
    event: SubscribeRequested | UnsubscribeRequested,
    said: str | None,
    wording_version: str,
) -> None:
    """Persists an opt-in or opt-out the conversation produced (web chat has no campaigns).

    Args:
        session: the conversation's transaction.
        channel: the resident's channel.
        address: the resident's address on it.
        event: what the flow decided.
        said: the text or button payload that gave or withdrew consent (ledger evidence).
        wording_version: the opt-in sentence version in force (config.yml).
    """
    if channel not in CAMPAIGN_CHANNELS:
        return
    if isinstance(event, SubscribeRequested):
        consent = Consent("chat", wording_version, event.evidence or said)
        subscribe(
            session,
            channel=channel,
            address=address,
            topics=event.topics,
            comune=event.comune,
            consent=consent,
        )
    else:
        unsubscribe(
            session,
            channel=channel,
            address=address,
            consent=Consent("stop", wording_version, said),
        )
