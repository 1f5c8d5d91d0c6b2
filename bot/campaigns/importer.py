"""`frontdesk subscribers import`: residents who opted in elsewhere (paper forms, events).

All or nothing: every row is checked first and every problem reported with its line and
field; only a clean file is written. Importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.campaigns.subscriptions import Consent, opted_out_since, subscribe, topics

COLUMNS = ("channel", "address", "topics", "comune", "consent_at", "consent_source")
_TELEGRAM = re.compile(r"^-?\d{1,20}$")
_WHATSAPP = re.compile(r"^whatsapp:\+[1-9]\d{5,14}$")


@dataclass(frozen=True)
class Problem:
    """One reason the file cannot be imported."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"riga {self.line}, {self.field}: {self.message}"


@dataclass(frozen=True)
class Row:
    """A valid line of the file."""

    line: int
    channel: str
    address: str
    topics: tuple[str, ...]
    comune: str | None
    consent_at: datetime
    consent_source: str


def parse(path: Path, *, comuni: Iterable[str]) -> tuple[list[Row], list[Problem]]:
    """Reads and validates the file; rows are usable only when there are no problems."""
    known_comuni = set(comuni)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            return [], [Problem(1, "intestazione", f"servono esattamente {','.join(COLUMNS)}")]
        rows, problems = [], []
        seen: dict[tuple[str, str], int] = {}
        for record in reader:
            line = reader.line_num
            row, found = _check(line, record, known_comuni)
            problems.extend(found)
            if row is None:
                continue
            key = (row.channel, row.address)
            if key in seen:
                problems.append(Problem(line, "address", f"ripetuto (già alla riga {seen[key]})"))
            seen[key] = line
            rows.append(row)
    return rows, problems


def _check(
    line: int, record: dict[str, str | None], comuni: set[str]
) -> tuple[Row | None, list[Problem]]:
    if None in record or any(record.get(c) is None for c in COLUMNS):
        return None, [Problem(line, "riga", f"servono {len(COLUMNS)} colonne")]
    value = {c: (record[c] or "").strip() for c in COLUMNS}
    problems = []
    channel, address = value["channel"], value["address"]
    pattern = {"telegram": _TELEGRAM, "whatsapp": _WHATSAPP}.get(channel)
    if pattern is None:
        problems.append(Problem(line, "channel", "dev'essere telegram o whatsapp"))
    elif not pattern.match(address):
        expected = "un chat id numerico" if channel == "telegram" else "whatsapp:+39..."
        problems.append(Problem(line, "address", f"non valido: serve {expected}"))
    wanted = tuple(t.strip() for t in value["topics"].split(";") if t.strip())
    if not wanted:
        problems.append(Problem(line, "topics", "vuoto"))
    elif unknown := [t for t in wanted if t not in topics()]:
        problems.append(Problem(line, "topics", f"sconosciuti: {', '.join(unknown)}"))
    comune = value["comune"] or None
    if comune is not None and comune not in comuni:
        problems.append(Problem(line, "comune", f"non è un comune del territorio: {comune}"))
    consent_at = _when(value["consent_at"])
    if consent_at is None:
        problems.append(Problem(line, "consent_at", "serve una data ISO-8601 non futura"))
    if not value["consent_source"]:
        problems.append(Problem(line, "consent_source", "vuoto: da dove viene il consenso?"))
    if problems or consent_at is None:
        return None, problems
    row = Row(line, channel, address, wanted, comune, consent_at, value["consent_source"])
    return row, []


def _when(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment if moment <= datetime.now(UTC) else None


@dataclass
class Imported:
    """What an import changed."""

    residents: int = 0
    opt_ins: int = 0  # topics newly subscribed (ledgered)
    withdrawn: int = 0  # rows ignored: the resident said STOP after that consent


def write(session: Session, *, rows: Iterable[Row], wording_version: str) -> Imported:
    """Subscribes every row (idempotent)."""
    done = Imported()
    for row in rows:
        if opted_out_since(session, channel=row.channel, address=row.address, since=row.consent_at):
            done.withdrawn += 1
            continue
        consent = Consent(
            f"import:{row.consent_source}", wording_version, f"csv riga {row.line}", row.consent_at
        )
        _, new = subscribe(
            session,
            channel=row.channel,
            address=row.address,
            topics=row.topics,
            comune=row.comune,
            consent=consent,
            reactivate=False,
        )
        done.residents += 1
        done.opt_ins += len(new)
    return done
