"""The data behind the observatory's four charts, with Italian labels and the "<k" rule.

Each chart is a frozen, hashable `ChartData`: the renderer caches figures by it (same data,
same picture), and the CSV, the table beside the chart and the picture all read the same
values. Suppressed counts (below k) are None from here on: never drawn as zero.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TextIO

from sqlalchemy.orm import Session

from bot.console import copy
from bot.observatory import aggregates
from bot.observatory.aggregates import Count
from bot.observatory.report import Cell, Filters, safe_cell, shown, suppress
from flows.copy import group as resident_group

Kind = Literal["lines", "hbar", "bars"]
# URL names of the charts (/operator/admin/observatory/charts/{name}.{csv|png|svg}).
NAMES = ("richieste-per-mese", "senza-risposta-per-comune", "motivi-passaggio", "soddisfazione")
SCORES = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class Series:
    """One line (or the bars) of a chart; None marks a suppressed value."""

    label: str
    values: tuple[int | None, ...]


@dataclass(frozen=True)
class ChartData:
    """What one chart shows: category keys and labels, series, and how to title it."""

    name: str
    kind: Kind
    title: str
    axis: str  # the value axis
    keys: tuple[str, ...]  # months as YYYY-MM, or the bar labels
    labels: tuple[str, ...]  # what the axis shows for each key
    series: tuple[Series, ...]
    header: tuple[str, ...]  # CSV columns
    k: int
    empty: bool  # nothing at all in the period (not the same as everything below k)
    xlabel: str = ""
    by_comune: bool = True  # False: handoffs have no comune, the comune filter does not apply

    @property
    def suppressed(self) -> bool:
        """True when some value is hidden (the legend then explains "<k")."""
        return any(v is None for s in self.series for v in s.values)

    def rows(self) -> list[tuple[str, ...]]:
        """The table of the chart, one row per value, "<k" for suppressed counts."""
        if self.kind == "lines":
            return [
                (key, s.label, shown(v, self.k))
                for i, key in enumerate(self.keys)
                for s in self.series
                for v in (s.values[i],)
            ]
        return [
            (label, shown(v, self.k))
            for label, v in zip(self.labels, self.series[0].values, strict=True)
        ]


def write_csv(out: TextIO, data: ChartData) -> None:
    """The chart's table as CSV; labels can come from residents, so every cell is made safe."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(data.header)
    writer.writerows([safe_cell(cell) for cell in row] for row in data.rows())


def theme_name(categoria: str) -> str:
    """The name residents see on the theme's button (the raw id for an unknown one)."""
    return resident_group("categories").get(categoria, categoria)


def reason_name(reason: str) -> str:
    """A handoff reason as operators read it."""
    return copy.group("observatory.reasons").get(reason, reason)


def month_name(month: str) -> str:
    """ "2026-10" as "ott 2026"."""
    year, number = month.split("-")
    return f"{copy.group('observatory.months')[number]} {year}"


def month_range(months: Sequence[str]) -> list[str]:
    """Every month from the first to the last, so that the x axis keeps time's spacing."""
    if not months:
        return []
    year, month = map(int, min(months).split("-"))
    out, last = [], max(months)
    while (current := f"{year}-{month:02d}") <= last:
        out.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _title(key: str) -> str:
    return copy.text(f"observatory.charts.{key}")


def _axis(key: str) -> str:
    return copy.text(f"observatory.axis.{key}")


def _columns(*keys: str) -> tuple[str, ...]:
    return tuple(copy.text(f"observatory.columns.{k}") for k in keys)


def trend(cells: list[Cell], *, k: int) -> ChartData:
    """Requests per month, one line per theme (themes in the order of the residents' menu)."""
    series = aggregates.trend(cells)
    months = month_range([m for per in series.values() for m in per])
    known = list(resident_group("categories"))
    order = sorted(series, key=lambda c: (known.index(c) if c in known else len(known), c))
    return ChartData(
        name=NAMES[0],
        kind="lines",
        title=_title("trend"),
        axis=_axis("requests"),
        keys=tuple(months),
        labels=tuple(month_name(m) for m in months),
        series=tuple(
            Series(theme_name(c), tuple(suppress(series[c].get(m, 0), k) for m in months))
            for c in order
        ),
        header=(*_columns("month", "theme"), _axis("requests")),
        k=k,
        empty=not cells,
    )


def _bars(
    name: str,
    kind: Kind,
    title: str,
    axis: str,
    items: list[tuple[str, int]],
    k: int,
    *,
    header: tuple[str, ...],
    xlabel: str = "",
    by_comune: bool = True,
) -> ChartData:
    return ChartData(
        name=name,
        kind=kind,
        title=_title(title),
        axis=_axis(axis),
        keys=tuple(label for label, _ in items),
        labels=tuple(label for label, _ in items),
        series=(Series(_axis(axis), tuple(suppress(n, k) for _, n in items)),),
        header=header,
        k=k,
        empty=not any(n for _, n in items),
        xlabel=xlabel,
        by_comune=by_comune,
    )


def _ranked(items: list[tuple[str, int]], k: int) -> list[tuple[str, int]]:
    """Largest first; the suppressed ones after, by name (their order would leak counts)."""
    visible = sorted((i for i in items if i[1] >= k), key=lambda i: (-i[1], i[0]))
    return visible + sorted((i for i in items if i[1] < k), key=lambda i: i[0])


def unmet_by_comune(cells: list[Cell], comuni: Sequence[str], *, k: int) -> ChartData:
    """Unmet requests for each comune of the territory; other comuni (or none) in one bar."""
    unmet = {c.label: c.unmet for c in aggregates.summed(cells, "comune")}
    items = _ranked([(c, unmet.pop(c, 0)) for c in comuni], k)
    if sum(unmet.values()):  # a catch-all, so last whatever its size
        items.append((copy.text("observatory.other_comuni"), sum(unmet.values())))
    return _bars(
        NAMES[1],
        "hbar",
        "comuni",
        "unmet",
        items,
        k,
        header=(*_columns("comune"), _axis("unmet")),
    )


def handoff_reasons(reasons: list[Count], *, k: int) -> ChartData:
    """Handoffs per reason, in the operators' words."""
    items = _ranked([(reason_name(r.label), r.total) for r in reasons], k)
    return _bars(
        NAMES[2],
        "hbar",
        "reasons",
        "handoffs",
        items,
        k,
        header=(*_columns("reason"), _axis("handoffs")),
        by_comune=False,
    )


def satisfaction(ratings: list[Count], *, k: int) -> ChartData:
    """How many residents gave each score from 1 to 5 (every score shown, even unused)."""
    per = {r.label: r.total for r in ratings}
    return _bars(
        NAMES[3],
        "bars",
        "csat",
        "ratings",
        [(s, per.get(s, 0)) for s in SCORES],
        k,
        header=(*_columns("score"), _axis("ratings")),
        xlabel=_axis("score"),
        by_comune=False,
    )


def charts(
    session: Session, filters: Filters, cells: list[Cell], *, k: int, comuni: Sequence[str]
) -> dict[str, ChartData]:
    """The four charts of the page for these filters, by URL name."""
    built = (
        trend(cells, k=k),
        unmet_by_comune(cells, comuni, k=k),
        handoff_reasons(aggregates.handoff_reasons(session, filters), k=k),
        satisfaction(aggregates.ratings(session, filters), k=k),
    )
    return {c.name: c for c in built}
