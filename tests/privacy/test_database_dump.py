"""A database dump after a real conversation about a disabled child shows no address, need,
age, phone number or free text in clear (issue 18).

The resident talks through the web chat API (consent, need, operator, callback offered by
the handoff timer, phone number), then every text and bytes value of every table is read
raw and searched. The anonymous observatory tables (need_events, need_counts) are the one
exception for the category and the age bracket: they hold them by design, without any link
to a person (docs/privacy.md); the public services catalogue names every comune and need.
"""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import LargeBinary, String, Text, inspect, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db.base import utcnow
from bot.db.models import Handoff
from tests.conftest import FakeRasa, rasa_says
from tests.console.conftest import at_fixed_time, resident_headers
from tests.console.test_console_jobs import tick

SESSION = "dump-session-0001"
FIRST = "mio figlio Luca di 7 anni ha una disabilità motoria, abitiamo a Castelseprio"
PHONE = "333 7654321"
ANONYMOUS = {"need_events", "need_counts"}
PUBLIC = {"catalog_services"}  # the services catalogue: names every comune and need
# Never anywhere: the address, the free text, the phone number.
CLEAR = [SESSION, "Luca", "motoria", "3337654321", "333 7654321", "7654321"]
# Only in the anonymous counts: the need, the age, the comune.
NEED = [r"disabil", r"\b7 anni\b", r'"eta": \[7', r"Castelseprio"]


def say(client: TestClient, **body: str) -> list[dict]:
    resp = client.post(
        "/api/chat", json={"session": SESSION, **body}, headers=resident_headers(SESSION)
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


def converse(client: TestClient, fake_rasa: FakeRasa, sessions: sessionmaker[Session]) -> None:
    fake_rasa.table[FIRST] = rasa_says(
        "bisogno_disabilita",
        entities=[
            {"entity": "eta", "value": "7 anni", "start": 15, "end": 21},
            {"entity": "familiare", "value": "figlio", "start": 4, "end": 10},
            {"entity": "comune", "value": "Castelseprio", "start": 65, "end": 77},
        ],
    )
    fake_rasa.table["vorrei parlare con una persona"] = rasa_says("richiesta_operatore")
    at_fixed_time(client)
    say(client, text=FIRST)
    say(client, payload="consent:yes")
    say(client, text="vorrei parlare con una persona")
    with sessions.begin() as s:
        (case,) = s.scalars(select(Handoff)).all()
        tick(client)  # announced to the queue
        s.execute(
            update(Handoff)
            .where(Handoff.id == case.id)
            .values(announced_at=utcnow() - timedelta(minutes=30))
        )
    tick(client)  # nobody took it: the resident is offered a callback
    say(client, payload="yes")
    say(client, text=PHONE)
    with sessions() as s:
        assert s.get(Handoff, case.id).callback_phone == "3337654321"  # type: ignore[union-attr]


def dump(sessions: sessionmaker[Session]) -> dict[str, str]:
    """Every text and bytes value of every table, raw (no model types), per table."""
    out: dict[str, str] = {}
    with sessions() as s:
        bind = s.get_bind()
        schema = inspect(bind)
        for name in schema.get_table_names():
            columns = [
                c["name"]
                for c in schema.get_columns(name)
                if isinstance(c["type"], String | Text | LargeBinary)
                or "JSON" in str(c["type"]).upper()
            ]
            if not columns:
                continue
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = s.execute(text(f'SELECT {quoted} FROM "{name}"')).all()
            out[name] = "\n".join(repr(tuple(r)) for r in rows)
    return out


def test_the_dump_shows_nothing_personal_in_clear(
    client: TestClient, fake_rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    converse(client, fake_rasa, sessions)
    tables = dump(sessions)
    assert tables["messages"] and tables["conversation_states"]  # the conversation is there
    for table, values in tables.items():
        if table in PUBLIC:
            continue
        for clear in CLEAR:
            assert clear not in values, (table, clear)
        if table not in ANONYMOUS:
            for pattern in NEED:
                assert not re.search(pattern, values, re.IGNORECASE), (table, pattern)
    # The observatory did count it, anonymously.
    assert "disabilita" in tables["need_events"]
