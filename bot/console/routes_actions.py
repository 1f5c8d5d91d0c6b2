"""What operators do on a conversation: take, reply, note, transfer, resolve (all POST + CSRF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.console import actions
from bot.console.auth import Principal, csrf_principal
from bot.console.templating import page
from bot.services import app_services

router = APIRouter(prefix="/operator/handoffs")
Actor = Annotated[Principal, Depends(csrf_principal)]
Text = Annotated[str, Form(min_length=1, max_length=4000)]


def _back(handoff_id: int, request: Request, status: int = 303) -> Response:
    # Scripts post with fetch and only need to know it worked; forms follow the redirect.
    if request.headers.get("x-requested-with") == "fetch":
        return Response(status_code=204)
    return RedirectResponse(f"/operator/handoffs/{handoff_id}", status_code=status)


@router.post("/{handoff_id}/take")
async def take(request: Request, who: Actor, handoff_id: int) -> Response:
    """Prendi in carico. 409 when another operator was faster."""
    if not await actions.take(app_services(request), who, handoff_id):
        return page(
            request,
            "message.html",
            who,
            409,
            title="Già in carico",
            text="Un'altra persona ha preso in carico questa conversazione un attimo prima di te.",
            back=f"/operator/handoffs/{handoff_id}",
        )
    return _back(handoff_id, request)


@router.post("/{handoff_id}/reply")
async def reply(request: Request, who: Actor, handoff_id: int, text: Text) -> Response:
    failures = await actions.reply(app_services(request), who, handoff_id, text.strip())
    if failures:
        return page(
            request,
            "message.html",
            who,
            502,
            title="Messaggio non consegnato",
            text="Il messaggio è salvato, ma il canale del residente non l'ha accettato. "
            "Riprova tra poco.",
            back=f"/operator/handoffs/{handoff_id}",
        )
    return _back(handoff_id, request)


@router.post("/{handoff_id}/note")
async def note(request: Request, who: Actor, handoff_id: int, text: Text) -> Response:
    await run_in_threadpool(actions.note, app_services(request), who, handoff_id, text.strip())
    return _back(handoff_id, request)


@router.post("/{handoff_id}/transfer")
async def transfer(
    request: Request,
    who: Actor,
    handoff_id: int,
    social_point: Annotated[str, Form(max_length=40)],
    operator_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """To another Social Point's queue, or to one of its operators."""
    if social_point not in {p.id for p in app_services(request).settings.config.social_points}:
        return Response("Social Point sconosciuto", status_code=422)
    target = int(operator_id) if operator_id.isdigit() else None
    await actions.transfer(app_services(request), who, handoff_id, social_point, target)
    return RedirectResponse("/operator", status_code=303)


@router.post("/{handoff_id}/resolve")
async def resolve(request: Request, who: Actor, handoff_id: int) -> Response:
    """Risolto: the bot resumes and asks the resident for a rating."""
    await actions.resolve(app_services(request), who, handoff_id)
    return RedirectResponse("/operator", status_code=303)
