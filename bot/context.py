"""Builds the flow's read-only world from settings and the catalogue in the database."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.db.catalog_repo import load_services
from bot.settings import AppConfig, Settings
from catalog.matching import CatalogIndex
from flows.turn import FlowContext, OfficeInfo, SocialPointInfo
from nlu.comuni import gazetteer

CATALOG_TTL = 60.0  # seconds: a `frontdesk catalog import` shows up within a minute


def make_context(
    config: AppConfig, *, catalog: CatalogIndex, privacy_url: str, now: datetime
) -> FlowContext:
    """The flow's world from config.yml, a catalogue index and the local time."""
    points = tuple(
        SocialPointInfo(
            id=p.id,
            name=p.name,
            address=p.address,
            phone=p.phone,
            hours=dict(p.hours),
            comuni=p.comuni,
        )
        for p in config.social_points
    )
    return FlowContext(
        catalog=catalog,
        territory=config.territory.name,
        comuni=tuple(config.territory.comuni),
        places=gazetteer(config.territory),
        social_points=points,
        privacy_url=privacy_url,
        now=now,
        offices=tuple(
            OfficeInfo(comune=c, name=o.name, web=o.web, phone=o.phone)
            for c, o in config.territory.offices.items()
        ),
    )


def flow_context_factory(
    settings: Settings, sessions: sessionmaker[Session]
) -> Callable[[], FlowContext]:
    """A function returning the current FlowContext; the catalogue index is cached briefly."""
    cache: dict[str, tuple[float, CatalogIndex]] = {}
    privacy_url = _absolute(settings, settings.config.privacy.notice_url)

    def catalog() -> CatalogIndex:
        now = time.monotonic()
        hit = cache.get("index")
        if hit is None or now - hit[0] > CATALOG_TTL:
            with sessions() as session:
                hit = (now, CatalogIndex(load_services(session)))
            cache["index"] = hit
        return hit[1]

    def build() -> FlowContext:
        return make_context(
            settings.config,
            catalog=catalog(),
            privacy_url=privacy_url,
            now=datetime.now(settings.timezone),
        )

    return build


def _absolute(settings: Settings, url: str) -> str:
    """An absolute link under PUBLIC_BASE_URL; without it a relative one, which the web chat
    (served by this very app, on whatever port) opens as it is."""
    base = settings.env.PUBLIC_BASE_URL
    if url.startswith("http") or not base:
        return url
    return str(base).rstrip("/") + url
