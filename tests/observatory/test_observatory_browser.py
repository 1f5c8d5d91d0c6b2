"""The observatory in real headless Chromium: filters, a rendered chart, the CSV download."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tests.console.test_console_browser import (  # noqa: F401  (fixture)
    ADMIN_EMAIL,
    ARGS,
    CHROMIUM,
    WAIT_MS,
    _browser_or_skip,
    add_admin,
    log_in,
    served,
)
from tests.observatory.test_report_needs import add_events


def test_admin_filters_sees_a_chart_and_downloads_csv(
    served: tuple[str, sessionmaker[Session]],  # noqa: F811
    tmp_path: Path,
) -> None:
    sync_playwright = _browser_or_skip()
    from playwright.sync_api import expect

    base, sessions = served
    add_admin(sessions)
    add_events(sessions, 7, comune="Tradate", channel="webchat")
    add_events(sessions, 6, month="2026-11", categoria="caregiver", channel="telegram")
    add_events(sessions, 2, comune="Vedano Olona", matched=False)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(accept_downloads=True).new_page()
            page.set_default_timeout(WAIT_MS)
            log_in(page, base, ADMIN_EMAIL)
            page.get_by_role("link", name="Osservatorio").click()
            expect(page.get_by_role("heading", name="Osservatorio dei bisogni")).to_be_visible()

            # The trend chart is drawn: a line for each theme, visible in the page.
            chart = page.get_by_role("img", name="Richieste per mese e tema")
            expect(chart).to_be_visible()
            assert chart.bounding_box()["height"] > 50  # type: ignore[index]
            expect(page.locator("#matrix")).to_contain_text("Vedano Olona")
            expect(page.locator("#matrix")).to_contain_text("<5")

            # Filter by channel: only the Telegram requests remain.
            page.get_by_label("Canale").select_option("telegram")
            page.get_by_role("button", name="Applica").click()
            expect(page).to_have_url(
                f"{base}/operator/admin/observatory?from=&to=&comune=&channel=telegram"
            )
            expect(page.locator("#matrix")).to_contain_text("caregiver")
            expect(page.locator("#matrix")).not_to_contain_text("prima_infanzia")

            # The CSV follows the same filters.
            with page.expect_download() as info:
                page.get_by_role("link", name="Scarica CSV").click()
            saved = tmp_path / "bisogni.csv"
            info.value.save_as(saved)
            lines = saved.read_text(encoding="utf-8").splitlines()
            assert lines == [
                "categoria,comune,mese,richieste,senza_risposta,passaggi_operatore",
                "caregiver,Tradate,2026-11,6,<5,<5",
            ]
        finally:
            browser.close()
