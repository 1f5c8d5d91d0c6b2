"""Telegram adapter: Bot API updates -> InboundMessage, replies -> sendMessage with inline
keyboards. Wraps python-telegram-bot's `ExtBot` (for its AIORateLimiter); never subclasses it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType, InlineKeyboardButtonLimit, MessageLimit
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.channels.base import (
    Attachment,
    ChannelName,
    InboundMessage,
    NotSent,
    OutboundMessage,
    RateLimited,
    RecipientGone,
    Refused,
    Transient,
)
from bot.channels.delivery import short_ref, split_text
from bot.channels.location import Centroids, location_payload
from flows.replies import Reply, numbered_text

log = logging.getLogger(__name__)

# The commands shown in Telegram's menu; flows.turn.COMMANDS gives them their meaning.
BOT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Ricomincia da capo"),
    ("operatore", "Parla con un operatore del Social Point"),
    ("stop", "Non ricevere più aggiornamenti"),
    ("cancella", "Cancella i tuoi dati"),
    ("aiuto", "Cosa può fare l'assistente"),
)
ALLOWED_UPDATES = ("message", "callback_query")
_CHAT_ID = re.compile(r"^-?\d{1,20}$")
# Media a resident may send, in the order they are looked for; the value is Attachment.kind.
_MEDIA_KINDS = (
    ("voice", "voice"),
    ("audio", "audio"),
    ("video", "video"),
    ("video_note", "video"),
    ("sticker", "sticker"),
    ("document", "document"),
)


def utf16_len(text: str) -> int:
    """Telegram measures message length in UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def build_bot(
    token: str, *, base_url: str, max_retries: int, timeout: float = 5.0, overall_rate: int = 30
) -> ExtBot[Any]:
    """A Bot API client whose sends go through AIORateLimiter (which honours RetryAfter).

    Args:
        token: the bot's token.
        base_url: TELEGRAM_API_BASE_URL.
        max_retries: resends after a 429 inside the limiter.
        timeout: seconds to wait for each Bot API answer (then the send is Transient).
        overall_rate: sends per second to all chats together (Telegram's global limit).
    """
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    httpx_log = logging.getLogger("httpx")
    httpx_log.setLevel(max(httpx_log.getEffectiveLevel(), logging.WARNING))
    request = HTTPXRequest(read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout)
    return ExtBot(
        token,
        base_url=base_url,
        request=request,
        rate_limiter=AIORateLimiter(overall_max_rate=overall_rate, max_retries=max_retries),
    )


