"""GET /api/chat/updates: what reached a web chat resident outside their own requests.

Operators' words, queue notices, the rating question after an operator closes, and the replies
of a turn that outlasted its request wait in the reply outbox (bot.db.reply_repo.PULLED); the
page polls here, and its `after` acknowledges what it has shown. The session travels in the
`X-Chat-Session` header (never in the URL, which access logs record) and counts only with
the cookie POST /api/chat issued for it (bot.web.chat_sessions).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.channels.webchat import SESSION_PATTERN, WebChat
from bot.db import reply_repo
from bot.services import app_services
from bot.web import chat_sessions

router = APIRouter()
CHANNEL = WebChat.name
_SESSION = re.compile(SESSION_PATTERN)


@router.get("/api/chat/updates")
async def chat_updates(
    request: Request,
    session: str = Header("", alias=chat_sessions.SESSION_HEADER, max_length=64),
    after: int | None = Query(None, ge=0),
) -> JSONResponse:
    """`{"messages": [{"id", "text", "buttons"}], "last": id}`.

    Without `after` only `last` is returned: a page that just opened starts after what was
    already shown (replies still waiting come next). A session without its cookie reads as
    unknown (nothing to show).
    """
    if not _SESSION.match(session):
        return JSONResponse({"error": "serve l'intestazione X-Chat-Session (8-64 caratteri)"}, 422)
    if not chat_sessions.holds(request, session):
        return JSONResponse(
            {"messages": [], "last": after or 0}, headers={"Cache-Control": "no-store"}
        )

    def read() -> dict[str, object]:
        with app_services(request).sessions.begin() as db:
            if after is None:
                return {
                    "messages": [],
                    "last": reply_repo.last_fetched(db, channel=CHANNEL, address=session),
                }
            rows = reply_repo.pull(db, channel=CHANNEL, address=session, after=after)
            replies = [(r.id, reply_repo.as_reply(r)) for r in rows]
            return {"messages": WebChat.render(replies), "last": rows[-1].id if rows else after}

    return JSONResponse(await run_in_threadpool(read), headers={"Cache-Control": "no-store"})
