"""Honest waits and a readable board, in a real browser (headless Chromium driven by Playwright; issue 9).

The board on a 1920×1080 TV: a counter whose line has nobody seated to serve it says "No officer yet", never minutes,
until an officer sits down; the "tap for sound" button covers no wait card; "Last calls" shows whole rows only; a
recall shows an "again" badge and chimes twice. The supervisors' live view on a 1366×768 counter PC: the alerts and
the station controls are above the fold; empty queues are collapsed. Screenshots land in test-artifacts/.

The browser here starts without Chromium's autoplay flag, as a board set up without it: its sound button shows.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from osbp.extensions import db
from osbp.queues.models import Ticket
from osbp.types import utcnow
from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS, TIMEOUT_MS, _need_chromium, base_url, log_in  # noqa: F401
from tests.test_live import HOLDER, _fresh_limits, call, decide, issue, make_device, seat  # noqa: F401

pytestmark = pytest.mark.browser

TV = {"width": 1920, "height": 1080}
COUNTER_PC = {"width": 1366, "height": 768}
MINUTES = re.compile(r"\d+\s*min")


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

    def _new_page(viewport):
        context = browser.new_context(base_url=base_url, viewport=viewport, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield _new_page
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_board(page, app, name: str) -> None:
    token = make_device(app, "board", name)
    page.goto(f"/live/device#{token}")  # the set-up page posts the token
    page.wait_for_url("**/live/board")
    page.wait_for_selector("body[data-live=yes]")


def through_counter_one(api, station_id, count: int) -> list[str]:
    """``count`` RW→CD traders called one after the other at Counter 1, both immigration steps cleared: they now wait
    for Counter 3 (CD health), where nobody is seated. Returns their codes."""
    desk, rw, cd = api("supervisor-1"), api("rw-immigration-1"), api("cd-immigration-1")
    c1 = station_id("C1")
    seat(rw, c1)
    seat(cd, c1)
    codes = []
    for _ in range(count):
        issue(desk)
        called = call(rw, c1)
        codes.append(called["ticket"]["code"])
        exit_step, entry_step = called["steps_here"]
        assert rw.post(f"/api/v1/steps/{exit_step['id']}/identity", json=HOLDER).status_code == 200
        decide(rw, exit_step["id"])
        decide(cd, entry_step["id"])
    return codes


def card(board, code: str):
    """A counter's wait card (the third primary counter is Counter 3)."""
    index = ["C1", "C2", "C3", "C4", "C5"].index(code)
    return board.locator("#waits li").nth(index)


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_an_unstaffed_counter_shows_no_minutes_on_the_board_until_an_officer_sits(app, new_page, api, station_id):
    through_counter_one(api, station_id, 2)
    board = new_page(TV)
    open_board(board, app, "board-unstaffed")
    c3 = card(board, "C3")
    text = c3.text_content()
    assert "Counter 3" in text  # the card names the counter (its name rotates through the languages)
    assert "No officer yet" in text, text
    assert not MINUTES.search(text), f"Counter 3 has nobody seated but the board promises {text!r}"
    assert c3.locator(".wait-count").inner_text().strip() == "2"
    board.evaluate("window.osbpNoReload = true")
    shot(board, "board-unstaffed-1920")

    seat(api("cd-health-1"), station_id("C3"))  # the board hears of it at once (station.seats_changed)
    expect(c3.locator(".wait-time")).to_have_text(MINUTES)
    assert "No officer yet" not in c3.text_content()
    assert board.evaluate("window.osbpNoReload === true")
    assert not board.errors, board.errors


def test_the_sound_button_covers_no_wait_card(app, new_page):
    board = new_page(TV)
    open_board(board, app, "board-sound")
    sound = board.locator("#sound")
    expect(sound).to_be_visible()  # no autoplay here: the board asks for a tap
    button = sound.bounding_box()
    assert button["y"] >= 0 and button["y"] + button["height"] <= TV["height"]
    cards = board.locator("#waits li")
    assert cards.count() == 5
    for index in range(cards.count()):
        box = cards.nth(index).bounding_box()
        assert not overlap(button, box), f"the sound button {button} covers wait card {index + 1} {box}"
    history = board.locator(".history").bounding_box()
    assert not overlap(button, history) and not overlap(button, board.locator(".now").bounding_box())
    shot(board, "board-sound-1920")


