"""The Telegram adapter on its own: parsing updates, sending through the rate limiter."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from bot.channels.base import Attachment, OutboundMessage
from bot.channels.delivery import RecipientGone
from bot.channels.telegram import Telegram, TelegramUpdate, build_bot, render, utf16_len
from flows.replies import Button, Reply
from territory.model import shipped_territory
from tests.channels.fakes import TOKEN, FakeTelegram, blocked_by_user, retry_after
from tests.channels.payloads import (
    CHAT_ID,
    tg_callback,
    tg_document,
    tg_location,
    tg_photo,
    tg_sticker,
    tg_text,
    tg_voice,
)

T = TypeVar("T")
OFFLINE = "http://127.0.0.1:9/bot"  # parsing never calls the API
TRADATE = shipped_territory("tradate")


def run_with(base_url: str, use: Callable[[Telegram], Awaitable[T]]) -> T:
    async def go() -> T:
        telegram = Telegram(build_bot(TOKEN, base_url=base_url, max_retries=2))
        try:
            return await use(telegram)
        finally:
            await telegram.stop()

    return asyncio.run(go())


@pytest.fixture
def api(fake_telegram: FakeTelegram, fake_telegram_server: tuple[FakeTelegram, str]) -> str:
    return f"{fake_telegram_server[1]}/bot"


def parse(update: Any) -> TelegramUpdate | None:
    bot = build_bot(TOKEN, base_url=OFFLINE, max_retries=0)
    return Telegram(bot, centroids=TRADATE.centroids).parse_update(update)


def test_parse_text_callback_location_and_media() -> None:
    text = parse(tg_text("cerco un nido"))
    assert text is not None and text.message.text == "cerco un nido"
    assert text.message.address == str(CHAT_ID) and text.message.channel == "telegram"
    assert text.callback_query_id is None

    tap = tg_callback("comune:Tradate")
    parsed = parse(tap)
    assert parsed is not None and parsed.message.payload == "comune:Tradate"
    assert parsed.callback_query_id == tap["callback_query"]["id"]
    assert parsed.message.external_id == str(tap["update_id"])

    near = parse(tg_location(45.7095, 8.9070))
    assert near is not None and near.message.payload == "comune:Tradate"
    far = parse(tg_location(41.9028, 12.4964))  # Roma
    assert far is not None and (far.message.payload, far.message.text) == ("location:far", None)

    voice = parse(tg_voice())
    assert voice is not None and voice.message.attachments == (
        Attachment("voice", "AgACAgQAAxkBAAIvoice01"),
    )
    assert voice.message.text is None
    photo = parse(tg_photo(caption="il modulo"))
    assert photo is not None and photo.message.text == "il modulo"
    assert photo.message.attachments[0].ref.endswith("large")
    sticker, doc = parse(tg_sticker()), parse(tg_document("isee"))
    assert sticker is not None and sticker.message.attachments[0].kind == "sticker"
    assert doc is not None and doc.message.attachments[0].kind == "document"


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        {"update_id": "x"},
        {"message": {"text": "ciao"}},
        {"update_id": 1},
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1}, "date": 0}},
        {"update_id": 1, "callback_query": {"id": "1", "from": {"id": 1}, "chat_instance": "c"}},
    ],
)
def test_unusable_updates_are_none(raw: Any) -> None:
    assert parse(raw) is None


def _forged(update: dict[str, Any], *path: str, value: Any) -> dict[str, Any]:
    node = update
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return update


@pytest.mark.parametrize(
    "forged",
    [
        _forged(tg_text("ciao"), "message", "chat", "id", value={"a": 1}),
        _forged(tg_text("ciao"), "message", "text", value=5),
        _forged(tg_text("ciao"), "message", "chat", value={}),
        _forged(tg_callback("x"), "callback_query", "data", value=[1]),
        _forged(tg_location(45.7, 8.9), "message", "location", "latitude", value="nord"),
    ],
)
def test_wrongly_typed_updates_are_none(forged: dict[str, Any]) -> None:
    assert parse(forged) is None


def test_render_uses_inline_keyboard_or_numbers_for_long_payloads() -> None:
    text, keyboard = render(Reply("Scegli", (Button("Tradate", "comune:Tradate"),)))
    assert text == "Scegli" and keyboard is not None
    assert keyboard.inline_keyboard[0][0].callback_data == "comune:Tradate"
    text, keyboard = render(Reply("Scegli", (Button("Lungo", "x" * 65), Button("Altro", "y"))))
    assert keyboard is None and text == "Scegli\n\n1. Lungo\n2. Altro"


def test_long_message_is_split_with_the_keyboard_on_the_last_part(
    fake_telegram: FakeTelegram, api: str
) -> None:
    paragraphs = [f"Paragrafo {i}: " + "parola " * 300 for i in range(8)]  # ~17,000 chars
    reply = Reply("\n\n".join(paragraphs), (Button("Altro", "menu:more"),))
    run_with(api, lambda t: t.send(OutboundMessage("telegram", str(CHAT_ID), reply)))
    sent = fake_telegram.named("sendMessage")
    assert len(sent) > 1
    assert all(utf16_len(c.params["text"]) <= 4096 for c in sent)
    assert all(c.params["text"].startswith("Paragrafo") for c in sent)  # cut between paragraphs
    assert [("reply_markup" in c.params) for c in sent] == [False] * (len(sent) - 1) + [True]
    joined = " ".join(c.params["text"] for c in sent)
    assert joined.split() == reply.text.split()


def test_retry_after_is_honoured(fake_telegram: FakeTelegram, api: str) -> None:
    fake_telegram.fail_next["sendMessage"] = [retry_after(1)]
    message = OutboundMessage("telegram", str(CHAT_ID), Reply("Ciao"))
    run_with(api, lambda t: t.send(message))
    first, second = fake_telegram.named("sendMessage")
    assert second.at - first.at >= 1.0
    assert second.params["text"] == "Ciao"


def test_blocked_bot_raises_recipient_gone_and_logs_without_chat_id(
    fake_telegram: FakeTelegram, api: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake_telegram.fail_next["sendMessage"] = [blocked_by_user()]
    message = OutboundMessage("telegram", str(CHAT_ID), Reply("Ciao"))
    with caplog.at_level(logging.INFO), pytest.raises(RecipientGone) as gone:
        run_with(api, lambda t: t.send(message))
    assert (gone.value.channel, gone.value.address, gone.value.reason) == (
        "telegram",
        str(CHAT_ID),
        "blocked",
    )
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "recipient gone" in warnings[0].getMessage()
    assert all(str(CHAT_ID) not in r.getMessage() for r in caplog.records)


def test_polling_delivers_updates_in_order(fake_telegram: FakeTelegram, api: str) -> None:
    fake_telegram.updates = [tg_text("uno"), tg_callback("consent:yes"), tg_text("tre")]
    seen: list[TelegramUpdate] = []

    async def use(telegram: Telegram) -> None:
        async def handle(update: TelegramUpdate) -> None:
            seen.append(update)

        task = asyncio.create_task(telegram.poll(handle, timeout=1))
        deadline = time.monotonic() + 5
        # Until the next getUpdates, which confirms the updates with its offset.
        while (len(seen) < 3 or len(fake_telegram.named("getUpdates")) < 2) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.02)
        task.cancel()

    run_with(api, use)
    assert [u.message.text or u.message.payload for u in seen] == ["uno", "consent:yes", "tre"]
    assert fake_telegram.named("deleteWebhook")
    offsets = [c.params.get("offset") for c in fake_telegram.named("getUpdates")]
    assert str(int(seen[-1].message.external_id or 0) + 1) in offsets
