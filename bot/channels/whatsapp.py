"""WhatsApp adapter (Twilio): webhook form fields -> InboundMessage, replies -> Messages API.

Inside the 24-hour customer-service window replies are free-form, and buttons are real
interactive messages (quick-reply, list-picker: see `whatsapp_content`); numbered options
("1. ...", the flow maps "2" back) remain for more than 10 buttons or when the Content API
fails. Outside the window only an approved template may be sent. The twilio SDK is blocking:
every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from requests.exceptions import RequestException
from sqlalchemy.orm import Session, sessionmaker
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import (
    Attachment,
    ChannelName,
    InboundMessage,
    OutboundMessage,
    RateLimited,
    RecipientGone,
    Refused,
    Transient,
)
from bot.channels.delivery import short_ref, split_text
from bot.channels.location import Centroids, location_payload
from bot.channels.whatsapp_content import (
    CONTENT_API,
    MAX_ID,
    ContentApiError,
    ContentCache,
    Interactive,
    content_variables,
    interactive_for,
    units,
)
from bot.channels.whatsapp_content import MAX_BODY as MAX_INTERACTIVE_BODY
from bot.db import channel_repo
from bot.db.base import utcnow
from bot.settings import WhatsAppConfig
from flows.replies import Reply, numbered_text

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
MAX_BODY = 1600  # Twilio refuses longer message bodies (error 21617)
MAX_MEDIA = 10
RATE_LIMITED_WAIT = 1.0  # seconds after a 429 (Twilio gives no Retry-After hint)
# How long a window looked up ahead (`service_windows`) must stay open to count as open.
WINDOW_MARGIN = timedelta(minutes=10)
# Errors after which the resident cannot be reached (campaigns mark them inactive).
PERMANENT_ERRORS: dict[int, str] = {
    21211: "invalid_number",
    21610: "unsubscribed",
    21614: "not_a_mobile",
    63003: "unreachable",
    63016: "outside_window",
    63024: "invalid_recipient",
}
_ADDRESS = re.compile(r"^whatsapp:\+[1-9]\d{5,14}$")
_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")


class RebasedHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to another base URL (a test server or an egress proxy).

    With a base other than Twilio's, the Content API (content.twilio.com/v1/...) goes there
    too: its paths never clash with the REST API's /2010-04-01/..., so one fake server (or
    one proxy) serves both. It also keeps the SDK's request logging below INFO.
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        quiet = logging.getLogger(f"{__name__}.http")
        quiet.setLevel(logging.WARNING)
        super().__init__(timeout=timeout, logger=quiet)
        self._base = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self._base != TWILIO_API:
            for host in (TWILIO_API, CONTENT_API):
                if url.startswith(host):
                    url = self._base + url[len(host) :]
                    break
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class StatusReport:
    """One status callback: the latest state of a message we sent."""

    message_sid: str
    status: str
    error_code: int | None = None

    @property
    def recipient_gone(self) -> bool:
        return self.error_code in PERMANENT_ERRORS


class WhatsApp:
    """The WhatsApp channel through Twilio.

    Args:
        client: the twilio REST client (see `build_client`).
        auth_token: the account's auth token, which signs Twilio's webhooks.
        sender: our number, `whatsapp:+39...` (TWILIO_WHATSAPP_FROM).
        sessions: database sessions (service window, delivery statuses).
        status_callback: the public URL of /webhooks/whatsapp/status.
        config: template and window settings from config.yml.
        record_sends: store each MessageSid as it is sent (status callbacks find the
            resident by it). The campaign sender turns it off and stores the returned
            MessageSid with the outcome, in its own transaction: one write per message.
    """

    name: ChannelName = "whatsapp"

    def __init__(
        self,
        *,
        client: Client,
        auth_token: str,
        sender: str,
        sessions: sessionmaker[Session],
        status_callback: str,
        config: WhatsAppConfig,
        record_sends: bool = True,
        centroids: Centroids | None = None,
    ) -> None:
        self._client = client
        self._validator = RequestValidator(auth_token)
        self._sender = sender
        self._sessions = sessions
        self._status_callback = status_callback
        self._config = config
        self._record_sends = record_sends
        self._centroids = centroids or {}  # the territory's places, for a shared location
        self._contents = ContentCache(client=client, sessions=sessions)

    def signature_valid(self, url: str, params: Any, signature: str) -> bool:
        """Checks X-Twilio-Signature for the public URL Twilio called and its form fields."""
        return bool(signature) and self._validator.validate(url, params, signature)

    def parse(self, raw: Any) -> InboundMessage | None:
        """Form fields of an incoming message -> InboundMessage (ProfileName is never read).

        A tapped quick-reply (`ButtonPayload`, `ButtonText`) or a picked list item (`ListId`,
        `ListTitle`) gives our button's payload and its title, as a tap on Telegram does.
        """
        if not isinstance(raw, Mapping):
            return None
        sender, sid = _field(raw, "From"), _field(raw, "MessageSid")
        if not _ADDRESS.match(sender) or not _SID.match(sid):
            return None
        payload = (_field(raw, "ButtonPayload") or _field(raw, "ListId")).strip()[:MAX_ID] or None
        title = (_field(raw, "ButtonText") or _field(raw, "ListTitle")).strip()
        text = (title if payload and title else _field(raw, "Body").strip()) or None
        if (point := _coordinates(raw)) is not None:
            # Far away: no payload, so the flow asks for the comune again.
            text, payload = None, location_payload(*point, self._centroids)
        attachments = _media(raw)
        if point is None and not (text or payload or attachments):
            return None  # reactions and other kinds we cannot answer
        return InboundMessage(
            self.name, sender, text=text, payload=payload, external_id=sid, attachments=attachments
        )

    @staticmethod
    def parse_status(raw: Any) -> StatusReport | None:
        """Form fields of a status callback -> StatusReport, or None when malformed."""
        if not isinstance(raw, Mapping):
            return None
        sid, status = _field(raw, "MessageSid"), _field(raw, "MessageStatus").lower()
        if not _SID.match(sid) or status not in channel_repo.STATUS_RANK:
            return None
        code = _field(raw, "ErrorCode")
        return StatusReport(sid, status, int(code) if code.isdecimal() and len(code) < 10 else None)

    def store_status(self, report: StatusReport) -> bool:
        """Saves a status callback (blocking: call it in a thread). False if out of order."""
        if report.recipient_gone:
            log.warning(
                "whatsapp recipient gone reason=%s", PERMANENT_ERRORS[report.error_code or 0]
            )
        with self._sessions.begin() as session:
            return channel_repo.record_status(
                session,
                channel=self.name,
                external_id=report.message_sid,
                status=report.status,
                error_code=report.error_code,
                recipient_gone=report.recipient_gone,
            )

    async def send(self, message: OutboundMessage) -> str | None:
        """Sends one reply: free-form inside the 24-hour window (buttons as an interactive
        message), the template outside. Returns the MessageSid of the last message sent
        (None when there was no text).

        Raises:
            RecipientGone: Twilio refused the recipient permanently, or the window is closed
                and no template is configured.
            RateLimited: Twilio answered 429 (too many requests).
            Transient: a 5xx (`maybe_sent` False) or a network error (`maybe_sent` True).
            Refused: any other API error.
        """
        try:
            return await self._send(message)
        except TwilioRestException as exc:
            if exc.status == 429:
                raise RateLimited("twilio_429", RATE_LIMITED_WAIT) from exc
            if exc.status >= 500:
                raise Transient(f"twilio_{exc.status}") from exc
            raise Refused(f"twilio_{exc.code or exc.status}") from exc
        except RequestException as exc:  # the request may have reached Twilio
            raise Transient("twilio_network", maybe_sent=True) from exc

    async def _send(self, message: OutboundMessage) -> str | None:
        to = message.address
        window = message.service_window
        if window is None:  # sent right after this lookup: no margin
            windows = await asyncio.to_thread(self.service_windows, [to], margin=timedelta(0))
            window = windows[to]
        if window:
            return await self._send_in_session(to, message.reply)
        template = self._config.template_content_sid
        if template is None:
            raise self._gone(to, "outside_window", 63016)
        flat = " ".join(numbered_text(message.reply).split())[: self._config.template_max_chars]
        variables = json.dumps({self._config.template_variable: flat}, ensure_ascii=False)
        return await asyncio.to_thread(
            self._create, to, {"content_sid": template, "content_variables": variables}
        )

    async def typing(self, address: str) -> None:
        """Nothing: Twilio's WhatsApp API has no typing indicator to show."""
        return None

    def service_windows(
        self, addresses: Sequence[str], *, margin: timedelta = WINDOW_MARGIN
    ) -> dict[str, bool]:
        """Whether each resident's window is open and stays open `margin` longer (a caller
        that looks ahead sends a little later, and free text after the window closed would
        be refused with 63016)."""
        with self._sessions() as session:
            last = channel_repo.last_inbound_many(session, channel=self.name, addresses=addresses)
        window = timedelta(hours=self._config.window_hours)
        now = utcnow() + margin
        return {a: a in last and now - _aware(last[a]) < window for a in addresses}

    async def _send_in_session(self, to: str, reply: Reply) -> str | None:
        """Buttons as an interactive message where WhatsApp can show them, else numbered.

        Text beyond the interactive body's limit goes first, as plain messages. If the
        Content API fails, the options go as numbered text: nothing is lost.
        """
        content = interactive_for(reply.buttons) if reply.text.strip() else None
        if content is None:
            return await self._send_text(to, numbered_text(reply))
        *lead, last = split_text(reply.text, MAX_INTERACTIVE_BODY, size=units)
        for part in lead:
            await asyncio.to_thread(self._create, to, {"body": part})
        try:
            return await asyncio.to_thread(self._send_interactive, to, content, last)
        except ContentApiError as exc:
            log.warning(
                "whatsapp buttons sent as numbered text (interactive failed: %s) ref=%s",
                exc,
                short_ref(self.name, to),
            )
        return await self._send_text(to, numbered_text(Reply(last, reply.buttons)))

    async def _send_text(self, to: str, text: str) -> str | None:
        sid = None
        for part in split_text(text, MAX_BODY):
            sid = await asyncio.to_thread(self._create, to, {"body": part})
        return sid

    def _send_interactive(self, to: str, content: Interactive, text: str) -> str:
        content_sid = self._contents.sid_for(content)
        try:
            return self._create(
                to, {"content_sid": content_sid, "content_variables": content_variables(text)}
            )
        except TwilioRestException as exc:
            if exc.status == 429 or not 400 <= exc.status < 500:
                raise  # "not now" or uncertain: numbered text now could arrive twice
            # Refused (e.g. the content was deleted in the Console): made again next time.
            self._contents.forget(content, content_sid)
            raise ContentApiError(f"message refused, error {exc.code or exc.status}") from exc

    def _create(self, to: str, content: dict[str, str]) -> str:
        try:
            sent = self._client.messages.create(
                to=to, from_=self._sender, status_callback=self._status_callback, **content
            )
        except TwilioRestException as exc:
            if exc.code in PERMANENT_ERRORS:
                raise self._gone(to, PERMANENT_ERRORS[exc.code], exc.code) from exc
            raise
        sid = str(sent.sid)
        if self._record_sends:
            with self._sessions.begin() as session:
                channel_repo.record_sent(session, channel=self.name, sent=[(sid, to)])
        return sid

    def _gone(self, address: str, reason: str, code: int) -> RecipientGone:
        log.warning(
            "whatsapp recipient gone reason=%s ref=%s", reason, short_ref(self.name, address)
        )
        return RecipientGone(self.name, address, reason, code)


