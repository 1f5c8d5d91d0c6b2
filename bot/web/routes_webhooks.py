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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from functools import partial
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import ImmutableMultiDict

from bot.channels import factory
from bot.channels.base import InboundMessage
from bot.channels.delivery import Dispatcher
from bot.channels.telegram import Telegram
from bot.channels.whatsapp import WhatsApp
from bot.services import Services, app_services
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


async def _accept(
    request: Request, message: InboundMessage, first: Callable[[], Awaitable[None]] | None
) -> None:
    dispatcher = app_services(request).dispatcher
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
        found = app_services(request)
        telegram = found.channels.get("telegram")
        if not isinstance(telegram, Telegram):
            raise Rejected(404, "telegram channel not configured")
        secret = found.settings.env.TELEGRAM_WEBHOOK_SECRET
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "").encode()
        if secret is None or not hmac.compare_digest(given, secret.get_secret_value().encode()):
            raise Rejected(403, "bad secret token")
        _require_media_type(request, "application/json")
        try:
            raw = json.loads(await _read_capped(request))
        except (ValueError, RecursionError) as exc:
            raise Rejected(400, "body is not JSON") from exc
        message = telegram.parse(raw)
        if message is None:
            log.info("telegram update ignored")
            return JSONResponse({"ok": True})
        await _accept(request, message, telegram.acknowledgement(message))
    except Rejected as exc:
        return _rejection("telegram", exc)
    return JSONResponse({"ok": True})


async def _twilio_form(request: Request) -> tuple[WhatsApp, ImmutableMultiDict[str, str]]:
    """The verified form fields of a Twilio webhook (signature over the public URL)."""
    found = app_services(request)
    whatsapp = found.channels.get("whatsapp")
    if not isinstance(whatsapp, WhatsApp):
        raise Rejected(404, "whatsapp channel not configured")
    _require_media_type(request, "application/x-www-form-urlencoded")
    body = await _read_capped(request)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except ValueError as exc:
        raise Rejected(400, "body is not a form") from exc
    form = ImmutableMultiDict(pairs)
    # Behind a TLS proxy request.url is http://internal-host: Twilio signed the public URL.
    base = str(found.settings.env.PUBLIC_BASE_URL).rstrip("/")
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
async def messaging_channels(services: Services, *, polling: bool = False) -> AsyncIterator[None]:
    """Opens the app's channels and runs the dispatcher's recovery; closes them after.

    Args:
        services: the app's services (channels built by bot.channels.factory).
        polling: long-poll Telegram instead of waiting for its webhook (development).
    """
    dispatcher = services.dispatcher
    telegram = services.channels.get("telegram")
    poller: asyncio.Task[None] | None = None
    async with factory.opened(services.channels):
        if isinstance(telegram, Telegram) and polling:
            timeout = services.settings.config.telegram.polling_timeout_seconds
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


async def _accept_polled(
    dispatcher: Dispatcher, telegram: Telegram, message: InboundMessage
) -> None:
    await dispatcher.accept(message, first=telegram.acknowledgement(message))
