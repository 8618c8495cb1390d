"""Queues: priority with ageing, recall, no-show, transfer, pause/open/close, start/finish, kiosk issue, the QR code.

Through the public API (bearer tokens) and the officer pages, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
import segno
from sqlalchemy import select

from osbp import events
from osbp.audit.models import AuditEvent
from osbp.auth.models import User
from osbp.errors import Forbidden, Invalid
from osbp.extensions import db
from osbp.post.models import Post
from osbp.queues import operations as queues
from osbp.queues.models import Ticket
from osbp.queues.qr import ticket_qr, ticket_qr_data_uri
from tests.clock import patch_utcnow

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


# --- helpers -------------------------------------------------------------------------------------------------------


def _issue(client, direction="RW-CD", category="traveller", **extra):
    response = client.post("/api/v1/tickets", json={"direction": direction, "category": category, **extra})
    assert response.status_code == 201, response.json
    return response.json["code"]


def _seat(client, station):
    assert client.post(f"/api/v1/stations/{station}/seat").status_code == 200
    return client


def _call(client, station, expect=200):
    response = client.post(f"/api/v1/stations/{station}/call-next")
    assert response.status_code == expect, response.get_json()
    return response.json["ticket"]["code"] if expect == 200 else response.get_json()


def _rooms(post_id, station_id, code) -> set[str]:
    """Where a ticket's station action goes: staff, boards, the station, the kiosk following it, supervisors."""
    return {
        f"post:{post_id}",
        f"board:{post_id}",
        f"station:{station_id}",
        f"ticket:{post_id}:{code}",
        f"supervisor:{post_id}",
    }


def _post(client, path, json=None, expect=200):
    response = client.post(path, json=json)
    assert response.status_code == expect, (path, response.get_json())
    return response.get_json()


def _error(client, path, json=None, *, status, code):
    body = _post(client, path, json, expect=status)
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body


def _audits(app, action):
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        found = [(e.username, e.outcome, e.detail) for e in rows]
        db.session.remove()
    return found


def _step_event_kinds(app, code) -> list[str]:
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.code == code))
        kinds = [e.kind for e in ticket.crossing.steps[0].events]  # the timeline of the first step
        db.session.remove()
    return kinds


class Clock:
    """A settable utcnow() for the workflow and queue operations."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(T0)
    patch_utcnow(monkeypatch, fake)
    return fake


@pytest.fixture
def configure(app, monkeypatch):
    """configure(max_recalls=1, …): change the running app's queue settings for one test."""

    def _configure(**changes):
        monkeypatch.setitem(app.config, "OSBP", app.config["OSBP"].replace(**changes))

    return _configure


@pytest.fixture
def emitted(monkeypatch):
    """Every event that left the process after a commit: (type, data, rooms)."""
    sent: list[tuple[str, dict, tuple]] = []
    flush = events.flush

    def recording_flush():
        pending = flush()
        sent.extend(pending)
        return pending

    monkeypatch.setattr(events, "flush", recording_flush)
    return sent


# --- priority with ageing ------------------------------------------------------------------------------------------


def test_priority_ticket_jumps_ahead(api, station_id, clock):
    desk = api("supervisor-1")
    c1 = station_id("C1")
    normal = _issue(desk)
    clock.now += timedelta(minutes=5)
    urgent = _issue(desk, priority="elderly")
    pair = _joint(api, c1)
    assert _call(pair[0], c1) == urgent
    assert desk.get(f"/api/v1/tickets/{urgent}").json["ticket"]["priority"] == "elderly"
    _serve(pair, c1)
    assert _call(pair[0], c1) == normal


def test_normal_ticket_that_waited_longer_than_the_boost_still_goes_first(api, station_id, clock, configure):
    configure(priority_boost_minutes=15, priority_boosts={"pregnant": 30})
    desk = api("supervisor-1")
    c1 = station_id("C1")
    early = _issue(desk)  # T0
    clock.now = T0 + timedelta(minutes=16)
    elderly = _issue(desk, priority="elderly")  # ranked at T0 + 1 min: after `early`
    clock.now = T0 + timedelta(minutes=20)
    pregnant = _issue(desk, priority="pregnant")  # its own boost, 30 min: ranked at T0 - 10 min
    clock.now = T0 + timedelta(minutes=21)
    late = _issue(desk)  # T0 + 21 min: behind the elderly ticket (T0 + 1 min)
    pair = _joint(api, c1)
    assert [_call_and_serve(pair, c1) for _ in range(4)] == [pregnant, early, elderly, late]


