"""The observatory in real headless Chromium: charts that read, filters, downloads.

Each chart is checked as a person would look at it: marks of non-zero size, a legend in
Italian, no two labels on top of each other and none cut at the edge. Screenshots go to
/tmp/wt21a-shots/ for a human look.
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.console.observatory_data import NAMES
from catalog.taxonomy import NEED_CATEGORIES
from tests.browser import ARGS, CHROMIUM, WAIT_MS, browser_or_skip
from tests.conftest import ADMIN_EMAIL, add_admin, log_in
from tests.observatory.test_console_observatory import add_handoffs
from tests.observatory.test_report_needs import add_events

SHOTS = Path("/tmp/wt21a-shots")
LEGENDS = {
    NAMES[0]: {"Nido e bimbi 0-3 anni", "Sostegno psicologico e genitori", "Servizi salvatempo"},
    NAMES[1]: {"Richieste senza risposta", "Meno di 5"},
    NAMES[2]: {"Passaggi a un operatore", "Meno di 5"},
    NAMES[3]: {"Risposte", "Meno di 5"},
}
# What the browser lays out: every label's box, the marks' boxes, the legend's words.
MEASURE = """svg => {
  const box = r => ({x: r.x, y: r.y, w: r.width, h: r.height});
  const texts = [...svg.querySelectorAll("text")]
    .filter(t => t.textContent.trim())
    .map(t => ({s: t.textContent, ...box(t.getBoundingClientRect())}));
  const marks = [...svg.querySelectorAll('[id*="-mark"] path, [id*="-mark"] use')]
    .map(e => box(e.getBoundingClientRect()));
  const legend = [...svg.querySelectorAll('[id*="-legend_"] text')].map(t => t.textContent);
  return {svg: box(svg.getBoundingClientRect()), texts, marks, legend};
}"""


def seed(sessions: sessionmaker[Session]) -> None:
    for month, n in (("2026-07", 9), ("2026-08", 6), ("2026-09", 12), ("2026-11", 8)):
        add_events(sessions, n, month=month, comune="Tradate", channel="webchat")
    for month, n in (("2026-08", 5), ("2026-09", 3), ("2026-10", 7), ("2026-11", 11)):
        add_events(sessions, n, month=month, categoria="caregiver", channel="telegram")
    add_events(sessions, 6, month="2026-10", categoria="domiciliarita", comune="Vedano Olona")
    for theme in NEED_CATEGORIES:  # all nine themes: the legend's longest case
        add_events(sessions, 5, month="2026-09", categoria=theme, comune="Gornate Olona")
    add_events(sessions, 9, month="2026-11", comune="Castiglione Olona", matched=False)
    add_events(sessions, 2, comune="Vedano Olona", matched=False)
    add_events(sessions, 6, month="2026-09", comune="Venegono Inferiore", matched=False)
    add_handoffs(sessions, 8, reason="richiesta", rating=5)
    add_handoffs(sessions, 6, reason="nessun_servizio", rating=4)
    add_handoffs(sessions, 5, reason="non_capito")
    add_handoffs(sessions, 2, reason="emergenza", rating=2)


def overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    """The area two boxes share (a hair of anti-aliasing is not an overlap)."""
    w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0) if w > 0.5 and h > 0.5 else 0.0


def check_chart(name: str, seen: dict[str, Any], legend: set[str]) -> None:
    svg = seen["svg"]
    assert svg["w"] > 300 and svg["h"] > 150, name
    assert any(m["w"] > 1 and m["h"] > 1 for m in seen["marks"]), f"{name}: no visible mark"
    assert len(seen["texts"]) >= 8, name  # ticks, values, legend: the checks below bite
    assert legend <= set(seen["legend"]), (name, seen["legend"])
    for t in seen["texts"]:
        inside = (
            t["x"] >= svg["x"] - 1
            and t["y"] >= svg["y"] - 1
            and t["x"] + t["w"] <= svg["x"] + svg["w"] + 1
            and t["y"] + t["h"] <= svg["y"] + svg["h"] + 1
        )
        assert inside, f"{name}: {t['s']!r} is cut at the edge"
    for a, b in combinations(seen["texts"], 2):
        assert not overlap(a, b), f"{name}: {a['s']!r} overlaps {b['s']!r}"


def test_admin_reads_the_charts_filters_and_downloads(
    served: tuple[str, sessionmaker[Session]],
    tmp_path: Path,
) -> None:
    sync_playwright = browser_or_skip()
    from playwright.sync_api import expect

    base, sessions = served
    add_admin(sessions)
    seed(sessions)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(
                accept_downloads=True, viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            log_in(page, base, ADMIN_EMAIL)
            page.get_by_role("link", name="Osservatorio").click()
            expect(page.get_by_role("heading", name="Osservatorio dei bisogni")).to_be_visible()

            for name in NAMES:
                section = page.locator(f"#chart-{name}")
                chart = section.get_by_role("img")
                expect(chart).to_be_visible()
                chart.scroll_into_view_if_needed()
                check_chart(name, chart.evaluate(MEASURE), LEGENDS[name])
                section.screenshot(path=str(SHOTS / f"{name}.png"))
            page.screenshot(path=str(SHOTS / "observatory-page.png"), full_page=True)
            expect(page.get_by_role("img", name="Richieste per mese e tema")).to_be_visible()
            expect(page.locator("#matrix")).to_contain_text("Nido e bimbi 0-3 anni")
            expect(page.locator("#matrix")).to_contain_text("<5")

            # A chart's table, for those who do not see the picture.
            reasons = page.locator(f"#chart-{NAMES[2]}")
            reasons.get_by_text("Vedi i dati in tabella").click()
            expect(reasons.locator("table")).to_contain_text("L'assistente non ha capito")

            # Each chart downloads as PNG, SVG and CSV with the page's filters.
            with page.expect_download() as info:
                reasons.get_by_role("link", name="immagine (PNG)").click()
            png = tmp_path / "motivi.png"
            info.value.save_as(png)
            assert png.read_bytes().startswith(b"\x89PNG") and info.value.suggested_filename == (
                f"{NAMES[2]}.png"
            )

            page.get_by_label("Canale").select_option("telegram")
            page.get_by_role("button", name="Applica").click()
            expect(page).to_have_url(
                f"{base}/operator/admin/observatory?from=&to=&comune=&channel=telegram"
            )
            expect(page.locator("#matrix")).to_contain_text("Badante e chi assiste")
            expect(page.locator("#matrix")).not_to_contain_text("Nido e bimbi")
            trend = page.locator(f"#chart-{NAMES[0]}")
            legend = {"Badante e chi assiste"}
            check_chart(NAMES[0], trend.get_by_role("img").evaluate(MEASURE), legend)
            trend.screenshot(path=str(SHOTS / f"{NAMES[0]}-telegram.png"))
            with page.expect_download() as info:
                trend.get_by_role("link", name="dati (CSV)").click()
            saved = tmp_path / "trend.csv"
            info.value.save_as(saved)
            assert saved.read_text(encoding="utf-8").splitlines() == [
                "Mese,Tema,Richieste",
                "2026-08,Badante e chi assiste,5",
                "2026-09,Badante e chi assiste,<5",
                "2026-10,Badante e chi assiste,7",
                "2026-11,Badante e chi assiste,11",
            ]
            with page.expect_download() as info:
                page.get_by_role("link", name="Scarica tutta la tabella (CSV)").click()
            whole = tmp_path / "bisogni.csv"
            info.value.save_as(whole)
            assert whole.read_text(encoding="utf-8").splitlines()[0] == (
                "categoria,comune,mese,richieste,senza_risposta,passaggi_operatore"
            )

            # A period without data says so instead of drawing empty axes.
            page.goto(f"{base}/operator/admin/observatory?from=2025-01&to=2025-02")
            for name in NAMES:
                empty = page.locator(f"#chart-{name}").get_by_role("img")
                expect(empty).to_have_attribute("aria-label", re.compile("Nessun dato nel periodo"))
                expect(empty.locator("text", has_text="Nessun dato nel periodo")).to_be_visible()
            page.locator(f"#chart-{NAMES[0]}").screenshot(path=str(SHOTS / "empty.png"))
        finally:
            browser.close()