class Telegram:
    """The Telegram channel (webhook or long polling).

    Args:
        bot: the PTB client, see `build_bot`.
        centroids: the territory's places, for a shared location (none: it is "far").
    """

    name: ChannelName = "telegram"

    def __init__(self, bot: ExtBot[Any], *, centroids: Centroids | None = None) -> None:
        self._bot = bot
        self._centroids = centroids or {}

    async def start(self) -> None:
        """Opens the HTTP pool and checks the token (a failure is logged, not fatal)."""
        try:
            await self._bot.initialize()
        except TelegramError as exc:
            # Not str(exc): PTB puts the token in the InvalidToken message.
            log.warning("telegram bot not verified at start: %s", type(exc).__name__)

    async def stop(self) -> None:
        """Closes the HTTP pool."""
        await self._bot.shutdown()

    def parse(self, raw: Any) -> InboundMessage | None:
        """Parses an Update as posted to the webhook; None when there is nothing to answer.

        A button tap carries its callback query id (`tap_id`): see `acknowledgement`."""
        if not isinstance(raw, dict):
            return None
        try:
            parsed = self.from_update(Update.de_json(raw, self._bot))
        except Exception as exc:  # untrusted JSON into PTB's parser: any error means "skip"
            log.info("telegram update not understood: %s", type(exc).__name__)
            return None
        return parsed if parsed is None or _well_formed(parsed) else None

    def from_update(self, update: Update) -> InboundMessage | None:
        """Turns a PTB Update (webhook or getUpdates) into a message for the front desk."""
        external_id = str(update.update_id)
        query = update.callback_query
        if query is not None:
            chat = query.message.chat if query.message else None
            if not query.data or (chat is not None and chat.type != ChatType.PRIVATE):
                return None
            address = str(chat.id if chat else query.from_user.id)
            return InboundMessage(
                channel=self.name,
                address=address,
                payload=query.data,
                external_id=external_id,
                tap_id=query.id,
            )
        msg = update.message
        if msg is None or msg.chat.type != ChatType.PRIVATE:
            return None  # edits, channel posts, groups: not a resident talking to the bot
        return self._from_message(msg, external_id)

    def _from_message(self, msg: Message, external_id: str) -> InboundMessage | None:
        address = str(msg.chat.id)
        if msg.location is not None:
            # Far away: no payload, so the flow asks for the comune again.
            payload = location_payload(
                msg.location.latitude, msg.location.longitude, self._centroids
            )
            return InboundMessage(self.name, address, payload=payload, external_id=external_id)
        attachments = _attachments(msg)
        text = msg.text or msg.caption
        if not text and not attachments:
            return None  # contacts, polls, service messages
        return InboundMessage(
            self.name, address, text=text, external_id=external_id, attachments=attachments
        )

    def acknowledgement(self, message: InboundMessage) -> Callable[[], Awaitable[None]] | None:
        """What to do before the turn: answer the button tap, if the message is one."""
        return partial(self.answer_callback, message.tap_id) if message.tap_id else None

    async def answer_callback(self, callback_query_id: str) -> None:
        """Stops the spinner on the tapped button (a failure only costs the spinner)."""
        try:
            await self._bot.answer_callback_query(callback_query_id)
        except TelegramError as exc:
            log.info("telegram callback query not answered: %s", type(exc).__name__)

    async def send(self, message: OutboundMessage) -> str | None:
        """Sends one reply, split at 4096 characters, the keyboard on the last part.

        Returns:
            The message_id of the last part.

        Raises:
            RecipientGone: the resident blocked the bot or the chat no longer exists.
            RateLimited: a 429 the rate limiter's own retries did not get past.
            Transient: a 5xx, a timeout or a network error (`maybe_sent` for timeouts).
            Refused: any other Bot API error (a bad request).
        """
        text, keyboard = render(message.reply)
        parts = split_text(text, MessageLimit.MAX_TEXT_LENGTH, size=utf16_len)
        sent_id: str | None = None
        try:
            for i, part in enumerate(parts, start=1):
                sent = await self._bot.send_message(
                    chat_id=message.address,
                    text=part,
                    reply_markup=keyboard if i == len(parts) else None,
                )
                sent_id = str(sent.message_id)
        except TelegramError as exc:
            raise self._classified(message.address, exc) from exc
        return sent_id

    async def typing(self, address: str) -> None:
        """sendChatAction "typing": Telegram shows it for about 5 seconds or until our next
        message. A failure costs only the indicator: logged at DEBUG, never raised."""
        try:
            await self._bot.send_chat_action(chat_id=address, action=ChatAction.TYPING)
        except TelegramError as exc:
            log.debug("telegram typing not shown: %s", type(exc).__name__)

    def _classified(self, address: str, exc: TelegramError) -> NotSent:
        """The outcome a Bot API error means (see bot.channels.base)."""
        if isinstance(exc, Forbidden):
            return self._gone(address, "blocked")
        if isinstance(exc, BadRequest):
            if "chat not found" in exc.message.lower():
                return self._gone(address, "chat_not_found")
            return Refused(f"telegram_{type(exc).__name__.lower()}")
        if isinstance(exc, RetryAfter):
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            return RateLimited("telegram_429", seconds)
        if isinstance(exc, NetworkError):  # 5xx (502 "Bad Gateway"), timeouts, resets
            reason = "telegram_timeout" if isinstance(exc, TimedOut) else "telegram_network"
            return Transient(reason, maybe_sent=True)
        return Refused(f"telegram_{type(exc).__name__.lower()}")

    def _gone(self, address: str, reason: str) -> RecipientGone:
        log.warning(
            "telegram recipient gone reason=%s ref=%s", reason, short_ref(self.name, address)
        )
        return RecipientGone(self.name, address, reason)

    async def set_webhook(self, *, url: str, secret_token: str) -> None:
        """Points Telegram at our webhook and publishes the command menu."""
        await self._bot.set_webhook(
            url=url, secret_token=secret_token, allowed_updates=list(ALLOWED_UPDATES)
        )
        await self._bot.set_my_commands([BotCommand(c, d) for c, d in BOT_COMMANDS])

    async def poll(
        self, handle: Callable[[InboundMessage], Awaitable[object]], *, timeout: int = 30
    ) -> None:
        """Long-polls getUpdates until cancelled (development without a public URL).

        Args:
            handle: called with each parsed message, in order.
            timeout: seconds Telegram holds each getUpdates open.
        """
        await self._bot.delete_webhook()  # Telegram refuses getUpdates while a webhook is set
        offset: int | None = None
        pause = 1.0
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=offset, timeout=timeout, allowed_updates=list(ALLOWED_UPDATES)
                )
            except TelegramError as exc:
                log.warning(
                    "telegram polling failed: %s; retrying in %.0fs", type(exc).__name__, pause
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 60.0)
                continue
            pause = 1.0
            for update in updates:
                offset = update.update_id + 1
                if (parsed := self.from_update(update)) is not None:
                    await handle(parsed)


def render(reply: Reply) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and inline keyboard of a reply (one button per row: titles are long).

    A payload longer than Telegram's 64-byte callback_data would be refused with the whole
    message, so such a reply falls back to numbered options, which the flow maps back.
    """
    if not reply.buttons:
        return reply.text, None
    limit = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
    if any(len(b.payload.encode()) > limit for b in reply.buttons):
        log.warning("telegram button payload over %d bytes: numbered options instead", limit)
        return numbered_text(reply), None
    rows = [[InlineKeyboardButton(b.title, callback_data=b.payload)] for b in reply.buttons]
    return reply.text, InlineKeyboardMarkup(rows)


def _well_formed(message: InboundMessage) -> bool:
    # PTB's de_json trusts the JSON's types: a forged update could carry a dict as chat id.
    return (
        _CHAT_ID.match(message.address) is not None
        and isinstance(message.text, str | None)
        and isinstance(message.payload, str | None)
        and all(isinstance(a.ref, str) for a in message.attachments)
    )


def _attachments(msg: Message) -> tuple[Attachment, ...]:
    if msg.photo:
        return (Attachment("photo", msg.photo[-1].file_id),)  # the largest size comes last
    for field, kind in _MEDIA_KINDS:
        media = getattr(msg, field)
        if media is not None:
            return (Attachment(kind, media.file_id),)
    return ()