def test_officer_flags_priority_with_a_reason_and_the_ticket_moves_up(app, api, station_id, clock, emitted):
    desk = api("supervisor-1")
    c1 = station_id("C1")
    first = _issue(desk)
    clock.now += timedelta(minutes=3)
    second = _issue(desk)
    path = f"/api/v1/tickets/{second}/priority"
    _error(desk, path, {"priority": "pregnant"}, status=422, code="reason_required")
    _error(desk, path, {"priority": "vip", "reason": "x"}, status=422, code="invalid_priority")
    _error(desk, path, {"reason": "no field"}, status=422, code="invalid_field")
    _error(desk, path, {"priority": "pregnant", "reason": "x" * 501}, status=422, code="reason_too_long")
    body = _post(desk, path, {"priority": "pregnant", "reason": "Seen in the hall, 8 months"})
    assert body["ticket"]["priority"] == "pregnant"
    assert body["wait"]["position"] == 1
    assert _audits(app, "ticket.priority")[-1] == (
        "supervisor-1",
        "ok",
        {"priority": "pregnant", "before": None, "reason": "Seen in the hall, 8 months"},
    )
    assert "priority" in _step_event_kinds(app, second)
    event = next(e for e in emitted if e[0] == "ticket.priority")
    assert not any(room.startswith(("board:", "ticket:")) for room in event[2])  # staff rooms only

    # An officer may flag only the ticket called at their own counter.
    rw = _seat(api("rw-immigration-1"), c1)
    _error(
        rw,
        f"/api/v1/tickets/{first}/priority",
        {"priority": "elderly", "reason": "r"},
        status=403,
        code="not_your_ticket",
    )
    assert _call(rw, c1) == second
    flagged = _post(rw, f"/api/v1/tickets/{second}/priority", {"priority": None, "reason": "Mistaken"})
    assert flagged["ticket"]["priority"] is None
    assert [d["code"] for _, outcome, d in _audits(app, "authorization.denied") if outcome == "denied"] == [
        "not_your_ticket"
    ]


# --- recall, no-show ---------------------------------------------------------------------------------------------


def test_recall_chimes_again_up_to_the_limit_then_no_show_requeues_at_the_end(app, api, station_id, emitted, demo_post):
    desk = api("supervisor-1")
    c1 = station_id("C1")
    absent = _issue(desk)
    others = [_issue(desk), _issue(desk)]
    pair = _joint(api, c1)
    rw = pair[0]
    assert _call(rw, c1) == absent
    _error(rw, f"/api/v1/stations/{c1}/no-show", status=409, code="recalls_needed")
    for n in (1, 2, 3):
        assert _post(rw, f"/api/v1/stations/{c1}/recall")["ticket"]["recalls"] == n
    _error(rw, f"/api/v1/stations/{c1}/recall", status=409, code="recall_limit")

    recalled = [e for e in emitted if e[0] == "ticket.recalled"]
    assert len(recalled) == 3
    _type, data, rooms = recalled[0]
    assert data == {"code": absent, "station": "Counter 1", "station_id": c1, "recalls": 1}
    assert set(rooms) == _rooms(demo_post, c1, absent)

    body = _post(rw, f"/api/v1/stations/{c1}/no-show")
    assert body["ticket"]["status"] == "waiting"
    assert body["ticket"]["recalls"] == 0
    assert _step_event_kinds(app, absent).count("recalled") == 3
    assert "no_show" in _step_event_kinds(app, absent)
    assert _audits(app, "ticket.no_show")[0][2]["policy"] == "requeue"
    # Back to the END of the line: the two who came later go first.
    assert [_call_and_serve(pair, c1) for _ in range(3)] == [*others, absent]


def test_no_show_policy_cancel_ends_the_crossing_clearly(app, api, station_id, configure):
    configure(max_recalls=1, no_show_policy="cancel")
    desk = api("supervisor-1")
    c1 = station_id("C1")
    code = _issue(desk)
    rw = _seat(api("rw-immigration-1"), c1)
    _call(rw, c1)
    _post(rw, f"/api/v1/stations/{c1}/recall")
    body = _post(rw, f"/api/v1/stations/{c1}/no-show")
    assert body["ticket"]["status"] == "cancelled"
    crossing = desk.get(f"/api/v1/crossings/{body['ticket']['crossing_id']}").json
    assert crossing["status"] == "no_show"
    assert crossing["ended_at"] is not None
    assert {s["status"] for s in crossing["steps"]} == {"cancelled"}
    assert _call(rw, c1, expect=204) is None  # the counter is free and nobody waits
    assert desk.get(f"/api/v1/tickets/{code}").json["wait"] == {
        "position": 0,
        "wait_seconds": 0,
        "station_ids": [],
        "servers": 0,
        "unstaffed": False,
    }


