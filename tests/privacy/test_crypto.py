"""Texts at rest are Fernet tokens; key rotation keeps everything readable."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot import crypto
from bot.cli.main import app
from bot.db import conversation_repo as repo
from bot.db.campaign_models import ConsentEvent
from bot.db.models import Handoff, Message
from bot.privacy.export import collect
from bot.privacy.registry import Subject
from bot.privacy.rotate import encrypted_columns
from tests.privacy.conftest import KEY, fill_resident

ROOT = Path(__file__).resolve().parents[2]
ANNA = Subject("webchat", "sessione-anna")
SECRET = "abito in via Verdi 12 e mia figlia Giulia ha 2 anni"
RAW = {
    "messages": "SELECT text FROM messages",
    "operator_notes": "SELECT text FROM operator_notes",
    "handoffs": "SELECT summary FROM handoffs",
    "callback_phone": "SELECT callback_phone FROM handoffs",
    "evidence": "SELECT evidence FROM consent_ledger",
}
PHONE = "3331234567"  # fill_resident's callback phone
EVIDENCE = "sì, voglio le novità su via Verdi"


def raw_values(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as s:
        return [str(v) for sql in RAW.values() for (v,) in s.execute(text(sql))]


def test_raw_columns_hold_no_plaintext(sessions: sessionmaker[Session]) -> None:
    fill_resident(sessions, ANNA, text=SECRET)
    with sessions.begin() as s:
        s.execute(update(ConsentEvent).values(evidence=EVIDENCE))
    stored = raw_values(sessions)
    assert len(stored) == len(RAW)
    assert all("Giulia" not in v and "Verdi" not in v and PHONE not in v for v in stored)
    assert all(crypto.TOKEN_PREFIX in v for v in stored)
    with sessions() as s:
        assert repo.transcript(s, channel=ANNA.channel, address=ANNA.address)[0].text == SECRET
        assert s.scalars(select(Handoff.callback_phone)).one() == PHONE
        assert s.scalars(select(ConsentEvent.evidence)).one() == EVIDENCE


def test_encrypted_columns_cover_phones_and_consent_evidence() -> None:
    names = {f"{table.name}.{column}" for table, column in encrypted_columns()}
    assert {"handoffs.callback_phone", "consent_ledger.evidence"} <= names


def test_rows_written_before_encryption_stay_readable(sessions: sessionmaker[Session]) -> None:
    fill_resident(sessions, ANNA, text=SECRET)
    with sessions.begin() as s:
        s.execute(text("UPDATE messages SET text = 'vecchio testo in chiaro'"))
    with sessions() as s:
        assert collect(s, ANNA)["messages"][0]["text"] == "vecchio testo in chiaro"


def test_rotate_key_re_encrypts_under_the_new_key(
    sessions: sessionmaker[Session], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_resident(sessions, ANNA, text=SECRET)
    before = raw_values(sessions)
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    monkeypatch.setenv(crypto.ENV_VAR, f"{new},{KEY}")  # new first, old still readable
    result = CliRunner().invoke(app, ["privacy", "rotate-key"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["rotated"]["messages.text"] == 1 and out["key_source"] == "env"
    assert out["rotated"]["handoffs.callback_phone"] == 1
    assert out["rotated"]["consent_ledger.evidence"] == 1
    # The new encrypted columns rotate too, and every blind index is recomputed.
    assert out["rotated"]["conversations.address"] == 1
    assert out["rotated"]["conversation_states.data"] == 1
    for table in ("conversations", "subscribers", "channel_contacts", "consent_ledger"):
        assert out["rotated"][f"{table}.address_hash"] == 1, table
    after = raw_values(sessions)
    assert set(after).isdisjoint(before)
    crypto.configure(new)  # the old key is gone: everything must still be readable
    with sessions() as s:
        found = collect(s, ANNA)
    assert found["messages"][0]["text"] == SECRET
    assert found["operator_notes"][0]["text"] == f"nota: {SECRET}"
    assert found["handoffs"][0]["summary"]["ultimi_messaggi"][0]["testo"] == SECRET
    assert found["handoffs"][0]["callback_phone"] == PHONE
    assert found["consent_ledger"][0]["evidence"] == "sì"


def test_wrong_key_fails_with_a_clear_error(sessions: sessionmaker[Session]) -> None:
    fill_resident(sessions, ANNA, text=SECRET)
    crypto.configure(Fernet.generate_key().decode())
    with sessions() as s:
        # The blind index is keyed too: under another key the resident is not even found...
        assert not collect(s, ANNA).get("messages")
        # ...and reading a stored row says which variable to check.
        with pytest.raises(crypto.DataKeyError, match="FRONTDESK_DATA_KEY"):
            s.scalars(select(Message.text)).all()


def test_bad_key_is_rejected() -> None:
    with pytest.raises(crypto.DataKeyError):
        crypto.parse_keys("non-una-chiave")


def test_key_file_is_created_once(tmp_path: Path) -> None:
    path = tmp_path / "var" / "data.key"
    first = crypto.key_file_keys(path)
    assert path.exists() and crypto.key_file_keys(path) == first


def test_an_encrypted_column_refuses_value_comparisons() -> None:
    from bot.db.models import Conversation

    # A token never equals its text: such a filter would silently match nothing.
    with pytest.raises(TypeError, match="blind index"):
        select(Conversation.id).where(Conversation.address == ANNA.address)
    with pytest.raises(TypeError, match="blind index"):
        select(Conversation.id).where(Conversation.address.in_([ANNA.address]))
    select(Message.id).where(Message.payload.is_(None))  # NULL tests still work


def test_the_blind_index_is_keyed_and_follows_the_newest_key() -> None:
    plain = hashlib.sha256(b"whatsapp:+393331234567").hexdigest()[:32]
    index = crypto.address_index("whatsapp", "+393331234567")
    assert len(index) == 32 and index != plain
    crypto.configure(f"{Fernet.generate_key().decode()},{KEY}")
    assert crypto.address_index("whatsapp", "+393331234567") != index
