"""Migration 0015: addresses, flow states, payloads and intents written in clear get encrypted,
and the plain SHA-256 address hashes become keyed blind indexes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy import JSON, column, insert, select, table, text
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.campaigns import subscriptions
from bot.db import conversation_repo as repo
from bot.db.engine import create_db_engine, session_factory
from bot.db.migrate import alembic_config, upgrade
from bot.db.models import ConversationState, Message

CHAT = "987654321"
PHONE = "whatsapp:+393331234567"
ERASED = "whatsapp:+393330000000"  # only in the consent ledger: erased before 0015
STATE = {"need": {"categoria": "disabilita", "eta": [7], "comune": "Tradate"}}
NOW = datetime.now(UTC)


def sha(channel: str, address: str) -> str:
    return hashlib.sha256(f"{channel}:{address}".encode()).hexdigest()[:32]


def put(s: Session, name: str, **values: Any) -> int:
    """Inserts a row as the 0014 schema has it (plain columns, no model types)."""
    kinds = {"data": JSON, "attachments": JSON}
    t = table(name, column("id"), *(column(k, kinds.get(k)) for k in values))
    return int(s.execute(insert(t).values(**values).returning(t.c.id)).scalar_one())


def old_rows(url: str) -> tuple[sessionmaker[Session], int]:
    """A database at 0014 with a resident's rows in every table that 0015 converts."""
    upgrade(url, "0014")
    sessions = session_factory(create_db_engine(url))
    stamps = {"created_at": NOW, "updated_at": NOW}
    with sessions.begin() as s:
        conv = put(
            s, "conversations", channel="telegram", address=CHAT, last_message_at=NOW, **stamps
        )
        s.execute(
            insert(
                table(
                    "conversation_states",
                    *map(column, ("conversation_id", "name", "version", "updated_at")),
                    column("data", JSON),
                )
            ).values(conversation_id=conv, name="suggested", data=STATE, version=1, updated_at=NOW)
        )
        put(
            s,
            "messages",
            conversation_id=conv,
            direction="in",
            payload="cat:disabilita",
            intent="bisogno_disabilita",
            attachments=[{"kind": "photo", "id": "file-1"}],
            created_at=NOW,
        )
        put(
            s,
            "inbox_messages",
            channel="telegram",
            address=CHAT,
            payload="comune:Tradate",
            attachments=[{"kind": "photo"}],
            received_at=NOW,
            attempts=0,
        )
        put(
            s,
            "reply_outbox",
            channel="telegram",
            address=CHAT,
            status="queued",
            attempts=0,
            next_attempt_at=NOW,
            created_at=NOW,
        )
        put(s, "subscribers", channel="whatsapp", address=PHONE, active=True, **stamps)
        put(
            s,
            "channel_contacts",
            channel="telegram",
            address_hash=sha("telegram", CHAT),
            last_inbound_at=NOW,
        )
        for address in (PHONE, ERASED):
            put(
                s,
                "consent_ledger",
                channel="whatsapp",
                address_hash=sha("whatsapp", address),
                at=NOW,
                recorded_at=NOW,
                action="opt_in",
                source="chat",
                wording_version="v1",
            )
    return sessions, conv


def dump(sessions: sessionmaker[Session]) -> str:
    """Every stored value of the converted tables, as text."""
    names = (
        "conversations",
        "conversation_states",
        "messages",
        "inbox_messages",
        "reply_outbox",
        "subscribers",
        "channel_contacts",
        "consent_ledger",
    )
    with sessions() as s:
        return repr([tuple(r) for n in names for r in s.execute(text(f"SELECT * FROM {n}"))])


def test_upgrade_encrypts_and_indexes_and_downgrade_restores(db_url: str) -> None:
    sessions, conv = old_rows(db_url)
    upgrade(db_url)
    stored = dump(sessions)
    for clear in (
        CHAT,
        PHONE,
        "disabil",
        "Tradate",
        "file-1",
        sha("telegram", CHAT),
        sha("whatsapp", PHONE),
        sha("whatsapp", ERASED),
    ):
        assert clear not in stored, clear
    with sessions() as s:
        hashes = (
            s.execute(text("SELECT address_hash FROM consent_ledger ORDER BY id")).scalars().all()
        )
        contact = s.execute(text("SELECT address_hash FROM channel_contacts")).scalar_one()
    assert contact == crypto.address_index("telegram", CHAT)
    assert hashes[0] == crypto.address_index("whatsapp", PHONE)
    assert hashes[1] not in (crypto.address_index("whatsapp", ERASED), sha("whatsapp", ERASED))

    # The application finds and reads everything through the models.
    with sessions.begin() as s:
        assert repo.lock_conversation(s, channel="telegram", address=CHAT).id == conv
        assert s.get(ConversationState, conv).data == STATE  # type: ignore[union-attr]
        message = s.scalars(select(Message)).one()
        assert (message.payload, message.intent) == ("cat:disabilita", "bisogno_disabilita")
        found = subscriptions.find(s, channel="whatsapp", address=PHONE)
        assert found is not None and found.address == PHONE
        # A second conversation for the same address is refused by the unique blind index.
        assert repo.lock_conversation(s, channel="telegram", address=CHAT).id == conv
        assert s.execute(text("SELECT count(*) FROM conversations")).scalar_one() == 1

    command.downgrade(alembic_config(db_url), "0014")
    with sessions() as s:
        assert s.execute(text("SELECT address FROM conversations")).scalar_one() == CHAT
        assert s.execute(text("SELECT address FROM subscribers")).scalar_one() == PHONE
        assert s.execute(text("SELECT payload FROM messages")).scalar_one() == "cat:disabilita"
        contact = s.execute(text("SELECT address_hash FROM channel_contacts")).scalar_one()
        ledger = (
            s.execute(text("SELECT address_hash FROM consent_ledger ORDER BY id")).scalars().all()
        )
    assert contact == sha("telegram", CHAT) and ledger[0] == sha("whatsapp", PHONE)
    assert CHAT in dump(sessions) and "disabil" in dump(sessions)


def test_rows_without_a_key_stop_the_upgrade_with_one_line(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions, _ = old_rows(db_url)
    monkeypatch.chdir(tmp_path)  # no var/data.key, no .env here
    monkeypatch.delenv(crypto.ENV_VAR)
    monkeypatch.setattr(crypto, "_keys", [])
    with pytest.raises((RuntimeError, CommandError), match="FRONTDESK_DATA_KEY"):
        upgrade(db_url)
    assert not (tmp_path / "var" / "data.key").exists()  # no key invented
    assert CHAT in dump(sessions)  # nothing half-converted: the transaction rolled back
