"""Web chat sessions bound to a cookie the server issues.

The `session` string of `POST /api/chat` names the conversation (the resident's address, as
in shared/DESIGN.md), but it is no longer enough to read one: on first use the server sets an
HttpOnly, SameSite=Strict cookie holding an HMAC of that session under a key derived from
FRONTDESK_DATA_KEY (so every worker and host checks it alike, and it rotates with the data
key). A later request for an existing conversation without the matching cookie, or for one
idle longer than `web.chat_session_idle_hours`, gets a fresh random session (192 bits) and a
new conversation instead; the response says which session is in force (`"session"`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.crypto import address_index, derived_keys
from bot.db.models import Conversation

COOKIE_PREFIX = "fd_chat_"
COOKIE_PATH = "/api/chat"
SESSION_HEADER = "x-chat-session"
_PURPOSE = "webchat-session-cookie"


def new_session_id() -> str:
    """A random session id issued by the server: 24 bytes (192 bits), url-safe."""
    return secrets.token_urlsafe(24)


def cookie_name(session: str) -> str:
    """One cookie per session, so a browser (or a test client) may hold several chats."""
    return COOKIE_PREFIX + hashlib.sha256(session.encode()).hexdigest()[:16]


def _mac(key: bytes, session: str) -> str:
    digest = hmac.new(key, session.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def cookie_value(session: str) -> str:
    """The cookie that proves this browser started `session` (HMAC under the newest key)."""
    return _mac(derived_keys(_PURPOSE)[0], session)


def holds(request: Request, session: str) -> bool:
    """True when the request carries the cookie of `session` (any configured key)."""
    given = request.cookies.get(cookie_name(session))
    if not given:
        return False
    return any(hmac.compare_digest(_mac(k, session), given) for k in derived_keys(_PURPOSE))


def set_cookie(response: Response, session: str, *, secure: bool, idle_hours: int) -> None:
    response.set_cookie(
        cookie_name(session),
        cookie_value(session),
        httponly=True,
        samesite="strict",
        secure=secure,
        path=COOKIE_PATH,
        max_age=idle_hours * 3600,
    )


def last_activity(db: Session, *, session: str) -> datetime | None:
    """When the web chat conversation `session` last had a message (None: no such one)."""
    at = db.scalar(
        select(Conversation.last_message_at).where(
            Conversation.channel == "webchat",
            Conversation.address_hash == address_index("webchat", session),
        )
    )
    if at is not None and at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=UTC)
    return at


def is_stale(at: datetime, *, idle_hours: int) -> bool:
    return at < datetime.now(UTC) - timedelta(hours=idle_hours)
