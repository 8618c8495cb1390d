"""The joint counter in a real browser (headless Chromium, Playwright) at the counter PC's 1366×768.

Two officers at Counter 1 (RW and CD immigration, the demo seeds), each in their own browser context. The page that
must not reload is marked (``window.osbpNoReload``) before the other officer acts and checked after. Screenshots land
in test-artifacts/counter-*.png.
"""

from __future__ import annotations

import threading
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import restore_real_socket_sends
from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS, TIMEOUT_MS, _need_chromium, base_url, log_in  # noqa: F401
from tests.test_live import issue

pytestmark = pytest.mark.browser

COUNTER_PC = {"width": 1366, "height": 768}


@pytest.fixture(autouse=True, scope="module")
def _real_socket_server(app):
    """The real Socket.IO send functions (conftest.restore_real_socket_sends)."""
    restore_real_socket_sends()


@pytest.fixture(autouse=True, scope="module")
def _patient_expect():
    """Each page load is a form post and a render on a busy test machine: wait as long as the actions do."""
    expect.set_options(timeout=TIMEOUT_MS)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the other modules


@pytest.fixture(scope="module")
def browser():
    executable = _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # The chime is Web Audio: let it play without a click first, as the board's test does.
        chromium = playwright.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, base_url):  # noqa: F811
    contexts = []

    def _new_page(locale="en-GB"):
        context = browser.new_context(base_url=base_url, viewport=COUNTER_PC, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # script errors and CSP violations
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and page.errors.append(_where(message)))
        page.on(
            "response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and page.errors.append(r.url)
        )
        return page

    yield _new_page
    for context in contexts:
        context.close()
    _server_idle()


def _server_idle(timeout: float = 5.0) -> None:
    """The test server answers each request in its own thread: wait until the closed pages' last requests (a live
    refresh, a socket) are done, so that the next test's database reset does not meet them (a deadlock on PostgreSQL)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(thread.name.endswith("(process_request_thread)") for thread in threading.enumerate()):
            return
        time.sleep(0.05)


def _where(message) -> str:
    url = (message.location or {}).get("url", "")
    return "" if url.endswith("/favicon.ico") or not url else f"{message.text} at {url}"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"counter-{name}.png"))


def seated(new_page, username: str, counter: str = "Counter 1", locale: str = "en-GB", wait_live: bool = True):
    """A logged-in officer's page at the counter, its socket connected (or only loaded: ``wait_live=False``)."""
    page = new_page(locale)
    log_in(page, username)
    page.get_by_role("link", name="Counters").click()
    page.locator(".station-button", has_text=counter).click()
    expect(page.locator("h1")).to_have_text(counter)
    if wait_live:
        live(page)
    else:
        keys_ready(page)
        page.evaluate("window.osbpNoReload = true")
    return page


def live(page) -> None:
    """Wait for the socket, then mark the window: a reload would take the mark away."""
    page.wait_for_selector("body[data-live=yes]")
    page.evaluate("window.osbpNoReload = true")


def keys_ready(page) -> None:
    """The page's scripts ran (a page whose text shows may not have run them yet): counter.js listens for the keys."""
    page.wait_for_load_state("load")


def still_same_page(page) -> bool:
    return page.evaluate("window.osbpNoReload === true")


def record_identity(page, name="Uwimana Grace", nationality="RWA", number="PC1234567", born="14/03/1988") -> None:
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Nationality").fill(nationality)
    page.get_by_label("Document type").select_option("passport")
    page.get_by_label("Document number").fill(number)
    page.get_by_label("Date of birth").fill(born)
    page.get_by_role("button", name="Save identity").click()
    expect(page.locator(".holder")).to_contain_text(name)


