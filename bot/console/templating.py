"""Jinja2 templates of the console, the helper that renders a page for an operator, downloads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from bot.console import copy
from bot.console.auth import CSRF_FIELD, Principal
from bot.services import app_services

CONSOLE_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=CONSOLE_DIR / "templates")


def local_zone(request: Request) -> ZoneInfo:
    """The territory's time zone: operators read and type local times."""
    zone: ZoneInfo = app_services(request).settings.timezone
    return zone


@pass_context
def _ora(context: Context, when: datetime) -> str:
    """Local time for operators; SQLite hands back naive datetimes, stored as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(local_zone(context["request"])).strftime("%d/%m %H:%M")


templates.env.filters["ora"] = _ora
templates.env.globals["t"] = copy.text


def wait_target(request: Request) -> int:
    """Minutes a queued request may wait before its card warns (FRONTDESK_WAIT_TARGET_MINUTES)."""
    return int(app_services(request).settings.env.FRONTDESK_WAIT_TARGET_MINUTES)


def point_names(request: Request) -> dict[str, str]:
    return {p.id: p.name for p in app_services(request).settings.config.social_points}


def page(
    request: Request, name: str, who: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Renders a template with what every console page needs (operator, CSRF token...)."""
    base = {
        "who": who,
        "csrf_field": CSRF_FIELD,
        "csrf": who.csrf if who else "",
        "point_names": point_names(request),
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def fragment(request: Request, name: str, **context: Any) -> str:
    """A partial template as a string (for server-sent events)."""
    template = templates.get_template(name)
    return template.render({"request": request, "point_names": point_names(request), **context})


def download(body: str | bytes, media_type: str, filename: str) -> Response:
    """A file the browser saves (CSV, charts, a resident's data) instead of showing it."""
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
