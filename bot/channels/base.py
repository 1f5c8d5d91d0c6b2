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
    "NotSent",
    "OutboundMessage",
    "RateLimited",
    "RecipientGone",
    "Refused",
    "ShowsTyping",
    "Transient",
    "Windowed",
    "show_typing",
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
    # A button tap the provider waits to have acknowledged (Telegram's callback query id);
    # only for the process that received it, never stored.
    tap_id: str | None = None


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


class NotSent(Exception):
    """A send that did not (certainly) deliver, classified by the adapter that tried.

    Adapters turn their SDK's errors (telegram, twilio, requests) into one of the subclasses,
    so that nothing else imports them. `str()` never contains the address or the text.

    Attributes:
        reason: a short machine-readable reason ("telegram_502", "twilio_21211", ...).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transient(NotSent):
    """Worth trying again later: 5xx, timeouts, connection errors.

    Attributes:
        maybe_sent: the request may have reached the provider (a timeout, a reset after
            sending): a campaign reports it as uncertain rather than risk a duplicate.
    """

    def __init__(self, reason: str, *, maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.maybe_sent = maybe_sent


class RateLimited(NotSent):
    """The provider said "not now" (429): try again after `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Refused(NotSent):
    """The provider refused this message for good (bad request): retrying cannot help."""


class RecipientGone(NotSent):
    """The resident cannot be reached any more (blocked the bot, unsubscribed, invalid number).

    Campaigns mark the subscriber inactive; the reply outbox marks the replies gone.

    Attributes:
        channel: the channel that refused the message.
        address: the resident's address on that channel.
        reason: a short machine-readable reason ("blocked", "unsubscribed", ...).
        code: the provider's error code, when it has one.
    """

    def __init__(
        self, channel: ChannelName, address: str, reason: str, code: int | None = None
    ) -> None:
        super().__init__(reason)
        self.args = (f"{channel} recipient gone: {reason}",)
        self.channel = channel
        self.address = address
        self.code = code


class Channel(Protocol):
    """What every adapter offers (Rasa's channel contract, without inheriting an SDK)."""

    name: ChannelName

    def parse(self, raw: Any) -> InboundMessage | None:
        """Turns the transport's payload into a message, or None when there is nothing to do."""
        ...

    async def send(self, message: OutboundMessage) -> str | None:
        """Delivers one reply. Returns the provider's id of the last message sent (Twilio's
        MessageSid, Telegram's message_id) or None.

        Raises:
            NotSent: one of its subclasses (Transient, RateLimited, Refused, RecipientGone).
        """
        ...


@runtime_checkable
class Windowed(Protocol):
    """A channel that may send free text only inside a service window (WhatsApp)."""

    def service_windows(self, addresses: Sequence[str]) -> dict[str, bool]:
        """Whether each resident's window is open and stays open for a while (blocking: one
        database query for all of them; call it in a thread)."""
        ...


@runtime_checkable
class ShowsTyping(Protocol):
    """A channel that can show the resident "typing…" (Telegram's sendChatAction).

    Optional part of the Channel contract: `show_typing` is a no-op for adapters without it
    (WhatsApp through Twilio has no typing indicator; the web chat has no push).
    """

    async def typing(self, address: str) -> None:
        """Shows "typing…" to the resident for a few seconds. Never raises: it is cosmetic."""
        ...


async def show_typing(channel: Channel | None, address: str) -> None:
    """Asks the adapter to show "typing…", if it can; otherwise does nothing."""
    if isinstance(channel, ShowsTyping):
        await channel.typing(address)
