"""Tools on one case: labels, quick replies rendered for it, the resident's "typing…".

Every route first checks that the operator may see the case (bot.console.queue's rules,
through actions._visible): another Social Point's case answers 404, like the case page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.console import actions, copy, quick, typing_indicator
from bot.console.auth import Principal, csrf_principal, principal
from bot.db import console_repo, label_repo
from bot.db.console_models import QuickReply
from bot.services import Services, app_services

router = APIRouter(prefix="/operator/handoffs")
Actor = Annotated[Principal, Depends(csrf_principal)]
Who = Annotated[Principal, Depends(principal)]
Label = Annotated[str, Form(max_length=200)]


def _back(handoff_id: int, request: Request) -> Response:
    if request.headers.get("x-requested-with") == "fetch":
        return Response(status_code=204)
    return RedirectResponse(f"/operator/handoffs/{handoff_id}#labels", status_code=303)


def _label(services: Services, who: Principal, handoff_id: int, raw: str, *, add: bool) -> bool:
    """Adds or removes a label on a visible case; False when the label is not acceptable."""
    with services.sessions.begin() as session:
        handoff, conv = actions.visible(session, who, handoff_id)
        label = label_repo.normalise(raw)
        if label is None:
            return False
        if add:
            label_repo.add(session, handoff_id=handoff.id, label=label, operator_id=who.operator_id)
        else:
            label_repo.remove(session, handoff_id=handoff.id, label=label)
        # No label text in the audit log: a label may say something about the resident.
        console_repo.audit(
            session,
            operator_id=who.operator_id,
            action="label_add" if add else "label_remove",
            conversation_id=conv.id,
            handoff_id=handoff.id,
        )
        return True


@router.post("/{handoff_id}/labels")
async def add_label(request: Request, who: Actor, handoff_id: int, label: Label) -> Response:
    """Puts a short label on the case (admin-defined or free)."""
    ok = await run_in_threadpool(_label, app_services(request), who, handoff_id, label, add=True)
    if not ok:
        return Response(copy.text("labels.invalid", max=label_repo.MAX_LABEL), status_code=422)
    return _back(handoff_id, request)


@router.post("/{handoff_id}/labels/delete")
async def remove_label(request: Request, who: Actor, handoff_id: int, label: Label) -> Response:
    """Takes a label off the case."""
    await run_in_threadpool(_label, app_services(request), who, handoff_id, label, add=False)
    return _back(handoff_id, request)


def _rendered(services: Services, who: Principal, handoff_id: int, reply_id: int) -> dict[str, Any]:
    with services.sessions() as session:
        handoff, _conv = actions.visible(session, who, handoff_id)
        row = session.get(QuickReply, reply_id)
        if row is None:
            raise HTTPException(404)
        values = quick.values_for(
            session,
            handoff=handoff,
            operator_name=who.name,
            point_name=actions.point_name(services, handoff.social_point),
        )
    text, missing = quick.render(row.text, values)
    return {"text": text, "missing": missing}


@router.get("/{handoff_id}/quick-replies/{reply_id}")
async def render_quick_reply(
    request: Request, who: Who, handoff_id: int, reply_id: int
) -> JSONResponse:
    """A quick reply with its variables filled for this case: `{"text", "missing"}`."""
    found = await run_in_threadpool(_rendered, app_services(request), who, handoff_id, reply_id)
    return JSONResponse(found)


@router.post("/{handoff_id}/typing", status_code=204)
async def show_typing(request: Request, who: Actor, handoff_id: int) -> Response:
    """The reply box is being written in: the resident's channel shows "typing…" (throttled;
    204 also when throttled or when the channel has no indicator). 403 when not held."""
    try:
        await typing_indicator.typing(app_services(request), who, handoff_id)
    except actions.NotVisible:
        raise
    except actions.Denied:
        return Response(status_code=403)
    return Response(status_code=204)
