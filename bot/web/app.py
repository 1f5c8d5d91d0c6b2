"""FastAPI app factory: wires settings, database, NLU client, catalogue and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot import crypto, scheduler
from bot.channels import factory
from bot.console import web as console
from bot.console.auth import secure_cookies
from bot.db import handoff_repo
from bot.db.engine import create_db_engine, session_factory
from bot.services import build as build_services
from bot.settings import Settings, load_settings
from bot.web import limits, routes_chat, routes_chat_updates, routes_health, routes_webhooks
from bot.web.security_headers import SecurityHeaders
from bot.web.templating import WEB_DIR
from nlu.client import NluClient
from nlu.comuni import gazetteer


def create_app(
    settings: Settings, *, nlu: NluClient | None = None, telegram_polling: bool = False
) -> FastAPI:
    """Builds the application; resources open and close with its lifespan.

    Args:
        settings: environment and config.yml, already validated.
        nlu: an NLU client to use instead of one built from settings (tests).
        telegram_polling: long-poll Telegram instead of waiting for its webhook.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        key = settings.env.FRONTDESK_DATA_KEY
        crypto.configure(key.get_secret_value() if key else None)
        engine = create_db_engine(settings.env.DATABASE_URL)
        sessions = session_factory(engine)
        client = nlu or settings.nlu_client()
        # The ISTAT municipality index takes ~0.5 s to build: not on a resident's first message.
        await asyncio.to_thread(gazetteer(settings.config.territory).guess_italian_comune, "")
        handoff_repo.configure_folding(settings.config.abuse)
        channels = factory.messaging(settings, sessions)
        services = build_services(settings, sessions, nlu=client, channels=channels)
        app.state.services = services
        app.state.abuse_limits = limits.AbuseLimits.from_settings(settings)
        console.start(app)
        try:
            async with (
                routes_webhooks.messaging_channels(services, polling=telegram_polling),
                scheduler.leadership(services),
            ):
                yield
        finally:
            await client.aclose()
            engine.dispose()

    # No public schema or API explorer: they map every route for an attacker.
    app = FastAPI(
        title="Front desk Conciliazione",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(SecurityHeaders, https_site=secure_cookies(settings))
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.include_router(routes_health.router)
    app.include_router(routes_chat.router)
    app.include_router(routes_webhooks.router)
    app.include_router(routes_chat_updates.router)
    console.install(app)
    return app


def app_from_env() -> FastAPI:
    """The app built from the environment: each worker of `frontdesk run --workers N`."""
    settings = load_settings()
    key = settings.env.FRONTDESK_DATA_KEY
    crypto.require_key(settings.env.DATABASE_URL, key.get_secret_value() if key else None)
    return create_app(settings)
