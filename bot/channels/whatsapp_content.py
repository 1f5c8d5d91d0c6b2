"""Real WhatsApp buttons through Twilio's Content API: quick-reply and list-picker contents.

A reply's buttons become a content definition (the reply text is its one variable, so a
menu is created once however many texts come with it). Twilio gives each content a
ContentSid; the database maps the SHA-256 of the exact JSON definition to it, so every
process reuses what any of them created. The twilio SDK is blocking: call `ContentCache`
from a worker thread.

Limits, from Twilio's Content API reference (twilio.com/docs/content/twilio-quick-reply,
/docs/content/twiliolist-picker, /docs/content/using-variables-with-content-api):

- quick-reply: in session, without approval, at most 3 buttons; a WhatsApp button title
  holds 20 characters; body 1,024 characters.
- list-picker: 1 to 10 items; item 24 characters, description 72, id 200; body 1,024; the
  button that opens the list 20 characters (WhatsApp's limit for it).
- a variable value follows the limit of the field it fills (here the 1,024 of the body).

Lengths are counted in UTF-16 code units, which is never less than what WhatsApp counts.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from requests.exceptions import RequestException
from sqlalchemy.orm import Session, sessionmaker
from twilio.rest import Client

from bot.db import channel_repo
from flows.replies import Button

CONTENT_API = "https://content.twilio.com"
CONTENT_URL = f"{CONTENT_API}/v1/Content"
QUICK_REPLY = "twilio/quick-reply"
LIST_PICKER = "twilio/list-picker"

MAX_BODY = 1024
MAX_QUICK_REPLIES = 3
MAX_QUICK_REPLY_TITLE = 20
MAX_ITEMS = 10
MAX_ITEM = 24
MAX_DESCRIPTION = 72
MAX_ID = 200
MAX_LIST_BUTTON = 20

LANGUAGE = "it"
LIST_BUTTON = "Vedi le opzioni"  # opens the list; at most MAX_LIST_BUTTON characters
BODY = "1"  # the variable that carries the reply text
_BODY_PLACEHOLDER = "{{1}}"
_SAMPLE = {BODY: "Rete di Conciliazione"}  # Twilio's default when a send has no variables
ELLIPSIS = "…"
# Words a shortened title should not end on ("Sostegno psicologico e…").
# fmt: off
_DANGLING = frozenset({
    "e", "o", "ed", "di", "a", "ad", "da", "in", "con", "per", "su", "tra", "fra", "il", "lo",
    "la", "i", "gli", "le", "un", "uno", "una", "del", "della", "dei", "delle", "al", "alla",
    "ai", "alle",
})
# fmt: on
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


class ContentApiError(Exception):
    """The Content API did not give us a ContentSid (error status, network, bad answer)."""


@dataclass(frozen=True)
class Interactive:
    """A content definition for a set of buttons, ready to create or to look up.

    Attributes:
        content_type: QUICK_REPLY or LIST_PICKER.
        definition: the exact JSON sent to the Content API (without its friendly name).
    """

    content_type: str
    definition: str

    @property
    def key(self) -> str:
        """SHA-256 of the definition: what the cache is keyed by."""
        return hashlib.sha256(self.definition.encode()).hexdigest()


def interactive_for(buttons: Sequence[Button]) -> Interactive | None:
    """The interactive content for these buttons, or None where only numbered text works.

    Up to 3 buttons whose titles fit become a quick-reply. Otherwise, up to 10 become a
    list-picker: a title too long for an item is shortened at a word and given whole in the
    item's description. The payload is the action/item id, so a tap comes back as it.

    None for no buttons, more than 10, or payloads that cannot be ids (empty, duplicated,
    longer than 200 characters).
    """
    if not buttons or len(buttons) > MAX_ITEMS:
        return None
    payloads = [b.payload for b in buttons]
    if len(set(payloads)) < len(payloads) or any(not 0 < units(p) <= MAX_ID for p in payloads):
        return None
    titles = [" ".join(b.title.split()) for b in buttons]
    if not all(titles):
        return None
    fits = all(units(t) <= MAX_QUICK_REPLY_TITLE for t in titles)
    if len(buttons) <= MAX_QUICK_REPLIES and fits and len(set(titles)) == len(titles):
        actions = [{"id": p, "title": t} for p, t in zip(payloads, titles, strict=True)]
        return _definition(QUICK_REPLY, {"body": _BODY_PLACEHOLDER, "actions": actions})
    items = [_item(p, t) for p, t in zip(payloads, titles, strict=True)]
    body = {"body": _BODY_PLACEHOLDER, "button": LIST_BUTTON, "items": items}
    return _definition(LIST_PICKER, body)


def content_variables(text: str) -> str:
    """The `content_variables` of a send: the reply text (at most MAX_BODY) as the body."""
    return json.dumps({BODY: text}, ensure_ascii=False)


def units(text: str) -> int:
    """Length in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def shorten(title: str, limit: int) -> str:
    """`title` in at most `limit` characters: cut after a whole word, never after a dangling
    article or conjunction, ending with "…"; mid-word only if the first word is too long."""
    if units(title) <= limit:
        return title
    kept: list[str] = []
    for word in title.split():
        if units(" ".join([*kept, word])) + units(ELLIPSIS) > limit:
            break
        kept.append(word)
    while len(kept) > 1 and kept[-1].lower() in _DANGLING:
        kept.pop()
    cut = " ".join(kept).rstrip(" ,;:.-–—")
    if not cut:
        cut = title
        while units(cut) + units(ELLIPSIS) > limit:
            cut = cut[:-1]
    return cut + ELLIPSIS


