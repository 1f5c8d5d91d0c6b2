"""The front desk: one inbound message -> NLU -> flow -> database -> replies.

Channel-agnostic: every adapter (web chat, terminal, Telegram, WhatsApp) calls `handle`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Attachment, ChannelName, InboundMessage, OutboundMessage
from bot.crypto import DataKeyError, decrypt, encrypt
from bot.db import conversation_repo as repo
from bot.db import handoff_repo, inbox_repo, reply_repo
from bot.db.models import Conversation, Direction, HandoffStatus, Message
from flows.dialogue import step
from flows.handoff import operator_closed
from flows.state import DialogueState
from flows.turn import (
    CallbackRequested,
    EraseRequested,
    Event,
    FirstMessageKept,
    FlowContext,
    HandoffCancelled,
    HandoffRequested,
    NeedRecorded,
    Outcome,
    Rated,
    SubscribeRequested,
    Turn,
    UnsubscribeRequested,
    command_payload,
)
from nlu.client import NluClient

log = logging.getLogger(__name__)
T = TypeVar("T")


def _log_turn(message: InboundMessage, turn: Turn, outcome: Outcome) -> None:
    """One INFO line per turn: what was understood, never what was written."""
    log.info(
        "message handled channel=%s intent=%s status=%s replies=%d",
        message.channel,
        turn.intent or turn.payload,
        turn.parse.status if turn.parse else "button",
        len(outcome.replies),
    )


class Records(Protocol):
    """What a turn records beside the conversation, in its own transaction; provided by the
    packages above the front desk (observatory, campaigns, privacy: see bot.records)."""

    def need(self, session: Session, *, event: NeedRecorded, channel: str) -> int:
        """Stores an anonymous need event; returns its id."""
        ...

    def handed_off(self, session: Session, *, need_event_id: int | None) -> None:
        """Counts the linked need as handed to an operator."""
        ...

    def consent(
        self,
        session: Session,
        *,
        channel: str,
        address: str,
        event: SubscribeRequested | UnsubscribeRequested,
        said: str | None,
    ) -> None:
        """Records a campaign opt-in or opt-out said in the chat."""
        ...

    def erase(self, session: Session, *, channel: str, address: str) -> None:
        """Erases everything about the resident (asked in the chat)."""
        ...


class FrontDesk:
    """Answers residents' messages, one at a time per conversation.

    Args:
        sessions: database sessions.
        nlu: the Rasa client.
        context: builds the flow's read-only world (catalogue, Social Points, now).
        records: what a turn records beside the conversation (bot.records.TurnRecords).
    """

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        nlu: NluClient,
        context: Callable[[], FlowContext],
        records: Records,
    ) -> None:
        self._sessions = sessions
        self._records = records
        self._nlu = nlu
        self._context = context

    async def handle(self, message: InboundMessage) -> list[OutboundMessage]:
        """Processes one message and returns the replies to deliver.

        No lock here: the caller runs one conversation's turns one at a time (the terminal
        does; webhooks go through the Dispatcher, whose turn lease is the one lock).
        """
        turn = await self._understand(message)
        outcome = await asyncio.to_thread(self._apply, message, turn)
        _log_turn(message, turn, outcome)
        return self._addressed(message.channel, message.address, outcome)

    async def handle_stored(
        self, message: InboundMessage, inbox_id: int, *, finish: Callable[[Session], T]
    ) -> T | None:
        """Handles a message of the durable inbox: the turn marks it handled and queues its
        replies in the reply outbox, in the transaction that saves the new state; `finish`
        (the dispatcher's: the turn lease, the replies' claim) runs last in it.

        Returns:
            What `finish` returned; None when the message had been handled already
            (another worker won the race).
        """
        turn = await self._understand(message)  # outside any transaction: NLU is HTTP
        done = await asyncio.to_thread(self._apply_stored, message, turn, inbox_id, finish)
        if done is None:
            log.info("message already handled channel=%s", message.channel)
            return None
        outcome, finished = done
        _log_turn(message, turn, outcome)
        return finished

    async def operator_closed(self, channel: ChannelName, address: str) -> list[OutboundMessage]:
        """Called by the console when the operator resolves: the bot resumes with a rating."""

        def apply() -> Outcome:
            with self._sessions.begin() as session:
                conv = repo.lock_conversation(session, channel=channel, address=address)
                handoff_repo.set_status(session, conversation=conv, status=HandoffStatus.CLOSED)
                state = restore_state(repo.load_state(session, conversation=conv))
                outcome = operator_closed(state)
                self._transcribe(session, conv, Turn(), outcome)
                new = _storable(outcome.state)
                repo.save_state(
                    session, conversation=conv, name=new.step.value, data=stored_state(new)
                )
                return outcome

        return self._addressed(channel, address, await asyncio.to_thread(apply))

    async def _understand(self, message: InboundMessage) -> Turn:
        # Attachments are stored with the inbound message (see _save); the flow only needs to
        # know there was one.
        if message.payload is not None:
            return Turn(text=message.text, payload=message.payload)
        if payload := command_payload(message.text):  # STOP & co. never reach the NLU
            return Turn(text=message.text, payload=payload)
        parse = await self._nlu.parse(message.text) if message.text else None
        return Turn(text=message.text, parse=parse, has_media=bool(message.attachments))

    def _apply(self, message: InboundMessage, turn: Turn) -> Outcome:
        """One transaction: lock, load state, step the flow, store what consent allows."""
        with self._sessions.begin() as session:
            conv = repo.open_for_message(session, channel=message.channel, address=message.address)
            return self._step(session, conv, message, turn)[0]

    def _apply_stored(
        self, message: InboundMessage, turn: Turn, inbox_id: int, finish: Callable[[Session], T]
    ) -> tuple[Outcome, T] | None:
        """`_apply` for a message of the durable inbox: the same transaction marks it handled
        and queues the replies in the reply outbox; None if it was handled already."""
        with self._sessions.begin() as session:
            conv = repo.open_for_message(session, channel=message.channel, address=message.address)
            if not inbox_repo.take(session, inbox_id=inbox_id):
                return None  # under the conversation's lock: exactly once in effect
            outcome, lines = self._step(session, conv, message, turn)
            self._queue(session, message, outcome, lines, inbox_id)
            return outcome, finish(session)

    def _step(
        self, session: Session, conv: Conversation, message: InboundMessage, turn: Turn
    ) -> tuple[Outcome, list[Message]]:
        """Steps the flow on the saved state and stores the turn; returns the outcome and
        the replies' transcript lines."""
        # Built here, in the worker thread: a stale catalogue cache is reloaded from the
        # database, which must not happen on the event loop.
        context = self._context()
        saved = repo.load_state(session, conversation=conv)
        state = restore_state(saved)
        outcome = step(state, turn, context)
        if any(isinstance(e, EraseRequested) for e in outcome.events):
            self._records.erase(session, channel=message.channel, address=message.address)
            return outcome, []
        title = next((b.title for b in state.buttons if b.payload == turn.payload), None)
        lines = self._transcribe(session, conv, turn, outcome, message.attachments, title)
        need_id = repo.linked_need(saved)
        for event in outcome.events:
            need_id = self._record(session, conv, event, outcome.state, turn, need_id)
        new = _storable(outcome.state)
        repo.save_state(
            session,
            conversation=conv,
            name=new.step.value,
            data=repo.with_link(stored_state(new), need_id),
        )
        return outcome, lines

    @staticmethod
    def _queue(
        session: Session,
        message: InboundMessage,
        outcome: Outcome,
        lines: list[Message],
        inbox_id: int,
    ) -> None:
        """The turn's replies into the reply outbox, each linked to its transcript line."""
        session.flush()
        reply_repo.queue(
            session,
            channel=message.channel,
            address=message.address,
            replies=outcome.replies,
            message_ids=[line.id for line in lines],
            inbox_id=inbox_id,
        )

    @staticmethod
    def _transcribe(
        session: Session,
        conv: Conversation,
        turn: Turn,
        outcome: Outcome,
        attachments: tuple[Attachment, ...] = (),
        title: str | None = None,
    ) -> list[Message]:
        """Adds the turn to the transcript (only with consent); returns the replies' lines."""
        if not outcome.state.consent:
            return []
        for event in outcome.events:  # what was written before "sì" comes first
            if isinstance(event, FirstMessageKept):
                repo.add_message(
                    session, conversation=conv, direction=Direction.INBOUND, text=event.text
                )
        if turn.text or turn.payload or attachments:
            parse = turn.parse
            repo.add_message(
                session,
                conversation=conv,
                direction=Direction.INBOUND,
                text=turn.text or title,  # a tap reads as the button's words
                payload=turn.payload,
                attachments=[{"kind": a.kind, "ref": a.ref} for a in attachments],
                intent=parse.intent if parse else None,
                confidence=parse.confidence if parse else None,
            )
        return [
            repo.add_message(
                session, conversation=conv, direction=Direction.OUTBOUND, text=reply.text
            )
            for reply in outcome.replies
        ]

    def _record(
        self,
        session: Session,
        conv: Conversation,
        event: Event,
        state: DialogueState,
        turn: Turn,
        need_id: int | None,
    ) -> int | None:
        """Applies one flow event; returns the need event a later handoff should count on."""
        if isinstance(event, NeedRecorded):
            return self._records.need(session, event=event, channel=conv.channel)
        if isinstance(event, HandoffRequested):
            self._records.handed_off(session, need_event_id=need_id)
            need_id = None
            summary = _summary(session, conv, state, turn, event)
            handoff_repo.request_handoff(
                session,
                conversation=conv,
                reason=event.reason,
                social_point=event.social_point,
                priority=event.priority,
                summary=summary,
            )
            log.info("handoff requested reason=%s priority=%s", event.reason, event.priority)
        elif isinstance(event, CallbackRequested):
            handoff_repo.set_status(
                session, conversation=conv, status=HandoffStatus.CALLBACK, phone=event.phone
            )
        elif isinstance(event, HandoffCancelled):
            handoff_repo.set_status(session, conversation=conv, status=HandoffStatus.CANCELLED)
        elif isinstance(event, Rated):
            handoff_repo.rate_last(session, conversation=conv, score=event.score)
        elif isinstance(event, SubscribeRequested | UnsubscribeRequested):
            self._records.consent(
                session,
                channel=conv.channel,
                address=conv.address,
                event=event,
                said=turn.text or turn.payload,
            )
        return need_id

    @staticmethod
    def _addressed(channel: ChannelName, address: str, outcome: Outcome) -> list[OutboundMessage]:
        return [OutboundMessage(channel, address, r) for r in outcome.replies]


