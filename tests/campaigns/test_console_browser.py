"""The campaign composer in real headless Chromium: live audience count, preview, schedule,
progress page and cancel (skipped without chromium, like the console's browser test)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.campaign_models import Campaign
from tests.browser import ARGS, CHROMIUM, WAIT_MS, browser_or_skip
from tests.campaigns.conftest import add_subscribers
from tests.conftest import ADMIN_EMAIL, add_admin, log_in


def test_admin_composes_and_cancels_a_campaign(
    served: tuple[str, sessionmaker[Session]],
) -> None:
    sync_playwright = browser_or_skip()
    from playwright.sync_api import expect

    base, sessions = served
    add_admin(sessions)
    add_subscribers(sessions, [("telegram", str(i)) for i in range(1, 4)], topics=("caregiver",))
    add_subscribers(sessions, [("telegram", "9")], topics=("novita",))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            admin = browser.new_context(viewport={"width": 1024, "height": 900}).new_page()
            admin.set_default_timeout(WAIT_MS)
            log_in(admin, base, ADMIN_EMAIL)
            admin.get_by_role("link", name="Campagne").click()
            expect(admin.get_by_role("heading", name="Nuova campagna")).to_be_visible()

            count = admin.locator("#audience-count")
            expect(count).to_have_text("4")  # everyone who opted in
            admin.get_by_label("Badante e chi assiste").check()
            expect(count).to_have_text("3")  # live, as the audience narrows

            admin.get_by_label("Titolo (solo per la console)").fill("Sollievo")
            admin.get_by_label("Testo del messaggio").fill("Nuovo gruppo di sostegno a Tradate")
            expect(admin.locator("#preview-text")).to_have_text(
                "Nuovo gruppo di sostegno a Tradate"
            )
            admin.get_by_label("Invio programmato (vuoto: appena possibile)").fill(
                "2026-12-01T10:00"
            )
            admin.get_by_role("button", name="Programma").click()

            expect(admin.get_by_role("heading", name="Sollievo")).to_be_visible()
            expect(admin.get_by_role("row", name="recipients 3")).to_be_visible()
            admin.get_by_role("button", name="Annulla la campagna").click()
            expect(admin.get_by_text("Stato: cancelled")).to_be_visible()
        finally:
            browser.close()

    with sessions() as s:
        assert s.scalars(select(Campaign.status)).one() == "cancelled"
