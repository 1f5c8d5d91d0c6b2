"""`frontdesk report needs`: grouping, filters, small-cell suppression, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from bot.db.models import NeedEvent
from bot.observatory import rollup

ROOT = Path(__file__).resolve().parents[2]


def add_events(
    sessions: sessionmaker[Session],
    n: int,
    *,
    month: str = "2026-10",
    categoria: str = "prima_infanzia",
    comune: str = "Tradate",
    matched: bool = True,
    handed_off: bool = False,
    channel: str = "webchat",
) -> None:
    with sessions.begin() as s:
        s.add_all(
            NeedEvent(
                month=month,
                categoria=categoria,
                comune=comune,
                channel=channel,
                matched=matched,
                handed_off=handed_off,
            )
            for _ in range(n)
        )
        s.flush()
        rollup.rebuild(s)


@pytest.fixture
def report(
    sessions: sessionmaker[Session], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FRONTDESK_CONFIG", str(ROOT / "config.yml"))
    add_events(sessions, 4)
    add_events(sessions, 3, matched=False, handed_off=True)  # 7 requests in Tradate, Oct
    add_events(sessions, 2, comune="Castelseprio")  # a small cell
    add_events(sessions, 6, month="2026-11", categoria="caregiver", matched=False)
    add_events(sessions, 1, month="2026-11", categoria="caregiver", channel="telegram")
    return sessions


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["report", "needs", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_is_one_array_with_suppressed_counts_as_null(report: object) -> None:
    rows = json.loads(run())
    assert rows == [
        {
            "categoria": "prima_infanzia",
            "comune": "Castelseprio",
            "mese": "2026-10",
            "richieste": None,
            "senza_risposta": None,
            "passaggi_operatore": None,
        },
        {
            "categoria": "prima_infanzia",
            "comune": "Tradate",
            "mese": "2026-10",
            "richieste": 7,
            "senza_risposta": None,  # 3 < 5
            "passaggi_operatore": None,
        },
        {
            "categoria": "caregiver",
            "comune": "Tradate",
            "mese": "2026-11",
            "richieste": 7,
            "senza_risposta": 6,
            "passaggi_operatore": None,
        },
    ]


def test_min_count_and_period_filters(report: object) -> None:
    rows = json.loads(run("--min-count", "1", "--from", "2026-10-01", "--to", "2026-10-31"))
    tradate = next(r for r in rows if r["comune"] == "Tradate")
    assert (tradate["richieste"], tradate["senza_risposta"], tradate["passaggi_operatore"]) == (
        7,
        3,
        3,
    )
    assert {r["mese"] for r in rows} == {"2026-10"}
    assert json.loads(run("--from", "2027-01")) == []


def test_csv_marks_suppressed_cells(report: object) -> None:
    table = list(csv.reader(io.StringIO(run("--format", "csv"))))
    assert table[0] == [
        "categoria",
        "comune",
        "mese",
        "richieste",
        "senza_risposta",
        "passaggi_operatore",
    ]
    assert table[1] == ["prima_infanzia", "Castelseprio", "2026-10", "<5", "<5", "<5"]
    assert table[2] == ["prima_infanzia", "Tradate", "2026-10", "7", "<5", "<5"]


def test_bad_options_fail_with_one_line(report: object) -> None:
    for args in (["--format", "xml"], ["--from", "ieri"], ["--min-count", "0"]):
        result = CliRunner().invoke(app, ["report", "needs", *args])
        assert result.exit_code != 0 and result.output.strip().startswith("error:"), args
