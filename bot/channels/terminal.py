"""The terminal channel of `frontdesk chat` (like `rasa shell`): buttons become numbers."""

from __future__ import annotations

from typing import Any

from bot.channels.base import ChannelName, InboundMessage, OutboundMessage
from flows.replies import numbered_text


class Terminal:
    """Reads lines typed by a developer or an operator trying the bot."""

    name: ChannelName = "terminal"

    def __init__(self, address: str, *, write: Any = print) -> None:
        self.address = address
        self._write = write

    def parse(self, raw: Any) -> InboundMessage | None:
        text = str(raw).strip()
        return InboundMessage(channel=self.name, address=self.address, text=text) if text else None

    async def send(self, message: OutboundMessage) -> None:
        self._write(f"🤖 {numbered_text(message.reply)}\n")
