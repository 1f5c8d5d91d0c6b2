"""Admin pages: operators (add, disable), quick replies, case labels and the audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import audit_log, copy, quick
from bot.console.accounts import AccountError, create_operator
from bot.console.auth import Principal, csrf_principal, principal
from bot.console.templating import local_zone, page
from bot.db import console_repo, label_repo
from bot.db.console_models import CaseLabel

router = APIRouter(prefix="/operator/admin")


def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.is_admin:
        raise HTTPException(403)
    return who


def admin_post(who: Annotated[Principal, Depends(csrf_principal)]) -> Principal:
    return admin(who)


Admin = Annotated[Principal, Depends(admin)]
AdminPost = Annotated[Principal, Depends(admin_post)]


def audit_action(session: Session, who: Principal, action: str, **ids: int | None) -> None:
    """An admin action in the audit log: its name and the ids it touched, never texts."""
    console_repo.audit(session, operator_id=who.operator_id, action=action, detail=ids or None)


def _operators_page(
    request: Request, who: Principal, error: str | None = None, status: int = 200
) -> Response:
    with request.app.state.sessions() as session:
        operators = console_repo.list_operators(session)
    return page(
        request,
        "admin_operators.html",
        who,
        status,
        operators=operators,
        error=error,
        points=request.app.state.settings.config.social_points,
    )


@router.get("/operators", response_class=HTMLResponse)
def operators_page(request: Request, who: Admin) -> Response:
    return _operators_page(request, who)


@router.post("/operators")
def add_operator(
    request: Request,
    who: AdminPost,
    email: Annotated[str, Form(max_length=254)],
    name: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=256)],
    role: Annotated[str, Form()] = "operator",
    social_point: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        op = create_operator(
            request.app.state.sessions,
            request.app.state.settings,
            email=email,
            name=name,
            password=password,
            role=role,
            social_points=social_point or [],
        )
    except AccountError as exc:
        return _operators_page(request, who, error=str(exc), status=422)
    with request.app.state.sessions.begin() as session:
        console_repo.audit(
            session, operator_id=who.operator_id, action="operator_add", detail={"operator_id": op}
        )
    return RedirectResponse("/operator/admin/operators", status_code=303)


@router.post("/operators/{operator_id}/active")
def set_active(
    request: Request, who: AdminPost, operator_id: int, active: Annotated[str, Form()] = "0"
) -> Response:
    with request.app.state.sessions.begin() as session:
        if console_repo.set_active(session, operator_id=operator_id, active=active == "1") is None:
            raise HTTPException(404)
        console_repo.audit(
            session,
            operator_id=who.operator_id,
            action="operator_enable" if active == "1" else "operator_disable",
            detail={"operator_id": operator_id},
        )
    return RedirectResponse("/operator/admin/operators", status_code=303)


def _quick_replies_page(
    request: Request, who: Principal, error: str | None = None, status: int = 200, **form: str
) -> Response:
    with request.app.state.sessions() as session:
        rows = console_repo.quick_replies(session)
    return page(
        request, "admin_quick_replies.html", who, status, replies=rows, error=error, form=form
    )


@router.get("/quick-replies", response_class=HTMLResponse)
def quick_replies_page(request: Request, who: Admin) -> Response:
    return _quick_replies_page(request, who)


@router.post("/quick-replies")
def save_quick_reply(
    request: Request,
    who: AdminPost,
    title: Annotated[str, Form(min_length=1, max_length=60)],
    text: Annotated[str, Form(min_length=1, max_length=2000)],
    reply_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    if wrong := quick.unknown(text):
        error = copy.text(
            "quick.unknown",
            names=", ".join(f"{{{n}}}" for n in wrong),
            known=", ".join(f"{{{n}}}" for n in quick.VARIABLES),
        )
        return _quick_replies_page(
            request, who, error, 422, title=title, text=text, reply_id=reply_id
        )
    with request.app.state.sessions.begin() as session:
        saved, created = console_repo.save_quick_reply(
            session, reply_id=int(reply_id) if reply_id.isdigit() else None, title=title, text=text
        )
        audit_action(
            session, who, "quick_reply_add" if created else "quick_reply_edit", quick_reply_id=saved
        )
    return RedirectResponse("/operator/admin/quick-replies", status_code=303)


@router.post("/quick-replies/{reply_id}/delete")
def delete_quick_reply(request: Request, who: AdminPost, reply_id: int) -> Response:
    with request.app.state.sessions.begin() as session:
        console_repo.delete_quick_reply(session, reply_id=reply_id)
        audit_action(session, who, "quick_reply_delete", quick_reply_id=reply_id)
    return RedirectResponse("/operator/admin/quick-replies", status_code=303)


def _labels_page(
    request: Request, who: Principal, error: str | None = None, status: int = 200
) -> Response:
    with request.app.state.sessions() as session:
        rows = label_repo.defined(session)
    return page(request, "admin_labels.html", who, status, labels=rows, error=error)


@router.get("/labels", response_class=HTMLResponse)
def labels_page(request: Request, who: Admin) -> Response:
    return _labels_page(request, who)


@router.post("/labels")
def define_label(
    request: Request, who: AdminPost, name: Annotated[str, Form(max_length=200)]
) -> Response:
    label = label_repo.normalise(name)
    if label is None:
        error = copy.text("labels.invalid", max=label_repo.MAX_LABEL)
        return _labels_page(request, who, error=error, status=422)
    with request.app.state.sessions.begin() as session:
        label_repo.define(session, name=label)
        label_id = session.scalar(select(CaseLabel.id).where(CaseLabel.name == label))
        audit_action(session, who, "label_define", label_id=label_id)
    return RedirectResponse("/operator/admin/labels", status_code=303)


@router.post("/labels/{label_id}/delete")
def undefine_label(request: Request, who: AdminPost, label_id: int) -> Response:
    with request.app.state.sessions.begin() as session:
        label_repo.undefine(session, label_id=label_id)
        audit_action(session, who, "label_undefine", label_id=label_id)
    return RedirectResponse("/operator/admin/labels", status_code=303)


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    who: Admin,
    operator: str = "",
    action: str = "",
    dal: str = "",
    al: str = "",
    pagina: int = 1,
) -> Response:
    """Registro attività. Reading it is not itself audited: it shows no personal data."""
    params = {"operator": operator, "action": action, "dal": dal, "al": al}
    error: str | None = None
    try:
        filters = audit_log.AuditFilters(
            operator_id=int(operator) if operator.isdigit() else None,
            action=action or None,
            day_from=_day(dal),
            day_to=_day(al),
        )
    except ValueError:
        filters, error = audit_log.AuditFilters(), copy.text("audit.bad_date")
    with request.app.state.sessions() as session:
        found = audit_log.read(session, filters, pagina, zone=local_zone(request))
        operators = console_repo.list_operators(session)
    return page(
        request,
        "admin_audit.html",
        who,
        422 if error else 200,
        found=found,
        params=params,
        error=error,
        operators=operators,
        actions=audit_log.known_actions(),
        label=audit_log.action_label,
        refs=audit_log.refs,
        query=lambda n: urlencode({**params, "pagina": n}),
    )
