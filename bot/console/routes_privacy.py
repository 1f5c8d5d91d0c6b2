"""Admin pages: residents' access and erasure requests made outside the chat."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from bot.console.routes_admin import Admin, AdminPost
from bot.console.routes_observatory import CHANNELS
from bot.console.templating import download, page
from bot.privacy.erase import erase_subject
from bot.privacy.export import export_subject
from bot.privacy.registry import Subject
from bot.services import app_services

router = APIRouter(prefix="/operator/admin")


@router.get("/privacy", response_class=HTMLResponse)
def privacy_page(request: Request, who: Admin) -> Response:
    """The form for residents' access and erasure requests made outside the chat."""
    return page(request, "observatory_privacy.html", who, channels=CHANNELS, done=None)


def _subject(channel: str, address: str) -> Subject | None:
    return Subject(channel, address.strip()) if channel in CHANNELS and address.strip() else None


@router.post("/privacy/export")
def privacy_export(
    request: Request,
    who: AdminPost,
    channel: Annotated[str, Form()],
    address: Annotated[str, Form(max_length=128)],
) -> Response:
    """Downloads everything held about the resident as JSON (audited)."""
    subject = _subject(channel, address)
    if subject is None:
        return page(request, "observatory_privacy.html", who, 422, channels=CHANNELS, done=None)
    with app_services(request).sessions.begin() as session:
        document = export_subject(session, subject, via="console", operator_id=who.operator_id)
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return download(body, "application/json", "dati-personali.json")


@router.post("/privacy/erase", response_class=HTMLResponse)
def privacy_erase(
    request: Request,
    who: AdminPost,
    channel: Annotated[str, Form()],
    address: Annotated[str, Form(max_length=128)],
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Erases the resident's personal data, once the admin typed CANCELLA (audited)."""
    subject = _subject(channel, address)
    if subject is None or confirm != "CANCELLA":
        return page(request, "observatory_privacy.html", who, 422, channels=CHANNELS, done=None)
    with app_services(request).sessions.begin() as session:
        rows = erase_subject(session, subject, via="console", operator_id=who.operator_id)
    return page(
        request, "observatory_privacy.html", who, channels=CHANNELS, done=sum(rows.values())
    )
