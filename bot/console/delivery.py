"""Delivers console-originated replies through the resident's channel.

Telegram and WhatsApp go through the channel adapters the app keeps on `app.state.channels`;
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
from bot.db import console_repo
from bot.db.models import Conversation

log = logging.getLogger(__name__)


class Deliverer:
    """Sends OutboundMessages; failures are logged (never the text) and counted."""

    def __init__(self, sessions: sessionmaker[Session], channels: Mapping[str, Channel]) -> None:
        self._sessions = sessions
        self._channels = channels

    @classmethod
    def of(cls, state: Any) -> Deliverer:
        """Built from the app's state (`sessions`, and `channels` when adapters exist)."""
        return cls(state.sessions, getattr(state, "channels", None) or {})

    async def send(self, messages: Sequence[OutboundMessage]) -> int:
        """Delivers in order; returns how many could not be delivered."""
        failures = 0
        for message in messages:
            try:
                if message.channel == "webchat":
                    await asyncio.to_thread(self._push_webchat, message)
                elif (channel := self._channels.get(message.channel)) is not None:
                    await channel.send(message)
                else:
                    log.warning("no adapter for channel=%s: reply not delivered", message.channel)
                    failures += 1
            except Exception as exc:  # a transport error must not lose the rest
                log.error(
                    "delivery failed channel=%s error=%s", message.channel, type(exc).__name__
                )
                failures += 1
        return failures

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
