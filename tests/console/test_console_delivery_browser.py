"""In real headless Chromium: channel badges, live delivery states and "typing…".

The app runs under uvicorn on loopback with Telegram and WhatsApp on, pointed at the fake
Bot API and Twilio servers (tests/channels/fakes.py); status callbacks are posted to it
signed as Twilio signs them. Screenshots go to FRONTDESK_SHOTS (default /tmp/frontdesk-shots).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.seed import seed_catalog_if_empty
from bot.console.accounts import create_operator
from bot.db.delivery_models import ReplyOutbox
from bot.db.engine import create_db_engine, session_factory
from bot.db.migrate import upgrade
from bot.settings import Settings
from bot.web.app import create_app
from tests.browser import ARGS, CHROMIUM, WAIT_MS, Served, browser_or_skip
from tests.channels.fakes import (
    FakeTelegram,
    FakeTwilio,
    wait_for,
)
from tests.channels.payloads import SENDER, twilio_signature, wa_status
from tests.conftest import PASSWORD, ROOT, FakeRasa, log_in, nlu_client
from tests.console.conftest import queue_resident

SHOTS = Path(os.environ.get("FRONTDESK_SHOTS", "/tmp/frontdesk-shots"))
CHAT = "555000111"


class Late:
    """An ASGI app set after the port is known (PUBLIC_BASE_URL must name that port)."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture
def served(
    tmp_path: Path,
    channel_settings: Settings,
) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """Every channel on, pointed at the fakes (tests/conftest.py), under uvicorn."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    late = Late()
    server = Served(late)
    # Twilio signs the public address, so it must be this port; plain http: cookies not Secure.
    env = channel_settings.env.model_copy(
        update={"DATABASE_URL": url, "PUBLIC_BASE_URL": server.url}
    )
    settings = Settings(env=env, config=channel_settings.config)
    seed_catalog_if_empty(sessions, ROOT / "catalog" / "data")
    create_operator(
        sessions, settings, email="anna@example.org", name="Anna Rossi", password=PASSWORD,
        role="operator", social_points=["tradate"],
    )  # fmt: skip
    late.app = create_app(settings, nlu=nlu_client(FakeRasa()))
    with server:
        yield server.url, sessions
    engine.dispose()


def _status(base: str, sid: str, status: str, code: str | None = None) -> None:
    """A Twilio status callback, signed for the app's public address."""
    form = wa_status(sid, status, error_code=code)
    path = "/webhooks/whatsapp/status"
    resp = httpx.post(
        base + path,
        data=form,
        headers={"X-Twilio-Signature": twilio_signature(base + path, form)},
    )
    assert resp.status_code == 200, resp.text


def _sids(sessions: sessionmaker[Session]) -> list[str]:
    """The MessageSids of the operator's replies (outbox rows linked to a transcript line)."""
    with sessions() as s:
        stmt = (
            select(ReplyOutbox.provider_id)
            .where(ReplyOutbox.channel == "whatsapp", ReplyOutbox.message_id.is_not(None))
            .order_by(ReplyOutbox.id)
        )
        return [str(p) for p in s.scalars(stmt) if p]


