"""Abuse limits for the public endpoints: body cap, JSON depth, per-address and per-session rates.

The counters live in a `limits` storage shared by every worker: `memory://` for the embedded
single-process default, `redis://host:6379/0` (or `redis+sentinel://`, `rediss://`) in
production, chosen by the `FRONTDESK_LIMITS_STORAGE` environment variable (it may carry a
password). Over a limit the resident gets a 429 in Italian with `Retry-After`; a message that
reads as an emergency gets the helplines in that same answer, never a bare refusal.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from bot.settings import AbuseConfig, Settings
from flows.copy import say
from nlu.safety import emergency_kind

log = logging.getLogger(__name__)

TOO_MANY = (
    "Stai inviando troppi messaggi in poco tempo. Aspetta {seconds} secondi e riprova. "
    "Se sei in pericolo chiama subito il 112 (emergenze) o il 1522 (antiviolenza, 24 ore su 24)."
)
TOO_BIG = "Il messaggio è troppo lungo o complesso: scrivi un testo più breve."
NOT_JSON = "il corpo della richiesta non è JSON valido"


class BodyRejected(Exception):
    """The request body is too large, too deeply nested or not JSON."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def json_depth_exceeds(raw: bytes, max_depth: int) -> bool:
    """True when arrays/objects nest deeper than `max_depth` (strings are skipped).

    Checked on the bytes before `json.loads`, which would otherwise recurse until Python's
    RecursionError on a body like `[[[[...]]]]`.
    """
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > max_depth:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 413 past `max_bytes` (declared or actually streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyRejected(413, TOO_BIG)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyRejected(413, TOO_BIG)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, config: AbuseConfig) -> Any:
    """The JSON body within the size and depth caps, or BodyRejected (413/400)."""
    raw = await read_capped(request, config.max_body_bytes)
    if json_depth_exceeds(raw, config.max_json_depth):
        raise BodyRejected(413, TOO_BIG)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BodyRejected(400, NOT_JSON) from exc


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on; when not, how long to wait."""

    allowed: bool
    retry_after: int = 0


ALLOWED = Verdict(True)


class AbuseLimits:
    """Sliding-window counters in the shared storage, one set per kind of key.

    Sliding-window counters (two counters per key, the previous window weighted) rather
    than a moving window (one entry per request): the in-memory storage sweeps every
    entry of every resident every 10 ms, which cost ~5 % of the app's CPU under load.

    Args:
        storage: a `limits` storage (memory, Redis); shared by workers unless memory.
        config: the rates of config.yml's `abuse` section.
    """

    def __init__(self, storage: Storage, config: AbuseConfig) -> None:
        self.storage = storage
        self.config = config
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._items: dict[str, RateLimitItem] = {
            "chat_address": parse(config.chat_per_address),
            "chat_session": parse(config.chat_per_session),
            "new_session": parse(config.new_sessions_per_address),
            "resident": parse(config.messages_per_resident),
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> AbuseLimits:
        return cls(limits_storage(settings), settings.config.abuse)

    def hit(self, kind: str, *key: str) -> Verdict:
        """Counts one request for `key`; atomic in the storage (a Lua script on Redis).

        A storage that does not answer lets the request through (logged): the front desk
        must keep answering residents, emergencies above all, when Redis is down.
        """
        item = self._items[kind]
        try:
            if self._limiter.hit(item, kind, *key):
                return ALLOWED
            reset = self._limiter.get_window_stats(item, kind, *key).reset_time
        except Exception as exc:  # the storage's client errors have no common base class
            log.error("rate limit storage unavailable (%s): request allowed", type(exc).__name__)
            return ALLOWED
        return Verdict(False, max(1, int(reset - time.time()) + 1))

    def chat(self, *, ip: str, session: str) -> Verdict:
        """One /api/chat request: per client address, then per session."""
        verdict = self.hit("chat_address", ip)
        return verdict if not verdict.allowed else self.hit("chat_session", session)

    def new_session(self, *, ip: str) -> Verdict:
        """A brand-new conversation started from this address."""
        return self.hit("new_session", ip)

    def resident(self, *, channel: str, address: str) -> Verdict:
        """One inbound message of a Telegram/WhatsApp resident (the expensive NLU path)."""
        return self.hit("resident", channel, address)


def limits_storage(settings: Settings) -> Storage:
    """The storage named by FRONTDESK_LIMITS_STORAGE (default `memory://`)."""
    uri = settings.env.FRONTDESK_LIMITS_STORAGE.get_secret_value()
    storage = storage_from_string(uri)
    if not isinstance(storage, Storage):
        raise ValueError(
            "FRONTDESK_LIMITS_STORAGE: use a synchronous storage (memory://, redis://)"
        )
    return storage


def of(request: Request) -> AbuseLimits:
    """The app's limits (built at start-up by bot.web.app)."""
    limits: AbuseLimits = request.app.state.abuse_limits
    return limits


def client_ip(request: Request) -> str:
    """The client address as uvicorn sees it (behind a proxy: run with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


def helplines_for(text: str | None) -> list[dict[str, object]]:
    """The emergency numbers, as /api/chat messages, when `text` reads as an emergency."""
    kind = emergency_kind(text or "") if text else None
    if kind is None:
        return []
    key = {
        "suicidio": "emergency_suicidio",
        "abuso_minori": "emergency_minori",
        "sanitaria": "emergency_sanitaria",
    }.get(kind, "emergency")
    return [{"text": say(key), "buttons": []}]


def too_many(verdict: Verdict, *, text: str | None = None) -> JSONResponse:
    """429 in Italian; an emergency still gets the helplines in `messages`."""
    error = TOO_MANY.format(seconds=verdict.retry_after)
    messages = helplines_for(text) or [{"text": error, "buttons": []}]
    return JSONResponse(
        {"error": error, "messages": messages},
        status_code=429,
        headers={"Retry-After": str(verdict.retry_after)},
    )


def over_resident_limit(request: Request, message: Any) -> bool:
    """True when a Telegram/WhatsApp sender is over `messages_per_resident` (the webhook then
    acknowledges without running the NLU and the flow). Emergencies always go through."""
    verdict = of(request).resident(channel=message.channel, address=message.address)
    if verdict.allowed or helplines_for(message.text):
        return False
    log.info("%s message dropped: sender over the abuse limit", message.channel)
    return True
