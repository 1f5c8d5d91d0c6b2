"""Delivers console-originated replies through the resident's channel.

Telegram and WhatsApp go through the reply outbox and the channel adapters the app keeps on
`app.state.channels`, like the conversation's replies;
the web chat has no push connection, so its messages wait in an outbox the page polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Channel, OutboundMessage
from bot.channels.replies import ReplySender
from bot.db import console_repo, reply_repo
from bot.db.delivery_models import ReplyStatus
from bot.db.models import Conversation

log = logging.getLogger(__name__)


class Deliverer:
    """Sends OutboundMessages through the reply outbox (in order, retried, statuses kept);
    failures are logged (never the text) and counted."""

    def __init__(self, sessions: sessionmaker[Session], channels: Mapping[str, Channel]) -> None:
        self._sessions = sessions
        self._channels = channels
        self._sender = ReplySender(sessions=sessions, channels=channels)

    @classmethod
    def of(cls, state: Any) -> Deliverer:
        """Built from the app's state (`sessions`, and `channels` when adapters exist)."""
        return cls(state.sessions, getattr(state, "channels", None) or {})

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
            if message.channel == "webchat":
                try:
                    await asyncio.to_thread(self._push_webchat, message)
                except Exception as exc:  # a transport error must not lose the rest
                    log.error("delivery failed channel=webchat error=%s", type(exc).__name__)
                    failures += 1
            elif message.channel in self._channels:
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
        return failures + sum(1 for i in ids if found.get(i, ("",))[0] != ReplyStatus.SENT)

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

    def _push_webchat(self, message: OutboundMessage) -> None:
        with self._sessions.begin() as session:
            conv_id = session.scalar(
                select(Conversation.id).where(
                    Conversation.channel == message.channel, Conversation.address == message.address
                )
            )
            if conv_id is None:
                raise LookupError("conversation not found")
            buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
            console_repo.push_webchat(
                session, conversation_id=conv_id, text=message.text, buttons=buttons
            )
