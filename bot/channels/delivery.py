"""Getting replies out: message splitting, and the dispatcher that stores an inbound
message durably, handles it once and in order, and sends the replies from the outbox.

Shared by the Telegram and WhatsApp adapters, their webhooks and Telegram's polling loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar
from weakref import WeakValueDictionary

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import (
    Attachment,
    Channel,
    InboundMessage,
    OutboundMessage,
    RecipientGone,
)
from bot.channels.replies import (
    Batch,
    ReplySender,
    holder_is_dead,
    short_ref,
    worker_name,
)
from bot.db import inbox_repo, reply_repo
from bot.db.delivery_models import InboxMessage
from flows.replies import Reply

log = logging.getLogger(__name__)
T = TypeVar("T")

_SEPARATORS = ("\n\n", "\n", " ")


def split_text(text: str, limit: int, *, size: Callable[[str], int] = len) -> list[str]:
    """Splits a long message into parts of at most `limit`, preferring natural boundaries.

    Paragraphs first, then lines, then words; only a single word longer than the limit is
    cut mid-word. Blank parts are dropped (providers reject empty messages).

    Args:
        text: the message.
        limit: the provider's maximum length.
        size: how the provider measures length (Telegram counts UTF-16 code units).
    """
    return [part.strip() for part in _split(text, limit, size, _SEPARATORS) if part.strip()]


def _split(text: str, limit: int, size: Callable[[str], int], seps: tuple[str, ...]) -> list[str]:
    if size(text) <= limit:
        return [text]
    if not seps:
        return _hard_cut(text, limit, size)
    sep, finer = seps[0], seps[1:]
    chunks: list[str] = []
    current = ""
    for piece in text.split(sep):
        candidate = current + sep + piece if current else piece
        if size(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        smaller = _split(piece, limit, size, finer)
        chunks.extend(smaller[:-1])
        current = smaller[-1]
    chunks.append(current)
    return chunks


def _hard_cut(text: str, limit: int, size: Callable[[str], int]) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        width = size(char)
        if used + width > limit:
            chunks.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += width
    chunks.append("".join(current))
    return chunks


async def deliver(
    messages: list[OutboundMessage], channels: Mapping[str, Channel]
) -> list[RecipientGone]:
    """Sends replies in order through their channels.

    Returns:
        The residents who turned out to be unreachable (their remaining replies are skipped).
    """
    gone: list[RecipientGone] = []
    skip: set[tuple[str, str]] = set()
    for message in messages:
        key = (message.channel, message.address)
        if key in skip:
            continue
        try:
            await channels[message.channel].send(message)
        except RecipientGone as exc:  # already logged by the adapter
            gone.append(exc)
            skip.add(key)
    return gone


def as_message(row: InboxMessage) -> InboundMessage:
    """A stored inbox row as the front desk takes it."""
    return InboundMessage(
        channel=row.channel,  # type: ignore[arg-type]  # only channel names are stored
        address=row.address,
        text=row.text,
        payload=row.payload,
        external_id=row.external_id,
        attachments=tuple(Attachment(a["kind"], a["ref"]) for a in row.attachments or []),
    )


class Desk(Protocol):
    """What the dispatcher needs from bot.frontdesk.FrontDesk."""

    async def handle_stored(
        self, message: InboundMessage, inbox_id: int, *, finish: Callable[[Session], T]
    ) -> T | None:
        """Handles a stored message; `finish` runs last in the turn's transaction and its
        result is returned. None when it had been handled already (nothing was done)."""
        ...


@dataclass(frozen=True)
class Answer:
    """What a client that waits for its reply (the web chat) gets back from `converse`.

    Attributes:
        address: the conversation the message belongs to (a retried request may find that
            its first attempt started a new one).
        replies: (outbox id, reply), in order; the ids let the page show each reply once.
        pending: the turn was not over in time: its replies will come by polling.
    """

    address: str
    replies: list[tuple[int, Reply]]
    pending: bool


@dataclass(frozen=True)
class TurnClaim:
    """The outcome of trying a conversation's turn lease.

    Attributes:
        lease: its name, None when another worker holds it (that worker sees the message).
        row: the oldest unhandled message to handle now (None: none is due).
    """

    lease: str | None
    row: InboxMessage | None


TURN_LEASE_SECONDS = 60  # a worker that dies mid-turn leaves the conversation after this
RECOVERY_SECONDS = 2.0  # how often unhandled messages and due replies are looked for
RECOVERY_CONCURRENCY = 8
ANSWER_POLL_SECONDS = 0.1  # how often `converse` looks for a turn another worker is taking


class Dispatcher:
    """Stores inbound messages durably, handles them once and in order, sends the replies.

    `accept` stores the message with its redelivery key (one transaction) and schedules
    its conversation at once (the fast path: the reply is usually out before the webhook's
    background task ends). The turn and its replies are one transaction (see FrontDesk);
    the replies are then sent from the reply outbox. `recovery` picks up, on start and every
    few seconds, messages nobody handled (a crash, a failed turn) and replies due for a
    retry. Whatever worker does it, the database decides: one conversation's turns run
    under a lease row, and a message is marked handled in its turn's transaction.

    Args:
        desk: the front desk.
        sessions: database sessions.
        channels: the adapters replies are sent through, by channel name.
    """

    def __init__(
        self,
        *,
        desk: Desk,
        sessions: sessionmaker[Session],
        channels: Mapping[str, Channel],
    ) -> None:
        self._desk = desk
        self._sessions = sessions
        self._channels = channels
        self.replies = ReplySender(sessions=sessions, channels=channels)
        self._worker = worker_name()
        self._tasks: set[asyncio.Task[None]] = set()
        self._active: set[tuple[str, str]] = set()  # conversations this process is draining
        # Receipts get their own threads: in the shared pool they would wait behind the
        # conversations being handled, and the webhook's answer with them.
        self._receipts = ThreadPoolExecutor(max_workers=2, thread_name_prefix="receipts")
        self._order: WeakValueDictionary[tuple[str, str], asyncio.Lock] = WeakValueDictionary()

    async def accept(
        self, message: InboundMessage, *, first: Callable[[], Awaitable[None]] | None = None
    ) -> bool:
        """Stores the message and schedules its conversation.

        Args:
            message: the parsed inbound message (its `external_id` is the redelivery key).
            first: something to do before the conversation (answering a Telegram button tap).

        Returns:
            False for a redelivery of a message already accepted (nothing is scheduled).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: not stored; the provider should redeliver.
        """
        loop = asyncio.get_running_loop()
        claim = await loop.run_in_executor(self._receipts, self._store, message)
        if claim is None:
            log.info(
                "%s redelivery ignored ref=%s",
                message.channel,
                short_ref(message.channel, message.address),
            )
            return False
        self._spawn(message.channel, message.address, first, claim)
        return True

    async def converse(self, message: InboundMessage, *, wait: float) -> Answer:
        """Stores a message whose sender waits for the answer, handles it like any other
        (same inbox, lease and outbox) and returns its replies, waiting at most `wait`
        seconds. A retried request (same `external_id`) gets the same replies again.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: not stored; the client should retry.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        inbox_id, address = await loop.run_in_executor(self._receipts, self._store_or_find, message)
        if inbox_id is None:  # a retry of a message purged long ago: nothing left to show
            return Answer(address, [], pending=False)
        await asyncio.wait({self._spawn(message.channel, address, None)}, timeout=wait)
        while True:  # another worker may hold the conversation: its commit is the answer
            done, replies = await asyncio.to_thread(self._answers, inbox_id)
            if done or loop.time() >= deadline:
                return Answer(address, replies, pending=not done)
            await asyncio.sleep(ANSWER_POLL_SECONDS)

    def _store_or_find(self, message: InboundMessage) -> tuple[int | None, str]:
        with self._sessions.begin() as session:
            inbox_id = inbox_repo.store(session, message=message)
            if inbox_id is not None or message.external_id is None:
                return inbox_id, message.address
            row = inbox_repo.received(
                session, channel=message.channel, external_id=message.external_id
            )
            return (row.id, row.address) if row is not None else (None, message.address)

    def _answers(self, inbox_id: int) -> tuple[bool, list[tuple[int, Reply]]]:
        with self._sessions.begin() as session:
            if not inbox_repo.is_handled(session, inbox_id=inbox_id):
                return False, []
            rows = reply_repo.pulled_for(session, inbox_id=inbox_id)
            return True, [(r.id, reply_repo.as_reply(r)) for r in rows]

    def kick(self, channel: str, address: str) -> None:
        """Schedules the resident's conversation and replies (e.g. after queueing replies)."""
        self._spawn(channel, address, None)

    def _spawn(
        self,
        channel: str,
        address: str,
        first: Callable[[], Awaitable[None]] | None,
        claim: TurnClaim | None = None,
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._process(channel, address, first, claim))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Waits for the scheduled work (on shutdown, and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Finishes the scheduled work and releases the receipt threads."""
        await self.drain()
        self._receipts.shutdown(wait=False)

    async def recovery(self, every: float = RECOVERY_SECONDS) -> None:
        """Until cancelled: handles what nobody is handling (unhandled messages of a dead or
        failed turn, replies due for a retry), starting at once."""
        while True:
            try:
                await self.recover_once()
            except Exception as exc:  # the database is briefly away: try again later
                log.warning("inbox recovery failed: %s", type(exc).__name__)
            await asyncio.sleep(every)

    async def recover_once(self) -> int:
        """One recovery round; returns how many conversations it scheduled."""
        found = await asyncio.to_thread(self._due)
        scheduled = 0
        for channel, address in found:
            if (channel, address) in self._active or len(self._active) >= RECOVERY_CONCURRENCY:
                continue
            self._spawn(channel, address, None)
            scheduled += 1
        return scheduled

    def _due(self) -> list[tuple[str, str]]:
        with self._sessions.begin() as session:
            # A restarted process finds its predecessor's claims: free them now, not in a minute.
            released = inbox_repo.release_dead_turns(session, is_dead=holder_is_dead)
            released += reply_repo.release_dead_claims(session, is_dead=holder_is_dead)
            if released:
                log.warning("released %d claims of a process that died", released)
            found = inbox_repo.pending_addresses(session)
            found += reply_repo.due_addresses(session)
        return [key for key in dict.fromkeys(found) if key[0] in self._channels]

    def _store(self, message: InboundMessage) -> TurnClaim | None:
        """Stores the message and, in the same transaction, tries the conversation's turn
        lease (the fast path: one commit less before the NLU). None for a redelivery."""
        with self._sessions.begin() as session:
            if inbox_repo.store(session, message=message) is None:
                return None
            return self._try_turn(session, message.channel, message.address)

    async def _process(
        self,
        channel: str,
        address: str,
        first: Callable[[], Awaitable[None]] | None,
        claim: TurnClaim | None,
    ) -> None:
        ref = short_ref(channel, address)
        key = (channel, address)
        lock = self._order.setdefault(key, asyncio.Lock())
        # Another task of this process has the conversation: a claim made meanwhile
        # (renewing our own lease) is stale by the time the lock is ours.
        if lock.locked():
            claim = None
        try:
            if first is not None:
                await first()
            async with lock:  # saves this process's tasks from racing for the same lease
                self._active.add(key)
                try:
                    if not await self._turns(channel, address, claim):
                        await self.replies.send_pending(channel, address)
                finally:
                    self._active.discard(key)
        except Exception:  # a background task has nobody else to report to
            log.exception("%s conversation not served ref=%s", channel, ref)

    async def _turns(self, channel: str, address: str, claim: TurnClaim | None = None) -> bool:
        """Handles the resident's unhandled messages in order, each under the turn lease.

        Args:
            claim: the lease already tried (when the message was stored), for the first turn.

        Returns:
            True when the replies were sent after the last turn (nothing else is due).
        """
        # The process's own name: `_process` already serialises this process's tasks per
        # resident, and a lease left behind by a failed release (the database away) is
        # simply renewed by the next task instead of being waited out.
        holder = self._worker
        ref = short_ref(channel, address)
        sent = False
        while True:
            if claim is None:
                claim = await asyncio.to_thread(self._claim, channel, address)
            lease, row = claim.lease, claim.row
            claim = None  # a stored claim serves the first turn only
            if lease is None:
                return sent  # another worker holds the conversation: it sees our message
            if row is None:
                await asyncio.to_thread(self._release, lease, holder)
                # A message stored while we held the lease may have found it taken.
                if await asyncio.to_thread(self._waiting, channel, address):
                    continue
                return sent
            # The turn's commit also gives the lease up and claims its replies: one
            # transaction instead of three (the fast path of every message).
            finish = partial(self._close_turn, lease, holder, row.id, channel, address)
            try:
                replies = await self._desk.handle_stored(as_message(row), row.id, finish=finish)
            except Exception as exc:
                log.exception("%s message not answered ref=%s", channel, ref)
                gave_up = await asyncio.to_thread(self._failed, row.id, type(exc).__name__)
                if gave_up:
                    log.error("%s message given up after retries ref=%s", channel, ref)
                await asyncio.to_thread(self._release, lease, holder)
                return sent
            if replies is None:
                continue  # another worker won this message; the lease is still ours
            # This turn's replies go before the next turn is understood.
            await self.replies.send_pending(channel, address, claimed=replies)
            sent = True
            # The lease is free now: a message stored meanwhile may have found it taken.
            if not await asyncio.to_thread(self._waiting, channel, address):
                return True

    def _close_turn(
        self, lease: str, holder: str, inbox_id: int, channel: str, address: str, session: Session
    ) -> Batch:
        inbox_repo.release_turn(session, lease=lease, holder=holder)
        return self.replies.claim_turn(session, channel=channel, address=address, inbox_id=inbox_id)

    def _claim(self, channel: str, address: str) -> TurnClaim:
        with self._sessions.begin() as session:
            return self._try_turn(session, channel, address)

    def _try_turn(self, session: Session, channel: str, address: str) -> TurnClaim:
        claimed = inbox_repo.claim_turn(
            session,
            channel=channel,
            address=address,
            holder=self._worker,
            seconds=TURN_LEASE_SECONDS,
        )
        return TurnClaim(None, None) if claimed is None else TurnClaim(*claimed)

    def _release(self, lease: str, holder: str) -> None:
        with self._sessions.begin() as session:
            inbox_repo.release_turn(session, lease=lease, holder=holder)

    def _waiting(self, channel: str, address: str) -> bool:
        with self._sessions() as session:
            return inbox_repo.has_unhandled(session, channel=channel, address=address)

    def _failed(self, inbox_id: int, error: str) -> bool:
        with self._sessions.begin() as session:
            return inbox_repo.failed(session, inbox_id=inbox_id, error=error)
