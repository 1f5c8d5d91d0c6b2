"""The queue and the conversation pages, with their live (server-sent events) updates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.console import cases, copy, queue, receipts, sse, views
from bot.console.auth import Principal, principal
from bot.console.templating import fragment, local_zone, page, point_names, wait_target
from bot.db import console_repo, handoff_repo, label_repo, reply_repo
from bot.db.console_models import OperatorPoint
from bot.db.models import Handoff, Message
from bot.services import app_services
from flows.copy import group

router = APIRouter(prefix="/operator")
_UNSEEN = object()  # an operator line the stream has not looked at yet
Who = Annotated[Principal, Depends(principal)]


def _queue_cards(request: Request, who: Principal) -> list[views.Card]:
    with app_services(request).sessions() as session:
        handoffs = handoff_repo.open_handoffs(session, points=who.points)
        return views.cards(
            session, handoffs, point_names(request), wait_target=wait_target(request)
        )


def _search(request: Request, who: Principal) -> dict[str, Any]:
    """The search form's choices and, when a filter is set, its results (cases.search)."""
    config = app_services(request).settings.config
    with app_services(request).sessions() as session:
        context: dict[str, Any] = {
            "comuni": config.territory.comuni,
            "themes": group("categories"),
            "statuses": views.STATUS_LABELS,
            "known_labels": [label.name for label in label_repo.defined(session)],
            "params": dict(request.query_params),
            "text_days": cases.TEXT_DAYS,
            "results": None,
        }
        try:
            filters = cases.parse(request.query_params, is_admin=who.is_admin)
        except cases.BadFilter:
            return context | {"search_error": copy.text("search.bad_date")}
        if filters.active:
            found, cut = cases.search(
                session,
                who=who,
                filters=filters,
                point_names=point_names(request),
                zone=local_zone(request),
            )
            context |= {"results": found, "truncated": cut, "limit": cases.CANDIDATES}
        return context


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request, who: Who) -> Response:
    """Waiting, callback and active conversations of the operator's Social Points, and the
    search over cases (filters in the query string)."""
    search = _search(request, who)
    status = 422 if "search_error" in search else 200
    return page(request, "queue.html", who, status, cards=_queue_cards(request, who), **search)


@router.get("/events")
async def queue_events(request: Request, who: Who) -> Response:
    """`queue` events carry the re-rendered list whenever the queue changes."""
    seen: dict[str, str] = {}

    def changed() -> list[tuple[str, str]]:
        with app_services(request).sessions() as session:
            mark = queue.fingerprint(session, points=who.points)
        if seen.get("mark") == mark:
            return []
        first = "mark" not in seen
        seen["mark"] = mark
        if first:  # the page already shows this state
            return []
        html = fragment(request, "_queue_items.html", cards=_queue_cards(request, who), who=who)
        return [("queue", html)]

    return sse.stream(request, lambda: run_in_threadpool(changed))


def _notes(session: Session, who: Principal, handoff: Handoff, conv_id: int) -> list[Any]:
    """Internal notes of this case written by operators of its Social Point (admins: all)."""
    found = console_repo.notes(session, conversation_id=conv_id)
    if who.is_admin:
        return found
    start, end = handoff_repo.case_start(session, handoff=handoff), handoff.closed_at
    colleagues = set(
        session.scalars(
            select(OperatorPoint.operator_id).where(
                OperatorPoint.social_point == handoff.social_point
            )
        )
    )

    def aware(at: datetime) -> datetime:
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    return [
        (note, name)
        for note, name in found
        if note.operator_id in colleagues
        and (start is None or aware(note.created_at) > aware(start))
        and (end is None or aware(note.created_at) <= aware(end))
    ]