def _item(payload: str, title: str) -> dict[str, str]:
    item = {"id": payload, "item": shorten(title, MAX_ITEM)}
    if item["item"] != title:  # the whole title where the resident can still read it
        item["description"] = shorten(title, MAX_DESCRIPTION)
    return item


def _definition(content_type: str, body: dict[str, Any]) -> Interactive:
    definition = {"language": LANGUAGE, "variables": _SAMPLE, "types": {content_type: body}}
    # Canonical JSON: the same buttons always give the same key.
    text = json.dumps(definition, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Interactive(content_type, text)


class ContentCache:
    """ContentSids by definition: this process's memory, then the database, then a create.

    Args:
        client: the twilio REST client (its http client routes content.twilio.com too).
        sessions: database sessions (table `whatsapp_contents`, shared by all processes).
    """

    def __init__(self, *, client: Client, sessions: sessionmaker[Session]) -> None:
        self._client = client
        self._sessions = sessions
        self._known: dict[str, str] = {}
        # One create at a time in this process: residents who get a new menu at the same
        # moment wait for the first create instead of each making a copy at Twilio.
        self._creating = threading.Lock()

    def sid_for(self, content: Interactive) -> str:
        """The ContentSid of `content`, created at Twilio the first time (blocking).

        Raises:
            ContentApiError: the content did not exist and could not be created.
        """
        if (sid := self._known.get(content.key)) is not None:
            return sid
        with self._creating:
            with self._sessions() as session:
                sid = channel_repo.find_content(session, definition_hash=content.key)
            if sid is None:
                created = self._create(content)
                with self._sessions.begin() as session:
                    sid = channel_repo.store_content(
                        session,
                        definition_hash=content.key,
                        content_sid=created,
                        content_type=content.content_type,
                    )
            self._known[content.key] = sid
            return sid

    def forget(self, content: Interactive, sid: str) -> None:
        """Drops a ContentSid Twilio refused, so the next send creates the content again."""
        self._known.pop(content.key, None)
        with self._sessions.begin() as session:
            channel_repo.forget_content(session, definition_hash=content.key, content_sid=sid)

    def _create(self, content: Interactive) -> str:
        body = {"friendly_name": f"frontdesk_{content.key[:16]}", **json.loads(content.definition)}
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        try:
            response = self._client.request("POST", CONTENT_URL, data=body, headers=headers)
        except RequestException as exc:
            raise ContentApiError(type(exc).__name__) from exc
        if not 200 <= response.status_code < 300:
            raise ContentApiError(f"status {response.status_code}")
        try:
            sid = json.loads(response.text).get("sid")
        except (ValueError, AttributeError) as exc:
            raise ContentApiError("malformed answer") from exc
        if not isinstance(sid, str) or not _CONTENT_SID.match(sid):
            raise ContentApiError("no ContentSid in the answer")
        return sid
