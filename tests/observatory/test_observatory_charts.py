"""The matplotlib figures: SVG text stays text, "<k" is drawn and explained, ids stay unique."""

from __future__ import annotations

import re

from bot.console import observatory_data as data
from bot.console.observatory_charts import inline_svg, render
from bot.observatory.aggregates import Count
from bot.observatory.report import Cell


def reasons(*counts: tuple[str, int]) -> data.ChartData:
    return data.handoff_reasons([Count(r, n) for r, n in counts], k=5)


def texts(svg: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text\b.*?</text>", svg, re.S)]


def test_svg_keeps_italian_labels_as_text_and_explains_hidden_values() -> None:
    svg = render(reasons(("richiesta", 12), ("non_capito", 2)), "svg").decode()
    words = texts(svg)
    assert "La persona ha chiesto un operatore" in words  # a tick label, as text
    assert "12" in words and "&lt;5" in words  # value labels: the hidden one says "<5"
    assert "Meno di 5" in words  # the legend's hatched entry
    assert any("nascosto per riservatezza" in w for w in words)  # the footnote
    assert 'id="h' in svg  # the hatch pattern of the hidden bar
    assert "DejaVuSans-" not in svg  # no glyph outlines: fonttype "none"


def test_png_and_empty_chart() -> None:
    png = render(reasons(("richiesta", 12)), "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
    empty = render(data.satisfaction([], k=5), "svg").decode()
    assert "Nessun dato nel periodo" in texts(empty)
    assert "Meno di" not in empty


def test_labels_are_not_read_as_tex() -> None:
    svg = render(reasons(("$x^2$", 8)), "svg").decode()
    assert "$x^2$" in texts(svg)


def test_inline_svgs_share_a_page_without_id_clashes() -> None:
    cells = [Cell("caregiver", "Tradate", "2026-10", 7, 6, 0)]
    charts = [
        data.trend(cells, k=5),
        data.unmet_by_comune(cells, ["Tradate", "Castelseprio"], k=5),
        reasons(("richiesta", 12)),
    ]
    ids: list[str] = []
    for chart in charts:
        svg = inline_svg(chart)
        assert svg.startswith(f'<svg role="img" aria-label="{chart.title}" class="chart" ')
        own = re.findall(r'\bid="([^"]+)"', svg)
        assert own and all(i.startswith(chart.name + "-") for i in own)
        refs = re.findall(r'(?:url\(#|href="#)([^")]+)', svg)
        assert set(refs) <= set(own)  # every clip path and marker points inside its own SVG
        ids += own
    assert len(ids) == len(set(ids))
    assert 'aria-label="Quanto è stato utile il colloquio: Nessun dato nel periodo"' in (
        inline_svg(data.satisfaction([], k=5))
    )


def test_the_same_data_is_rendered_once() -> None:
    chart = reasons(("richiesta", 31), ("emergenza", 9))
    first = render(chart, "svg")
    again = render(reasons(("richiesta", 31), ("emergenza", 9)), "svg")  # equal, not the same
    assert again is first  # the cached bytes: no second render
    assert render(reasons(("richiesta", 32), ("emergenza", 9)), "svg") != first
