"""What an operator does to a conversation: each action is audited and reaches the resident.

Database work runs in a worker thread (one transaction each); delivery runs on the event
loop through the Deliverer, after the commit, so a slow channel never holds a lock.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import ChannelName, OutboundMessage
from bot.console import notices, queue
from bot.console.auth import Principal
from bot.console.delivery import Deliverer
from bot.db import console_repo, handoff_repo
from bot.db import conversation_repo as repo
from bot.db.models import Conversation, Handoff
from bot.services import Services
from flows.replies import Reply

log = logging.getLogger(__name__)


class Denied(Exception):
    """The action is not possible now (taken by someone else, not yours, already closed)."""


class NotVisible(Denied):
    """No such handoff among the operator's Social Points (answered as 404)."""


def point_name(services: Services, point_id: str) -> str:
    names = {p.id: p.name for p in services.settings.config.social_points}
    return names.get(point_id, point_id)


def visible(session: Session, who: Principal, handoff_id: int) -> tuple[Handoff, Conversation]:
    """The case and its conversation if this operator may see it (bot.console.queue's rules).

    Raises:
        NotVisible: not among the operator's cases (answered as 404).
    """
    found = handoff_repo.visible_handoff(
        session, handoff_id=handoff_id, points=who.points, operator_id=who.operator_id
    )
    if found is None:
        raise NotVisible(handoff_id)
    return found


def _actable(session: Session, who: Principal, handoff_id: int) -> tuple[Handoff, Conversation]:
    """Visible, open, and held by this operator or unassigned (admins: any open case)."""
    handoff, conv = visible(session, who, handoff_id)
    if not queue.may_act(handoff, operator_id=who.operator_id, is_admin=who.is_admin):
        raise Denied("not held by this operator")
    return handoff, conv


def held(session: Session, who: Principal, handoff_id: int) -> tuple[Handoff, Conversation]:
    """Visible, active and held by this operator (admins: any active case): who may reply."""
    handoff, conv = visible(session, who, handoff_id)
    if handoff.status != "active" or (handoff.operator_id != who.operator_id and not who.is_admin):
        raise Denied("not held by this operator")
    return handoff, conv


async def take(services: Services, who: Principal, handoff_id: int) -> bool:
    """Prendi in carico: atomic; the resident is told who joined. False when someone was first."""
    sessions: sessionmaker[Session] = services.sessions

    def apply() -> list[OutboundMessage] | None:
        with sessions.begin() as session:
            handoff, conv = visible(session, who, handoff_id)
            if not handoff_repo.take(
                session, handoff_id=handoff_id, operator_id=who.operator_id, points=who.points
            ):
                return None
            point = point_name(services, handoff.social_point)
            console_repo.audit(
                session,
                operator_id=who.operator_id,
                action="take",
                conversation_id=conv.id,
                handoff_id=handoff_id,
            )
            reply = notices.operator_joined(who.name.split()[0], point)
            return notices.record(session, conversation=conv, replies=[reply])

    out = await asyncio.to_thread(apply)
    if out is None:
        return False
    log.info("handoff taken id=%s operator=%s", handoff_id, who.operator_id)
    await Deliverer.of(services).send(out)
    return True


async def reply(services: Services, who: Principal, handoff_id: int, text: str) -> int:
    """Sends the operator's words; stored as an outbound message. Returns failed deliveries."""
    sessions: sessionmaker[Session] = services.sessions

    def apply() -> tuple[list[OutboundMessage], int]:
        with sessions.begin() as session:
            handoff, conv = held(session, who, handoff_id)
            # The row lock orders this message with the resident's (FrontDesk takes it too),
            # so the newest message after the flush is the operator's.
            conv = repo.lock_conversation(session, channel=conv.channel, address=conv.address)
            out = notices.record(session, conversation=conv, replies=[Reply(text)], always=True)
            session.flush()
            message = repo.recent_messages(session, conversation=conv, limit=1)[-1]
            console_repo.audit(
                session,
                operator_id=who.operator_id,
                action="reply",
                conversation_id=conv.id,
                handoff_id=handoff.id,
                message_id=message.id,
            )
            return out, message.id

    out, line = await asyncio.to_thread(apply)
    return await Deliverer.of(services).send(out, lines=[line])


def note(services: Services, who: Principal, handoff_id: int, text: str) -> None:
    """An internal note (sync: called from a threadpool route)."""
    with services.sessions.begin() as session:
        _handoff, conv = _actable(session, who, handoff_id)
        console_repo.add_note(
            session, conversation_id=conv.id, operator_id=who.operator_id, text=text
        )
        console_repo.audit(
            session,
            operator_id=who.operator_id,
            action="note",
            conversation_id=conv.id,
            handoff_id=handoff_id,
        )


async def transfer(
    services: Services, who: Principal, handoff_id: int, point: str, to_operator: int | None
) -> None:
    """To another Social Point's queue, or straight to one of its operators."""
    sessions: sessionmaker[Session] = services.sessions

    def apply() -> list[OutboundMessage]:
        with sessions.begin() as session:
            _handoff, conv = _actable(session, who, handoff_id)
            target = None
            if to_operator is not None:
                target = next(
                    (
                        o
                        for o in console_repo.operators_of_point(session, social_point=point)
                        if o.id == to_operator
                    ),
                    None,
                )
                if target is None:
                    raise Denied("operator not in that Social Point")
            if not handoff_repo.transfer(
                session, handoff_id=handoff_id, social_point=point, to_operator=to_operator
            ):
                raise Denied("not open")
            console_repo.audit(
                session,
                operator_id=who.operator_id,
                action="transfer",
                conversation_id=conv.id,
                handoff_id=handoff_id,
                detail={"social_point": point, "operator_id": to_operator},
            )
            name = point_name(services, point)
            said = (
                notices.operator_joined(target.first_name, name)
                if target
                else notices.transferred(name)
            )
            return notices.record(session, conversation=conv, replies=[said])

    await Deliverer.of(services).send(await asyncio.to_thread(apply))


async def resolve(services: Services, who: Principal, handoff_id: int) -> None:
    """Closes the case; the bot resumes and asks the resident for a 1-5 rating."""
    sessions: sessionmaker[Session] = services.sessions

    def apply() -> tuple[ChannelName, str]:
        with sessions.begin() as session:
            _handoff, conv = held(session, who, handoff_id)
            holder = None if who.is_admin else who.operator_id
            if not handoff_repo.claim_close(session, handoff_id=handoff_id, operator_id=holder):
                raise Denied("already closed")
            console_repo.audit(
                session,
                operator_id=who.operator_id,
                action="resolve",
                conversation_id=conv.id,
                handoff_id=handoff_id,
            )
            return conv.channel, conv.address  # type: ignore[return-value]

    channel, address = await asyncio.to_thread(apply)
    replies = await services.desk.operator_closed(channel, address)
    await Deliverer.of(services).send(replies)