def test_the_partner_sees_the_call_and_the_decision_without_reloading(app, new_page, api):
    rw = seated(new_page, "rw-immigration-1")
    cd = seated(new_page, "cd-immigration-1")
    expect(rw.locator(".queue-length")).to_have_text("Waiting for this counter: 0")
    shot(cd, "idle")

    # A ticket joins the line: both idle counters see it, and hear it.
    issue(api("supervisor-1"))
    for page in (rw, cd):
        expect(page.locator(".queue-length")).to_have_text("Waiting for this counter: 1")
        expect(page.locator("#counter-news")).to_have_text("A ticket is waiting for this counter.")
        assert page.evaluate("document.body.dataset.chimes") == "1"
        assert page.evaluate("document.body.dataset.chimesPlayed") == "1"  # the Web Audio chime really played
        assert still_same_page(page)
    shot(cd, "ticket-arrived")

    # RW calls it: CD's screen shows the ticket and whose turn it is.
    rw.locator("#call-next").click()
    expect(rw.locator(".current-ticket .ticket-code")).to_have_text("T-001")
    expect(cd.locator(".current-ticket .ticket-code")).to_have_text("T-001")
    expect(cd.locator("[data-part=action]")).to_have_text("Waiting for RW Immigration to decide first.")
    expect(cd.locator(".step-turn")).to_contain_text("RW Immigration — exit")
    expect(cd.locator("#counter-news")).to_be_hidden()
    assert still_same_page(cd)

    # RW records the identity (CD sees it) and clears: CD's decision comes up on its own.
    record_identity(rw)
    expect(cd.locator(".holder")).to_contain_text("Uwimana Grace · RWA (Rwanda)")
    rw.locator("#clear").click()
    expect(rw.get_by_text("Decision recorded: Cleared.")).to_be_visible()
    expect(cd.get_by_role("heading", name="Your decision: CD Immigration — entry")).to_be_visible()
    expect(cd.locator(".steps-here li").first).to_have_text("RW Immigration — exit — cleared")
    assert still_same_page(cd)
    shot(cd, "partner-decided")

    # CD clears: RW's screen (which said "CD Immigration decides at this counter") is free again, and says so.
    live(rw)
    expect(rw.locator("[data-part=action]")).to_contain_text("CD Immigration decides at this counter.")
    cd.locator("#clear").click()
    expect(cd.get_by_text("Decision recorded: Cleared.")).to_be_visible()
    expect(rw.locator("#call-next")).to_be_visible()
    expect(rw.locator(".current-ticket")).to_be_hidden()
    expect(rw.locator(".last-decision")).to_contain_text("Last decision here: CD Immigration — entry: Cleared at")
    expect(rw.locator(".queue-length")).to_have_text("Waiting for this counter: 0")
    assert still_same_page(rw)
    assert rw.evaluate("document.body.dataset.chimes") is None  # no new ticket in the line: no chime
    shot(rw, "partner-cleared")
    assert not any(rw.errors + cd.errors), rw.errors + cd.errors


def test_what_an_officer_types_survives_the_updates(app, new_page, api):
    desk = api("supervisor-1")
    issue(desk, category="traveller")
    rw = seated(new_page, "rw-immigration-1")
    rw.locator("#call-next").click()
    expect(rw.locator(".current-ticket .ticket-code")).to_have_text("P-001")
    rw.get_by_text("Transfer or flag priority").click()
    rw.locator(".ticket-more input[name=reason]").fill("Walks with a cane")
    rw.get_by_label("Full name").fill("Mapendo Esperance")
    rw.get_by_label("Nationality").fill("COD")
    expect(rw.locator("#nationality-name")).to_have_text("Congo - Kinshasa")
    number = rw.get_by_label("Document number")
    number.fill("OP12")
    live(rw)

    # The line grows (the head changes) and a supervisor flags the ticket (the ticket part changes).
    issue(desk)
    expect(rw.locator(".queue-length")).to_have_text("Waiting for this counter: 1")
    assert desk.post("/api/v1/tickets/P-001/priority", json={"priority": "elderly", "reason": "Age"}).status_code == 200
    expect(rw.locator(".priority-flag")).to_have_text("Priority: Elderly person")
    expect(rw.locator(".ticket-more select[name=priority]")).to_have_value("elderly")  # untouched: the server's

    assert still_same_page(rw)
    assert rw.get_by_label("Full name").input_value() == "Mapendo Esperance"
    assert rw.get_by_label("Nationality").input_value() == "COD"
    expect(number).to_be_focused()
    rw.keyboard.type("34")  # the caret stayed at the end of what was typed
    assert number.input_value() == "OP1234"
    expect(rw.locator(".ticket-more")).to_have_attribute("open", "")
    assert rw.locator(".ticket-more input[name=reason]").input_value() == "Walks with a cane"
    shot(rw, "typing-kept")
    assert not any(rw.errors), rw.errors


