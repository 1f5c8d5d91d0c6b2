"""One resident talking to the real app through one channel's adapter.

- webchat: POST /api/chat, the replies come back in the response;
- telegram: POST /webhooks/telegram with the secret header (text updates, callback_query for
  taps), the replies are the sendMessage calls the fake Bot API received for that chat;
- whatsapp: POST /webhooks/whatsapp signed like Twilio (taps as quick-reply fields
  ButtonPayload/ButtonText), the replies are the fake Twilio Messages API calls to that number.

Webhook handling runs in background tasks: each turn waits for the dispatcher to drain (as
tests/channels does), never for a fixed time.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi.testclient import TestClient

from flows.copy import group, say
from tests.channels.conftest import post_twilio, post_update
from tests.channels.fakes import FakeTelegram, FakeTwilio
from tests.channels.payloads import tg_callback, tg_text, wa_form
from tests.dialogue.checks import BotMessage, is_notice, split_numbered

# The web chat page has no opening message yet: the spec wants one ("an empty web chat
# opening gets the welcome"). This is the payload the harness sends for it (see README).
WEBCHAT_OPENING = "menu:open"
_numbers = itertools.count(1)


class HarnessError(AssertionError):
    """The harness or the app's transport failed: not a verdict on the conversation."""


class Resident(Protocol):
    """A resident on one channel."""

    def say(self, text: str) -> list[BotMessage]: ...
    def tap(self, payload: str) -> list[BotMessage]: ...
    def open(self, param: str | None) -> list[BotMessage]: ...


@dataclass
class App:
    """The one app of the session (all channels on) and the fake provider servers."""

    client: TestClient
    telegram: FakeTelegram
    twilio: FakeTwilio


