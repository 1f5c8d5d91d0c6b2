"""Login and logout of the console."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.console import auth
from bot.console.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Principal
from bot.console.templating import page
from bot.db import console_repo
from bot.db.console_models import Operator
from bot.services import app_services

log = logging.getLogger(__name__)
router = APIRouter(prefix="/operator")


def _login_form(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    # Before login there is no session: the form's CSRF token is a double-submit cookie.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or auth.new_token()
    response = page(request, "login.html", None, status, login_csrf=token, error=error)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=auth.secure_cookies(app_services(request).settings),
        path="/operator",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    return _login_form(request)


def _check_credentials(request: Request, email: str, password: str) -> Operator | None:
    with app_services(request).sessions.begin() as session:
        operator = console_repo.find_operator(session, email=email)
        ok = auth.verify_password(operator.password_hash if operator else None, password)
        if operator is not None and ok and operator.active:
            console_repo.audit(session, operator_id=operator.id, action="login")
            return operator
        console_repo.audit(
            session, operator_id=operator.id if operator else None, action="login_failed"
        )
        return None


@router.post("/login")
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Checks the password (rate-limited per address and per account) and opens a session."""
    if not auth.tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_form(request, error="Sessione scaduta: riprova.", status=403)
    limiter: auth.LoginLimiter = request.app.state.login_limiter
    ip, account = auth.client_ip(request), console_repo.normalise_email(email)
    if not await run_in_threadpool(limiter.attempt, ip=ip, email=account):
        log.warning("console login rate-limited")
        return _login_form(
            request, error="Troppi tentativi. Riprova tra qualche minuto.", status=429
        )
    operator = await run_in_threadpool(_check_credentials, request, email, password)
    if operator is None:
        return _login_form(request, error="E-mail o password non corretti.", status=401)
    await run_in_threadpool(limiter.succeeded, ip=ip, email=account)
    token = await run_in_threadpool(auth.open_session, request, operator)
    response = RedirectResponse("/operator", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=auth.secure_cookies(app_services(request).settings),
        path="/operator",
        max_age=app_services(request).settings.config.console.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/operator")
    log.info("console login operator=%s", operator.id)
    return response


@router.post("/logout")
async def logout(
    request: Request, who: Annotated[Principal, Depends(auth.csrf_principal)]
) -> Response:
    def end() -> None:
        with app_services(request).sessions.begin() as session:
            console_repo.end_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
            console_repo.audit(session, operator_id=who.operator_id, action="logout")

    await run_in_threadpool(end)
    response = RedirectResponse("/operator/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/operator")
    return response
