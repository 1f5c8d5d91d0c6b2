"""End to end in real headless Chromium: a resident on the web chat, an operator on /operator.

The app runs under uvicorn on a free loopback port (database, flows, scheduler, console);
only the NLU is faked. Needs Debian's chromium (scripts/setup_browser.sh) and the Python
playwright package; skipped when they are missing, unless FRONTDESK_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.seed import seed_catalog_if_empty
from bot.console.accounts import create_operator
from bot.db.engine import create_db_engine, session_factory
from bot.db.migrate import upgrade
from bot.settings import Env, Settings, load_config
from bot.web.app import create_app
from nlu.client import NluClient
from nlu.comuni import gazetteer
from territory.model import shipped_territory
from tests.console.conftest import PASSWORD
from tests.web.conftest import FakeRasa

TRADATE = gazetteer(shipped_territory("tradate"))  # how its residents name places

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WAIT_MS = 15_000


def _browser_or_skip() -> Any:
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} not found: run scripts/setup_browser.sh (Debian chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = missing or "the Python package playwright is not installed"
    if missing:
        if os.environ.get("FRONTDESK_REQUIRE_BROWSER"):
            pytest.fail(f"FRONTDESK_REQUIRE_BROWSER is set but {missing}")
        pytest.skip(missing)
    return sync_playwright


class Served:
    """The app under uvicorn (lifespan on) in a thread, on a free 127.0.0.1 port."""

    def __init__(self, app: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> Served:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()


ADMIN_EMAIL = "carla@example.org"


def add_admin(sessions: sessionmaker[Session]) -> None:
    """An admin account (no Social Point) for the admin pages' browser tests."""
    settings = Settings(
        env=Env(FRONTDESK_CONFIG=ROOT / "config.yml"), config=load_config(ROOT / "config.yml")
    )
    create_operator(
        sessions,
        settings,
        email=ADMIN_EMAIL,
        name="Carla Verdi",
        password=PASSWORD,
        role="admin",
        social_points=[],
    )


def log_in(page: Any, base: str, email: str) -> None:
    """Fills and sends the console's login form."""
    page.goto(f"{base}/operator")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Entra").click()


def consent_and_report_emergency(resident: Any) -> None:
    """On an open web chat page: greets, consents, writes an emergency, gets the helplines."""
    from playwright.sync_api import expect

    resident.get_by_label("Scrivi un messaggio").fill("ciao")
    resident.keyboard.press("Enter")
    resident.get_by_role("button", name="Sì").first.click()
    resident.get_by_label("Scrivi un messaggio").fill("mio marito mi picchia")
    resident.keyboard.press("Enter")
    expect(resident.locator("#log")).to_contain_text("1522")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    settings = Settings(
        env=Env(DATABASE_URL=url, FRONTDESK_CONFIG=ROOT / "config.yml"),
        config=load_config(ROOT / "config.yml"),
    )
    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    create_operator(
        sessions,
        settings,
        email="anna@example.org",
        name="Anna Rossi",
        password=PASSWORD,
        role="operator",
        social_points=["tradate"],
    )
    nlu = NluClient(
        "http://rasa.test",
        places=TRADATE,
        transport=httpx.MockTransport(FakeRasa().handler),
        retries=0,
    )
    with Served(create_app(settings, nlu=nlu)) as server:
        yield server.url, sessions
    engine.dispose()


def test_operator_takes_replies_and_resolves_a_web_chat_resident(
    served: tuple[str, sessionmaker[Session]],
) -> None:
    sync_playwright = _browser_or_skip()
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
