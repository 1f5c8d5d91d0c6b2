"""Subscribing to updates from the chat: the offer, the topic choice and the confirmation.

A topic is a need category or `novita` (general news of the network). The resident's tap on
a `sub:<topic>` button is the explicit opt-in; the app records it with the wording version.
"""

from __future__ import annotations

from flows.copy import group, say
from flows.replies import Button, Reply
from flows.state import DialogueState
from flows.turn import FlowContext, Outcome, SubscribeRequested, Turn

NEWS = "novita"
PREFIX = "sub"


def offer_button(state: DialogueState) -> tuple[Button, ...]:
    """The "avvisami" button for the need being explored, if there is one."""
    categoria = state.need.categoria
    return (Button(say("subscribe_button"), f"{PREFIX}:{categoria}"),) if categoria else ()


def topic_label(topic: str) -> str:
    """How a topic is named to residents."""
    return say("news_topic") if topic == NEWS else group("categories").get(topic, topic)


def is_subscription_answer(_s: DialogueState, turn: Turn) -> bool:
    return turn.payload_value(PREFIX) is not None


def on_subscribe(state: DialogueState, _t: Turn, _c: FlowContext) -> Outcome:
    """ "Voglio ricevere aggiornamenti": offers the current need's topic and general news."""
    buttons = (
        *offer_button(state),
        Button(say("subscribe_news_button"), f"{PREFIX}:{NEWS}"),
        Button(say("subscribe_no_button"), f"{PREFIX}:no"),
    )
    new = state.model_copy(update={"buttons": list(buttons)})
    return Outcome(new, (Reply(say("subscribe_question"), buttons),))


def on_subscription_answer(state: DialogueState, turn: Turn, _c: FlowContext) -> Outcome:
    """A `sub:<topic>` tap: confirms and asks the app to record the opt-in."""
    topic = turn.payload_value(PREFIX) or ""
    if topic not in (*group("categories"), NEWS):  # "no", or a forged payload
        return Outcome(state, (Reply(say("subscribe_declined"), tuple(state.buttons)),))
    event = SubscribeRequested((topic,), state.need.comune, turn.text or turn.payload)
    return Outcome(state, (Reply(say("subscribed", topic=topic_label(topic))),), (event,))
