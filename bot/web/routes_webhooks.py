"""Telegram and WhatsApp webhooks: verify, parse, store durably, answer at once.

The message is stored in the inbox before the webhook answers 200 (a database error
answers 503: the provider redelivers). The conversation itself (NLU, flow, database,
sends) runs in the background through bot.channels.delivery.Dispatcher, so providers
never time out and retry; a crash mid-turn is picked up again by the recovery loop.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import ImmutableMultiDict

from bot.channels.base import Channel, InboundMessage
from bot.channels.delivery import Dispatcher
from bot.channels.telegram import Telegram, TelegramUpdate, build_bot
from bot.channels.webchat import WebChat
from bot.channels.whatsapp import WhatsApp, build_client
from bot.settings import Settings
from bot.web import limits

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks")

MAX_BODY_BYTES = 1_000_000  # real updates are a few KB; anything bigger is not from them
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class Rejected(Exception):
    """A request refused before parsing; becomes an HTTP status and one log line."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _rejection(channel: str, exc: Rejected) -> Response:
    log.info("%s webhook rejected status=%d: %s", channel, exc.status, exc.reason)
    return JSONResponse({"ok": False, "error": exc.reason}, status_code=exc.status)


def _require_media_type(request: Request, expected: str) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != expected:
        raise Rejected(415, f"content type must be {expected}")