def test_a_no_show_after_the_exit_was_cleared_needs_readmission(app, api, login, station_id, configure):
    # The person left Rwanda (exit cleared) and never came to DR Congo's entry: the exit country must re-admit them.
    configure(max_recalls=0, no_show_policy="cancel")
    desk = api("supervisor-1")
    c1 = station_id("C1")
    _issue(desk)
    rw = _seat(api("rw-immigration-1"), c1)
    _seat(api("cd-immigration-1"), c1)
    called = rw.post(f"/api/v1/stations/{c1}/call-next").json
    exit_step = called["steps_here"][0]
    assert exit_step["kind"]["agency"] == "RW-IMM"
    _identity(rw, exit_step["id"])
    _post(rw, f"/api/v1/steps/{exit_step['id']}/decision", {"outcome": "cleared"})
    page = _form(login("cd-immigration-1"), f"/counters/{c1}/no-show")
    assert "did not come: the ticket is cancelled." in page
    assert "The exit country must re-admit this person." in page
    crossing = desk.get(f"/api/v1/crossings/{called['ticket']['crossing_id']}").json
    assert crossing["status"] == "no_show"
    assert crossing["readmission_required"] is True


def test_a_no_show_before_any_exit_needs_no_readmission(app, api, station_id, configure):
    configure(max_recalls=0, no_show_policy="cancel")
    desk = api("supervisor-1")
    c1 = station_id("C1")
    _issue(desk)
    rw = _seat(api("rw-immigration-1"), c1)
    _call(rw, c1)
    body = _post(rw, f"/api/v1/stations/{c1}/no-show")
    crossing = desk.get(f"/api/v1/crossings/{body['ticket']['crossing_id']}").json
    assert crossing["status"] == "no_show"
    assert crossing["readmission_required"] is False


def test_no_recall_or_no_show_once_the_service_started(api, station_id):
    desk = api("supervisor-1")
    c1 = station_id("C1")
    code = _issue(desk)
    rw = _seat(api("rw-immigration-1"), c1)
    _call(rw, c1)
    started = _post(rw, f"/api/v1/stations/{c1}/start")
    assert started["step"]["status"] == "in_progress"
    assert started["ticket"]["code"] == code
    _error(rw, f"/api/v1/stations/{c1}/recall", status=409, code="service_started")
    _error(rw, f"/api/v1/stations/{c1}/no-show", status=409, code="service_started")


# --- transfer ----------------------------------------------------------------------------------------------------


def test_transfer_keeps_the_code_and_the_place_and_waits_for_that_station_only(app, api, station_id, emitted):
    desk = api("supervisor-1")
    c1, c2, c3 = station_id("C1"), station_id("C2"), station_id("C3")
    moved = _issue(desk)
    later = _issue(desk)
    rw1 = _seat(api("rw-immigration-1"), c1)
    rw2 = _seat(api("rw-immigration-2"), c2)
    assert _call(rw1, c1) == moved
    _error(rw1, f"/api/v1/stations/{c1}/transfer", {"station_id": c3}, status=422, code="station_not_serving")
    _error(rw1, f"/api/v1/stations/{c1}/transfer", {"station_id": c1}, status=422, code="same_station")
    _error(rw2, f"/api/v1/stations/{c1}/transfer", {"station_id": c2}, status=403, code="not_your_ticket")
    body = _post(rw1, f"/api/v1/stations/{c1}/transfer", {"station_id": c2})
    assert body["ticket"]["code"] == moved
    assert body["ticket"]["status"] == "waiting"
    assert body["ticket"]["target_station_id"] == c2
    assert body["wait"]["station_ids"] == [c2]
    stations = {s["code"]: s for s in desk.get("/api/v1/stations").json["stations"]}
    assert stations["C1"]["queue_length"] == 1 and stations["C2"]["queue_length"] == 2

    assert _call(rw1, c1) == later  # C1 no longer sees the transferred ticket …
    assert _call(rw2, c2) == moved  # … C2 calls it first: it kept its place
    kinds = _step_event_kinds(app, moved)
    assert kinds[:5] == ["queued", "called", "transferred", "queued", "called"]
    event = next(e for e in emitted if e[0] == "ticket.transferred")
    assert event[1]["station_id"] == c2 and {f"station:{c1}", f"station:{c2}"} <= set(event[2])
    assert _audits(app, "ticket.transferred")[0][2]["from_station_id"] == c1


