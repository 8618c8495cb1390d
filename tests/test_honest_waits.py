"""Honest waits (issue 9): a queue with no officer seated at any open station serving it has no estimate. The
estimator says so (``wait_seconds`` None, ``unstaffed``), the public status names the counters ("No officer at Counter
3 yet.") instead of minutes, the board's JSON has no minutes for that counter, the supervisors' view raises an
"unstaffed queue" alert — until an officer sits down. Also: the board's last calls know a recall, one line per ticket;
the supervisors' view collapses the empty queues. Browser checks are in tests/test_board_browser.py.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from osbp.extensions import db, socketio
from osbp.queues import estimator
from osbp.queues.models import Ticket
from tests.test_live import PERSONAL, _fresh_limits, call, device_client, events_of, issue, seat, through_counter_one  # noqa: F401


def status_of(app, code="T-001", lang=None) -> dict:
    response = app.test_client().get(f"/api/v1/tickets/{code}/status" + (f"?lang={lang}" if lang else ""))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def board_queue(board, code: str) -> dict:
    return {q["station_code"]: q for q in board.get("/api/v1/board").json["queues"]}[code]


def estimate_of(app, code="T-001") -> dict:
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.code == code))
        answer = estimator.ticket_wait(ticket)
        db.session.remove()
    return answer


def test_an_unstaffed_queue_has_no_minutes_and_names_its_counter_until_an_officer_sits(app, api, station_id):
    through_counter_one(api, station_id)  # T-001 now waits for Counter 3 (CD health): nobody is seated there
    c3 = station_id("C3")
    assert estimate_of(app) == {
        "position": 1,
        "wait_seconds": None,
        "station_ids": [c3],
        "servers": 0,
        "unstaffed": True,
    }
    status = status_of(app)
    assert status["status"] == "waiting" and status["position"] == 1
    assert status["estimated_wait_minutes"] is None
    assert status["unstaffed"] is True
    assert status["unstaffed_message"] == "No officer at Counter 3 yet."
    assert [s["code"] for s in status["stations"]] == ["C3"]
    board = device_client(app, "board")
    assert board_queue(board, "C3") == {
        "station_id": c3,
        "station_code": "C3",
        "open": True,
        "state": "open",
        "waiting": 1,
        "wait_minutes": None,
        "unstaffed": 1,
    }

    seat(api("cd-health-1"), c3)
    answer = estimate_of(app)
    assert answer["unstaffed"] is False and answer["servers"] == 1 and answer["wait_seconds"] == 180  # the default
    status = status_of(app)
    assert status["estimated_wait_minutes"] == 3 and status["unstaffed"] is False
    assert status["unstaffed_message"] is None
    assert board_queue(board, "C3")["wait_minutes"] == 3 and board_queue(board, "C3")["unstaffed"] == 0
    assert not any(value in json.dumps(status) for value in PERSONAL)


def test_an_officer_of_another_agency_does_not_staff_a_queue(app, api, station_id):
    through_counter_one(api, station_id)
    seat(api("rw-health-1"), station_id("C3"))  # Rwanda's health officer: the step is DR Congo's
    assert estimate_of(app)["unstaffed"] is True
    assert status_of(app)["unstaffed_message"] == "No officer at Counter 3 yet."


def test_a_paused_counter_with_its_officer_is_staffed_and_a_closed_one_is_not(app, api, station_id, login):
    through_counter_one(api, station_id)
    c3 = station_id("C3")
    health = api("cd-health-1")
    seat(health, c3)
    assert health.post(f"/api/v1/stations/{c3}/pause").status_code == 200
    paused = estimate_of(app)
    assert paused["unstaffed"] is False and paused["servers"] == 0 and paused["wait_seconds"] == 180  # it will resume
    assert health.post(f"/api/v1/stations/{c3}/close").status_code == 200  # the officer's seat stays, the counter shuts
    closed = estimate_of(app)
    assert closed["unstaffed"] is True and closed["wait_seconds"] is None and closed["station_ids"] == []
    status = status_of(app)
    assert status["message"] == "The counters for your next step are closed for now. Please wait."
    assert status["unstaffed_message"] == "No officer at Counter 3 yet."  # every counter serving the step
    assert status["estimated_wait_minutes"] is None


def test_a_joint_counter_line_counts_who_has_no_officer(app, api, station_id):
    """Counter 1 serves both directions' immigration. With only Rwanda's officer seated, the RW→CD trader has an
    estimate, the CD→RW one has none: the counter's line says 2 waiting, 1 of them unstaffed, and the minutes of the
    other (the board shows both)."""
    desk, rw = api("supervisor-1"), api("rw-immigration-1")
    c1 = station_id("C1")
    seat(rw, c1)
    issue(desk, direction="RW-CD")  # T-001: RW immigration exit, staffed
    issue(desk, direction="CD-RW")  # T-002: CD immigration exit, nobody
    assert estimate_of(app, "T-001")["unstaffed"] is False
    assert estimate_of(app, "T-002")["unstaffed"] is True
    line = board_queue(device_client(app, "board"), "C1")
    assert line["waiting"] == 2 and line["unstaffed"] == 1 and line["wait_minutes"] >= 1
    assert status_of(app, "T-002")["unstaffed_message"] == "No officer at Counter 1 / Counter 2 yet."


def test_the_supervisors_view_raises_an_unstaffed_queue_alert(app, api, station_id, login):
    through_counter_one(api, station_id)
    supervisor = login("supervisor-1")
    panel = supervisor.get("/live/supervisor/panel").get_data(as_text=True)
    assert 'role="alert"' in panel
    assert "CD Health — screening: 1 waiting and no officer at Counter 3." in panel
    assert "No officer yet" in panel  # in the queue's and the station's estimated wait, instead of minutes
    seat(api("cd-health-1"), station_id("C3"))
    panel = supervisor.get("/live/supervisor/panel").get_data(as_text=True)
    assert "no officer at" not in panel and 'role="alert"' not in panel
    assert "No officer yet" not in panel


def test_the_supervisors_view_lists_busy_queues_and_collapses_the_empty_ones(app, api, station_id, login):
    through_counter_one(api, station_id)
    html = login("supervisor-1").get("/live/supervisor").get_data(as_text=True)
    queues_table = html.split('<table class="live-queues">', 1)[1].split("</table>", 1)[0]
    assert "CD Health — screening" in queues_table
    assert "RW Immigration — exit" not in queues_table  # nobody waits there
    collapsed = html.split('<details class="empty-queues"', 1)[1].split("</details>", 1)[0]
    assert "9 queues with nobody waiting" in collapsed
    assert "RW Immigration — exit" in collapsed and "CD Health — screening" not in collapsed
    # the alerts and the stations come before the queues
    assert html.index('id="alerts"') < html.index('class="live-stations"') < html.index('class="live-queues"')


def test_the_board_knows_a_recall_and_shows_each_ticket_once(app, api, station_id):
    desk, rw = api("supervisor-1"), api("rw-immigration-1")
    issue(desk)
    c1 = station_id("C1")
    seat(rw, c1)
    call(rw, c1)
    board = device_client(app, "board")
    assert board.get("/api/v1/board").json["calls"][0]["recall"] is False
    assert rw.post(f"/api/v1/stations/{c1}/recall").status_code == 200
    calls = board.get("/api/v1/board").json["calls"]
    assert calls == [{"code": "T-001", "station_id": c1, "station_code": "C1", "station": "Counter 1", "recall": True}]


def test_seating_and_leaving_tell_boards_and_supervisors(app, api, station_id, login):
    board = socketio.test_client(app, flask_test_client=device_client(app, "board"))
    supervisor = socketio.test_client(app, flask_test_client=login("supervisor-1"))
    c3 = station_id("C3")
    health = api("cd-health-1")
    seat(health, c3)
    expected = {"type": "station.seats_changed", "data": {"station": "Counter 3", "station_id": c3}}
    assert events_of(board) == [expected]
    assert expected in events_of(supervisor)
    officer = login("cd-health-1")
    assert officer.post("/counters/leave", data={"csrf_token": officer.csrf}).status_code == 302
    assert events_of(board) == [expected]  # the line at Counter 3 has no officer again
    board.disconnect()
    supervisor.disconnect()


def test_the_openapi_document_describes_the_unstaffed_fields(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    status = schemas["TicketStatus"]["properties"]
    assert status["unstaffed"]["type"] == "boolean"
    assert status["unstaffed_message"]["nullable"] is True
    assert status["estimated_wait_minutes"]["nullable"] is True
    queue = schemas["BoardState"]["properties"]["queues"]["items"]["properties"]
    assert queue["unstaffed"]["type"] == "integer" and queue["wait_minutes"]["nullable"] is True
    assert schemas["BoardState"]["properties"]["calls"]["items"]["properties"]["recall"]["type"] == "boolean"
    assert schemas["Wait"]["properties"]["unstaffed"]["type"] == "boolean"
    assert schemas["Wait"]["properties"]["wait_seconds"]["nullable"] is True