async def _read_capped(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > MAX_BODY_BYTES:
        raise Rejected(413, "body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:  # a lying or missing Content-Length
            raise Rejected(413, "body too large")
    return bytes(body)


async def _accept(request: Request, message: InboundMessage, first: partial[Any] | None) -> None:
    dispatcher: Dispatcher = request.app.state.dispatcher
    if limits.over_resident_limit(request, message):  # abuse limits (issue 18, bot/web/limits)
        return
    try:
        await dispatcher.accept(message, first=first)
    except SQLAlchemyError as exc:  # the provider retries later: nothing is lost
        log.error("%s message not recorded: %s", message.channel, type(exc).__name__)
        raise Rejected(503, "temporarily unavailable") from exc


@router.post("/telegram")
async def telegram_webhook(request: Request) -> Response:
    """An Update from Telegram, authenticated by the secret token given at set-webhook."""
    try:
        telegram: Telegram | None = request.app.state.telegram
        if telegram is None:
            raise Rejected(404, "telegram channel not configured")
        secret = request.app.state.settings.env.TELEGRAM_WEBHOOK_SECRET
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "").encode()
        if secret is None or not hmac.compare_digest(given, secret.get_secret_value().encode()):
            raise Rejected(403, "bad secret token")
        _require_media_type(request, "application/json")
        try:
            raw = json.loads(await _read_capped(request))
        except (ValueError, RecursionError) as exc:
            raise Rejected(400, "body is not JSON") from exc
        update = telegram.parse_update(raw)
        if update is None:
            log.info("telegram update ignored")
            return JSONResponse({"ok": True})
        query_id = update.callback_query_id
        first = partial(telegram.answer_callback, query_id) if query_id else None
        await _accept(request, update.message, first)
    except Rejected as exc:
        return _rejection("telegram", exc)
    return JSONResponse({"ok": True})


async def _twilio_form(request: Request) -> tuple[WhatsApp, ImmutableMultiDict[str, str]]:
    """The verified form fields of a Twilio webhook (signature over the public URL)."""
    whatsapp: WhatsApp | None = request.app.state.whatsapp
    if whatsapp is None:
        raise Rejected(404, "whatsapp channel not configured")
    _require_media_type(request, "application/x-www-form-urlencoded")
    body = await _read_capped(request)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except ValueError as exc:
        raise Rejected(400, "body is not a form") from exc
    form = ImmutableMultiDict(pairs)
    # Behind a TLS proxy request.url is http://internal-host: Twilio signed the public URL.
    base = str(request.app.state.settings.env.PUBLIC_BASE_URL).rstrip("/")
    query = f"?{request.url.query}" if request.url.query else ""
    signature = request.headers.get(TWILIO_SIGNATURE_HEADER, "")
    if not whatsapp.signature_valid(base + request.url.path + query, form, signature):
        raise Rejected(403, "bad signature")
    return whatsapp, form


@router.post("/whatsapp")
async def whatsapp_webhook(request: Request) -> Response:
    """An incoming WhatsApp message, as Twilio posts it."""
    try:
        whatsapp, form = await _twilio_form(request)
        message = whatsapp.parse(form)
        if message is None:
            log.info("whatsapp message ignored")
        else:
            await _accept(request, message, None)
    except Rejected as exc:
        return _rejection("whatsapp", exc)
    return Response(_EMPTY_TWIML, media_type="text/xml")


@router.post("/whatsapp/status")
async def whatsapp_status(request: Request) -> Response:
    """A delivery status callback for a message we sent."""
    try:
        whatsapp, form = await _twilio_form(request)
        report = whatsapp.parse_status(form)
        if report is None:
            log.info("whatsapp status ignored")
        else:
            try:
                await asyncio.to_thread(whatsapp.store_status, report)
            except SQLAlchemyError as exc:
                log.error("whatsapp status not stored: %s", type(exc).__name__)
                raise Rejected(503, "temporarily unavailable") from exc
    except Rejected as exc:
        return _rejection("whatsapp", exc)
    return Response(_EMPTY_TWIML, media_type="text/xml")


# --- lifecycle -------------------------------------------------------------------------


@asynccontextmanager
async def messaging_channels(app: FastAPI, *, polling: bool = False) -> AsyncIterator[None]:
    """Builds the enabled channels and the dispatcher on `app.state`, and closes them.

    Expects `app.state.settings`, `.sessions` and `.desk`; sets `.telegram`, `.whatsapp`
    (None when off), `.channels` (name -> adapter, for anyone sending replies) and
    `.dispatcher`.

    Args:
        app: the application being started.
        polling: long-poll Telegram instead of waiting for its webhook (development).
    """
    settings: Settings = app.state.settings
    telegram = _telegram(settings)
    whatsapp = _whatsapp(settings, app)
    adapters = (WebChat(), telegram, whatsapp)
    channels: dict[str, Channel] = {c.name: c for c in adapters if c is not None}
    dispatcher = Dispatcher(desk=app.state.desk, sessions=app.state.sessions, channels=channels)
    app.state.telegram, app.state.whatsapp = telegram, whatsapp
    app.state.channels, app.state.dispatcher = channels, dispatcher
    poller: asyncio.Task[None] | None = None
    if telegram is not None:
        await telegram.start()
        if polling:
            timeout = settings.config.telegram.polling_timeout_seconds
            handle = partial(_accept_polled, dispatcher, telegram)
            poller = asyncio.create_task(telegram.poll(handle, timeout=timeout))
    elif polling:
        log.warning("telegram polling requested but the telegram channel is off")
    # Every worker looks for unhandled messages and due replies (on start, then every few
    # seconds): the database decides who handles each one.
    recovery = asyncio.create_task(dispatcher.recovery())
    try:
        yield
    finally:
        for task in (poller, recovery):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        await dispatcher.close()
        if telegram is not None:
            await telegram.stop()


async def _accept_polled(
    dispatcher: Dispatcher, telegram: Telegram, update: TelegramUpdate
) -> None:
    query_id = update.callback_query_id
    first = partial(telegram.answer_callback, query_id) if query_id else None
    await dispatcher.accept(update.message, first=first)


def _enabled(settings: Settings, channel: str, required: Mapping[str, object]) -> bool:
    if channel not in settings.config.channels.enabled:
        return False
    if missing := [name for name, value in required.items() if not value]:
        log.warning("%s channel enabled but not configured: set %s", channel, ", ".join(missing))
        return False
    return True


def _telegram(settings: Settings) -> Telegram | None:
    env = settings.env
    if not _enabled(settings, "telegram", {"TELEGRAM_BOT_TOKEN": env.TELEGRAM_BOT_TOKEN}):
        return None
    assert env.TELEGRAM_BOT_TOKEN is not None
    token = env.TELEGRAM_BOT_TOKEN.get_secret_value()
    config = settings.config.telegram
    bot = build_bot(
        token,
        base_url=env.TELEGRAM_API_BASE_URL,
        max_retries=config.max_retries,
        timeout=config.timeout_seconds,
    )
    return Telegram(bot, centroids=settings.config.territory.centroids)


def _whatsapp(settings: Settings, app: FastAPI) -> WhatsApp | None:
    env = settings.env
    required = {"TWILIO_ACCOUNT_SID": env.TWILIO_ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": env.TWILIO_AUTH_TOKEN,
                "TWILIO_WHATSAPP_FROM": env.TWILIO_WHATSAPP_FROM,
                "PUBLIC_BASE_URL": env.PUBLIC_BASE_URL}  # fmt: skip
    if not _enabled(settings, "whatsapp", required):
        return None
    assert env.TWILIO_ACCOUNT_SID and env.TWILIO_AUTH_TOKEN and env.TWILIO_WHATSAPP_FROM
    auth_token = env.TWILIO_AUTH_TOKEN.get_secret_value()
    client = build_client(env.TWILIO_ACCOUNT_SID, auth_token, base_url=env.TWILIO_API_BASE_URL)
    return WhatsApp(
        client=client,
        auth_token=auth_token,
        sender=env.TWILIO_WHATSAPP_FROM,
        sessions=app.state.sessions,
        status_callback=f"{str(env.PUBLIC_BASE_URL).rstrip('/')}/webhooks/whatsapp/status",
        config=settings.config.whatsapp,
        centroids=settings.config.territory.centroids,
    )
