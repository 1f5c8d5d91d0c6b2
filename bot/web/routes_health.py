"""GET /healthz: is the database reachable, is the NLU up, which channels are on."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.services import Services, app_services

router = APIRouter()


def _database_ok(sessions: sessionmaker[Session]) -> bool:
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


@router.get("/healthz")
async def healthz(services: Annotated[Services, Depends(app_services)]) -> JSONResponse:
    """200 when the database answers (the bot still serves without NLU), 503 otherwise."""
    db_ok = await asyncio.to_thread(_database_ok, services.sessions)
    nlu_ok = await services.nlu.is_ready()
    body = {
        "database": "ok" if db_ok else "error",
        "nlu": "ok" if nlu_ok else "unavailable",
        "channels": {
            name: "ok" if name == "webchat" or name in services.channels else "not_configured"
            for name in services.settings.config.channels.enabled
        },
    }
    return JSONResponse(body, status_code=200 if db_ok else 503)
