"""GET /api/chat/updates: what reached a web chat resident outside their own requests.

Operators' words, queue notices and the rating question after an operator closes are pushed
into an outbox (bot.console.delivery); the page polls here. The session travels in the
`X-Chat-Session` header (never in the URL, which access logs record) and counts only with
the cookie POST /api/chat issued for it (bot.web.chat_sessions).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot.channels.webchat import SESSION_PATTERN
from bot.db import console_repo
from bot.db.models import Conversation
from bot.privacy.crypto import address_index
from bot.web import chat_sessions

router = APIRouter()
_SESSION = re.compile(SESSION_PATTERN)


@router.get("/api/chat/updates")
async def chat_updates(
    request: Request,
    session: str = Header("", alias=chat_sessions.SESSION_HEADER, max_length=64),
    after: int | None = Query(None, ge=0),
) -> JSONResponse:
    """`{"messages": [{"id", "text", "buttons"}], "last": id}`.

    Without `after` only `last` is returned: a page that just opened starts from now. A
    session without its cookie reads as unknown (nothing to show).
    """
    if not _SESSION.match(session):
        return JSONResponse({"error": "serve l'intestazione X-Chat-Session (8-64 caratteri)"}, 422)
    if not chat_sessions.holds(request, session):
        return JSONResponse(
            {"messages": [], "last": after or 0}, headers={"Cache-Control": "no-store"}
        )

    def read() -> dict[str, object]:
        with request.app.state.sessions() as db:
            conv_id = db.scalar(
                select(Conversation.id).where(
                    Conversation.channel == "webchat",
                    Conversation.address_hash == address_index("webchat", session),
                )
            )
            if conv_id is None:
                return {"messages": [], "last": after or 0}
            if after is None:
                return {
                    "messages": [],
                    "last": console_repo.last_webchat_update(db, conversation_id=conv_id),
                }
            rows = console_repo.webchat_updates(db, conversation_id=conv_id, after=after)
            return {
                "messages": [
                    {"id": r.id, "text": r.text, "buttons": r.buttons or []} for r in rows
                ],
                "last": rows[-1].id if rows else after,
            }

    return JSONResponse(await run_in_threadpool(read), headers={"Cache-Control": "no-store"})
