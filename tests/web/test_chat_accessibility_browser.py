"""The web chat's accessibility in real headless Chromium (WCAG 2.1 AA, checked with axe-core).

Keyboard only, visible focus, the live region, 320 px and 200 % text, the Social Point's
tel: link. axe-core comes from tests/browser_tools (scripts/setup_browser.sh, `npm ci`).
Screenshots go to $FRONTDESK_SCREENSHOTS (default: the test's tmp_path) to be looked at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import load_config
from tests.browser import ARGS, CHROMIUM, WAIT_MS, browser_or_skip
from tests.conftest import ROOT

AXE = ROOT / "tests" / "browser_tools" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
POINTS = load_config(ROOT / "config.yml").social_points
LONG = "https://www.esempio.it/" + "unindirizzolunghissimosenzaspazi" * 3

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails) before any test uses it
    expect = None


@pytest.fixture
def base(served: tuple[str, sessionmaker[Session]]) -> str:
    return served[0]


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (skips, or fails under FRONTDESK_REQUIRE_BROWSER, without it)."""
    sync_playwright = browser_or_skip()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def open_chat(browser: Any, base: str, **context: Any) -> Any:
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{base}/chat")
    return page


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("FRONTDESK_SCREENSHOTS", tmp_path))
    where.mkdir(parents=True, exist_ok=True)
    return where


def axe_violations(page: Any) -> str:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page, one readable line each."""
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run scripts/setup_browser.sh (npm ci)")
    # Evaluated through the DevTools protocol, which the pages' CSP (script-src 'self') does
    # not govern, so the check runs against the real headers.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})))",
        WCAG_AA,
    )
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in found
    )


def luminance(css: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", css)[:3])

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


FOCUSED = """() => {
  const el = document.activeElement, s = getComputedStyle(el);
  let bg = el.parentElement;  // the ring is drawn outside the element, on its parent
  while (bg && ['rgba(0, 0, 0, 0)', 'transparent'].includes(getComputedStyle(bg).backgroundColor))
    bg = bg.parentElement;
  const name = (el.getAttribute('aria-label') || el.textContent).trim();
  return {id: el.id, tag: el.tagName, name, style: s.outlineStyle,
          width: parseFloat(s.outlineWidth), color: s.outlineColor,
          behind: bg ? getComputedStyle(bg).backgroundColor : 'rgb(255, 255, 255)'}
}"""


def focused(page: Any) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(FOCUSED)
    return info


def press_until(page: Any, key: str, name: str, limit: int = 40) -> list[str]:
    """Presses `key` (Tab or Shift+Tab) until the focused control is called `name`."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        seen.append(focused(page)["name"])
        if seen[-1] == name:
            return seen
    raise AssertionError(f"{name!r} not reached with {key}: {seen}")


def assert_focus_visible(page: Any) -> None:
    ring = focused(page)
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    assert contrast(ring["color"], ring["behind"]) >= 3, ring


BORDERS = """sel => [...document.querySelectorAll(sel)].map(el => {
  let bg = el.parentElement;
  while (getComputedStyle(bg).backgroundColor === 'rgba(0, 0, 0, 0)' && bg.parentElement)
    bg = bg.parentElement;
  return [getComputedStyle(el).borderTopColor, getComputedStyle(bg).backgroundColor];
})"""


def assert_borders_contrast(page: Any, selector: str) -> None:
    """Non-text contrast (WCAG 1.4.11, not measured by axe): a control's edge vs behind it."""
    pairs = page.evaluate(BORDERS, selector)
    assert pairs, selector
    for border, behind in pairs:
        assert contrast(border, behind) >= 3, (selector, border, behind)


def assert_no_violations(page: Any, where: str) -> None:
    report = axe_violations(page)
    assert not report, f"axe-core, {where}:\n{report}"


