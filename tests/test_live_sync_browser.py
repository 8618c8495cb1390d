"""The live pages' sequence in a real browser (osbp/static/js/live-sync.js and board.js; docs/live.md).

- ``OsbpLive.Sequence``'s rules, run in the page: stale, apply, gap; a snapshot older than what is shown is refused.
- A board ignores an event older than its snapshot (no second chime, no older call on top), applies the next one,
  reads its snapshot again on a gap (an event it never received: here a real change whose events were not sent),
  and on the server's ``resync``; so do the counter page and the supervisors' view.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from osbp import events
from osbp.extensions import db, socketio
from osbp.sequence import LiveSequence
from tests.test_board_browser import COUNTER_PC, TV, browser, new_page, open_board  # noqa: F401 (fixtures)
from tests.test_browser import base_url, log_in, take_seat  # noqa: F401 (fixture)
from tests.test_live import call, issue, seat

pytestmark = pytest.mark.browser

RULES = """() => {
  const page = new OsbpLive.Sequence(5); // a snapshot numbered 5 is shown
  const out = [page.event(4), page.event(5), page.event(6), page.event(6), page.event(8), page.behind];
  out.push(page.snapshot(7), page.snapshot(9), page.behind, page.event(9), page.event(10), page.event(undefined));
  const kiosk = new OsbpLive.Sequence(null, { gaps: false }); // one ticket's events: a subset, no gaps to see
  out.push(kiosk.event(3), kiosk.event(7), kiosk.event(2));
  return out;
}"""


def test_the_sequence_rules(app, new_page):  # noqa: F811
    board = new_page(TV)
    open_board(board, app, "board-rules")
    assert board.evaluate(RULES) == [
        "stale",  # older than the snapshot
        "stale",  # the snapshot's own number: already in it
        "apply",  # the next one
        "apply",  # another event of the same request
        "gap",  # 7 never came
        True,  # so a snapshot is wanted
        False,  # a snapshot numbered 7 is older than what is shown (8): not drawn
        True,  # 9 is drawn
        False,  # and nothing is wanted any more
        "stale",  # 9 is in that snapshot
        "apply",
        "apply",  # an event of no post (session.revoked) is always handled
        "apply",
        "apply",  # a kiosk sees no gaps
        "stale",
    ]


def _seq(app) -> int:
    with app.app_context():
        seq = db.session.scalar(select(LiveSequence.seq)) or 0
        db.session.remove()
    return seq


def _shown(board) -> dict:
    return board.evaluate(
        """() => ({
      code: document.getElementById("now-code").textContent.trim(),
      seq: Number(document.body.dataset.liveSeq),
      chimes: Number(document.body.dataset.chimes || 0),
      snapshots: Number(document.body.dataset.snapshots || 0),
    })"""
    )


def _wait_for_seq(board, seq: int) -> None:
    board.wait_for_function(f"() => Number(document.body.dataset.liveSeq) >= {seq}")


def test_a_board_ignores_stale_events_and_reads_its_snapshot_on_a_gap_and_on_resync(
    app,
    new_page,  # noqa: F811
    api,
    station_id,
    demo_post,
    monkeypatch,
):
    desk, first, second = api("supervisor-1"), api("rw-immigration-1"), api("rw-immigration-2")
    c1, c2 = station_id("C1"), station_id("C2")
    seat(first, c1)
    seat(second, c2)
    issue(desk)
    issue(desk)
    t1 = call(first, c1)["ticket"]["code"]
    board = new_page(TV)
    open_board(board, app, "board-sequence")
    board.wait_for_function(f"() => document.getElementById('now-code').textContent.trim() === '{t1}'")
    start = _shown(board)
    assert start["seq"] == _seq(app)  # the page's snapshot carries the post's number

    # An event numbered like the snapshot is already in it: ignored. The real change after it (its event reaches the
    # same socket after the stale one) shows it was received.
    room = events.board_room(demo_post)
    stale = {"type": "ticket.called", "data": {"code": "P-999", "station_id": c1, "station": "Counter 1"}}
    socketio.emit("event", {**stale, "seq": start["seq"]}, to=room)
    issue(desk)
    _wait_for_seq(board, start["seq"] + 1)
    after = _shown(board)
    assert after["code"] == t1, "an event older than the board's snapshot was drawn"
    assert after["chimes"] == start["chimes"]

    # A real call whose events never leave (as when the message queue is down), then a real change whose events do:
    # the board sees the gap and reads its snapshot, which shows the call it never heard of.
    socketio.emit("event", {"type": "sync", "data": {}, "seq": start["seq"]}, to=room)  # (stale: ignored too)
    real_start = _seq(app)
    with monkeypatch.context() as quiet:
        quiet.setattr(events, "flush", lambda: events.discard())
        t2 = call(second, c2)["ticket"]["code"]
    assert _seq(app) == real_start + 1
    issue(desk)  # ticket.issued, numbered real_start + 2: one number missing on the board
    board.wait_for_function(f"() => document.getElementById('now-code').textContent.trim() === '{t2}'")
    gap = _shown(board)
    assert gap["seq"] == _seq(app)
    assert gap["snapshots"] > after["snapshots"]

    # resync (the message queue came back): the board reads its snapshot again, with a change it missed.
    with monkeypatch.context() as quiet:
        quiet.setattr(events, "flush", lambda: events.discard())
        issue(desk)
    socketio.emit("resync", {"reason": "message_queue"}, to=room)
    _wait_for_seq(board, _seq(app))
    assert _shown(board)["snapshots"] > gap["snapshots"]
    assert not board.errors, board.errors


def _snapshots_reach(page, count: int) -> None:
    page.wait_for_function(f"() => Number(document.body.dataset.snapshots || 0) >= {count}")


def test_the_counter_page_and_the_supervisor_view_read_their_snapshot_again_on_resync(
    app,
    new_page,  # noqa: F811
    station_id,
    demo_post,
):
    supervisor = new_page(COUNTER_PC)
    log_in(supervisor, "supervisor-1")
    supervisor.goto("/live/supervisor")
    supervisor.wait_for_selector("body[data-live=yes]", state="attached")
    _snapshots_reach(supervisor, 1)  # read on connection

    officer = new_page(COUNTER_PC)
    log_in(officer, "rw-immigration-1")
    take_seat(officer, "Counter 1")
    officer.wait_for_selector("body[data-live=yes]", state="attached")
    _snapshots_reach(officer, 1)
    seen = {
        name: page.evaluate("Number(document.body.dataset.snapshots)")
        for name, page in (("supervisor", supervisor), ("officer", officer))
    }

    socketio.emit("resync", {"reason": "message_queue"}, to=events.post_room(demo_post))
    _snapshots_reach(supervisor, seen["supervisor"] + 1)
    _snapshots_reach(officer, seen["officer"] + 1)
    assert supervisor.evaluate("Number(document.body.dataset.liveSeq)") == _seq(app)
    assert officer.evaluate("Number(document.body.dataset.liveSeq)") == _seq(app)