def build_client(account_sid: str, auth_token: str, *, base_url: str) -> Client:
    """A twilio REST client whose requests go to `base_url` (TWILIO_API_BASE_URL)."""
    client = Client(account_sid, auth_token, http_client=RebasedHttpClient(base_url))
    # The SDK imports its Messages API on first use (~60 ms): now, not during the first
    # paced campaign second, where that delay would bunch the following requests.
    _ = client.messages
    return client


def _field(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return value if isinstance(value, str) else ""


def _coordinates(raw: Mapping[str, Any]) -> tuple[float, float] | None:
    try:
        return float(_field(raw, "Latitude")), float(_field(raw, "Longitude"))
    except ValueError:
        return None


def _media(raw: Mapping[str, Any]) -> tuple[Attachment, ...]:
    count = _field(raw, "NumMedia")
    n = min(int(count), MAX_MEDIA) if count.isdecimal() and len(count) < 4 else 0
    found = []
    for i in range(n):
        url = _field(raw, f"MediaUrl{i}")
        if url.startswith("https://"):
            found.append(Attachment(_media_kind(_field(raw, f"MediaContentType{i}")), url))
    return tuple(found)


def _media_kind(content_type: str) -> str:
    if content_type == "image/webp":
        return "sticker"  # WhatsApp stickers arrive as WebP images
    major = content_type.split("/", 1)[0]
    return {"image": "photo", "audio": "voice", "video": "video"}.get(major, "document")


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone-aware columns; they are stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
