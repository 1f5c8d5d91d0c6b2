"""Delivers console-originated replies through the resident's channel.

Every channel goes through the reply outbox, like the conversation's replies: Telegram and
WhatsApp are sent by the app's adapters (`Services.channels`); the web chat has no
push connection, so its rows wait there until the page fetches them (reply_repo.PULLED).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Channel, OutboundMessage
from bot.channels.replies import ReplySender
from bot.db import reply_repo
from bot.db.delivery_models import ReplyStatus
from bot.services import Services

log = logging.getLogger(__name__)


class Deliverer:
    """Sends OutboundMessages through the reply outbox (in order, retried, statuses kept);
    failures are logged (never the text) and counted."""

    def __init__(self, sessions: sessionmaker[Session], channels: Mapping[str, Channel]) -> None:
        self._sessions = sessions
        self._channels = channels
        self._sender = ReplySender(sessions=sessions, channels=channels)

    @classmethod
    def of(cls, services: Services) -> Deliverer:
        """Through the app's channels (bot.services)."""
        return cls(services.sessions, services.channels)

    async def send(
        self, messages: Sequence[OutboundMessage], *, lines: Sequence[int | None] = ()
    ) -> int:
        """Delivers in order; returns how many were not delivered now (a reply waiting for
        a retry is sent later by the outbox's recovery).

        `lines`: the transcript line of each message, if any: its outbox row keeps the
        link, which the console's delivery marks follow (bot.console.receipts).
        """
        failures = 0
        queued: list[tuple[OutboundMessage, int | None]] = []
        for i, message in enumerate(messages):
            if message.channel in self._channels or message.channel in reply_repo.PULLED:
                queued.append((message, lines[i] if i < len(lines) else None))
            else:
                log.warning("no adapter for channel=%s: reply not delivered", message.channel)
                failures += 1
        if not queued:
            return failures
        ids = await asyncio.to_thread(self._queue, queued)
        for channel, address in dict.fromkeys((m.channel, m.address) for m, _ in queued):
            await self._sender.send_pending(channel, address)
        with self._sessions() as session:
            found = reply_repo.statuses(session, ids=ids)

        def delivered(row_id: int, channel: str) -> bool:
            status = found.get(row_id, ("",))[0]
            # A web chat row waits for the page to fetch it: queued is as good as sent.
            pulled = channel in reply_repo.PULLED and status == ReplyStatus.QUEUED
            return status == ReplyStatus.SENT or pulled

        return failures + sum(
            not delivered(i, m.channel) for i, (m, _) in zip(ids, queued, strict=True)
        )

    def _queue(self, messages: list[tuple[OutboundMessage, int | None]]) -> list[int]:
        with self._sessions.begin() as session:
            return [
                i
                for m, line in messages
                for i in reply_repo.queue(
                    session,
                    channel=m.channel,
                    address=m.address,
                    replies=[m.reply],
                    message_ids=[line],
                )
            ]