def _conversation(request: Request, who: Principal, handoff_id: int) -> dict[str, Any]:
    """Everything the conversation page shows; the view is written to the audit log."""
    with app_services(request).sessions.begin() as session:
        found = handoff_repo.visible_handoff(
            session, handoff_id=handoff_id, points=who.points, operator_id=who.operator_id
        )
        if found is None:
            raise HTTPException(404)
        handoff, conv = found
        console_repo.audit(
            session,
            operator_id=who.operator_id,
            action="view",
            conversation_id=conv.id,
            handoff_id=handoff.id,
            detail={"as_admin": True} if who.is_admin else None,
        )
        # Only this case's part of the conversation (admins see it all, audited above).
        stmt = select(Message).where(Message.conversation_id == conv.id).order_by(Message.id)
        if not who.is_admin:
            stmt = handoff_repo.case_window(session, stmt, Message.created_at, handoff)
        messages = list(session.scalars(stmt))
        authors = console_repo.reply_authors(session, conversation_id=conv.id)
        deliveries = reply_repo.by_message(session, message_ids=[m.id for m in messages])
        points = app_services(request).settings.config.social_points
        return {
            "card": views.cards(
                session, [handoff], point_names(request), wait_target=wait_target(request)
            )[0],
            "channel": copy.group("channels").get(conv.channel, conv.channel),
            "lines": views.lines(messages, authors, deliveries, channel=conv.channel),
            "notes": _notes(session, who, handoff, conv.id),
            "quick_replies": console_repo.quick_replies(session),
            "defined_labels": [label.name for label in label_repo.defined(session)],
            "history": cases.history(
                session, who=who, handoff=handoff, point_names=point_names(request)
            ),
            "transfer_points": points,
            "transfer_operators": {
                p.id: console_repo.operators_of_point(session, social_point=p.id) for p in points
            },
            "holds": handoff.status == "active"
            and (handoff.operator_id == who.operator_id or who.is_admin),
            "may_act": queue.may_act(handoff, operator_id=who.operator_id, is_admin=who.is_admin),
            "last_id": messages[-1].id if messages else 0,
        }


@router.get("/handoffs/{handoff_id}", response_class=HTMLResponse)
def conversation_page(request: Request, who: Who, handoff_id: int) -> Response:
    return page(request, "conversation.html", who, **_conversation(request, who, handoff_id))


@router.get("/handoffs/{handoff_id}/events")
async def conversation_events(
    request: Request, who: Who, handoff_id: int, after: int = 0
) -> Response:
    """`message` events for new transcript lines, `status` when the handoff changes hands."""

    def visible() -> tuple[int, str, str, int | None]:
        with app_services(request).sessions() as session:
            found = handoff_repo.visible_handoff(
                session, handoff_id=handoff_id, points=who.points, operator_id=who.operator_id
            )
            if found is None:
                raise HTTPException(404)
            return found[1].id, found[1].channel, found[0].status, found[0].operator_id

    conv_id, channel, *first = await run_in_threadpool(visible)
    # A page asking for lines before its case began is given none of them.
    state: dict[str, Any] = {"after": after, "status": tuple(first)}
    shown: dict[int, receipts.Mark | None] = {}  # operator lines' marks already sent

    def poll() -> list[tuple[str, str]]:
        with app_services(request).sessions() as session:
            handoff = session.get(Handoff, handoff_id)
            authors = console_repo.reply_authors(session, conversation_id=conv_id)
            # New lines, and operator lines already on the page whose delivery state changed
            # (re-sent whole: the page replaces the line with the same id).
            deliveries = reply_repo.by_message(session, message_ids=list(authors))
            changed = [
                i
                for i in authors
                if i <= state["after"]
                and shown.get(i, _UNSEEN) != views.line_mark(i, authors, deliveries, channel)
            ]
            stmt = (
                select(Message)
                .where(
                    Message.conversation_id == conv_id,
                    (Message.id > state["after"]) | Message.id.in_(changed),
                )
                .order_by(Message.id)
            )
            if handoff is not None and not who.is_admin:
                stmt = handoff_repo.case_window(session, stmt, Message.created_at, handoff)
            messages = list(session.scalars(stmt))
            deliveries |= reply_repo.by_message(
                session, message_ids=[m.id for m in messages if m.id not in authors]
            )
        found = views.lines(messages, authors, deliveries, channel=channel)
        events = [("message", fragment(request, "_line.html", line=line)) for line in found]
        shown.update({i: views.line_mark(i, authors, deliveries, channel) for i in authors})
        if messages:
            state["after"] = max(state["after"], messages[-1].id)
        now = (handoff.status, handoff.operator_id) if handoff else ("closed", None)
        if now != state["status"]:
            state["status"] = now
            events.append(("status", views.STATUS_LABELS.get(now[0], now[0])))
        return events

    return sse.stream(request, lambda: run_in_threadpool(poll))