def test_the_keyboard_shortcuts(app, new_page, api):
    desk = api("supervisor-1")
    issue(desk, category="traveller")
    issue(desk, category="traveller")
    rw = seated(new_page, "rw-immigration-1", wait_live=False)
    expect(rw.locator("#call-next kbd")).to_have_text("F2")

    keys_ready(rw)
    rw.keyboard.press("F2")  # call next
    expect(rw.locator(".current-ticket .ticket-code")).to_have_text("P-001")
    expect(rw.locator("#recall kbd")).to_have_text("F3")
    rw.locator("h1").click()  # out of the identity form's name field
    keys_ready(rw)
    rw.keyboard.press("F3")  # recall
    expect(rw.get_by_text("P-001 recalled (1 of 3).")).to_be_visible()

    # In a text field the keys are the field's: F2 there calls nobody.
    live(rw)
    rw.get_by_label("Full name").click()
    rw.keyboard.press("F2")
    rw.wait_for_timeout(300)
    assert still_same_page(rw)
    record_identity(rw)

    # Refer and refuse never go without a reason: the key asks for one and puts the cursor there.
    live(rw)
    rw.locator("h1").click()
    rw.keyboard.press("F9")
    reason = rw.locator("#decision-reason")
    expect(reason).to_be_focused()
    expect(rw.locator("#reason-hint")).to_have_text("Type the reason, then press F9 again.")
    rw.keyboard.press("F8")  # typing in the reason box: F8 does not clear
    rw.wait_for_timeout(300)
    assert still_same_page(rw)
    shot(rw, "reason-asked")
    reason.type("Document looks altered")
    rw.keyboard.press("F9")
    expect(rw.get_by_text("Decision recorded: Referred.")).to_be_visible()

    keys_ready(rw)
    rw.keyboard.press("F2")
    expect(rw.locator(".current-ticket .ticket-code")).to_have_text("P-002")
    record_identity(rw, name="Anna Eriksson")
    rw.locator("h1").click()
    keys_ready(rw)
    rw.keyboard.press("F10")
    expect(reason).to_be_focused()
    expect(rw.locator("#reason-hint")).to_have_text("Type the reason, then press F10 again.")
    reason.blur()
    rw.keyboard.press("F8")  # clear
    expect(rw.get_by_text("Decision recorded: Cleared.")).to_be_visible()
    assert not any(rw.errors), rw.errors


def test_closing_the_counter_asks_and_the_partner_sees_it(app, new_page):
    rw = seated(new_page, "rw-immigration-1", wait_live=False)
    cd = seated(new_page, "cd-immigration-1", wait_live=False)
    rw.locator("#close-station").click()
    dialog = rw.locator("#close-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This closes the counter for both agencies")
    expect(rw.locator("#keep-open")).to_be_focused()  # the safe choice first
    shot(rw, "close-asked")
    rw.locator("#keep-open").click()
    expect(dialog).to_be_hidden()
    expect(rw.locator("#pause-station")).to_be_visible()
    assert still_same_page(rw)

    live(cd)
    rw.locator("#close-station").click()
    rw.locator("#confirm-close").click()
    expect(rw.get_by_text("Counter 1 is closed.")).to_be_visible()
    expect(cd.locator(".station-state")).to_have_text("Closed")  # the partner's screen, without reloading
    expect(cd.locator("#call-next")).to_have_count(0)
    assert still_same_page(cd)


def test_the_identity_form_speaks_the_officers_language(app, new_page, api):
    issue(api("supervisor-1"), category="traveller")
    rw = seated(new_page, "rw-immigration-1", wait_live=False)
    rw.locator("#call-next").click()
    rw.get_by_label("Full name").fill("Uwimana Grace")
    rw.get_by_label("Date of birth").fill("1988")
    rw.get_by_role("button", name="Save identity").click()  # no browser bubble: the server answers
    expect(rw.get_by_text("The identity was not saved: correct the fields marked below.")).to_be_visible()
    expect(rw.locator("#nationality-error")).to_have_text(
        "Pick a country from the list or type its three-letter code, such as RWA."
    )
    expect(rw.locator("input[name=nationality]")).to_be_focused()  # the first field to correct
    expect(rw.locator("#birth_date-error")).to_have_text(
        "Give the date of birth as DD/MM/YYYY, for example 14/03/1988."
    )
    assert rw.get_by_label("Full name").input_value() == "Uwimana Grace"
    live(rw)
    rw.wait_for_timeout(500)  # the first live refresh must not take the corrections away
    expect(rw.locator("#birth_date-error")).to_be_visible()
    shot(rw, "identity-errors")

    rw.locator("form.languages button[value=fr]").click()
    expect(rw.locator("html")).to_have_attribute("lang", "fr")
    rw.locator("input[name=nationality]").fill("cod")
    expect(rw.locator("#nationality-name")).to_have_text("Congo-Kinshasa")
    options = rw.locator("#nationalities option")
    assert options.nth(0).get_attribute("value") == "RWA" and options.nth(1).get_attribute("value") == "COD"
    rw.locator("input[name=holder_name]").fill("Uwimana Grace")
    rw.locator("select[name=document_type]").select_option("passport")
    rw.locator("input[name=document_number]").fill("PC1234567")
    rw.locator("input[name=birth_date]").fill("14/03/1988")
    shot(rw, "identity-fr")
    rw.locator(".identity-form button[type=submit]").click()
    holder = rw.locator(".holder")
    expect(holder).to_contain_text("Uwimana Grace · COD (Congo-Kinshasa) · Passeport PC1234567")
    expect(holder).to_contain_text("14/03/1988")
    shot(rw, "decision-fr")
