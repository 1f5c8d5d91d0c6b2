"""The contract between transports and the conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from flows.replies import Button, Reply

ChannelName = Literal["telegram", "whatsapp", "webchat", "terminal"]

__all__ = [
    "Attachment",
    "Button",
    "Channel",
    "ChannelName",
    "InboundMessage",
    "OutboundMessage",
    "Windowed",
]


@dataclass(frozen=True)
class Attachment:
    """Something that is not text (photo, voice note, sticker, document)."""

    kind: str  # photo | voice | audio | video | sticker | document
    ref: str  # Telegram file_id or Twilio MediaUrl, shown to the operator


@dataclass(frozen=True)
class InboundMessage:
    """A resident's message, whatever the channel."""

    channel: ChannelName
    address: str  # Telegram chat id, whatsapp:+39..., web chat session
    text: str | None = None
    payload: str | None = None  # a tapped button
    external_id: str | None = None  # update id / MessageSid, for idempotency
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class OutboundMessage:
    """A reply addressed to one resident on one channel."""

    channel: ChannelName
    address: str
    reply: Reply
    # Whether the provider's customer-service window (WhatsApp: 24 hours after the
    # resident last wrote) is open, when the caller already looked it up for many residents
    # at once; None: the adapter looks it up itself.
    service_window: bool | None = None

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def buttons(self) -> tuple[Button, ...]:
        return self.reply.buttons


class Channel(Protocol):
    """What every adapter offers (Rasa's channel contract, without inheriting an SDK)."""

    name: ChannelName

    def parse(self, raw: Any) -> InboundMessage | None:
        """Turns the transport's payload into a message, or None when there is nothing to do."""
        ...

    async def send(self, message: OutboundMessage) -> str | None:
        """Delivers one reply. Returns the provider's id of the last message sent where the
        provider reports deliveries by that id (Twilio's MessageSid), else None."""
        ...


@runtime_checkable
class Windowed(Protocol):
    """A channel that may send free text only inside a service window (WhatsApp)."""

    def service_windows(self, addresses: Sequence[str]) -> dict[str, bool]:
        """Whether each resident's window is open and stays open for a while (blocking: one
        database query for all of them; call it in a thread)."""
        ...
