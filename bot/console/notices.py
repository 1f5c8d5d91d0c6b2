"""What the resident is told while queued or served (copy in flows/messages.it.yml)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.channels.base import ChannelName, OutboundMessage
from bot.db import conversation_repo as repo
from bot.db.models import Conversation, Direction
from flows.copy import say
from flows.handoff import YES_NO
from flows.replies import Reply
from flows.state import DialogueState, Step


def operator_joined(name: str, point: str) -> Reply:
    return Reply(say("operator_joined", name=name, point=point))


def transferred(point: str) -> Reply:
    return Reply(say("operator_transferred", point=point))


def queue_position(position: int, point: str, minutes_per_case: int) -> Reply:
    if position <= 1:
        return Reply(say("queue_position_next", point=point))
    minutes = (position - 1) * minutes_per_case
    return Reply(say("queue_position", position=position, point=point, minutes=minutes))


def offer_callback(session: Session, *, conversation: Conversation, point: str) -> Reply | None:
    """The wait ran out: ask "shall we call you back?" and let the flow take the answer.

    Only while the bot is silent (step HUMAN): a resident already answering something else
    is not interrupted. The state moves to OFFER_CALLBACK, where flows.handoff handles yes/no.
    """
    state = DialogueState.load(repo.load_state(session, conversation=conversation))
    if state.step is not Step.HUMAN:
        return None
    reply = Reply(say("queue_timeout_callback", point=point), YES_NO)
    new = state.model_copy(update={"step": Step.OFFER_CALLBACK, "buttons": list(YES_NO)})
    repo.save_state(session, conversation=conversation, name=new.step.value, data=new.dump())
    return reply


def record(
    session: Session, *, conversation: Conversation, replies: list[Reply], always: bool = False
) -> list[OutboundMessage]:
    """Stores the replies in the transcript (with consent, or `always` for operators' words).

    Returns them addressed to the resident, ready for the Deliverer.
    """
    state = DialogueState.load(repo.load_state(session, conversation=conversation))
    if always or state.consent:
        for reply in replies:
            repo.add_message(
                session, conversation=conversation, direction=Direction.OUTBOUND, text=reply.text
            )
    channel: ChannelName = conversation.channel  # type: ignore[assignment]
    return [OutboundMessage(channel, conversation.address, r) for r in replies]
