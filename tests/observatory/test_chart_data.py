"""The data behind the observatory's charts: Italian labels, "<k" suppression, safe CSV."""

from __future__ import annotations

import csv
import io

import pytest

from bot.console import observatory_data as data
from bot.observatory.aggregates import Count
from bot.observatory.report import Cell
from territory.model import shipped_territory

AMBITO_COMUNI = tuple(shipped_territory("tradate").comuni)


def cell(categoria: str, comune: str | None, month: str, requests: int, unmet: int = 0) -> Cell:
    return Cell(categoria, comune, month, requests, unmet, 0)


def parsed(chart: data.ChartData) -> list[list[str]]:
    out = io.StringIO()
    data.write_csv(out, chart)
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))


def test_trend_names_themes_fills_months_and_hides_small_counts() -> None:
    cells = [
        cell("prima_infanzia", "Tradate", "2025-11", 6),
        cell("prima_infanzia", "Castelseprio", "2025-11", 1),  # summed with Tradate: 7
        cell("caregiver", "Tradate", "2026-01", 3),
        cell("domiciliarita", "Tradate", "2026-01", 9),
    ]
    chart = data.trend(cells, k=5)
    assert chart.keys == ("2025-11", "2025-12", "2026-01")  # December kept, though empty
    assert chart.labels == ("nov 2025", "dic 2025", "gen 2026")
    # In the residents' menu order, by the names they see on the buttons.
    assert [(s.label, s.values) for s in chart.series] == [
        ("Nido e bimbi 0-3 anni", (7, None, None)),
        ("Aiuto a casa per anziani", (None, None, 9)),
        ("Badante e chi assiste", (None, None, None)),  # 3 is below k: hidden, not zero
    ]
    assert chart.suppressed and not chart.empty
    rows = parsed(chart)
    assert rows[0] == ["Mese", "Tema", "Richieste"]
    assert ["2025-11", "Nido e bimbi 0-3 anni", "7"] in rows
    assert ["2026-01", "Badante e chi assiste", "<5"] in rows
    assert not any(r[2] == "0" for r in rows[1:])


def test_unmet_per_comune_lists_the_eight_comuni_largest_first() -> None:
    cells = [
        cell("prima_infanzia", "Tradate", "2026-10", 12, unmet=8),
        cell("caregiver", "Vedano Olona", "2026-10", 20, unmet=15),
        cell("caregiver", "Castelseprio", "2026-10", 3, unmet=2),
        cell("caregiver", None, "2026-10", 9, unmet=6),
        cell("caregiver", "Varese", "2026-10", 1, unmet=1),  # outside the Ambito
    ]
    chart = data.unmet_by_comune(cells, AMBITO_COMUNI, k=5)
    bars = dict(zip(chart.labels, chart.series[0].values, strict=True))
    assert chart.labels[:2] == ("Vedano Olona", "Tradate")
    assert set(chart.labels[2:-1]) == set(AMBITO_COMUNI) - {"Vedano Olona", "Tradate"}
    assert chart.labels[-1] == "Altri comuni o non indicato"  # the catch-all comes last
    assert bars["Altri comuni o non indicato"] == 7
    assert bars["Castelseprio"] is None and bars["Gornate Olona"] is None  # 2 and 0: "<5"
    # Hidden bars are in name order, so their order does not leak their size.
    hidden = list(chart.labels[2:-1])
    assert hidden == sorted(hidden)
    assert parsed(chart)[0] == ["Comune", "Richieste senza risposta"]


def test_reasons_in_the_operators_words() -> None:
    chart = data.handoff_reasons(
        [Count("emergenza", 6), Count("nessun_servizio", 11), Count("non_capito", 2)], k=5
    )
    assert chart.labels == ("Nessun servizio adatto", "Emergenza", "L'assistente non ha capito")
    assert chart.series[0].values == (11, 6, None)
    assert parsed(chart)[1:] == [
        ["Nessun servizio adatto", "11"],
        ["Emergenza", "6"],
        ["L'assistente non ha capito", "<5"],
    ]


def test_satisfaction_shows_every_score() -> None:
    chart = data.satisfaction([Count("5", 9), Count("4", 2)], k=5)
    assert chart.labels == ("1", "2", "3", "4", "5")
    assert chart.series[0].values == (None, None, None, None, 9)
    assert chart.xlabel.startswith("Voto")
    assert data.satisfaction([], k=5).empty


def test_no_data_is_empty_not_suppressed() -> None:
    assert data.trend([], k=5).empty
    assert data.unmet_by_comune([], AMBITO_COMUNI, k=5).empty
    assert data.handoff_reasons([], k=5).empty
    # Everything below k is not "no data": the chart shows hatched "<5" bars.
    few = [cell("caregiver", "Tradate", "2026-10", 2, 2)]
    small = data.unmet_by_comune(few, AMBITO_COMUNI, k=5)
    assert not small.empty and small.suppressed


@pytest.mark.parametrize("forged", ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)"])
def test_forged_labels_never_become_formulas(forged: str) -> None:
    reasons = data.handoff_reasons([Count(forged, 7)], k=5)
    assert parsed(reasons)[1] == ["'" + forged, "7"]
    trend = data.trend([cell(forged, "Tradate", "2026-10", 6)], k=5)
    assert parsed(trend)[1] == ["2026-10", "'" + forged, "6"]


def test_month_range_crosses_years() -> None:
    assert data.month_range(["2026-01", "2025-11"]) == ["2025-11", "2025-12", "2026-01"]
    assert data.month_range([]) == []
    assert data.month_name("2026-08") == "ago 2026"
