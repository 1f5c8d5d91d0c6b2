"""Export and erasure: the CLI, the chat's "cancella i miei dati", the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from bot.db.console_models import AuditEntry
from bot.db.metadata import metadata
from bot.privacy.registry import Subject, personal_tables
from tests.conftest import FakeRasa, rasa_says
from tests.privacy.conftest import fill_resident

ROOT = Path(__file__).resolve().parents[2]
ANNA = Subject("whatsapp", "whatsapp:+393331112222")
BRUNO = Subject("whatsapp", "whatsapp:+393339998888")


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))


def run(*args: str) -> dict:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {
            t.name: s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def test_export_holds_everything_about_the_resident(
    sessions: sessionmaker[Session], cli_env: None
) -> None:
    fill_resident(sessions, ANNA, text="mia figlia ha 2 anni")
    fill_resident(sessions, BRUNO, text="mio padre ha 80 anni")
    doc = run("privacy", "export", ANNA.channel, ANNA.address)
    assert doc["found"] and doc["subject"]["address"] == ANNA.address
    tables = doc["tables"]
    for table, _decl in personal_tables():
        assert len(tables[table.name]) == 1, table.name  # Anna's row, never Bruno's
    assert tables["messages"][0]["text"] == "mia figlia ha 2 anni"  # decrypted
    assert tables["handoffs"][0]["summary"]["ultimi_messaggi"][0]["testo"].startswith("mia")
    assert tables["handoffs"][0]["callback_phone"] == "3331234567"
    assert tables["operator_notes"][0]["text"] == "nota: mia figlia ha 2 anni"
    assert "mio padre" not in json.dumps(doc)
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "privacy_export")).one()
    assert entry.detail is not None and entry.detail["via"] == "cli"
    assert ANNA.address not in json.dumps(entry.detail)


def test_erase_deletes_personal_rows_keeps_anonymous_and_legal(
    sessions: sessionmaker[Session], cli_env: None
) -> None:
    fill_resident(sessions, ANNA)
    fill_resident(sessions, BRUNO)
    before = counts(sessions)
    out = run("privacy", "erase", ANNA.channel, ANNA.address)
    assert out["erased"] is True
    after = counts(sessions)
    for table, decl in personal_tables():
        expected = before[table.name] if decl.keep_on_erase else before[table.name] - 1
        assert after[table.name] == expected, table.name
    assert after["need_events"] == before["need_events"]  # anonymous: stays
    assert after["consent_ledger"] == before["consent_ledger"]  # legal proof: stays
    assert after["campaigns"] == before["campaigns"]
    assert run("privacy", "export", ANNA.channel, ANNA.address)["found"] is True  # ledger only
    again = run("privacy", "erase", ANNA.channel, ANNA.address)
    assert again["erased"] is False
    with sessions() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("privacy_erase") == 2


def test_cli_rejects_unknown_channel(cli_env: None) -> None:
    result = CliRunner().invoke(app, ["privacy", "erase", "fax", "123"])
    assert result.exit_code != 0
    assert "unknown channel" in result.output


def test_chat_erase_uses_the_same_erasure(
    client: TestClient,
    fake_rasa: FakeRasa,
    sessions: sessionmaker[Session],
) -> None:
    session_id = "privacy-chat-0001"
    fake_rasa.table["cancella i miei dati"] = rasa_says("cancellazione_dati")
    for body in ({"text": "ciao"}, {"payload": "consent:yes"}, {"text": "cancella i miei dati"}):
        client.post("/api/chat", json={"session": session_id, **body})
    out = client.post("/api/chat", json={"session": session_id, "payload": "yes"}).json()
    assert "cancellato" in out["messages"][0]["text"]
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "privacy_erase")).one()
        assert entry.detail is not None and entry.detail["via"] == "chat"
        assert entry.detail["rows"]["messages"] >= 2
    with sessions() as s:
        from bot.privacy.export import collect

        assert not any(collect(s, Subject("webchat", session_id)).values())
