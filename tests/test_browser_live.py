"""The live pages in a real browser (headless Chromium, Debian's chromium found on PATH, driven by Playwright).

The display board and the kiosk are devices opened through their set-up link; officers act through the API (the same
process and Socket.IO server as the pages). Nothing reloads: each test marks the window before acting and checks the
mark is still there after the update arrived over Socket.IO. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS, TIMEOUT_MS, _need_chromium, base_url, log_in  # noqa: F401
from tests.test_live import _fresh_limits, call, issue, make_device, seat  # noqa: F401

pytestmark = pytest.mark.browser

BOARD_SCREEN = {"width": 1920, "height": 1080}  # a wall TV
KIOSK_SCREEN = {"width": 1920, "height": 1080}  # a landscape touch kiosk
PORTRAIT_KIOSK = {"width": 1080, "height": 1920}


@pytest.fixture(scope="module")
def browser():
    executable = _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Boards play their chime without a tap, as in production (Chromium kiosk mode with this flag).
        args = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        chromium = playwright.chromium.launch(executable_path=executable, args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, base_url):  # noqa: F811
    contexts = []

    def _new_page(viewport=None, locale="en-GB"):
        context = browser.new_context(base_url=base_url, viewport=viewport or BOARD_SCREEN, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # script errors, CSP violations, failed requests (the browser's favicon aside)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and page.errors.append(_where(message)))
        page.on("response", lambda response: response.status >= 400 and page.errors.append(response.url))
        return page

    yield _new_page
    for context in contexts:
        context.close()


def _where(message) -> str:
    url = (message.location or {}).get("url", "")
    return "" if url.endswith("/favicon.ico") else f"{message.text} at {url}"


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def open_device(page, app, role: str, name: str, path: str = "") -> None:
    token = make_device(app, role, name)
    page.goto(f"/live/device#{token}")  # the set-up page posts the token
    page.wait_for_url(f"**/live/{role}")
    assert token not in page.url
    if path:
        page.goto(path)
    page.wait_for_selector("body[data-live=yes]")  # the socket is connected
    page.evaluate("window.osbpNoReload = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.osbpNoReload === true")


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0


def test_the_board_updates_when_an_officer_calls_a_ticket(app, new_page, api, station_id):
    board = new_page(BOARD_SCREEN)
    open_device(board, app, "board", "board-hall-1")
    assert board.locator("#now-code").inner_text() == "—"
    assert board.locator("#waits li").count() == 5
    shot(board, "board-idle")

    desk, rw, rw2 = api("supervisor-1"), api("rw-immigration-1"), api("rw-immigration-2")
    issue(desk)
    issue(desk, category="traveller")
    c1, c2 = station_id("C1"), station_id("C2")
    seat(rw, c1)
    seat(rw2, c2)
    call(rw, c1)
    expect(board.locator("#now-code")).to_have_text("T-001")
    assert board.locator("#now-station").inner_text().splitlines()[-1] == "Counter 1"
    assert still_same_page(board)
    assert board.evaluate("document.body.dataset.chimes") == "1"
    assert board.evaluate("document.body.dataset.chimesPlayed") == "1"  # the Web Audio chime really played

    call(rw2, c2)
    expect(board.locator("#now-code")).to_have_text("P-001")
    assert board.locator("#history li").count() == 1
    assert board.locator("#history li .history-code").inner_text() == "T-001"
    for selector in ("#now-code", "#now-station", "#history", "#waits"):
        assert in_viewport(board, selector), selector
    # legible at 5 m: the called number is at least a fifth of the screen's height
    assert board.locator("#now-code").bounding_box()["height"] >= BOARD_SCREEN["height"] / 5
    assert still_same_page(board)
    assert not any(board.errors), board.errors
    shot(board, "board-called")

    smaller = new_page({"width": 1366, "height": 768})
    open_device(smaller, app, "board", "board-hall-2")
    assert smaller.locator("#now-code").inner_text() == "P-001"  # the last calls come from the server on load
    for selector in ("#now-code", "#now-station", "#history", "#waits"):
        assert in_viewport(smaller, selector), selector
    shot(smaller, "board-1366")


def test_the_kiosk_issues_a_ticket_and_its_status_changes_live(app, new_page, api, station_id):
    kiosk = new_page(KIOSK_SCREEN)
    open_device(kiosk, app, "kiosk", "kiosk-hall-1")
    for selector in (".kiosk-langs", ".categories", ".keypad .ok"):
        assert in_viewport(kiosk, selector), selector
    shot(kiosk, "kiosk-home-en")

    kiosk.get_by_text("Rwanda → DR Congo").click()
    kiosk.get_by_role("button", name="Trader").click()
    kiosk.wait_for_url("**ticket=T-001**")
    kiosk.wait_for_selector("body[data-live=yes]")
    expect(kiosk.locator("#s-step")).to_have_text("RW Immigration — exit")
    assert kiosk.locator("#s-code").inner_text() == "T-001"
    assert kiosk.locator("#s-position").inner_text() == "number 1"
    assert kiosk.locator("#s-station").inner_text() == "Counter 1 / Counter 2"
    assert kiosk.locator("#s-fees").inner_text() == "No fees recorded."
    assert kiosk.locator(".qr").is_visible()
    assert kiosk.get_by_text("You get a receipt for every payment.").first.is_visible()
    shot(kiosk, "kiosk-ticket", full_page=True)

    kiosk.evaluate("window.osbpNoReload = true")
    rw = api("rw-immigration-1")
    seat(rw, station_id("C1"))
    call(rw, station_id("C1"))
    expect(kiosk.locator("#status")).to_have_attribute("data-status", "called")
    assert kiosk.locator("#s-message").inner_text() == "Go to Counter 1 now."
    assert kiosk.locator("#s-station").inner_text() == "Counter 1"
    assert still_same_page(kiosk)
    shot(kiosk, "kiosk-called", full_page=True)

    # Back to the start, then the same ticket typed on the keypad.
    kiosk.get_by_role("link", name="Back").click()
    kiosk.wait_for_selector("body[data-live=yes]")
    for key in ("T", "1"):
        kiosk.locator(f".keypad [data-key='{key}']").click()
    assert kiosk.locator("#code").input_value() == "T-1"
    kiosk.get_by_role("button", name="Check").click()
    expect(kiosk.locator("#status")).to_have_attribute("data-status", "called")
    assert kiosk.locator("#s-code").inner_text() == "T-001"

    assert not any(kiosk.errors), kiosk.errors
    kiosk.get_by_role("link", name="Back").click()
    kiosk.locator("#code").fill("T-404")
    kiosk.get_by_role("button", name="Check").click()
    expect(kiosk.locator("#lookup-error")).to_have_text("No ticket T-404 today.")


@pytest.mark.parametrize(
    ("lang", "trader", "take", "check", "position"),
    [
        ("rw", "Umucuruzi", "Gufata itike", "Kureba", "uwa 1"),
        ("fr", "Commerçant", "Prendre un ticket", "Voir", "nº 1"),
        ("en", "Trader", "Take a ticket", "Check", "number 1"),
    ],
)
def test_the_kiosk_in_three_languages(app, new_page, api, lang, trader, take, check, position):
    issue(api("supervisor-1"))
    kiosk = new_page(KIOSK_SCREEN)
    open_device(kiosk, app, "kiosk", f"kiosk-{lang}")
    kiosk.locator(f".kiosk-langs a[data-lang={lang}]").click()
    kiosk.wait_for_selector("body[data-live=yes]")
    assert kiosk.locator("html").get_attribute("lang") == lang
    assert kiosk.locator(f".kiosk-langs a[data-lang={lang}]").get_attribute("aria-current") == "true"
    expect(kiosk.get_by_role("button", name=trader)).to_be_visible()
    expect(kiosk.locator(".take h1")).to_have_text(take)
    expect(kiosk.locator(".keypad .ok")).to_have_text(check)
    for selector in (".kiosk-langs", ".categories", ".keypad .ok"):
        assert in_viewport(kiosk, selector), selector
    shot(kiosk, f"kiosk-home-{lang}")

    kiosk.locator("#code").fill("t1")
    kiosk.get_by_role("button", name=check, exact=True).click()
    expect(kiosk.locator("#status")).to_have_attribute("data-status", "waiting")
    expect(kiosk.locator("#s-code")).to_have_text("T-001")
    expect(kiosk.locator("#s-position")).to_have_text(position)  # the script's status text, in the page's language
    assert kiosk.locator("html").get_attribute("lang") == lang
    # the language switch keeps the ticket on screen
    other = "fr" if lang != "fr" else "rw"
    assert "ticket=T-001" in kiosk.locator(f".kiosk-langs a[data-lang={other}]").get_attribute("href")
    assert in_viewport(kiosk, ".kiosk-langs")
    shot(kiosk, f"kiosk-status-{lang}", full_page=True)
    assert not any(kiosk.errors), kiosk.errors


def test_the_kiosk_on_a_portrait_screen(app, new_page):
    kiosk = new_page(PORTRAIT_KIOSK)
    open_device(kiosk, app, "kiosk", "kiosk-portrait")
    for selector in (".kiosk-langs", ".categories", ".keypad .ok"):
        assert in_viewport(kiosk, selector), selector
    shot(kiosk, "kiosk-portrait")


def test_the_supervisors_live_view_updates_itself(app, new_page, api, station_id):
    supervisor = new_page({"width": 1366, "height": 768})
    log_in(supervisor, "supervisor-1")
    supervisor.get_by_role("link", name="Live view").click()
    supervisor.wait_for_selector("body[data-live=yes]")
    supervisor.evaluate("window.osbpNoReload = true")
    assert supervisor.locator(".live-totals").inner_text().startswith("Waiting: 0")
    issue(api("supervisor-1"))
    expect(supervisor.locator(".live-totals")).to_contain_text("Waiting: 1")
    assert still_same_page(supervisor)
    supervisor.locator("tr", has_text="Counter 5").get_by_role("button", name="Close").click()
    supervisor.wait_for_selector("text=Counter 5: Closed.")
    shot(supervisor, "supervisor-live", full_page=True)
    assert not any(supervisor.errors), supervisor.errors
