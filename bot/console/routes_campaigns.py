"""Admin pages of campaigns: list and composer (live audience count, preview), progress and
report (with CSV), cancel. Campaigns created here are scheduled: the scheduler's tick sends
them at their time, or at once if none is given, always outside quiet hours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from sqlalchemy import select

from bot.campaigns import report, store
from bot.campaigns.audience import Audience, audience_size
from bot.campaigns.subscriptions import topics
from bot.console.routes_admin import Admin, AdminPost, audit_action
from bot.console.templating import local_zone, page
from bot.db.base import utcnow
from bot.db.campaign_models import Campaign, CampaignStatus
from bot.services import app_services
from flows.copy import say
from flows.subscriptions import topic_label

router = APIRouter(prefix="/operator/admin/campaigns")
CHANNELS = ("all", "telegram", "whatsapp")


def _audience(channel: str, topic: list[str], comune: list[str]) -> Audience:
    if channel not in CHANNELS or any(t not in topics() for t in topic):
        raise HTTPException(400)
    return Audience(channel, tuple(topic), tuple(comune))


@router.get("", response_class=HTMLResponse)
def campaigns_page(request: Request, who: Admin, error: str | None = None) -> Response:
    with app_services(request).sessions() as session:
        campaigns = session.scalars(select(Campaign).order_by(Campaign.id.desc())).all()
        rows = [(c, report.summary(session, campaign=c)) for c in campaigns]
    return page(
        request,
        "admin_campaigns.html",
        who,
        400 if error else 200,
        rows=rows,
        error=error,
        topics=[(t, topic_label(t)) for t in topics()],
        comuni=app_services(request).settings.config.territory.comuni,
        stop_button=say("campaign_stop_button"),
        stop_hint=say("campaign_stop_hint"),
    )


@router.get("/audience")
def audience_count(
    request: Request,
    who: Admin,
    channel: str = "all",
    topic: Annotated[list[str] | None, Query()] = None,
    comune: Annotated[list[str] | None, Query()] = None,
) -> JSONResponse:
    """The live count shown by the composer while the admin picks the audience."""
    audience = _audience(channel, topic or [], comune or [])
    with app_services(request).sessions() as session:
        return JSONResponse({"recipients": audience_size(session, audience=audience)})


@router.post("")
def create_campaign(
    request: Request,
    who: AdminPost,
    title: Annotated[str, Form(min_length=1, max_length=120)],
    text: Annotated[str, Form(min_length=1, max_length=900)],
    channel: Annotated[str, Form()] = "all",
    topic: Annotated[list[str] | None, Form()] = None,
    comune: Annotated[list[str] | None, Form()] = None,
    at: Annotated[str, Form()] = "",
) -> Response:
    audience = _audience(channel, topic or [], comune or [])
    try:  # <input type="datetime-local"> gives local time without a zone
        when = datetime.fromisoformat(at).replace(tzinfo=local_zone(request)) if at else utcnow()
    except ValueError:
        return campaigns_page(request, who, error="Data e ora non valide.")
    with app_services(request).sessions.begin() as session:
        campaign, _ = store.create_campaign(
            session, title=title, text=text, audience=audience, scheduled_at=when
        )
        audit_action(session, who, "campaign_create", campaign_id=campaign.id)
    return RedirectResponse(f"/operator/admin/campaigns/{campaign.id}", status_code=303)


def _campaign(request: Request, campaign_id: int) -> Campaign:
    with app_services(request).sessions() as session:
        campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise HTTPException(404)
    return campaign


@router.get("/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, who: Admin, campaign_id: int) -> Response:
    campaign = _campaign(request, campaign_id)
    with app_services(request).sessions() as session:
        summary = report.summary(session, campaign=campaign)
    return page(request, "admin_campaign.html", who, campaign=campaign, summary=summary)


@router.get("/{campaign_id}/report.csv")
def campaign_csv(request: Request, who: Admin, campaign_id: int) -> Response:
    campaign = _campaign(request, campaign_id)
    with app_services(request).sessions.begin() as session:
        body = report.as_csv(session, campaign=campaign)
        audit_action(session, who, "export_campaign", campaign_id=campaign_id)
    disposition = f'attachment; filename="campagna-{campaign_id}.csv"'
    return PlainTextResponse(
        body, media_type="text/csv", headers={"Content-Disposition": disposition}
    )


@router.post("/{campaign_id}/cancel")
def cancel_campaign(request: Request, who: AdminPost, campaign_id: int) -> Response:
    campaign = _campaign(request, campaign_id)
    if campaign.status not in (CampaignStatus.DONE, CampaignStatus.CANCELLED):
        with app_services(request).sessions.begin() as session:
            store.cancel(session, campaign_id=campaign_id)
            audit_action(session, who, "campaign_cancel", campaign_id=campaign_id)
    return RedirectResponse(f"/operator/admin/campaigns/{campaign_id}", status_code=303)