def test_keyboard_only_conversation_with_announcements_and_the_call_link(
    base: str, browser: Any, shots: Path
) -> None:
    page = open_chat(browser, base, viewport={"width": 1024, "height": 768})
    live = page.get_by_role("log", name="Conversazione")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_contain_text("Va bene per te?")
    assert page.evaluate("document.documentElement.lang") == "it"
    assert focused(page)["id"] == "text"
    # The first message is kept as it is (marked), later ones are added after it:
    # a screen reader announces each new one, never the whole log again.
    page.evaluate("document.querySelector('#log li').dataset.first = 'yes'")
    assert_no_violations(page, "empty chat")

    call = page.get_by_role("link", name=re.compile("Chiama il Social Point"))
    expect(call).to_have_attribute("href", "tel:+39" + POINTS[0].phone.replace(" ", ""))
    expect(call).to_contain_text(POINTS[0].phone)
    for point in POINTS:
        expect(page.locator(f'a[href="{point.tel}"]').first).to_be_attached()

    # Tab order: the call link, the conversation, the text box, send, restart.
    press_until(page, "Shift+Tab", "Privacy")  # the page's first control
    order = press_until(page, "Tab", "ricomincia")
    assert order[0].startswith("Chiama il Social Point"), order
    assert order[1:] == [
        "Tutti i Social Point",
        "/privacy",  # the link in the privacy notice
        "Sì, va bene",
        "No, grazie",
        "",  # the text box
        "Invia",
        "ricomincia",
    ], order

    # The newest quick replies sit right before the text box: Shift+Tab reaches them.
    page.keyboard.press("Shift+Tab")  # back to send
    press_until(page, "Shift+Tab", "Sì, va bene", limit=4)
    assert_focus_visible(page)
    page.screenshot(path=str(shots / "chat-desktop-focus.png"))
    page.keyboard.press("Enter")
    expect(live).to_contain_text("Dimmi pure di cosa hai bisogno")
    assert focused(page)["id"] == "text", "focus goes back to the text box"

    # Written and sent with the keyboard, then a category chosen with Tab and Space.
    page.keyboard.type("mi serve aiuto")
    page.keyboard.press("Enter")
    expect(live.locator("li.me").last).to_have_text("Tu: mi serve aiuto")
    expect(page.locator("#log li.bot .buttons").last).to_be_visible()
    press_until(page, "Shift+Tab", "Aiuto a casa per anziani")
    assert_focus_visible(page)
    page.keyboard.press("Space")
    expect(live).to_contain_text("In quale comune abiti?")
    assert focused(page)["id"] == "text"

    # The comune picked: the call link now calls that comune's Social Point.
    vedano = next(p for p in POINTS if "Vedano Olona" in p.comuni)
    press_until(page, "Shift+Tab", "Vedano Olona")
    page.keyboard.press("Enter")
    expect(call).to_have_attribute("href", vedano.tel)
    expect(call).to_contain_text(f"{vedano.name}: {vedano.phone}")
    expect(live.locator("li.me").last).to_have_text("Tu: Vedano Olona")
    expect(page.locator("#log li.bot").last).not_to_have_text("In quale comune abiti?")
    assert_no_violations(page, "after a conversation with quick replies")
    for control in ("#text", ".buttons button", ".call-link"):
        assert_borders_contrast(page, control)

    # An emergency: its helplines reach the live region like any reply.
    page.keyboard.type("mio marito mi picchia")
    page.keyboard.press("Enter")
    expect(live).to_contain_text("1522")
    assert page.evaluate("document.querySelector('#log li').dataset.first") == "yes"
    page.screenshot(path=str(shots / "chat-desktop.png"), full_page=True)


def test_320_px_and_200_percent_text_without_horizontal_scrolling(
    base: str, browser: Any, shots: Path
) -> None:
    width = "document.scrollingElement.scrollWidth"
    page = open_chat(browser, base, viewport={"width": 320, "height": 640}, reduced_motion="reduce")
    log = page.locator("#log")
    expect(log).to_contain_text("Va bene per te?")
    page.keyboard.type(LONG)
    page.keyboard.press("Enter")
    expect(log.locator("li.me")).to_contain_text(LONG)
    expect(log.locator("li").last).to_have_class("bot")  # the bot answered
    # The newest answers scroll into view above the sticky text box, not under it.
    last = log.locator("li.bot").last.locator("button").last.bounding_box()
    form = page.locator("#composer").bounding_box()
    assert last and form and last["y"] + last["height"] <= form["y"], (last, form)
    page.screenshot(path=str(shots / "chat-320-screen.png"))  # as the phone shows it
    page.get_by_text("Tutti i Social Point").click()
    assert page.evaluate(width) <= 320
    for control in (
        page.get_by_label("Scrivi un messaggio"),
        page.locator("#composer button"),
    ):
        box = control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320, box
        assert box["height"] >= 44, box  # big enough for a finger
    assert page.get_by_label("Scrivi un messaggio").bounding_box()["width"] >= 150
    assert_no_violations(page, "320 px")
    page.screenshot(path=str(shots / "chat-320.png"), full_page=True)

    # A comune written in words also picks whom to call; "ricomincia" forgets it.
    castiglione = next(p for p in POINTS if "Castiglione Olona" in p.comuni)
    page.get_by_label("Scrivi un messaggio").fill("abito a castiglione olona")
    page.keyboard.press("Enter")
    call = page.locator("#call")
    expect(call).to_have_attribute("href", castiglione.tel)
    page.get_by_role("button", name="ricomincia").click()
    expect(call).to_have_attribute("href", POINTS[0].tel)
    expect(log.locator("li")).not_to_have_count(0)
    expect(log).not_to_contain_text("castiglione")

    # 200 % text on a 640 px window (1280 px zoomed 200 %): still one column.
    page.set_viewport_size({"width": 640, "height": 800})
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert page.evaluate(width) <= 640
    page.screenshot(path=str(shots / "chat-text-200.png"), full_page=True)


def test_console_login_page_has_no_axe_violations(base: str, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{base}/operator/login")
    assert_no_violations(page, "/operator/login")
