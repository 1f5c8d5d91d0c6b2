"""`frontdesk subscribers import`: validation with line and field, all or nothing, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot import crypto
from bot.campaigns.subscriptions import Consent, unsubscribe
from bot.cli.main import app
from bot.db.campaign_models import ConsentEvent, Subscriber, Subscription
from bot.settings import Settings

HEADER = "channel,address,topics,comune,consent_at,consent_source\n"
GOOD = (
    "telegram,111,novita;prima_infanzia,Tradate,2026-10-01T10:00:00+02:00,festa scuole\n"
    "whatsapp,whatsapp:+393331112222,caregiver,,2026-10-02,modulo Social Point\n"
)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", settings.env.DATABASE_URL)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(settings.env.FRONTDESK_CONFIG))
    return CliRunner()


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_valid_file_imports_and_reimport_changes_nothing(
    cli: CliRunner, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "iscritti.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    code, out, _ = run(cli, "subscribers", "import", str(path))
    assert code == 0
    assert json.loads(out.splitlines()[-1]) == {"residents": 2, "opt_ins": 3, "withdrawn": 0}
    code, out, _ = run(cli, "subscribers", "import", str(path))
    assert json.loads(out.splitlines()[-1])["opt_ins"] == 0
    assert count(sessions, Subscriber) == 2
    assert count(sessions, Subscription) == 3
    assert count(sessions, ConsentEvent) == 3
    with sessions() as s:
        event = s.scalars(select(ConsentEvent).where(ConsentEvent.topic == "caregiver")).one()
        assert event.source == "import:modulo Social Point"
        assert event.at.isoformat().startswith("2026-10-02")


def test_every_problem_is_reported_and_nothing_is_written(
    cli: CliRunner, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "iscritti.csv"
    bad = (
        "sms,111,novita,Tradate,2026-10-01,festa\n"
        "telegram,abc,nope,Milano,2999-01-01,\n"
        "whatsapp,+39333,novita,,2026-10-01,festa\n"
        "telegram,111,novita,,2026-10-01,festa\n"
    )
    path.write_text(HEADER + GOOD + bad, encoding="utf-8")
    code, _, err = run(cli, "subscribers", "import", str(path))
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: iscritti.csv: 8 errori")
    for expected in (
        "riga 4, channel",
        "riga 5, address",
        "riga 5, topics: sconosciuti: nope",
        "riga 5, comune",
        "riga 5, consent_at",
        "riga 5, consent_source",
        "riga 6, address",
        "riga 7, address: ripetuto (già alla riga 2)",
    ):
        assert any(line.startswith(expected) for line in lines), expected
    assert count(sessions, Subscriber) == 0


def test_wrong_header_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("canale,indirizzo\ntelegram,1\n", encoding="utf-8")
    code, _, err = run(cli, "subscribers", "import", str(path))
    assert code == 1 and "riga 1, intestazione" in err


def test_an_old_form_does_not_override_a_later_stop(
    cli: CliRunner, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "iscritti.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    run(cli, "subscribers", "import", str(path))
    with sessions.begin() as s:
        unsubscribe(s, channel="telegram", address="111", consent=Consent("stop", "v1", "STOP"))
    _code, out, _ = run(cli, "subscribers", "import", str(path))
    assert json.loads(out.splitlines()[-1])["withdrawn"] == 1
    with sessions() as s:
        sub = s.scalars(
            select(Subscriber).where(
                Subscriber.address_hash == crypto.address_index("telegram", "111")
            )
        ).one()
        assert (
            s.scalars(select(Subscription).where(Subscription.subscriber_id == sub.id)).all() == []
        )


def test_campaign_create_list_report_cancel(
    cli: CliRunner, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "iscritti.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    run(cli, "subscribers", "import", str(path))
    code, out, _ = run(
        cli,
        "campaign",
        "create",
        "--title",
        "Nidi",
        "--text",
        "Aperte le iscrizioni",
        "--topic",
        "prima_infanzia",
    )
    assert code == 0 and json.loads(out.splitlines()[-1]) == {"id": 1, "recipients": 1}
    code, out, _ = run(
        cli,
        "campaign",
        "create",
        "--title",
        "Tutti",
        "--text",
        "Ciao",
        "--channel",
        "whatsapp",
        "--at",
        "2026-12-01T10:00:00+01:00",
    )
    assert json.loads(out.splitlines()[-1]) == {"id": 2, "recipients": 1}
    code, out, _ = run(cli, "campaign", "list")
    listed = json.loads(out.splitlines()[-1])
    assert [(c["id"], c["status"]) for c in listed] == [(1, "ready"), (2, "scheduled")]
    code, out, _ = run(cli, "campaign", "cancel", "2")
    assert json.loads(out.splitlines()[-1])["not_sent"] == 1
    code, out, _ = run(cli, "campaign", "report", "2")
    summary = json.loads(out.splitlines()[-1])
    assert summary["recipients"] == 1 and summary["skipped"] == 1
    code, out, _ = run(cli, "campaign", "report", "1", "--format", "csv")
    assert out.splitlines() == ["recipient,channel,result,reason,sent_at", "1,telegram,pending,,"]
    code, _, err = run(cli, "campaign", "create", "--title", "x", "--text", "y", "--topic", "meteo")
    assert code == 1 and "sconosciuto" in err
    code, _, err = run(cli, "campaign", "send", "99")
    assert code == 1 and "non esiste" in err