def test_delivery_states_update_live_and_typing_reaches_telegram(
    served: tuple[str, sessionmaker[Session]],
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    sync_playwright = browser_or_skip()
    from playwright.sync_api import expect

    base, sessions = served
    wa = queue_resident(sessions, address=SENDER, channel="whatsapp")
    tg = queue_resident(sessions, address=CHAT, channel="telegram")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 800})
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            log_in(page, base, "anna@example.org")
            watching = context.new_page()  # a second tab on the queue, left open
            watching.set_default_timeout(WAIT_MS)
            watching.goto(f"{base}/operator")

            # Each card says the resident's channel, in words.
            cards = page.locator(".card")
            expect(cards).to_have_count(2)
            expect(cards.nth(0).locator(".badge.channel")).to_have_text("Canale: WhatsApp")
            expect(cards.nth(1).locator(".badge.channel")).to_have_text("Canale: Telegram")
            page.screenshot(path=str(SHOTS / "1-queue-channels.png"), full_page=True)

            # WhatsApp: the reply is "inviato", then Twilio says delivered: "consegnato",
            # on the same line, without reloading the page.
            page.goto(f"{base}/operator/handoffs/{wa}")
            page.get_by_role("button", name="Prendi in carico").click()
            expect(page.get_by_role("heading", name="Conversazione (WhatsApp)")).to_be_visible()
            page.evaluate("window.notReloaded = true")
            page.get_by_label("Rispondi al residente").fill("Ciao, ti scrivo dal Social Point.")
            page.get_by_role("button", name="Invia").click()
            line = page.locator("#transcript .line.out").filter(has_text="ti scrivo dal")
            expect(line.locator(".delivery")).to_have_text("Stato: inviato")
            line_id = line.get_attribute("id")
            [sid] = _sids(sessions)
            _status(base, sid, "delivered")
            expect(page.locator(f"#{line_id} .delivery")).to_have_text("Stato: consegnato")
            _status(base, sid, "read")
            expect(page.locator(f"#{line_id} .delivery")).to_have_text("Stato: letto")
            _status(base, sid, "delivered")  # late: never back from letto
            page.wait_for_timeout(2500)  # more than one stream interval
            expect(page.locator(f"#{line_id} .delivery")).to_have_text("Stato: letto")
            assert page.evaluate("window.notReloaded") is True
            page.screenshot(path=str(SHOTS / "2-case-delivered-read.png"), full_page=True)

            # A second reply Twilio cannot deliver: "non consegnato" with the reason, live.
            page.get_by_label("Rispondi al residente").fill("Ci sei ancora?")
            page.get_by_role("button", name="Invia").click()
            second = page.locator("#transcript .line.out").filter(has_text="Ci sei ancora?")
            expect(second.locator(".delivery")).to_have_text("Stato: inviato")
            _status(base, _sids(sessions)[1], "undelivered", "63003")
            expect(second.locator(".delivery")).to_have_text(
                "Stato: non consegnato: numero non raggiungibile"
            )
            expect(second.locator(".delivery")).to_have_attribute("data-state", "failed")
            assert page.evaluate("window.notReloaded") is True
            # The queue left open in the other tab shows it on the card, live too.
            expect(
                watching.locator(".card").filter(has_text="WhatsApp").locator(".badge.failed")
            ).to_have_text("Risposta non consegnata")
            watching.screenshot(path=str(SHOTS / "3b-queue-live-failed.png"), full_page=True)
            page.screenshot(path=str(SHOTS / "3-case-failed.png"), full_page=True)

            # Telegram: while the operator writes, the resident sees "typing…" (throttled).
            page.goto(f"{base}/operator/handoffs/{tg}")
            page.get_by_role("button", name="Prendi in carico").click()
            expect(page.get_by_role("heading", name="Conversazione (Telegram)")).to_be_visible()
            box = page.get_by_label("Rispondi al residente")
            box.press_sequentially("Sto controllando", delay=40)
            wait_for(lambda: len(fake_telegram.named("sendChatAction")) >= 1)
            calls = fake_telegram.named("sendChatAction")
            assert len(calls) == 1, "throttled: one call in the first 4 seconds"
            assert (str(calls[0].params["chat_id"]), calls[0].params["action"]) == (CHAT, "typing")
            page.get_by_role("button", name="Invia").click()
            tg_line = page.locator("#transcript .line.out").filter(has_text="Sto controllando")
            expect(tg_line.locator(".delivery")).to_have_text("Stato: inviato")

            # Back on the queue, the WhatsApp card shows the failed reply at a glance.
            page.get_by_role("link", name="← Torna alla coda").click()
            failed = page.locator(".card").filter(has_text="WhatsApp").locator(".badge.failed")
            expect(failed).to_have_text("Risposta non consegnata")
            page.screenshot(path=str(SHOTS / "4-queue-failed.png"), full_page=True)
        finally:
            browser.close()
