"""The re-admission task in a real browser (headless Chromium, Playwright) at the counter PC's 1366×768 screen.

The CD entry officer refuses a person the RW exit let out (through the API); without any reload, the task appears on
the counter page of an RW immigration officer at another counter and as an alert on the supervisor's live view, and
not on the CD officer's page. A note being typed survives a second task arriving. Recording it clears both, live.
Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS, TIMEOUT_MS, _need_chromium, base_url, log_in  # noqa: F401
from tests.test_browser_live import _where, still_same_page
from tests.test_live import call, decide, issue, seat
from tests.test_queue_actions import _identity

pytestmark = pytest.mark.browser

COUNTER_PC = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def browser():
    executable = _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, base_url):  # noqa: F811
    contexts = []

    def _new_page():
        context = browser.new_context(base_url=base_url, viewport=COUNTER_PC, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # script errors, CSP violations, failed requests
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and page.errors.append(_where(message)))
        page.on("response", lambda response: response.status >= 400 and page.errors.append(response.url))
        return page

    yield _new_page
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def in_viewport(locator) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= COUNTER_PC["height"], box
    assert box["x"] >= 0 and box["x"] + box["width"] <= COUNTER_PC["width"], box


def at_counter(page, username: str, station: int) -> None:
    """Logged in, seated (through the page's own seat form) and connected: the re-admission block is live."""
    log_in(page, username)
    page.goto("/counters")
    page.locator(f"form[action='/counters/{station}/seat'] button").click()
    page.wait_for_url(f"**/counters/{station}")
    page.wait_for_selector("body[data-readmissions-live=yes]")
    page.evaluate("window.osbpNoReload = true")


def refuse_after_exit(api, c1: int, reason: str) -> str:
    """A ticket through Counter 1: RW exit cleared, CD entry refused. Returns its code."""
    desk, rw, cd = api("supervisor-1"), api("rw-immigration-1"), api("cd-immigration-1")
    code = issue(desk, "RW-CD", "traveller")["code"]
    seat(rw, c1)
    seat(cd, c1)
    exit_step, entry_step = (s["id"] for s in call(rw, c1)["steps_here"])
    _identity(rw, exit_step)
    decide(rw, exit_step)
    decide(cd, entry_step, "refused", reason)
    return code


def test_the_exit_side_sees_the_task_live_and_records_it(app, new_page, api, station_id):
    c1, c2 = station_id("C1"), station_id("C2")
    rw = new_page()
    at_counter(rw, "rw-immigration-2", c2)
    block = rw.locator("#readmissions")
    expect(block).to_be_hidden()  # nothing to re-admit yet

    supervisor = new_page()
    log_in(supervisor, "supervisor-1")
    supervisor.get_by_role("link", name="Live view").click()
    supervisor.wait_for_selector("body[data-live=yes]")
    supervisor.evaluate("window.osbpNoReload = true")
    expect(supervisor.locator(".readmission-alert")).to_have_count(0)

    code = refuse_after_exit(api, c1, "No valid visa")

    # The RW officer at Counter 2: the task appears without a reload, on screen next to Call next.
    expect(block).to_be_visible()
    task = block.locator(".readmission")
    expect(task).to_have_count(1)
    expect(task.locator(".readmission-code")).to_have_text(code)
    expect(task).to_contain_text("Refused at CD Immigration — entry: No valid visa")
    record = task.get_by_role("button", name="Record re-admission")
    in_viewport(record)
    in_viewport(rw.locator("#call-next"))
    assert still_same_page(rw)
    shot(rw, "readmission-counter")

    # The supervisor: an alert, without a reload.
    alert = supervisor.locator(".readmission-alert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text(
        f"Re-admission to record: {code} was refused at CD Immigration — entry after the exit."
    )
    in_viewport(alert)
    assert still_same_page(supervisor)
    shot(supervisor, "readmission-supervisor")

    # The CD officer who refused, at Counter 1: nothing to record on that side.
    cd = new_page()
    log_in(cd, "cd-immigration-1")
    cd.goto(f"/counters/{c1}")
    expect(cd.locator("h1").first).to_have_text("Counter 1")
    expect(cd.locator("#readmissions")).to_be_hidden()
    expect(cd.locator(".readmission")).to_have_count(0)

    # A note being typed is kept when a second task arrives; the block catches up once the box is left empty.
    note = task.get_by_label("Note (optional)")
    note.fill("Handed back by DGM at 10:40")
    second = refuse_after_exit(api, c1, "Expired passport")
    expect(supervisor.locator(".readmission-alert")).to_have_count(2)
    rw.wait_for_timeout(2500)  # past the block's refresh retry
    expect(note).to_have_value("Handed back by DGM at 10:40")
    expect(block.locator(".readmission")).to_have_count(1)
    note.fill("")
    note.blur()
    expect(rw.locator("#readmissions .readmission")).to_have_count(2)
    expect(rw.locator("#readmissions .readmission-code").first).to_have_text(second)
    assert still_same_page(rw)

    # Record the first one, with a note: the page says so and keeps only the second; the supervisor's alert goes.
    first = rw.locator("#readmissions .readmission", has_text=code)
    first.get_by_label("Note (optional)").fill("Handed back by DGM at 10:40")
    first.get_by_role("button", name="Record re-admission").click()
    expect(rw.get_by_text(f"Re-admission of {code} recorded: the exit is annulled.")).to_be_visible()
    expect(rw.locator("#readmissions .readmission")).to_have_count(1)
    expect(rw.locator("#readmissions .readmission-code")).to_have_text(second)
    shot(rw, "readmission-recorded")
    expect(supervisor.locator(".readmission-alert")).to_have_count(1)
    expect(supervisor.locator(".readmission-alert")).to_contain_text(second)
    assert still_same_page(supervisor)
    shot(supervisor, "readmission-supervisor-after")
    # Serving the next person with a task still open: the ticket and its form keep their place on the right.
    issue(api("supervisor-1"), "RW-CD", "traveller")
    expect(rw.get_by_text("Waiting for this counter: 1")).to_be_visible()
    rw.locator("#call-next").click()
    expect(rw.locator(".current-ticket .ticket-code")).to_have_text("P-003")
    in_viewport(rw.locator(".current-ticket .ticket-code"))
    in_viewport(rw.get_by_role("button", name="Save identity"))
    expect(rw.locator("#readmissions .readmission-code")).to_have_text(second)
    shot(rw, "readmission-counter-busy")
    for page in (rw, supervisor, cd):
        assert not any(page.errors), page.errors  # the browser's favicon.ico aside