def test_last_calls_show_whole_rows_only(app, new_page, api, station_id):
    through_counter_one(api, station_id, 7)  # the current call and six before it
    board = new_page(TV)
    open_board(board, app, "board-history")
    expect(board.locator("#now-code")).to_have_text("T-007")
    rows = board.locator("#history li")
    assert rows.count() >= 3, "room for at least three whole rows on a TV"
    panel = board.locator(".history").bounding_box()
    padding = board.evaluate("parseFloat(getComputedStyle(document.querySelector('.history')).paddingBottom)")
    visible_bottom = panel["y"] + panel["height"] - padding  # the panel clips what goes past its padding
    listed = board.locator("#history").bounding_box()
    for index in range(rows.count()):
        row = rows.nth(index).bounding_box()
        assert row["y"] >= listed["y"] and row["y"] + row["height"] <= listed["y"] + listed["height"] + 0.5, index
        assert row["y"] + row["height"] <= visible_bottom + 0.5, f"row {index + 1} is cut: {row} past {visible_bottom}"
    shot(board, "board-history-1920")


def test_a_recall_shows_again_and_chimes_twice(app, new_page, api, station_id):
    board = new_page(TV)
    open_board(board, app, "board-recall")
    desk, rw = api("supervisor-1"), api("rw-immigration-1")
    issue(desk)
    issue(desk)
    c1 = station_id("C1")
    seat(rw, c1)
    call(rw, c1)
    expect(board.locator("#now-code")).to_have_text("T-001")
    assert not board.locator("#now-again").is_visible()  # a first call: no badge

    assert rw.post(f"/api/v1/stations/{c1}/recall").status_code == 200
    expect(board.locator("#now-again")).to_be_visible()
    assert "Again" in board.locator("#now-again").text_content()
    assert board.evaluate("document.body.dataset.chimes") == "2"
    assert board.evaluate("document.body.dataset.lastChime") == "2"  # a double chime (one for a first call)
    shot(board, "board-recall-1920")

    # After a reload the board still knows it was a recall (the server's last calls say so).
    board.reload()
    board.wait_for_selector("body[data-live=yes]")
    expect(board.locator("#now-again")).to_be_visible()
    assert board.locator("#history li").count() == 0  # one line per ticket: the call and its recall are one
    assert not board.errors, board.errors


def test_the_supervisors_alerts_and_station_controls_fit_a_counter_pc(app, new_page, api, station_id, login):
    through_counter_one(api, station_id, 2)  # two wait for Counter 3, where nobody sits
    desk = api("supervisor-1")
    for _ in range(3):
        issue(desk, direction="CD-RW")
    with app.app_context():  # and they have waited 45 minutes: over the 30-minute target, an alert
        db.session.execute(
            update(Ticket).where(Ticket.status == "waiting").values(queued_at=utcnow() - timedelta(minutes=45))
        )
        db.session.commit()
        db.session.remove()
    supervisor = new_page(COUNTER_PC)
    log_in(supervisor, "supervisor-1")
    supervisor.goto("/live/supervisor")
    supervisor.wait_for_selector("body[data-live=yes]")
    supervisor.wait_for_selector("body[data-refreshed]")  # the panel as the live script draws it
    # measured in one go: the live panel may be drawn again at any moment
    bottoms = supervisor.evaluate(
        """() => Object.fromEntries(["#alerts [role=alert]", ".station-actions button"].map((selector) =>
            [selector, [...document.querySelectorAll(selector)].map((e) => e.getBoundingClientRect().bottom)]))"""
    )
    alerts, buttons = bottoms["#alerts [role=alert]"], bottoms[".station-actions button"]
    assert len(alerts) >= 2  # both queues over the target (and, since issue 9, health unstaffed)
    assert len(buttons) >= 8  # one or two per station
    assert max(alerts) <= COUNTER_PC["height"], f"the alerts end at {max(alerts)} px"
    assert max(buttons) <= COUNTER_PC["height"], f"the station controls end at {max(buttons)} px"
    shot(supervisor, "supervisor-1366")
    assert not supervisor.errors, supervisor.errors
