"""The gate page in a real browser (headless Chromium, Debian's chromium found on PATH, driven by Playwright), on a
handheld (360×800) and a gate PC (1366×768): the scanner types the pass and Enter into the focused field, the verdict
shows without scrolling sideways. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import pytest

from osbp.post.seed import DEMO_PASSWORDS
from tests.test_browser import ARTIFACTS, TIMEOUT_MS, base_url, browser  # noqa: F401
from tests.test_gate import Hall

pytestmark = pytest.mark.browser

SCREENS = {"handheld": {"width": 360, "height": 800}, "gate-pc": {"width": 1366, "height": 768}}


@pytest.fixture
def gate_page(browser, base_url):  # noqa: F811
    contexts = []

    def _open(viewport):
        context = browser.new_context(base_url=base_url, viewport=viewport, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and page.errors.append(_where(message)))
        return page

    yield _open
    for context in contexts:
        context.close()


def _where(message) -> str:
    """A console error and where it came from; the browser's own favicon request is not the page's."""
    url = (message.location or {}).get("url", "")
    return "" if url.endswith("/favicon.ico") else f"{message.text} at {url}"


def _fits(page, locator, viewport) -> None:
    """On screen without scrolling, and the page never scrolls sideways."""
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("screen", list(SCREENS))
def test_scanner_types_the_pass_and_enter(app, api, station_id, gate_page, screen):
    hall = Hall(api, station_id)
    code = hall.gate_pass("RW-CD")
    viewport = SCREENS[screen]
    page = gate_page(viewport)
    page.goto("/login")
    page.get_by_label("Username").fill("cd-gate-1")
    page.get_by_label("Password").fill(DEMO_PASSWORDS["gate"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/gate")
    nav = page.locator(".topbar nav a")
    assert nav.all_inner_texts() == ["Exit gate"]

    # Autofocus: the keyboard-wedge scanner types into the field without a tap.
    assert page.evaluate("document.activeElement.id") == "gate-code"
    _fits(page, page.locator("#gate-code"), viewport)
    page.keyboard.type(code.lower())
    with page.expect_navigation():  # POST, then the redirect back to /gate
        page.keyboard.press("Enter")
    verdict = page.locator(".gate-result.gate-ok")
    assert "Gate-out recorded" in verdict.inner_text()
    assert "Anna Maria Eriksson" in verdict.inner_text()
    _fits(page, page.locator(".gate-ok .gate-verdict"), viewport)
    assert page.evaluate("document.activeElement.id") == "gate-code"  # ready for the next person
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"gate-{screen}-ok.png"), full_page=True)

    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    refused = page.locator(".gate-result.gate-refused")
    assert "already used" in refused.inner_text()
    _fits(page, page.locator(".gate-refused .gate-reason"), viewport)
    assert page.locator(".gate-scans tbody tr").count() == 2
    page.screenshot(path=str(ARTIFACTS / f"gate-{screen}-refused.png"), full_page=True)
    assert [error for error in page.errors if error] == []  # no script error, no CSP violation
