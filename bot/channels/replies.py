"""The sender of the reply outbox: conversations, operator replies and notices.

Sends one resident's queued replies in order through the channel adapters, honours
Telegram's per-chat pacing and 429 retry_after, retries 5xx and timeouts with backoff
(the next attempt time is in the database: it survives restarts) and records the final
status: sent, failed with its reason, or gone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from bot import crypto
from bot.channels.base import (
    Channel,
    NotSent,
    OutboundMessage,
    RateLimited,
    RecipientGone,
    Refused,
    Transient,
)
from bot.db import reply_repo
from bot.db.base import utcnow
from bot.db.delivery_models import ReplyStatus
from bot.db.reply_repo import Claimed

log = logging.getLogger(__name__)
T = TypeVar("T")

CLAIM_SECONDS = 60  # a worker that dies mid-send leaves its row to others after this
RETRY_BASE_SECONDS = 1.0  # 1, 2, 4 ... seconds between attempts after a 5xx or a timeout
RETRY_CAP_SECONDS = 60.0
GIVE_UP_AFTER = timedelta(hours=6)  # then the reply is failed (the console shows it)
# Telegram: "avoid sending more than one message per second" in a chat; short bursts are
# tolerated, so a turn's two or three replies go at once and a longer run is spaced out.
PACE_BURST = {"telegram": 3}
PACE_SECONDS = 1.0
# After a send the provider has the message: if the database is away when we record it,
# keep trying while our claim holds, or the row would be sent again once it lapses.
RECORD_FOR_SECONDS = CLAIM_SECONDS - 10


@dataclass(frozen=True)
class Batch:
    """Replies claimed for one run of sends.

    Attributes:
        holder: who claimed them.
        rows: the claimed replies, in order.
        recent: when the resident's last replies were sent, newest first (pacing).
    """

    holder: str
    rows: list[Claimed]
    recent: list[datetime]


def short_ref(channel: str, address: str) -> str:
    """An 8-character pseudonym to correlate log lines without logging the address."""
    return crypto.address_index(channel, address)[:8]


# Tells this process from an earlier one with the same pid (pid 1 in a restarted container).
_BOOT = uuid.uuid4().hex[:6]


def worker_name() -> str:
    """Host, process and boot: the first part of every claim this process makes."""
    return f"{socket.gethostname()}:{os.getpid()}:{_BOOT}"


def holder_is_dead(holder: str) -> bool:
    """Whether a claim was made by a process of this host that no longer runs (a crash or a
    restart): its claims can be released at once instead of waiting for them to lapse.
    Claims of other hosts, or not in `worker_name`'s form, are left to lapse."""
    host, _, rest = holder.partition(":")
    pid_text, _, rest = rest.partition(":")
    boot = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or len(boot) != len(_BOOT):
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return boot != _BOOT
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


