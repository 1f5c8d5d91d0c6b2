"""End to end in real headless Chromium: a resident on the web chat, an operator on /operator.

The app runs under uvicorn on a free loopback port (the `served` fixture: database, flows,
scheduler, console); only the NLU is faked. Skipped without chromium and playwright
(tests/browser.py), unless FRONTDESK_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tests.browser import ARGS, CHROMIUM, WAIT_MS, browser_or_skip, consent_and_report_emergency
from tests.conftest import log_in


def test_operator_takes_replies_and_resolves_a_web_chat_resident(
    served: tuple[str, sessionmaker[Session]],
) -> None:
    sync_playwright = browser_or_skip()
    from playwright.sync_api import expect

    base, sessions = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            operator = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
            resident = browser.new_context(viewport={"width": 390, "height": 800}).new_page()
            for page in (operator, resident):
                page.set_default_timeout(WAIT_MS)

            # The operator logs in and watches the queue.
            log_in(operator, base, "anna@example.org")
            expect(operator.get_by_role("heading", name="Coda delle richieste")).to_be_visible()
            expect(operator.get_by_text("Nessuna richiesta in coda.")).to_be_visible()

            # The resident consents and writes an emergency: it is queued with priority.
            resident.goto(f"{base}/chat")
            # An empty chat opens with the welcome; the privacy link works on this very port.
            expect(resident.locator("#log")).to_contain_text("Va bene per te?")
            privacy = resident.get_by_role("link", name="/privacy")
            expect(privacy).to_have_attribute("href", "/privacy")
            consent_and_report_emergency(resident)

            # The request appears live (server-sent events) and the operator takes it.
            take = operator.get_by_role("button", name="Prendi in carico")
            expect(take).to_be_visible()
            expect(operator.locator(".card")).to_contain_text("Emergenza")
            take.click()
            expect(operator.get_by_role("heading", name="Conversazione (Chat web)")).to_be_visible()
            expect(operator.locator("#transcript")).to_contain_text("mio marito mi picchia")
            expect(resident.locator("#log")).to_contain_text(
                "Ciao, sono Anna del Social Point Tradate: ti leggo io da qui."
            )

            # Operator -> resident, and resident -> operator (live transcript).
            operator.get_by_label("Rispondi al residente").fill(
                "Sono qui con te. Sei al sicuro ora?"
            )
            operator.get_by_role("button", name="Invia").click()
            expect(operator.locator("#reply-status")).to_have_text("Inviato.")
            expect(resident.locator("#log")).to_contain_text("Sono qui con te. Sei al sicuro ora?")
            resident.get_by_label("Scrivi un messaggio").fill("sì, sono da mia sorella")
            resident.keyboard.press("Enter")
            expect(operator.locator("#transcript")).to_contain_text("sì, sono da mia sorella")

            # Resolve: the bot asks the resident for a rating.
            operator.get_by_role("button", name="Risolto: chiudi e chiedi il voto").click()
            expect(operator.get_by_role("heading", name="Coda delle richieste")).to_be_visible()
            expect(resident.locator("#log")).to_contain_text("da 1 (poco) a 5 (molto)")
            resident.get_by_role("button", name="5", exact=True).click()
            expect(resident.locator("#log")).to_contain_text("Grazie per la tua risposta!")
        finally:
            browser.close()

    from sqlalchemy import select

    from bot.db.models import Handoff

    with sessions() as s:
        done = s.scalars(select(Handoff)).one()
    assert (done.status, done.priority, done.rating) == ("closed", 1, 5)
