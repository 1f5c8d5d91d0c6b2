"""Getting replies out: the typed "recipient gone" signal, message splitting, and the
dispatcher that turns an accepted inbound message into replies sent in the background.

Shared by the Telegram and WhatsApp adapters, their webhooks and Telegram's polling loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol
from weakref import WeakValueDictionary

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Channel, ChannelName, InboundMessage, OutboundMessage
from bot.db import channel_repo

log = logging.getLogger(__name__)

_SEPARATORS = ("\n\n", "\n", " ")


class RecipientGone(Exception):
    """The resident cannot be reached any more (blocked the bot, unsubscribed, invalid number).

    Campaigns catch it to mark the subscriber inactive. `str()` never contains the address.

    Attributes:
        channel: the channel that refused the message.
        address: the resident's address on that channel.
        reason: a short machine-readable reason ("blocked", "unsubscribed", ...).
        code: the provider's error code, when it has one.
    """

    def __init__(
        self, channel: ChannelName, address: str, reason: str, code: int | None = None
    ) -> None:
        super().__init__(f"{channel} recipient gone: {reason}")
        self.channel = channel
        self.address = address
        self.reason = reason
        self.code = code


def short_ref(channel: str, address: str) -> str:
    """An 8-character pseudonym to correlate log lines without logging the address."""
    return channel_repo.address_hash(channel, address)[:8]


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


class Desk(Protocol):
    """What the dispatcher needs from bot.frontdesk.FrontDesk."""

    async def handle(self, message: InboundMessage) -> list[OutboundMessage]: ...


class Dispatcher:
    """Accepts inbound messages once and answers them in the background.

    Webhooks must answer fast and providers redeliver on timeouts, so `accept` only records
    the message id (insert-or-ignore) and schedules the work; the conversation, the NLU and
    the sends happen in a task whose failures are logged.

    Args:
        desk: the front desk.
        sessions: database sessions (for the redelivery receipts).
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
        self._tasks: set[asyncio.Task[None]] = set()
        # Receipts get their own threads: in the shared pool they would wait behind the
        # conversations being handled, and the webhook's answer with them.
        self._receipts = ThreadPoolExecutor(max_workers=2, thread_name_prefix="receipts")
        self._order: WeakValueDictionary[tuple[str, str], asyncio.Lock] = WeakValueDictionary()

    async def accept(
        self, message: InboundMessage, *, first: Callable[[], Awaitable[None]] | None = None
    ) -> bool:
        """Records the message and schedules its handling.

        Args:
            message: the parsed inbound message (its `external_id` is the redelivery key).
            first: something to do before the conversation (answering a Telegram button tap).

        Returns:
            False for a redelivery of a message already accepted (nothing is scheduled).
        """
        loop = asyncio.get_running_loop()
        fresh = await loop.run_in_executor(self._receipts, self._record, message)
        if not fresh:
            log.info(
                "%s redelivery ignored ref=%s",
                message.channel,
                short_ref(message.channel, message.address),
            )
            return False
        task = asyncio.create_task(self._process(message, first))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def drain(self) -> None:
        """Waits for the scheduled work (on shutdown, and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Finishes the scheduled work and releases the receipt threads."""
        await self.drain()
        self._receipts.shutdown(wait=False)

    def _record(self, message: InboundMessage) -> bool:
        with self._sessions.begin() as session:
            return channel_repo.accept_inbound(
                session,
                channel=message.channel,
                address=message.address,
                external_id=message.external_id,
            )

    async def _process(
        self, message: InboundMessage, first: Callable[[], Awaitable[None]] | None
    ) -> None:
        ref = short_ref(message.channel, message.address)
        # One resident's messages are answered in arrival order, replies included.
        lock = self._order.setdefault((message.channel, message.address), asyncio.Lock())
        try:
            if first is not None:
                await first()
            async with lock:
                replies = await self._desk.handle(message)
                await deliver(replies, self._channels)
        except Exception:  # a background task has nobody else to report to
            log.exception("%s message not answered ref=%s", message.channel, ref)
