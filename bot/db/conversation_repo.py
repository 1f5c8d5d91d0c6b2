"""Keyword-only repository functions for conversations, their state and messages."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.crypto import address_index
from bot.db.base import dialect_insert, per_dialect, utcnow
from bot.db.models import Conversation, ConversationState, Direction, Message


def lock_conversation(session: Session, *, channel: str, address: str) -> Conversation:
    """Gets or creates the conversation and locks it until the transaction ends.

    On PostgreSQL the row lock (SELECT ... FOR UPDATE) serialises messages of the same
    resident across processes; SQLite serialises all writers anyway.
    """
    values = {
        "channel": channel,
        "address": address,
        "created_at": utcnow(),
        "updated_at": utcnow(),
        "last_message_at": utcnow(),
    }
    session.execute(dialect_insert(session)(Conversation).values(**values).on_conflict_do_nothing())
    stmt = select(Conversation).where(
        Conversation.channel == channel,
        Conversation.address_hash == address_index(channel, address),
    )
    return session.scalars(stmt.with_for_update()).one()


def _open(insert: Any) -> Any:
    table = cast(Any, Conversation.__table__)
    now: Any = bindparam("p_now")
    stmt = insert(table).values(
        channel=bindparam("p_channel"),
        address=bindparam("p_address"),
        address_hash=bindparam("p_hash"),
        created_at=now,
        updated_at=now,
        last_message_at=now,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[table.c.channel, table.c.address_hash],
        set_={"last_message_at": stmt.excluded.last_message_at},
    )
    return upsert.returning(*table.c)


_OPEN = per_dialect(_open, load=Conversation)  # the ORM object, from one statement


def open_for_message(session: Session, *, channel: str, address: str) -> Conversation:
    """The conversation of an inbound message, created if new, with its last message time
    set, and locked until the transaction ends: one statement (an upsert takes the row lock
    on PostgreSQL like SELECT ... FOR UPDATE; SQLite serialises all writers anyway)."""
    params = {
        "p_channel": channel,
        "p_address": address,
        "p_hash": address_index(channel, address),
        "p_now": utcnow(),
    }
    options = {"populate_existing": True}
    return session.scalars(_OPEN(session), params, execution_options=options).one()


_STATES = cast(Any, ConversationState.__table__)
_LOAD_STATE = select(_STATES.c.data).where(_STATES.c.conversation_id == bindparam("p_id"))


def _save(insert: Any) -> Any:
    stmt = insert(_STATES).values(
        conversation_id=bindparam("p_id"),
        name=bindparam("p_name"),
        data=bindparam("p_data"),
        version=0,
        updated_at=bindparam("p_now"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[_STATES.c.conversation_id],
        set_={
            "name": stmt.excluded.name,
            "data": stmt.excluded.data,
            "version": _STATES.c.version + 1,
            "updated_at": stmt.excluded.updated_at,
        },
    )


_SAVE_STATE = per_dialect(_save)  # one statement, new row or not (every turn saves)


def load_state(session: Session, *, conversation: Conversation) -> dict[str, Any] | None:
    """The saved flow state, if any."""
    data = session.scalar(_LOAD_STATE, {"p_id": conversation.id})
    return dict(data) if data is not None else None


def save_state(
    session: Session, *, conversation: Conversation, name: str, data: dict[str, Any]
) -> None:
    """Stores the flow state (one row per conversation)."""
    params = {"p_id": conversation.id, "p_name": name, "p_data": data, "p_now": utcnow()}
    session.execute(_SAVE_STATE(session), params)


def add_message(
    session: Session,
    *,
    conversation: Conversation,
    direction: Direction,
    text: str | None,
    payload: str | None = None,
    attachments: list[dict[str, str]] | None = None,
    intent: str | None = None,
    confidence: float | None = None,
) -> Message:
    """Appends a message to the transcript (its id is set at the next flush)."""
    message = Message(
        conversation_id=conversation.id,
        direction=direction.value,
        text=text,
        payload=payload,
        attachments=attachments or None,
        intent=intent,
        confidence=confidence,
    )
    session.add(message)
    conversation.last_message_at = utcnow()
    return message


def transcript(session: Session, *, channel: str, address: str) -> list[Message]:
    """All stored messages of one resident, oldest first."""
    stmt = (
        select(Message)
        .join(Conversation)
        .where(
            Conversation.channel == channel,
            Conversation.address_hash == address_index(channel, address),
        )
        .order_by(Message.id)
    )
    return list(session.scalars(stmt))


def recent_messages(
    session: Session, *, conversation: Conversation, limit: int = 10
) -> list[Message]:
    """The last `limit` messages, oldest first (for the operator's summary card)."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(list(session.scalars(stmt))))


def first_text(session: Session, *, conversation: Conversation) -> str | None:
    """The resident's first written message (usually the request itself), if stored."""
    stmt = (
        select(Message.text)
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == Direction.INBOUND.value,
            Message.payload.is_(None),
            Message.text.is_not(None),
        )
        .order_by(Message.id)
        .limit(1)
    )
    return session.scalars(stmt).first()


# The conversation state remembers its latest need event until a handoff follows (often in a
# later turn: "vuoi parlare con un operatore?" -> "sì"). The link lives only in the state,
# which is personal data: erasure and retention remove it, and the event stays anonymous.
LINK_KEY = "_need_event_id"


def linked_need(state: dict[str, Any] | None) -> int | None:
    """The need event id a saved conversation state points to, if any."""
    value = (state or {}).get(LINK_KEY)
    return value if isinstance(value, int) else None


def with_link(state: dict[str, Any], need_event_id: int | None) -> dict[str, Any]:
    """The state to save, pointing to `need_event_id` (or to no need event)."""
    data = {k: v for k, v in state.items() if k != LINK_KEY}
    if need_event_id is not None:
        data[LINK_KEY] = need_event_id
    return data