def test_transfer_after_part_of_the_one_stop_goes_on_at_the_next_step(api, station_id):
    desk = api("supervisor-1")
    c1, c2 = station_id("C1"), station_id("C2")
    _issue(desk)
    rw = _seat(api("rw-immigration-1"), c1)
    cd1 = _seat(api("cd-immigration-1"), c1)
    cd2 = _seat(api("cd-immigration-2"), c2)
    called = rw.post(f"/api/v1/stations/{c1}/call-next").json
    exit_step, entry_step = (s["id"] for s in called["steps_here"])
    _identity(rw, exit_step)
    _post(rw, f"/api/v1/steps/{exit_step}/decision", {"outcome": "cleared"})
    _post(cd1, f"/api/v1/stations/{c1}/transfer", {"station_id": c2})
    again = cd2.post(f"/api/v1/stations/{c2}/call-next").json
    assert [s["id"] for s in again["steps_here"]] == [entry_step]
    result = _post(cd2, f"/api/v1/stations/{c2}/finish")
    assert result["step"]["status"] == "cleared"
    assert result["crossing"]["steps"][2]["status"] == "waiting"  # health next


def test_supervisor_moves_a_waiting_ticket_and_officers_cannot(app, api, station_id):
    desk = api("supervisor-1")
    c1, c2, c4 = station_id("C1"), station_id("C2"), station_id("C4")
    first = _issue(desk)
    second = _issue(desk)
    rw = _seat(api("rw-immigration-1"), c1)
    _error(rw, f"/api/v1/tickets/{second}/transfer", {"station_id": c2}, status=403, code="not_your_ticket")
    body = _post(desk, f"/api/v1/tickets/{second}/transfer", {"station_id": c2})
    assert body["ticket"]["target_station_id"] == c2
    _error(desk, f"/api/v1/tickets/{first}/transfer", {"station_id": c4}, status=422, code="station_not_serving")
    _error(desk, f"/api/v1/tickets/{first}/transfer", {"station_id": "C2"}, status=422, code="invalid_field")
    _error(desk, f"/api/v1/tickets/{first}/transfer", {}, status=422, code="invalid_field")
    _error(desk, f"/api/v1/tickets/{first}/transfer", {"station_id": 999999}, status=404, code="station_not_found")
    _error(desk, "/api/v1/tickets/T-999/transfer", {"station_id": c2}, status=404, code="ticket_not_found")
    assert _call(rw, c1) == first
    _call(rw, c1, expect=409)  # busy with `first`; `second` waits for C2 only
    assert "transferred" in _step_event_kinds(app, second)


# --- pause, open, close -----------------------------------------------------------------------------------------


def test_pause_stops_calls_and_open_resumes(app, api, station_id, emitted):
    desk = api("supervisor-1")
    c1, c2 = station_id("C1"), station_id("C2")
    _issue(desk)
    rw = _seat(api("rw-immigration-1"), c1)
    other = _seat(api("rw-immigration-2"), c2)
    _error(other, f"/api/v1/stations/{c1}/pause", status=403, code="not_allowed")
    assert _post(rw, f"/api/v1/stations/{c1}/pause")["state"] == "paused"
    assert _post(rw, f"/api/v1/stations/{c1}/pause")["state"] == "paused"  # idempotent
    _error(rw, f"/api/v1/stations/{c1}/call-next", status=409, code="station_paused")
    assert _post(rw, f"/api/v1/stations/{c1}/open")["state"] == "open"
    _call(rw, c1)
    changes = [e[1]["status"] for e in emitted if e[0] == "station.changed"]
    assert changes == ["paused", "open"]
    assert [d["code"] for u, _o, d in _audits(app, "authorization.denied")] == ["not_allowed"]
    assert [d["state"] for _u, _o, d in _audits(app, "station.paused")] == ["paused"]