class _Errors(logging.Handler):
    """Collects the dispatcher's 'message not answered' records (with the exception)."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        detail = ""
        if record.exc_info and record.exc_info[1] is not None:
            detail = f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.sink.append(record.getMessage() + detail)


@contextmanager
def app_errors(app: App) -> Iterator[list[str]]:
    """Errors the app logged while the block ran (background tasks report only there)."""
    found: list[str] = []
    handler = _Errors(found)
    loggers = [logging.getLogger(n) for n in ("bot", "flows")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        yield found
    finally:
        for lg in loggers:
            lg.removeHandler(handler)


def button_title(payload: str) -> str:
    """The title of the button with this payload (WhatsApp sends it as ButtonText)."""
    fixed = {
        "consent:yes": "consent_yes_button",
        "consent:no": "consent_no_button",
        "yes": "yes_button",
        "no": "no_button",
        "menu:operator": "operator_button",
        "menu:more": "more_button",
        "menu:other": "other_need_button",
        "menu:done": "done_button",
        "eta:unknown": "dont_know_button",
        "comune:other": "other_comune_button",
    }
    if payload in fixed:
        return say(fixed[payload])
    kind, _, value = payload.partition(":")
    if kind == "cat":
        return group("categories")[value]
    return value or payload


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


def _check(resp: Any, what: str) -> None:
    if resp.status_code != 200:
        raise HarnessError(f"{what} answered HTTP {resp.status_code}: {resp.text[:300]}")


class WebChatResident:
    def __init__(self, app: App, scenario_id: str) -> None:
        self.app = app
        self.session = f"d{next(_numbers):04d}-{_slug(scenario_id)}"[:64]

    def say(self, text: str) -> list[BotMessage]:
        return self._post({"text": text})

    def tap(self, payload: str) -> list[BotMessage]:
        return self._post({"payload": payload})

    def open(self, param: str | None) -> list[BotMessage]:
        return self._post({"payload": WEBCHAT_OPENING})

    def _post(self, body: dict[str, str]) -> list[BotMessage]:
        resp = self.app.client.post("/api/chat", json={"session": self.session, **body})
        _check(resp, "/api/chat")
        return [
            BotMessage(
                m["text"],
                tuple(b["title"] for b in m["buttons"]),
                tuple(b["payload"] for b in m["buttons"]),
            )
            for m in resp.json()["messages"]
        ]


class TelegramResident:
    def __init__(self, app: App, scenario_id: str) -> None:
        self.app = app
        self.chat_id = 710_000_000 + next(_numbers)

    def say(self, text: str) -> list[BotMessage]:
        return self._post(tg_text(text, chat_id=self.chat_id))

    def tap(self, payload: str) -> list[BotMessage]:
        return self._post(tg_callback(payload, chat_id=self.chat_id))

    def open(self, param: str | None) -> list[BotMessage]:
        return self._post(tg_text("/start" + (f" {param}" if param else ""), chat_id=self.chat_id))

    def _post(self, update: dict[str, Any]) -> list[BotMessage]:
        before = len(self.app.telegram.calls)
        resp = post_update(self.app.client, update)  # waits for the background handling
        _check(resp, "/webhooks/telegram")
        out = []
        for call in self.app.telegram.calls[before:]:
            if call.method != "sendMessage" or str(call.params.get("chat_id")) != str(self.chat_id):
                continue
            markup = call.params.get("reply_markup") or {}
            rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
            keys = [b for row in rows for b in row]
            text, numbered = split_numbered(str(call.params["text"]))
            titles = tuple(b["text"] for b in keys) or numbered
            out.append(BotMessage(text, titles, tuple(b.get("callback_data", "") for b in keys)))
        return out


class WhatsAppResident:
    def __init__(self, app: App, scenario_id: str) -> None:
        self.app = app
        self.sender = f"whatsapp:+39347{next(_numbers):07d}"
        # payload -> (kind, title) of the options last shown: a list item is picked with
        # ListId/ListTitle, a quick-reply or numbered option tapped with ButtonPayload/Text.
        self.offered: dict[str, tuple[str, str]] = {}

    def say(self, text: str) -> list[BotMessage]:
        return self._post(wa_form(text, sender=self.sender))

    def tap(self, payload: str) -> list[BotMessage]:
        kind, title = self.offered.get(payload, ("button", button_title(payload)))
        if kind == "list":
            form = wa_form(
                title,
                sender=self.sender,
                MessageType="interactive",
                ListId=payload,
                ListTitle=title,
            )
        else:
            form = wa_form(
                title,
                sender=self.sender,
                MessageType="button",
                ButtonPayload=payload,
                ButtonText=title,
            )
        return self._post(form)

    def open(self, param: str | None) -> list[BotMessage]:
        raise HarnessError("WhatsApp has no chat opening: restrict the scenario's channels")

    def _post(self, form: dict[str, str]) -> list[BotMessage]:
        before = len(self.app.twilio.calls)
        resp = post_twilio(self.app.client, "/webhooks/whatsapp", form)  # waits, as above
        _check(resp, "/webhooks/whatsapp")
        out = []
        for call in self.app.twilio.calls[before:]:
            if call.params.get("To") != self.sender:
                continue
            out.append(self._message(call.params))
        if any(m.buttons for m in out):
            self.offered = {}
        for m in out:
            kind = "list" if m.kind.endswith("list-picker") else "button"
            self.offered.update({p: (kind, t) for p, t in zip(m.payloads, m.buttons, strict=False)})
        return out

    def _message(self, params: dict[str, Any]) -> BotMessage:
        if "Body" in params:  # free text, options numbered
            text, titles = split_numbered(params["Body"])
            return BotMessage(text, titles)
        shown = getattr(self.app.twilio, "shown", None)  # interactive (Content API) messages
        interactive = shown(params) if shown is not None else None
        if interactive is None:
            raise HarnessError(f"a template was sent instead of a reply: {params}")
        return BotMessage(
            interactive.text,
            interactive.full_titles,
            interactive.payloads,
            interactive.content_type,
        )


def resident(app: App, channel: str, scenario_id: str) -> Resident:
    """A resident with a fresh address on `channel`."""
    if channel == "webchat":
        return WebChatResident(app, scenario_id)
    if channel == "telegram":
        return TelegramResident(app, scenario_id)
    if channel == "whatsapp":
        return WhatsAppResident(app, scenario_id)
    raise HarnessError(f"unknown channel {channel!r}")


def without_notices(messages: list[BotMessage]) -> tuple[list[BotMessage], int]:
    """Drops the scheduler's queue notices (they arrive whenever its tick runs)."""
    kept = [m for m in messages if not is_notice(m)]
    return kept, len(messages) - len(kept)
