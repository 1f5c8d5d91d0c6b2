"""Plugs the console into the FastAPI app: routes, static files, error pages."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.console import (
    routes_actions,
    routes_admin,
    routes_auth,
    routes_campaigns,
    routes_case,
    routes_observatory,
    routes_privacy,
    routes_queue,
)
from bot.console.actions import Denied, NotVisible
from bot.console.auth import CsrfFailed, LoginLimiter, LoginRequired
from bot.console.templating import CONSOLE_DIR, page

ERRORS = {
    403: ("Accesso negato", "Non hai i permessi per questa pagina."),
    404: ("Non trovata", "Questa pagina o conversazione non esiste, o non è del tuo Social Point."),
    409: (
        "Non possibile",
        "L'azione non è più possibile: la conversazione è cambiata nel frattempo.",
    ),
}


def install(app: FastAPI) -> None:
    """Adds every /operator route (the one place they are registered), /operator/static and
    the console's exception handlers."""
    app.mount(
        "/operator/static", StaticFiles(directory=CONSOLE_DIR / "static"), name="console_static"
    )
    for module in (
        routes_auth,
        routes_queue,
        routes_actions,
        routes_case,
        routes_admin,
        routes_observatory,
        routes_privacy,
        routes_campaigns,
    ):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.add_exception_handler(Denied, _denied)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def start(app: FastAPI) -> None:
    """Per-process console state, created in the app's lifespan."""
    settings = app.state.services.settings
    app.state.login_limiter = LoginLimiter(settings.config.console, app.state.abuse_limits.storage)


def _error(request: Request, status: int) -> Response:
    title, text = ERRORS.get(status, ("Errore", "Qualcosa non ha funzionato."))
    return page(request, "message.html", None, status, title=title, text=text, back="/operator")


async def _login_required(request: Request, _exc: Any) -> Response:
    if request.method == "GET" and "text/event-stream" not in request.headers.get("accept", ""):
        return RedirectResponse("/operator/login", status_code=303)
    return Response("login richiesto", status_code=401)


async def _csrf_failed(request: Request, _exc: Any) -> Response:
    return Response("token CSRF mancante o non valido: ricarica la pagina", status_code=403)


async def _denied(request: Request, exc: Any) -> Response:
    return _error(request, 404 if isinstance(exc, NotVisible) else 409)


async def _http_error(request: Request, exc: Any) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/operator") and exc.status_code in ERRORS:
        return _error(request, exc.status_code)
    from fastapi.exception_handlers import http_exception_handler

    return await http_exception_handler(request, exc)


__all__ = ["install", "start"]