def test_close_returns_the_called_ticket_first_in_line_and_releases_transfers(app, api, station_id):
    desk = api("supervisor-1")
    c1, c2 = station_id("C1"), station_id("C2")
    first, second, third = _issue(desk), _issue(desk), _issue(desk)
    rw1 = _seat(api("rw-immigration-1"), c1)
    at_c2 = _joint(api, c2, "rw-immigration-2", "cd-immigration-2")
    assert _call(rw1, c1) == first
    _post(desk, f"/api/v1/tickets/{third}/transfer", {"station_id": c1})
    closed = _post(desk, f"/api/v1/stations/{c1}/close")
    assert closed == {
        "id": c1,
        "code": "C1",
        "name": "Counter 1",
        "state": "closed",
        "open": False,
        "returned": first,
        "released": [third],
    }
    _error(rw1, f"/api/v1/stations/{c1}/call-next", status=409, code="station_closed")
    _error(desk, f"/api/v1/tickets/{second}/transfer", {"station_id": c1}, status=409, code="station_closed")
    assert _post(desk, f"/api/v1/stations/{c1}/close")["returned"] is None  # already closed: nothing happens
    assert [_call_and_serve(at_c2, c2) for _ in range(3)] == [first, second, third]
    assert _post(desk, f"/api/v1/stations/{c1}/open")["state"] == "open"
    assert "returned" in _step_event_kinds(app, first)


def test_closing_a_station_in_service_is_refused(api, station_id):
    desk = api("supervisor-1")
    c1 = station_id("C1")
    _issue(desk)
    rw = _seat(api("rw-immigration-1"), c1)
    _call(rw, c1)
    _post(rw, f"/api/v1/stations/{c1}/start")
    _error(desk, f"/api/v1/stations/{c1}/close", status=409, code="station_busy")
    stations = {s["code"]: s for s in desk.get("/api/v1/stations").json["stations"]}
    assert stations["C1"]["state"] == "open"  # nothing half-done


# --- start / finish, roles, bad input ----------------------------------------------------------------------------


def test_start_and_finish_service_are_timestamped_and_audited(app, api, station_id):
    desk = api("supervisor-1")
    c1 = station_id("C1")
    code = _issue(desk, "CD-RW")
    cd = _seat(api("cd-immigration-1"), c1)
    rw = _seat(api("rw-immigration-1"), c1)
    called = cd.post(f"/api/v1/stations/{c1}/call-next").json
    _error(rw, f"/api/v1/stations/{c1}/start", status=409, code="step_out_of_order")  # CD exit comes first
    step = _post(cd, f"/api/v1/stations/{c1}/start")["step"]
    assert step["started_at"] and step["started_by"]
    _identity(cd, called["steps_here"][0]["id"])
    _error(cd, f"/api/v1/stations/{c1}/finish", {"outcome": "maybe"}, status=422, code="invalid_outcome")
    _error(cd, f"/api/v1/stations/{c1}/finish", {"outcome": 7}, status=422, code="invalid_field")
    _error(cd, f"/api/v1/stations/{c1}/finish", {"outcome": "refused"}, status=422, code="reason_required")
    done = _post(cd, f"/api/v1/stations/{c1}/finish", {"outcome": "cleared"})
    assert done["step"]["status"] == "cleared"
    assert [e["kind"] for e in done["step"]["events"]] == ["queued", "called", "started", "cleared"]
    assert _audits(app, "step.started")[0][0] == "cd-immigration-1"
    assert _post(rw, f"/api/v1/stations/{c1}/finish", {"outcome": "cleared"})["crossing"]["ticket"] == code


def test_wrong_role_post_or_agency_is_a_403_and_audited(app, api, station_id):
    desk = api("supervisor-1")
    c1, c3 = station_id("C1"), station_id("C3")
    _issue(desk)
    for path in ("recall", "no-show", "start", "finish"):  # officers' actions: the role matrix refuses supervisors
        _error(desk, f"/api/v1/stations/{c1}/{path}", status=403, code="role_not_allowed")
    health = _seat(api("rw-health-1"), c3)
    _error(health, f"/api/v1/stations/{c1}/recall", status=403, code="not_seated_here")
    _error(health, f"/api/v1/stations/{c1}/close", status=403, code="not_allowed")
    with app.app_context():
        other = Post(code="OTHER", name_a="A", name_b="B", country_a="RW", country_b="UG")
        db.session.add(other)
        db.session.flush()
        ticket = db.session.scalar(select(Ticket))
        station = queues.get_station(c1, ticket.post_id)
        stranger = User(post_id=other.id, username="x", full_name="x", password_hash="x", role="supervisor")
        db.session.add(stranger)
        db.session.flush()
        for attempt in (
            lambda: queues.close_station(station, stranger),
            lambda: queues.transfer(ticket, station, stranger),
            lambda: queues.set_priority(ticket, stranger, "elderly", "r"),
        ):
            with pytest.raises(Forbidden) as denied:
                attempt()
            assert denied.value.code == "wrong_post"
        db.session.rollback()
        db.session.remove()
    denied = [d["code"] for _u, outcome, d in _audits(app, "authorization.denied")]
    assert denied == ["role_not_allowed"] * 4 + ["not_seated_here", "not_allowed"]


