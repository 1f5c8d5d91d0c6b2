"""One campaign sender per channel at a time, across processes (a lease each).

The provider's limit is per bot or number, so two senders must not each spend it in full.
Another sender on the channel waits, and takes over within CHANNEL_LEASE_SECONDS if this one
dies; the holder renews its leases every RENEW_SECONDS while it sends.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.db import lease_repo

CHANNEL_LEASE_SECONDS = 30
RENEW_SECONDS = 10
PREFIX = "campaign-send:"  # + the channel: the lease's name


def take(sessions: sessionmaker[Session], names: list[str], worker: str) -> set[str]:
    """The channels this sender may send on now (their leases taken or renewed)."""
    with sessions.begin() as session:
        return {
            name
            for name in names
            if lease_repo.acquire(
                session, name=PREFIX + name, holder=worker, seconds=CHANNEL_LEASE_SECONDS
            )
        }


def give_back(sessions: sessionmaker[Session], names: list[str], worker: str) -> None:
    with sessions.begin() as session:
        for name in names:
            lease_repo.release(session, name=PREFIX + name, holder=worker)
