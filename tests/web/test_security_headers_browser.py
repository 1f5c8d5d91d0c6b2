"""With the CSP in place, every page of the web chat and of the console works in Chromium and
the browser reports no violation (each one is a console error "... violates the following
Content Security Policy directive ...")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Handoff
from tests.browser import ARGS, CHROMIUM, WAIT_MS, browser_or_skip, consent_and_report_emergency
from tests.conftest import ADMIN_EMAIL, add_admin, log_in


def watch(page: Any, problems: list[str]) -> None:
    """Collects console errors and uncaught script errors of a page (not the favicon's 404:
    there is none)."""

    def on_console(message: Any) -> None:
        if message.type == "error" and "favicon.ico" not in message.location.get("url", ""):
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_default_timeout(WAIT_MS)


def test_chat_and_console_pages_run_under_the_csp(
    served: tuple[str, sessionmaker[Session]],
) -> None:
    sync_playwright = browser_or_skip()
    from playwright.sync_api import expect

    base, sessions = served
    add_admin(sessions)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            resident = browser.new_context().new_page()
            admin = browser.new_context().new_page()
            watch(resident, problems)
            watch(admin, problems)

            # The web chat's scripts run: welcome, consent buttons, live updates.
            resident.goto(f"{base}/chat")
            expect(resident.locator("#log")).to_contain_text("Va bene per te?")
            consent_and_report_emergency(resident)
            resident.goto(f"{base}/privacy")

            # The console: the queue fills live (SSE, console.js), the case opens, and every
            # admin page loads its styles and scripts.
            log_in(admin, base, ADMIN_EMAIL)
            expect(admin.locator(".card")).to_contain_text("Emergenza")
            with sessions() as s:
                case = s.scalars(select(Handoff)).one()
            admin.goto(f"{base}/operator/handoffs/{case.id}")
            expect(admin.locator("#transcript")).to_contain_text("mio marito mi picchia")
            nav = admin.get_by_role("navigation", name="Menu principale")
            for name in (
                "Operatori",
                "Risposte rapide",
                "Etichette",
                "Campagne",
                "Osservatorio",
                "Dati personali",
                "Registro attività",
            ):
                nav.get_by_role("link", name=name).click()
                expect(admin.locator("main h1")).to_be_visible()
            # The stylesheet applied (a blocked one would leave the default body margin).
            assert admin.evaluate("getComputedStyle(document.body).margin") != "8px"
        finally:
            browser.close()
    assert not problems, problems