def test_bad_input_is_a_json_4xx_never_500(api, station_id):
    desk, officer = api("supervisor-1"), api("rw-immigration-1")
    c1 = station_id("C1")
    code = _issue(desk)
    cases = [
        (desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader", "priority": "vip"}), 422),
        (desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader", "priority": 3}), 422),
        (desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader", "channel": "fax"}), 422),
        (desk.post(f"/api/v1/tickets/{code}/priority", data="x", content_type="application/json"), 400),
        (desk.post(f"/api/v1/tickets/{code}/transfer", json=[c1]), 400),
        (desk.post(f"/api/v1/tickets/{code}/transfer", json={"station_id": True}), 422),
        (desk.post(f"/api/v1/tickets/{code}/transfer", json={"station_id": -1}), 422),
        (desk.post(f"/api/v1/stations/{c1}/transfer", json={"station_id": c1}), 409),  # nobody called
        (officer.post(f"/api/v1/stations/{c1}/finish", data="x", content_type="application/json"), 400),
        (desk.get("/api/v1/tickets/nonsense-code-that-is-long"), 404),
        (desk.post("/api/v1/stations/999999/pause"), 404),
        (desk.get(f"/api/v1/stations/{c1}/recall"), 405),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.path, response.get_json())
        assert response.json["error"]["code"] and response.json["error"]["message"]


def test_openapi_documents_every_endpoint_of_the_api_controllers(app, client):
    document = client.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if view.__module__ != "osbp.api.controllers" or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is missing from the OpenAPI document"


# --- issue: kiosk channel, desk form, QR code ------------------------------------------------------------------------


def test_kiosk_issues_without_a_user(app):
    with app.app_context():
        post = db.session.scalar(select(Post))
        ticket = queues.issue_ticket(post, "RW-CD", "trader", issued_by=None, channel="kiosk", priority=None)
        assert (ticket.code, ticket.channel, ticket.issued_by_id, ticket.status) == ("T-001", "kiosk", None, "waiting")
        advance = queues.issue_ticket(post, "CD-RW", "driver", channel="advance", priority="with_infant")
        assert (advance.code, advance.channel, advance.priority) == ("D-001", "advance", "with_infant")
        assert advance.rank_at == advance.queued_at - timedelta(minutes=15)
        with pytest.raises(Invalid):
            queues.issue_ticket(post, "RW-CD", "trader", channel="phone")
        db.session.commit()  # audit rows join the hash chain at the commit (osbp/audit/chain.py)
        audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.issued"))
        assert (audit.user_id, audit.detail["channel"]) == (None, "kiosk")
        db.session.rollback()
        events.discard()
        db.session.remove()


def test_qr_code_opens_the_tickets_phone_page(app, login):
    """The QR holds the address of the ticket's public page: its code, the post and the service day, nothing else."""
    desk = login("supervisor-1")
    page = desk.post(
        "/desk/tickets",
        data={"direction": "RW-CD", "category": "trader", "priority": "disabled", "csrf_token": desk.csrf},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Ticket T-001 issued." in page
    assert "Priority: Person with a disability" in page
    assert "Place in line: 1" in page
    src = re.search(r'<img class="ticket-qr" src="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert src.startswith("data:image/svg+xml")
    with app.test_request_context():  # the test client's host, as the desk's page used it
        post = db.session.scalar(select(Post))
        day = queues.service_date(post)
        assert src == ticket_qr_data_uri("T-001", post_code=post.code, day=day)
        url = f"http://localhost/t/T-001?post={post.code}&day={day.isoformat()}"
        qr = ticket_qr("T-001", post_code=post.code, day=day)
        assert qr.matrix == segno.make(url, micro=False, error="m", boost_error=True).matrix
        svg = urllib.parse.unquote(src)
        assert "<title" not in svg and "T-001" not in svg  # not even the code as text
        for refused in ("Anna Maria Eriksson", "T-001 L898902C3", "", None):
            with pytest.raises(ValueError):
                ticket_qr(refused)
        with pytest.raises(ValueError):
            ticket_qr("T-001", post_code="Anna Maria Eriksson")
        db.session.remove()


# --- pages ------------------------------------------------------------------------------------------------------


def _form(client, path, **data):
    data["csrf_token"] = client.csrf
    return client.post(path, data=data, follow_redirects=True).get_data(as_text=True)


def test_counter_page_buttons(app, login, station_id):
    desk = login("supervisor-1")
    _form(desk, "/desk/tickets", direction="RW-CD", category="traveller")
    _form(desk, "/desk/tickets", direction="RW-CD", category="traveller")
    c1, c2 = station_id("C1"), station_id("C2")
    rw = login("rw-immigration-1")
    _form(rw, f"/counters/{c1}/seat")
    page = _form(rw, f"/counters/{c1}/call-next")
    for label in ("Recall (0 of 3)", "No-show: back to the queue", "Transfer to", "Record priority", "Pause"):
        assert label in page, label
    assert 'id="start-service"' not in page  # saving the identity starts the step (tests/test_counter_live.py)
    assert "P-001 recalled (1 of 3)." in _form(rw, f"/counters/{c1}/recall")
    page = _form(rw, "/tickets/P-001/priority", priority="elderly", reason="Walks with a cane", back=f"/counters/{c1}")
    assert "Priority recorded for P-001." in page and "Priority: Elderly person" in page
    page = _form(rw, "/tickets/P-001/priority", priority="elderly", reason="", back=f"/counters/{c1}")
    assert "Give a reason for the priority." in page
    page = _form(rw, f"/counters/{c1}/transfer", station_id=str(c2))
    assert "P-001 transferred to Counter 2." in page
    page = _form(rw, f"/counters/{c1}/transfer", station_id="nope")
    assert "Choose a station." in page
    page = _form(rw, f"/stations/{c1}/pause", back=f"/counters/{c1}")
    assert "Counter 1 is paused." in page and "Resume" in page and 'id="call-next"' not in page
    page = _form(rw, f"/stations/{c1}/open", back=f"/counters/{c1}")
    assert "Counter 1 is open." in page and 'id="call-next"' in page
    page = _form(rw, f"/counters/{c1}/call-next")
    assert "P-002" in page
    page = _form(rw, f"/counters/{c1}/start")
    assert 'id="recall"' not in page  # in service: no recall, no no-show


def test_stations_page_lets_supervisors_open_close_and_move(app, login, station_id):
    desk = login("supervisor-1")
    _form(desk, "/desk/tickets", direction="RW-CD", category="traveller")
    c1, c2 = station_id("C1"), station_id("C2")
    page = desk.get("/stations").get_data(as_text=True)
    assert "Move a ticket" in page and "Estimated wait" in page
    page = _form(desk, f"/stations/{c1}/close", back="/stations")
    assert "Counter 1 is closed." in page
    page = _form(desk, "/tickets/transfer", code="p-001", station_id=str(c2), back="/stations")
    assert "P-001 transferred to Counter 2." in page
    page = _form(desk, "/tickets/transfer", code="P-001", station_id=str(c1), back="/stations")
    assert "Counter 1 is closed." in page
    officer = login("rw-immigration-1")
    page = officer.get("/stations").get_data(as_text=True)
    assert "Move a ticket" not in page


# --- helpers that need the API ---------------------------------------------------------------------------------


def _identity(client, step_id):
    _post(
        client,
        f"/api/v1/steps/{step_id}/identity",
        {
            "holder_name": "Anna Maria Eriksson",
            "nationality": "RWA",
            "document_type": "passport",
            "document_number": "L898902C3",
            "birth_date": "1974-08-12",
        },
    )


def _joint(api, station, rw="rw-immigration-1", cd="cd-immigration-1"):
    """Both immigrations seated at a joint counter: (rw client, cd client)."""
    return _seat(api(rw), station), _seat(api(cd), station)


def _serve(pair, station):
    """Clear both immigration steps of the ticket called at the joint counter, freeing it (RW→CD tickets)."""
    rw, cd = pair
    step_id = _post(rw, f"/api/v1/stations/{station}/start")["step"]["id"]
    _identity(rw, step_id)
    _post(rw, f"/api/v1/stations/{station}/finish")
    _post(cd, f"/api/v1/stations/{station}/finish")


def _call_and_serve(pair, station) -> str:
    code = _call(pair[0], station)
    _serve(pair, station)
    return code


# --- leaving the last seat; the ticket's channel (issue 10) ---------------------------------------------------------


def _ticket_row(app, code):
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.code == code))
        row = (ticket.status, ticket.station_id, ticket.channel)
        db.session.remove()
    return row


def _leave(session):
    response = session.post("/counters/leave", data={"csrf_token": session.csrf})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def test_the_last_officer_leaving_returns_the_called_ticket_first_in_line(app, api, login, station_id, emitted):
    desk = api("supervisor-1")
    c1, c2 = station_id("C1"), station_id("C2")
    first, second = _issue(desk), _issue(desk)
    rw, cd = login("rw-immigration-1"), login("cd-immigration-1")
    for officer in (rw, cd):
        assert officer.post(f"/counters/{c1}/seat", data={"csrf_token": officer.csrf}).status_code == 302
    assert rw.post(f"/counters/{c1}/call-next", data={"csrf_token": rw.csrf}).status_code == 302
    _leave(rw)
    assert _ticket_row(app, first)[:2] == ("called", c1)  # the CD officer still serves it
    emitted.clear()
    left = _leave(cd)  # the last one seated at Counter 1
    assert "went back to its queue, first in line" in cd.get(left.location).get_data(as_text=True)
    assert _ticket_row(app, first)[:2] == ("waiting", None)
    [(user, outcome, detail)] = _audits(app, "ticket.returned")
    assert (user, outcome, detail["code"], detail["reason"]) == ("cd-immigration-1", "ok", first, "last_officer_left")
    returned = [(data, set(rooms)) for kind, data, rooms in emitted if kind == "ticket.returned"]
    assert returned == [
        (
            {"code": first, "station": "Counter 1", "station_id": c1, "status": "waiting"},
            _rooms(_post_id(app), c1, first),
        )
    ]
    assert "station.seats_changed" in [kind for kind, _data, _rooms in emitted]
    assert "returned" in _step_event_kinds(app, first)
    at_c2 = _joint(api, c2, "rw-immigration-2", "cd-immigration-2")
    assert [_call_and_serve(at_c2, c2) for _ in range(2)] == [first, second]  # its place kept: first in line


def _post_id(app):
    with app.app_context():
        post_id = db.session.scalar(select(Post.id))
        db.session.remove()
    return post_id


def test_moving_to_another_counter_returns_the_ticket_but_a_started_service_stays(app, api, station_id):
    desk = api("supervisor-1")
    c1, c2 = station_id("C1"), station_id("C2")
    first = _issue(desk)
    rw = _seat(api("rw-immigration-1"), c1)
    assert _call(rw, c1) == first
    _seat(rw, c2)  # moving leaves Counter 1 empty
    assert _ticket_row(app, first)[:2] == ("waiting", None)
    assert _call(rw, c2) == first
    _post(rw, f"/api/v1/stations/{c2}/start")
    _seat(rw, c1)  # service started at Counter 2: the ticket stays there (a supervisor transfers it or closes)
    assert _ticket_row(app, first)[:2] == ("called", c2)
    assert [d["reason"] for _u, _o, d in _audits(app, "ticket.returned")] == ["last_officer_left"]


def test_the_channel_comes_from_the_account_never_from_the_request(app, api, login):
    officer = api("rw-immigration-1")
    body = {"direction": "RW-CD", "category": "trader"}
    for claimed in ("kiosk", "advance"):
        _error(officer, "/api/v1/tickets", {**body, "channel": claimed}, status=422, code="channel_mismatch")
    session = login("supervisor-1")
    refused = session.post("/api/v1/tickets", json={**body, "channel": "kiosk"}, headers={"X-CSRFToken": session.csrf})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "channel_mismatch"
    with app.app_context():
        assert db.session.scalar(select(Ticket.id)) is None  # nothing issued
        db.session.remove()
    assert _ticket_row(app, _issue(officer))[2] == "desk"
    assert _ticket_row(app, _issue(officer, channel="desk"))[2] == "desk"
    form = session.post("/desk/tickets", data={**body, "channel": "kiosk", "csrf_token": session.csrf})
    assert form.status_code == 302
    with app.app_context():
        channels = db.session.scalars(select(Ticket.channel).order_by(Ticket.id)).all()
        db.session.remove()
    assert channels == ["desk", "desk", "desk"]
    assert {d["channel"] for _u, _o, d in _audits(app, "ticket.issued")} == {"desk"}
