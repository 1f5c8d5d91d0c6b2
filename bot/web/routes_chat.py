"""The web chat page (/chat), its API (/api/chat) and the privacy page (/privacy)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from bot.channels.webchat import WebChat
from bot.services import app_services
from bot.web import chat_sessions, limits
from bot.web.chat_page import page_context
from bot.web.templating import templates

log = logging.getLogger(__name__)
router = APIRouter()
webchat = WebChat()
# How long a resident's request waits for its turn; longer turns are answered by polling.
REPLY_WAIT_SECONDS = 10.0


@router.post("/api/chat")
async def api_chat(request: Request) -> JSONResponse:
    """`{"session", "text"}` or `{"session", "payload"}` -> `{"messages": [...], "session"}`.

    `session` in the answer is the one in force: the same, or a new one when the conversation
    asked for belongs to another browser (no matching cookie) or has been idle too long.
    With a `client_id` a retried request is recognised: the message is handled once and the
    retry gets the same replies (each message has an `id`); `"pending": true` when the turn
    was not over in time (the replies then come from /api/chat/updates).
    """
    settings = app_services(request).settings
    limiter = limits.of(request)
    try:
        raw = await limits.read_json(request, settings.config.abuse)
    except limits.BodyRejected as exc:
        return JSONResponse({"error": exc.error}, exc.status)
    message = webchat.parse(raw)
    if message is None:
        return JSONResponse(
            {"error": "servono 'session' (8-64 caratteri) e 'text' o 'payload'"}, 422
        )
    ip = limits.client_ip(request)
    verdict = limiter.chat(ip=ip, session=message.address)
    if not verdict.allowed:
        log.info("web chat rate-limited")
        return limits.too_many(verdict, text=message.text)
    idle = settings.config.web.chat_session_idle_hours
    bound = chat_sessions.holds(request, message.address)

    asked = message.address

    def lookup() -> datetime | None:
        with app_services(request).sessions() as db:
            return chat_sessions.last_activity(db, session=asked)

    try:
        last = await run_in_threadpool(lookup)
    except SQLAlchemyError as exc:
        log.error("database error while handling a web chat message: %s", type(exc).__name__)
        return JSONResponse({"error": "servizio momentaneamente non disponibile, riprova"}, 503)
    if last is not None and (not bound or chat_sessions.is_stale(last, idle_hours=idle)):
        # Someone else's (or an old) conversation: never read it, start a new one.
        message = replace(message, address=chat_sessions.new_session_id())
        last, bound = None, False
    if last is None:
        verdict = limiter.new_session(ip=ip)
        if not verdict.allowed:
            log.info("web chat new sessions rate-limited")
            return limits.too_many(verdict, text=message.text)
    try:
        answer = await app_services(request).dispatcher.converse(message, wait=REPLY_WAIT_SECONDS)
    except SQLAlchemyError as exc:
        log.error("database error while handling a web chat message: %s", type(exc).__name__)
        return JSONResponse({"error": "servizio momentaneamente non disponibile, riprova"}, 503)
    body: dict[str, object] = {
        "messages": webchat.render(answer.replies),
        "session": answer.address,
    }
    if answer.pending:
        body["pending"] = True  # the page's polling brings the rest
    response = JSONResponse(body)
    # A retry whose first attempt started a new conversation gets that one's cookie.
    if not bound or answer.address != message.address:
        # Secure when this request came over https (directly or through the TLS proxy's
        # forwarded headers): a plain-http client on loopback must still get its cookie back.
        secure = request.url.scheme == "https"
        chat_sessions.set_cookie(response, answer.address, secure=secure, idle_hours=idle)
    return response


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(request: Request) -> Response:
    settings = app_services(request).settings
    # A fresh server-issued session for a page that has none yet (chat.js keeps it).
    return templates.TemplateResponse(
        request,
        "chat.html",
        {**page_context(settings.config), "session": chat_sessions.new_session_id()},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/", include_in_schema=False)
async def root() -> Response:
    return Response(status_code=307, headers={"Location": "/chat"})


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_page(request: Request) -> Response:
    settings = app_services(request).settings
    return templates.TemplateResponse(
        request,
        "privacy.html",
        {
            "territory": settings.config.territory.name,
            "points": settings.config.social_points,
            "titolare": settings.config.privacy.titolare,
            "days": settings.config.privacy.retention_days,
        },
    )
