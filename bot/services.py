"""The running deployment's services, built once by the composition root and passed on.

The web app's lifespan (bot.web.app) and each CLI command build one `Services`; routes get
it through the `app_services` dependency, scheduled jobs (bot.jobs) and console actions as an
argument. Nothing reaches for a process-global instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Channel
from bot.channels.delivery import Dispatcher
from bot.context import flow_context_factory
from bot.db.base import utcnow
from bot.frontdesk import FrontDesk
from bot.records import TurnRecords
from bot.settings import Settings
from flows.turn import FlowContext
from nlu.client import NluClient


@dataclass(frozen=True)
class Services:
    """What routes, jobs and commands use. Frozen: a test swaps one with `replace`."""

    settings: Settings
    sessions: sessionmaker[Session]
    nlu: NluClient
    flow_context: Callable[[], FlowContext]  # the flow's world now (catalogue, hours)
    desk: FrontDesk
    dispatcher: Dispatcher
    channels: Mapping[str, Channel] = field(default_factory=dict)  # name -> adapter
    clock: Callable[[], datetime] = utcnow  # aware UTC now


def build(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    nlu: NluClient,
    channels: Mapping[str, Channel] | None = None,
) -> Services:
    """The front desk and its dispatcher over these resources (not opened: no I/O here)."""
    flow_context = flow_context_factory(settings, sessions)
    desk = FrontDesk(
        sessions=sessions,
        nlu=nlu,
        context=flow_context,
        records=TurnRecords(consent_wording=settings.config.campaigns.wording_version),
    )
    channels = channels if channels is not None else {}
    return Services(
        settings=settings,
        sessions=sessions,
        nlu=nlu,
        flow_context=flow_context,
        desk=desk,
        dispatcher=Dispatcher(desk=desk, sessions=sessions, channels=channels),
        channels=channels,
    )


def app_services(request: Request) -> Services:
    """The app's services, as a FastAPI dependency (or called with the request)."""
    found: Services = request.app.state.services
    return found
