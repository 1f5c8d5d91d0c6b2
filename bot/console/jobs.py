"""The handoff timer (run by the scheduler leader): queue notices, callback offers, cleanup.

Each tick: (1) newly queued requests are announced while their Social Point is open (or at
once for emergencies): the resident learns the queue position and the estimated wait, the
operators' Telegram group hears "nuova richiesta in coda" (no personal data); (2) requests
announced more than `queue_timeout_minutes` ago and still not taken get a callback offer and
stay in the queue as callback requests; (3) old web chat outbox rows are deleted.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from bot.channels.base import OutboundMessage
from bot.console import notices
from bot.console.actions import point_name
from bot.console.delivery import Deliverer
from bot.db import conversation_repo as repo
from bot.db import handoff_repo, reply_repo
from bot.db.models import Conversation, Handoff, HandoffStatus
from bot.services import Services
from flows.hours import is_open
from flows.replies import Reply
from flows.state import DialogueState, Step

log = logging.getLogger(__name__)
PULLED_KEEP = timedelta(days=1)  # a web chat page that has not fetched by then is gone


async def run_tick(services: Services) -> None:
    """The scheduled job (bot.jobs): one pass over the queue."""
    out = await asyncio.to_thread(_tick, services)
    if out:
        await Deliverer.of(services).send(out)


def _open(services: Services, handoff: Handoff) -> bool:
    context = services.flow_context()
    point = next((p for p in context.social_points if p.id == handoff.social_point), None)
    return handoff.priority >= 1 or point is None or is_open(point, context.now)


def _tick(services: Services) -> list[OutboundMessage]:
    out: list[OutboundMessage] = []
    console = services.settings.config.console
    with services.sessions.begin() as session:
        for handoff in handoff_repo.unannounced(session):
            if _open(services, handoff):
                out += _announce(session, services, handoff)
        before = services.clock() - timedelta(minutes=console.queue_timeout_minutes)
        for handoff in handoff_repo.timed_out(session, before=before):
            if _open(services, handoff):
                out += _offer_callback(session, services, handoff)
        reply_repo.expire_pulled(session, before=services.clock() - PULLED_KEEP)
    return out


def _announce(session: Session, services: Services, handoff: Handoff) -> list[OutboundMessage]:
    handoff.announced_at = services.clock()
    name = point_name(services, handoff.social_point)
    out = []
    folded = bool((handoff.summary or {}).get("folded_into"))  # its burst was announced
    if (chat := services.settings.config.console.telegram_operators_chat_id) and not folded:
        level = "EMERGENZA" if handoff.priority >= 1 else "normale"
        text = f"Nuova richiesta in coda, priorità {level}, {name}."
        out.append(OutboundMessage("telegram", str(chat), Reply(text)))
    conv = session.get(Conversation, handoff.conversation_id)
    if conv is None or handoff.status != HandoffStatus.WAITING.value:
        return out
    if DialogueState.load(repo.load_state(session, conversation=conv)).step is not Step.HUMAN:
        return out  # the resident is answering the callback offer: don't talk over it
    place = handoff_repo.position(session, handoff=handoff)
    reply = notices.queue_position(place, name, services.settings.config.console.minutes_per_case)
    log.info("queue position sent handoff=%s position=%s", handoff.id, place)
    return notices.record(session, conversation=conv, replies=[reply]) + out


def _offer_callback(
    session: Session, services: Services, handoff: Handoff
) -> list[OutboundMessage]:
    handoff.callback_offered_at = services.clock()
    found = _conv(session, handoff)
    conv = repo.lock_conversation(session, channel=found.channel, address=found.address)
    reply = notices.offer_callback(
        session, conversation=conv, point=point_name(services, handoff.social_point)
    )
    if reply is None:
        return []
    handoff.status = HandoffStatus.CALLBACK.value
    log.info("queue timeout: callback offered handoff=%s", handoff.id)
    return notices.record(session, conversation=conv, replies=[reply])


def _conv(session: Session, handoff: Handoff) -> Conversation:
    conv = session.get(Conversation, handoff.conversation_id)
    assert conv is not None  # the foreign key cascades: a handoff always has its conversation
    return conv
