"""GET /healthz: is the database reachable, is the NLU up, which channels are on."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

router = APIRouter()


def _database_ok(sessions: sessionmaker[Session]) -> bool:
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers (the bot still serves without NLU), 503 otherwise."""
    state = request.app.state
    db_ok = await asyncio.to_thread(_database_ok, state.sessions)
    nlu_ok = await state.nlu.is_ready()
    body = {
        "database": "ok" if db_ok else "error",
        "nlu": "ok" if nlu_ok else "unavailable",
        "channels": {
            name: "ok" if name == "webchat" or name in state.channels else "not_configured"
            for name in state.settings.config.channels.enabled
        },
    }
    return JSONResponse(body, status_code=200 if db_ok else 503)
