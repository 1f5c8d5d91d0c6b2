"""Webhook payloads in the exact shape Telegram and Twilio send them."""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

from twilio.request_validator import RequestValidator

from tests.channels.fakes import ACCOUNT_SID, AUTH_TOKEN

CHAT_ID = 987654321
_update_ids = itertools.count(500_000_000)
_message_ids = itertools.count(1)

SENDER = "whatsapp:+393331234567"
OUR_NUMBER = "whatsapp:+14155238886"


def _user(chat_id: int = CHAT_ID) -> dict[str, Any]:
    return {
        "id": chat_id,
        "is_bot": False,
        "first_name": "Giulia",
        "last_name": "Rossi",
        "username": "giulia_r",
        "language_code": "it",
    }


def _message(chat_id: int = CHAT_ID, chat_type: str = "private", **content: Any) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat |= {"first_name": "Giulia", "last_name": "Rossi", "username": "giulia_r"}
    else:
        chat |= {"title": "Genitori Tradate"}
    return {
        "message_id": next(_message_ids),
        "from": _user(chat_id),
        "chat": chat,
        "date": int(time.time()),
        **content,
    }


def tg_update(**kind: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **kind}


def tg_text(text: str, chat_id: int = CHAT_ID, chat_type: str = "private") -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return tg_update(message=_message(chat_id, chat_type, **content))


def tg_callback(data: str, chat_id: int = CHAT_ID) -> dict[str, Any]:
    shown = _message(chat_id, text="Vuoi continuare?")
    shown["from"] = {
        "id": 123456,
        "is_bot": True,
        "first_name": "Front desk",
        "username": "frontdesk_test_bot",
    }
    shown["reply_markup"] = {"inline_keyboard": [[{"text": "Sì", "callback_data": data}]]}
    query = {
        "id": str(4_000_000_000_000 + next(_message_ids)),
        "from": _user(chat_id),
        "message": shown,
        "chat_instance": "-7788990011223344",
        "data": data,
    }
    return tg_update(callback_query=query)


def tg_location(latitude: float, longitude: float) -> dict[str, Any]:
    location = {"latitude": latitude, "longitude": longitude}
    return tg_update(message=_message(location=location))


def _file(unique: str, size: int) -> dict[str, Any]:
    return {
        "file_id": f"AgACAgQAAxkBAAI{unique}",
        "file_unique_id": f"AQAD{unique}",
        "file_size": size,
    }


def tg_voice() -> dict[str, Any]:
    voice = _file("voice01", 10_240) | {"duration": 4, "mime_type": "audio/ogg"}
    return tg_update(message=_message(voice=voice))


def tg_photo(caption: str | None = None) -> dict[str, Any]:
    sizes = [
        _file("small", 1_200) | {"width": 90, "height": 67},
        _file("large", 88_000) | {"width": 1280, "height": 960},
    ]
    extra = {"caption": caption} if caption else {}
    return tg_update(message=_message(photo=sizes, **extra))


def tg_sticker() -> dict[str, Any]:
    sticker = _file("stick1", 20_000) | {
        "width": 512,
        "height": 512,
        "emoji": "👍",
        "set_name": "HotCherry",
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    return tg_update(message=_message(sticker=sticker))


def tg_document(caption: str) -> dict[str, Any]:
    document = _file("doc001", 55_000) | {"file_name": "isee.pdf", "mime_type": "application/pdf"}
    return tg_update(message=_message(document=document, caption=caption))


# --- Twilio ----------------------------------------------------------------------------


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


def wa_form(body: str = "", sender: str = SENDER, **extra: str) -> dict[str, str]:
    """An incoming WhatsApp message as Twilio posts it to the webhook."""
    sid = extra.pop("MessageSid", message_sid())
    form = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Giulia Rossi",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": sender.removeprefix("whatsapp:+"),
        "SmsStatus": "received",
        "Body": body,
        "To": OUR_NUMBER,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    return form | extra


def wa_media(content_type: str, url_id: str = "ME" + "1" * 32) -> dict[str, str]:
    kind = content_type.split("/")[0]
    media_url = (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/x/Media/{url_id}"
    )
    return wa_form(
        NumMedia="1", MessageType=kind, MediaUrl0=media_url, MediaContentType0=content_type
    )


def wa_location(latitude: float, longitude: float) -> dict[str, str]:
    return wa_form(MessageType="location", Latitude=str(latitude), Longitude=str(longitude))


def wa_button(payload: str, text: str) -> dict[str, str]:
    return wa_form(text, MessageType="button", ButtonPayload=payload, ButtonText=text)


def wa_list_reply(payload: str, title: str) -> dict[str, str]:
    """A list-picker item picked: Twilio posts the item's id and title."""
    return wa_form(title, MessageType="interactive", ListId=payload, ListTitle=title)


def wa_status(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    form = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "ChannelToAddress": "+39333XXXXXXX",
        "To": SENDER,
        "ChannelPrefix": "whatsapp",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": OUR_NUMBER,
        "ApiVersion": "2010-04-01",
        "ChannelInstallSid": "XE" + "0" * 32,
    }
    if error_code:
        form |= {"ErrorCode": error_code, "EventType": "UNDELIVERED"}
    return form


def twilio_signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """What Twilio puts in X-Twilio-Signature for this URL and these fields."""
    return RequestValidator(token).compute_signature(url, form)
