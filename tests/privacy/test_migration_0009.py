"""Migration 0009: callback phones and consent evidence written in clear get encrypted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import column, insert, select, table, text
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.db.campaign_models import ConsentEvent
from bot.db.engine import create_db_engine, session_factory
from bot.db.metadata import metadata
from bot.db.migrate import alembic_config, upgrade
from bot.db.models import Handoff
from bot.privacy.rotate import rotate_all
from tests.privacy.conftest import KEY

PHONE = "3331234567"
EVIDENCE = "sì, iscrivimi"


def insert_conversation(s: Session, *, channel: str, address: str) -> int:
    """A conversation row as an old schema has it (the model's table has newer columns)."""
    names = ("id", "channel", "address", "created_at", "updated_at", "last_message_at")
    conv = table("conversations", *(column(n) for n in names))
    now = datetime.now(UTC)
    values = {"channel": channel, "address": address, "created_at": now, "updated_at": now}
    stmt = insert(conv).values(**values, last_message_at=now).returning(conv.c.id)
    return int(s.execute(stmt).scalar_one())


def clear_rows(url: str) -> sessionmaker[Session]:
    """A database at 0008 with a callback phone and a consent evidence in clear."""
    upgrade(url, "0008")
    sessions = session_factory(create_db_engine(url))
    with sessions.begin() as s:
        conv_id = insert_conversation(s, channel="telegram", address="42")
        handoffs = metadata.tables["handoffs"]
        s.execute(
            insert(handoffs).values(
                conversation_id=conv_id, reason="richiesta", social_point="tradate"
            )
        )
        ledger = metadata.tables["consent_ledger"]
        s.execute(
            insert(ledger).values(
                channel="telegram",
                address_hash="h",
                action="opt_in",
                source="chat",
                wording_version="v1",
            )
        )
        # Raw SQL: the models' column types would encrypt (as 0008 never did).
        s.execute(text("UPDATE handoffs SET callback_phone = :v"), {"v": PHONE})
        s.execute(text("UPDATE consent_ledger SET evidence = :v"), {"v": EVIDENCE})
    return sessions


def raw(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as s:
        return [
            s.execute(text("SELECT callback_phone FROM handoffs")).scalar_one(),
            s.execute(text("SELECT evidence FROM consent_ledger")).scalar_one(),
        ]


def readable(sessions: sessionmaker[Session]) -> list[str | None]:
    with sessions() as s:
        return [
            s.scalars(select(Handoff.callback_phone)).one(),
            s.scalars(select(ConsentEvent.evidence)).one(),
        ]


def test_upgrade_encrypts_existing_values_and_downgrade_restores_them(db_url: str) -> None:
    sessions = clear_rows(db_url)
    upgrade(db_url)
    stored = raw(sessions)
    assert all(v.startswith(crypto.TOKEN_PREFIX) and PHONE not in v for v in stored)
    assert readable(sessions) == [PHONE, EVIDENCE]
    with sessions.begin() as s:  # a new phone: far longer than the old varchar(32)
        s.execute(select(Handoff)).scalar_one().callback_phone = "+39 333 123 4567 int. 12"
    command.downgrade(alembic_config(db_url), "0008")
    with sessions() as s:
        assert s.execute(text("SELECT callback_phone FROM handoffs")).scalar_one() == (
            "+39 333 123 4567 int. 12"
        )
        assert s.execute(text("SELECT evidence FROM consent_ledger")).scalar_one() == EVIDENCE


def test_without_a_key_values_stay_readable_until_rotation(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = clear_rows(db_url)
    monkeypatch.chdir(tmp_path)  # no var/data.key, no .env here
    monkeypatch.delenv(crypto.ENV_VAR)
    monkeypatch.setattr(crypto, "_keys", [])
    upgrade(db_url, "0009")
    assert not (tmp_path / "var" / "data.key").exists()  # no key invented for the app
    assert raw(sessions) == [PHONE, EVIDENCE]
    crypto.configure(KEY)
    upgrade(db_url)  # 0015 needs the key (it indexes the addresses): the app's from now on
    assert readable(sessions) == [PHONE, EVIDENCE]
    with sessions.begin() as s:
        counts = rotate_all(s)
    assert counts["handoffs.callback_phone"] == 1 and counts["consent_ledger.evidence"] == 1
    assert all(v.startswith(crypto.TOKEN_PREFIX) for v in raw(sessions))
    assert readable(sessions) == [PHONE, EVIDENCE]
