"""Headless Chromium for the browser tests: the app under uvicorn, the browser or a skip.

Needs Debian's chromium (scripts/setup_browser.sh) and the Python playwright package; the tests
are skipped when they are missing, unless FRONTDESK_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn

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


def browser_or_skip() -> Any:
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


def consent_and_report_emergency(resident: Any) -> None:
    """On an open web chat page: greets, consents, writes an emergency, gets the helplines."""
    from playwright.sync_api import expect

    resident.get_by_label("Scrivi un messaggio").fill("ciao")
    resident.keyboard.press("Enter")
    resident.get_by_role("button", name="Sì").first.click()
    resident.get_by_label("Scrivi un messaggio").fill("mio marito mi picchia")
    resident.keyboard.press("Enter")
    expect(resident.locator("#log")).to_contain_text("1522")
