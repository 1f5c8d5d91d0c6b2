"""The needs report: requests per category x comune x month, with small-cell suppression.

Shared by `frontdesk report needs` and the console's observatory page, so both apply the
same filters and the same suppression rule.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import Integer, Select, func, select
from sqlalchemy.orm import Session

from bot.db.models import NeedCount

COLUMNS = ("categoria", "comune", "mese", "richieste", "senza_risposta", "passaggi_operatore")
COUNTS = COLUMNS[3:]
SUPPRESSED_CSV = "<{k}"


@dataclass(frozen=True)
class Filters:
    """Which need events a report covers (months as YYYY-MM, inclusive)."""

    month_from: str | None = None
    month_to: str | None = None
    comune: str | None = None
    channel: str | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """Adds the WHERE clauses of the set filters."""
        if self.month_from:
            stmt = stmt.where(NeedCount.month >= self.month_from)
        if self.month_to:
            stmt = stmt.where(NeedCount.month <= self.month_to)
        if self.comune:
            stmt = stmt.where(NeedCount.comune == self.comune)
        if self.channel:
            stmt = stmt.where(NeedCount.channel == self.channel)
        return stmt


def suppress(count: int, min_count: int) -> int | None:
    """The count, or None when it is below k (it could single out a family)."""
    return count if count >= min_count else None


def shown(count: int | None, min_count: int) -> str:
    """A count as displayed: the number, or "<k" when it is suppressed (or already None)."""
    value = None if count is None else suppress(count, min_count)
    return SUPPRESSED_CSV.format(k=min_count) if value is None else str(value)


def sums() -> tuple[Any, Any, Any]:
    """Requests, unmet and handed-off totals of a rollup group, as integers.

    The cast matters: PostgreSQL sums integers into numerics.
    """
    return tuple(  # type: ignore[return-value]
        func.sum(c).cast(Integer)
        for c in (NeedCount.requests, NeedCount.unmet, NeedCount.handed_off)
    )


@dataclass(frozen=True)
class Cell:
    """Raw (unsuppressed) counts of one categoria x comune x month."""

    categoria: str
    comune: str | None
    month: str
    requests: int
    unmet: int
    handed_off: int


def needs_cells(session: Session, filters: Filters) -> list[Cell]:
    """The raw counts per (categoria, comune, month): one pass over the rollup.

    Everything else on the observatory page by category, comune or month is summed from
    these cells in Python, so the page scans the rollup once instead of once per view.
    """
    keys = (NeedCount.categoria, NeedCount.comune, NeedCount.month)
    stmt = filters.apply(
        select(*keys, *sums())
        .group_by(*keys)
        .order_by(NeedCount.month, NeedCount.categoria, NeedCount.comune)
    )
    return [
        Cell(categoria, comune or None, month, int(r or 0), int(u or 0), int(h or 0))
        for categoria, comune, month, r, u, h in session.execute(stmt)
    ]


def to_rows(cells: list[Cell], *, min_count: int) -> list[dict[str, Any]]:
    """The report rows of the cells, counts below `min_count` as None."""
    return [
        {
            "categoria": c.categoria,
            "comune": c.comune,
            "mese": c.month,
            "richieste": suppress(c.requests, min_count),
            "senza_risposta": suppress(c.unmet, min_count),
            "passaggi_operatore": suppress(c.handed_off, min_count),
        }
        for c in cells
    ]


def needs_rows(session: Session, filters: Filters, *, min_count: int) -> list[dict[str, Any]]:
    """One row per (categoria, comune, mese), counts below `min_count` as None.

    Args:
        session: a read session.
        filters: period, comune, channel.
        min_count: k of the small-cell suppression.
    """
    return to_rows(needs_cells(session, filters), min_count=min_count)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run: one starting like a formula gets a quote
    (OWASP CSV injection). Numbers stay numbers, so negative counts are not touched."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(out: TextIO, rows: list[dict[str, Any]], *, suppressed: str) -> None:
    """Writes the rows as CSV with a header; suppressed counts become `suppressed` ("<5").

    Labels come from residents (a comune sent as a forged button payload): every text cell
    goes through `safe_cell`.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                safe_cell(suppressed if row[c] is None and c in COUNTS else (row[c] or ""))
                for c in COLUMNS
            ]
        )
