"""The officer pages in a real browser: headless Chromium (Debian's chromium, found on PATH) driven by Playwright.

One ticket goes desk → Counter 1 (RW exit, CD entry) → Counter 3, each user in their own browser context, at the
counter PC's 1366×768 screen. Full-page screenshots land in test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from osbp.extensions import db
from osbp.post.seed import DEMO_PASSWORDS, DEMO_TOTP_SECRETS
from tests.conftest import missing, restore_real_socket_sends, session_app, totp_code

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TIMEOUT_MS = 10_000


def _need_chromium() -> str:
    """The Chromium executable; without one the browser tests fail under CI and skip elsewhere."""
    if CHROMIUM is None:
        missing("no chromium (or chromium-browser) on PATH: apt-get install chromium")
    return CHROMIUM


@pytest.fixture(scope="module")
def base_url(app):
    """The session app served over real HTTP on a free local port, in a background thread."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    restore_real_socket_sends()

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs) -> None:  # errors are still logged
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="osbp-browser-test-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    executable = _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, base_url):
    """new_page() → a page in a fresh browser context (its own cookie jar) at the counter PC's screen size."""
    contexts = []

    def _new_page():
        context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, username: str) -> None:
    """Log in through the form; the demo supervisor and admin then type the code of their second factor."""
    role = "admin" if username == "admin" else "supervisor" if username.startswith("supervisor") else "officer"
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORDS[role])
    page.get_by_role("button", name="Log in").click()
    if username in DEMO_TOTP_SECRETS:
        page.wait_for_url("**/login/code")
        page.get_by_label("Code").fill(totp_code(session_app(), username))
        page.get_by_role("button", name="Log in").click()
    expect(page.locator(".topbar .who")).to_have_text(re.compile("^" + re.escape(username)))


def take_seat(page, counter: str) -> None:
    page.get_by_role("link", name="Counters").click()
    page.locator(".station-button", has_text=counter).click()
    page.wait_for_url("**/counters/*")
    expect(page.locator("h1")).to_have_text(counter)