class ReplySender:
    """Sends queued replies, one resident at a time, in order.

    Args:
        sessions: database sessions.
        channels: the adapters by channel name.
    """

    def __init__(self, *, sessions: sessionmaker[Session], channels: Mapping[str, Channel]) -> None:
        self._sessions = sessions
        self._channels = channels
        self._worker = worker_name()

    def holder(self) -> str:
        """A claimant name for one run of sends (this process's name and a nonce)."""
        return f"{self._worker}:{uuid.uuid4().hex[:8]}"

    async def send_pending(
        self, channel: str, address: str, *, claimed: Batch | None = None
    ) -> None:
        """Sends the resident's due replies, oldest first, until one has to wait.

        Args:
            claimed: rows claimed already (a turn claims its replies as it commits).
        """
        batch = claimed
        if batch is None or not batch.rows:  # e.g. older replies of the resident go first
            batch = await asyncio.to_thread(self._claim, channel, address, self.holder())
        rows = deque(batch.rows)
        if not rows:
            return
        pace = self._pacer(channel, batch.recent)
        while rows:
            row = rows.popleft()
            await pace()
            go_on, following = await self._send(row, batch.holder, then_claim=not rows)
            if not go_on:
                return
            if following is not None:
                rows.append(following)

    def claim_turn(self, session: Session, *, channel: str, address: str, inbox_id: int) -> Batch:
        """In the turn's transaction: claims the replies it queued, for a run of sends."""
        holder = self.holder()
        rows = reply_repo.claim_turn(
            session,
            channel=channel,
            address=address,
            inbox_id=inbox_id,
            holder=holder,
            seconds=CLAIM_SECONDS,
        )
        return self._batch(session, channel, address, holder, rows)

    def _claim(self, channel: str, address: str, holder: str) -> Batch:
        with self._sessions.begin() as session:
            row = reply_repo.claim_next(
                session, channel=channel, address=address, holder=holder, seconds=CLAIM_SECONDS
            )
            return self._batch(session, channel, address, holder, [row] if row else [])

    @staticmethod
    def _batch(
        session: Session, channel: str, address: str, holder: str, rows: list[Claimed]
    ) -> Batch:
        # The recent sends are read with the claim (one transaction), then counted in memory.
        burst = PACE_BURST.get(channel)
        recent = []
        if rows and burst is not None:
            recent = reply_repo.recent_sends(session, channel=channel, address=address, n=burst)
        return Batch(holder, rows, recent)

    @staticmethod
    def _pacer(channel: str, recent: list[datetime]) -> Callable[[], Awaitable[None]]:
        """Waits before each send so that at most `burst` messages go in any `burst` seconds
        (`recent`: the resident's last sends, newest first)."""
        burst = PACE_BURST.get(channel)
        recent = list(recent)

        async def pace() -> None:
            if burst is None:
                return
            if len(recent) >= burst:
                oldest = recent[burst - 1]
                wait = (oldest + timedelta(seconds=burst * PACE_SECONDS) - utcnow()).total_seconds()
                if wait > 0:
                    await asyncio.sleep(min(wait, burst * PACE_SECONDS))
            recent.insert(0, utcnow())

        return pace

    async def _send(
        self, row: Claimed, holder: str, *, then_claim: bool
    ) -> tuple[bool, Claimed | None]:
        """One attempt: whether the next row may follow at once and, with `then_claim`, that
        row, claimed in the transaction that records this one."""
        adapter = self._channels.get(row.channel)
        ref = short_ref(row.channel, row.address)
        if adapter is None:
            log.warning("no adapter for channel=%s: reply not delivered ref=%s", row.channel, ref)
            return await self._settle(
                row, holder, ReplyStatus.FAILED, reason="channel_off", then_claim=then_claim
            )
        message = OutboundMessage(row.channel, row.address, reply_repo.as_reply(row))  # type: ignore[arg-type]
        try:
            provider_id = await adapter.send(message)
        except RecipientGone as exc:
            await self._record(partial(self._gone, row, holder, exc.reason))
            return False, None
        except RateLimited as exc:
            log.info(
                "reply throttled reason=%s retry_in=%.1fs ref=%s", exc.reason, exc.retry_after, ref
            )
            await self._retry(row, holder, exc.retry_after, exc.reason)
            return False, None
        except Refused as exc:
            log.warning("reply refused reason=%s ref=%s", exc.reason, ref)
            return await self._settle(
                row, holder, ReplyStatus.FAILED, reason=exc.reason, then_claim=then_claim
            )
        except Exception as exc:  # Transient, or an adapter bug: retried with backoff
            reason = exc.reason if isinstance(exc, NotSent) else type(exc).__name__
            if not isinstance(exc, Transient):
                log.exception("reply not sent (unexpected) ref=%s", ref)
            if utcnow() - _aware(row.created_at) > GIVE_UP_AFTER:
                log.error("reply given up reason=%s ref=%s", reason, ref)
                return await self._settle(
                    row,
                    holder,
                    ReplyStatus.FAILED,
                    reason=f"gave_up:{reason}",
                    then_claim=then_claim,
                )
            backoff = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, row.attempts - 1))
            log.info("reply will be retried reason=%s in=%.0fs ref=%s", reason, backoff, ref)
            await self._retry(row, holder, backoff, reason)
            return False, None
        return await self._settle(
            row, holder, ReplyStatus.SENT, provider_id=provider_id, then_claim=then_claim
        )

    async def _settle(
        self,
        row: Claimed,
        holder: str,
        status: ReplyStatus,
        *,
        provider_id: str | None = None,
        reason: str | None = None,
        then_claim: bool = False,
    ) -> tuple[bool, Claimed | None]:
        def apply() -> Claimed | None:
            with self._sessions.begin() as session:
                reply_repo.settle(
                    session,
                    row_id=row.id,
                    holder=holder,
                    status=status,
                    provider_id=provider_id,
                    reason=reason,
                )
                if not then_claim:
                    return None
                return reply_repo.claim_next(
                    session,
                    channel=row.channel,
                    address=row.address,
                    holder=holder,
                    seconds=CLAIM_SECONDS,
                )

        return True, await self._record(apply)

    async def _retry(self, row: Claimed, holder: str, seconds: float, reason: str) -> None:
        def apply() -> None:
            with self._sessions.begin() as session:
                at = utcnow() + timedelta(seconds=seconds)
                reply_repo.retry(session, row_id=row.id, holder=holder, at=at, reason=reason)

        await self._record(apply)

    @staticmethod
    async def _record(apply: Callable[[], T]) -> T:
        """Runs a write about a send that happened, again while the database is briefly away."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((OperationalError, InterfaceError)),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_delay(RECORD_FOR_SECONDS),
            reraise=True,
        ):
            with attempt:
                return await asyncio.to_thread(apply)
        raise AssertionError("unreachable: tenacity reraises")

    def _gone(self, row: Claimed, holder: str, reason: str) -> None:
        with self._sessions.begin() as session:
            reply_repo.gone(session, channel=row.channel, address=row.address, reason=reason)


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they are stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)