def _storable(state: DialogueState) -> DialogueState:
    """What may be saved of the state: without consent, nothing personal."""
    return state if state.consent else state.without_personal_data()


def stored_state(state: DialogueState) -> dict[str, object]:
    """The state as stored: the intake (the words before consent) encrypted."""
    data = state.dump()
    if state.intake is not None:
        data["intake"] = encrypt(state.intake.model_dump_json())
    return data


def restore_state(data: dict[str, Any] | None) -> DialogueState:
    """The saved state; an intake that cannot be decrypted is dropped, never fatal."""
    if data and isinstance(data.get("intake"), str):
        try:
            data = {**data, "intake": json.loads(decrypt(data["intake"]))}
        except (DataKeyError, ValueError):
            data = {**data, "intake": None}
    return DialogueState.load(data)


def _summary(
    session: Session,
    conv: Conversation,
    state: DialogueState,
    turn: Turn,
    event: HandoffRequested,
) -> dict[str, object]:
    """The card the operator reads first: the request in the resident's words, the need,
    each person's age, the schedule, what was suggested, the last messages."""
    need = state.need
    card: dict[str, object] = {
        "categoria": need.categoria,
        "comune": need.comune,
        "eta": need.eta,
        "familiare": need.familiare,
        "orario": need.orario,
        "mesi": need.mesi,
        "vincoli": need.vincoli,
        "servizi_suggeriti": state.shown,
        "consenso": bool(state.consent),
    }
    if state.consent:
        card["primo_messaggio"] = repo.first_text(session, conversation=conv)
        card["ultimi_messaggi"] = [
            {"da": m.direction, "testo": m.text, "quando": m.created_at.isoformat()}
            for m in repo.recent_messages(session, conversation=conv)
        ]
    elif event.priority and turn.text:
        # Emergency without consent: the operator must see what was written (vital interest).
        card["messaggio_emergenza"] = turn.text
    return card
