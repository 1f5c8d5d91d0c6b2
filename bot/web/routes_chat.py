"""The web chat page (/chat), its API (/api/chat) and the privacy page (/privacy)."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.webchat import WebChat
from bot.web.templating import templates

log = logging.getLogger(__name__)
router = APIRouter()
webchat = WebChat()


@router.post("/api/chat")
async def api_chat(request: Request) -> JSONResponse:
    """`{"session", "text"}` or `{"session", "payload"}` -> `{"messages": [...]}`."""
    try:
        raw = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "il corpo della richiesta non è JSON valido"}, 400)
    message = webchat.parse(raw)
    if message is None:
        return JSONResponse(
            {"error": "servono 'session' (8-64 caratteri) e 'text' o 'payload'"}, 422
        )
    try:
        replies = await request.app.state.desk.handle(message)
    except SQLAlchemyError as exc:
        log.error("database error while handling a web chat message: %s", type(exc).__name__)
        return JSONResponse({"error": "servizio momentaneamente non disponibile, riprova"}, 503)
    return JSONResponse(webchat.render(replies))


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(request: Request) -> Response:
    settings = request.app.state.settings
    return templates.TemplateResponse(
        request, "chat.html", {"territory": settings.config.territory.name}
    )


@router.get("/", include_in_schema=False)
async def root() -> Response:
    return Response(status_code=307, headers={"Location": "/chat"})


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_page(request: Request) -> Response:
    settings = request.app.state.settings
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