def assert_in_viewport(locator) -> None:
    """Visible on the counter PC's screen without scrolling."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["x"] >= 0
    assert box["y"] + box["height"] <= VIEWPORT["height"], f"bottom at {box['y'] + box['height']}px"
    assert box["x"] + box["width"] <= VIEWPORT["width"]


def assert_language_switch(page) -> None:
    switch = page.locator("form.languages")
    assert_in_viewport(switch)
    expect(switch.locator("button")).to_have_count(4)
    for locale in ("en", "fr", "rw", "sw"):
        expect(switch.locator(f"button[value={locale}]")).to_have_count(1)


def test_ticket_through_counter_one_in_a_browser(app, new_page, station_id):
    """Every check after a click that loads a page is Playwright's retrying expect(): it waits for the new page
    instead of reading whatever is on screen at that instant (possibly the page before the click)."""
    login = new_page()
    login.goto("/login")
    assert_language_switch(login)
    shot(login, "login")

    # The entrance desk issues a ticket.
    desk = new_page()
    log_in(desk, "supervisor-1")
    desk.get_by_role("link", name="Entrance desk").click()
    desk.get_by_label("Rwanda → DR Congo").check()
    desk.get_by_label("Trader", exact=True).check()
    desk.get_by_role("button", name="Issue ticket").click()
    expect(desk.get_by_text("Ticket T-001 issued.")).to_be_visible()
    code = desk.locator(".ticket-issued .ticket-code")
    expect(code).to_have_text("T-001")
    assert_in_viewport(code)
    expect(desk.locator(".route li").first).to_have_text("RW Immigration — exit")
    assert_language_switch(desk)
    shot(desk, "desk-ticket")

    # The RW immigration officer calls it at Counter 1 and records the identity.
    rw = new_page()
    log_in(rw, "rw-immigration-1")
    rw.get_by_role("link", name="Counters").click()
    expect(rw.locator(".station-button", has_text="Counter 1").get_by_text("Waiting: 1")).to_be_visible()
    shot(rw, "counters")
    take_seat(rw, "Counter 1")
    expect(rw.get_by_text("Waiting for this counter: 1")).to_be_visible()
    call_next = rw.locator("#call-next")
    assert_in_viewport(call_next)
    assert_language_switch(rw)
    shot(rw, "counter-idle")

    call_next.click()
    expect(rw.locator(".current-ticket .ticket-code")).to_have_text("T-001")
    expect(rw.get_by_role("heading", name="Identity and travel document")).to_be_visible()
    steps = rw.locator(".steps-here li.step-here")
    expect(steps).to_have_count(2)  # the two steps at this counter, within the whole route
    expect(rw.locator(".steps-here li")).to_have_count(5)
    expect(steps.nth(0)).to_contain_text("RW Immigration — exit")
    expect(steps.nth(1)).to_contain_text("CD Immigration — entry")
    save = rw.get_by_role("button", name="Save identity")
    for locator in (rw.locator(".current-ticket .ticket-code"), steps.nth(1), save):
        assert_in_viewport(locator)
    assert_language_switch(rw)
    shot(rw, "counter-identity")

    # The CD officer, at the same counter, waits for RW to decide first.
    cd = new_page()
    log_in(cd, "cd-immigration-1")
    take_seat(cd, "Counter 1")
    expect(cd.locator(".current-ticket .ticket-code")).to_have_text("T-001")
    expect(cd.get_by_text("Waiting for RW Immigration to decide first.")).to_be_visible()
    expect(cd.locator("#clear")).to_have_count(0)

    rw.get_by_label("Full name").fill("Uwimana Grace")
    rw.get_by_label("Nationality").fill("RWA")
    rw.get_by_label("Document type").select_option("passport")
    rw.get_by_label("Document number").fill("PC1234567")
    rw.get_by_label("Date of birth").fill("1988-03-14")
    save.click()
    expect(rw.locator(".holder")).to_contain_text("Uwimana Grace · RWA")
    clear = rw.locator("#clear")
    expect(rw.get_by_role("heading", name="Your decision: RW Immigration — exit")).to_be_visible()
    for locator in (rw.locator(".current-ticket .ticket-code"), steps.nth(1), clear):
        assert_in_viewport(locator)
    shot(rw, "counter-decision")

    # The same counter in French and in Kinyarwanda, through the header's language buttons.
    for locale, name in (("fr", "counter-fr"), ("rw", "counter-rw")):
        rw.locator(f"form.languages button[value={locale}]").click()
        expect(rw.locator("html")).to_have_attribute("lang", locale)
        expect(rw.locator(f"form.languages button[value={locale}]")).to_have_attribute("aria-current", "true")
        expect(rw.locator(".current-ticket .ticket-code")).to_have_text("T-001")
        assert_in_viewport(rw.locator("#clear"))
        assert_language_switch(rw)
        shot(rw, name)
    rw.locator("form.languages button[value=en]").click()
    expect(rw.locator("html")).to_have_attribute("lang", "en")

    rw.locator("#clear").click()
    expect(rw.get_by_text("Decision recorded: Cleared.")).to_be_visible()
    expect(steps).to_have_text(["CD Immigration — entry — called deciding now"])

    # CD reloads: its entry step is now the next action; clearing it sends the ticket to Counter 3.
    cd.reload()
    expect(cd.get_by_role("heading", name="Your decision: CD Immigration — entry")).to_be_visible()
    assert_in_viewport(cd.locator("#clear"))
    cd.locator("#clear").click()
    expect(cd.get_by_text("Decision recorded: Cleared.")).to_be_visible()
    expect(cd.locator("#call-next")).to_be_visible()
    expect(cd.locator(".current-ticket")).to_be_hidden()
    expect(cd.get_by_text("Waiting for this counter: 0")).to_be_visible()

    desk.get_by_role("link", name="Stations").click()
    row = desk.locator("tbody tr", has_text="Counter 3")
    expect(row.locator("td.number")).to_have_text("1")
    expect(desk.locator("tbody tr", has_text="Counter 1").locator("td.number")).to_have_text("0")
    assert_language_switch(desk)
    shot(desk, "stations")

    with app.app_context():
        from osbp.queues.models import Ticket

        crossing_id = db.session.scalar(select(Ticket.crossing_id).where(Ticket.code == "T-001"))
        db.session.remove()
    desk.goto(f"/crossings/{crossing_id}")
    expect(desk.locator("tbody tr").nth(1).locator("td").nth(2)).to_have_text("cleared")
    assert_language_switch(desk)
    shot(desk, "crossing")

    health = new_page()
    log_in(health, "cd-health-1")
    health.goto(f"/counters/{station_id('C3')}")  # not seated yet: sent to choose a counter
    take_seat(health, "Counter 3")
    expect(health.get_by_text("Waiting for this counter: 1")).to_be_visible()
