"""Events survive a Redis restart, for real: two gunicorn instances share a database and a ``redis-server`` of this
test's own (a free loopback port; the shared Redis is never touched). A display board (headless Chromium running
board.js, its own timers stopped) is open on each instance. Redis is stopped and a ticket is recalled through instance
B: the board on A cannot hear of it, the event dies with the message queue. Redis is started again, and both boards
must show the recalled ticket as the current call: A's message queue manager reconnects and sends ``resync`` to its
sockets, and the board reads its snapshot again (docs/live.md, "Snapshots, sequence and resync").

The scenario is ``bench/redis_restart.py``'s (which times it); every wait here is bounded (``DEADLINE``) and nothing
is asserted about how fast. Needs redis-server, gunicorn and Chromium: each fails the test under CI, skips elsewhere.
Database: like tests/test_scale_out.py (its own PostgreSQL database with OSBP_TEST_DATABASE_URL, else SQLite).
"""

from __future__ import annotations

import shutil

import pytest

from bench.redis_restart import Hall, round_trip
from tests.conftest import missing
from tests.test_browser import CHROMIUM_ARGS, _need_chromium
from tests.test_scale_out import shared_database  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

DEADLINE = 10.0  # seconds a board may take to show a change before the test gives up


@pytest.fixture
def hall(shared_database, tmp_path):  # noqa: F811
    if shutil.which("redis-server") is None:
        missing("no redis-server on PATH: apt-get install redis-server")
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        missing("gunicorn cannot be imported (pip install -r requirements.txt)")
    executable = _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        running = None
        try:
            running = Hall(shared_database, tmp_path, browser)
            yield running
        finally:
            if running is not None:
                running.close()
            browser.close()


def test_boards_on_both_instances_converge_after_redis_comes_back(hall):
    called = hall.start_calls()  # X1 then X2, through B, Redis up
    seen = hall.wait_for(called["X2"], DEADLINE)
    assert set(seen) == {"A", "B"}, f"before the restart the boards show {hall.shown()}\nA:\n{hall.log('A')[-3000:]}"

    back, _down, before = round_trip(hall, "X1", down=1.0)  # Redis stopped; X1's ticket recalled through B; back
    # While Redis was down the recall reached B's board (its own instance) and not A's: that event is lost for A.
    assert before == {"A": called["X2"], "B": called["X1"]}
    seen = hall.wait_for(called["X1"], DEADLINE, since=back)
    assert set(seen) == {"A", "B"}, (
        f"{called['X1']} recalled while Redis was down: the boards show {hall.shown()} {DEADLINE:g} s after Redis "
        f"came back\nA:\n{hall.log('A')[-3000:]}\nB:\n{hall.log('B')[-3000:]}"
    )
    # A noticed the loss and the return of its message queue, and told its pages to re-read.
    log = hall.log("A")
    assert "message queue: lost" in log
    assert "message queue: back" in log
