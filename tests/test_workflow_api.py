"""The sequenced joint workflow through the public API: the one stop, referral, refusal, gate pass."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from osbp.audit.models import AuditEvent
from osbp.extensions import db


def _seat(client, station):
    response = client.post(f"/api/v1/stations/{station}/seat")
    assert response.status_code == 200, response.json
    return client


def _identity(client, step_id):
    response = client.post(
        f"/api/v1/steps/{step_id}/identity",
        json={
            "holder_name": "Anna Maria Eriksson",
            "nationality": "RWA",
            "document_type": "passport",
            "document_number": "L898902C3",
            "birth_date": "1974-08-12",
        },
    )
    assert response.status_code == 200, response.json
    return response.json


def _decide(client, step_id, outcome="cleared", reason=None, expect=200):
    body = {"outcome": outcome}
    if reason is not None:
        body["reason"] = reason
    response = client.post(f"/api/v1/steps/{step_id}/decision", json=body)
    assert response.status_code == expect, response.json
    return response.json


def _issue(client, direction="RW-CD", category="trader"):
    response = client.post("/api/v1/tickets", json={"direction": direction, "category": category})
    assert response.status_code == 201, response.json
    return response.json


def test_trader_rw_to_cd_one_stop_to_gate_pass(api, station_id):
    desk = api("supervisor-1")
    ticket = _issue(desk)
    assert ticket["code"] == "T-001"
    crossing = desk.get(f"/api/v1/crossings/{ticket['crossing_id']}").json
    assert [s["kind"]["code"] for s in crossing["steps"]] == [
        "RW-IMM-EXIT",
        "CD-IMM-ENTRY",
        "CD-HEA-SCREENING",
        "RW-CUS-EXPORT",
        "CD-CUS-IMPORT",
    ]
    assert crossing["steps"][0]["status"] == "waiting"

    c1, c3, c4 = station_id("C1"), station_id("C3"), station_id("C4")
    rw_imm = _seat(api("rw-immigration-1"), c1)
    cd_imm = _seat(api("cd-immigration-1"), c1)
    called = rw_imm.post(f"/api/v1/stations/{c1}/call-next")
    assert called.status_code == 200
    assert called.json["ticket"]["code"] == "T-001"
    here = [s["kind"]["code"] for s in called.json["steps_here"]]
    assert here == ["RW-IMM-EXIT", "CD-IMM-ENTRY"]  # both immigrations at one counter: the one stop
    exit_step, entry_step = (s["id"] for s in called.json["steps_here"])

    _identity(rw_imm, exit_step)
    _decide(rw_imm, exit_step)
    # The CD officer at the same counter decides without any re-queueing.
    result = _decide(cd_imm, entry_step)
    assert result["crossing"]["steps"][2]["status"] == "waiting"
    stations = {s["code"]: s for s in desk.get("/api/v1/stations").json["stations"]}
    assert stations["C3"]["queue_length"] == 1
    assert stations["C1"]["queue_length"] == 0

    cd_health = _seat(api("cd-health-1"), c3)
    called = cd_health.post(f"/api/v1/stations/{c3}/call-next").json
    _decide(cd_health, called["steps_here"][0]["id"])

    rw_cus = _seat(api("rw-customs-1"), c4)
    cd_cus = _seat(api("cd-customs-1"), c4)
    called = cd_cus.post(f"/api/v1/stations/{c4}/call-next").json
    export_step, import_step = (s["id"] for s in called["steps_here"])
    _decide(rw_cus, export_step)
    final = _decide(cd_cus, import_step)["crossing"]

    assert final["status"] == "cleared"
    assert final["gate_pass"]["code"].startswith("GP-")
    steps = final["steps"]
    assert all(s["status"] == "cleared" for s in steps)
    for s in steps:
        stamps = [datetime.fromisoformat(s[k]) for k in ("queued_at", "called_at", "started_at", "decided_at")]
        assert stamps == sorted(stamps), s
        assert s["decided_by"] is not None
        assert [e["kind"] for e in s["events"]][-1] == "cleared"
    assert rw_imm.post(f"/api/v1/stations/{c1}/call-next").status_code == 204


def test_referral_goes_to_secondary_inspection_then_clears(api, station_id):
    desk = api("supervisor-1")
    ticket = _issue(desk, "CD-RW", "traveller")
    assert ticket["code"] == "P-001"
    c1, s1 = station_id("C1"), station_id("S1")
    cd_imm = _seat(api("cd-immigration-1"), c1)
    called = cd_imm.post(f"/api/v1/stations/{c1}/call-next").json
    exit_step = called["steps_here"][0]["id"]
    _decide(cd_imm, exit_step, "referred", expect=422)  # a referral needs a reason
    state = _decide(cd_imm, exit_step, "referred", reason="Document damaged")["crossing"]
    assert state["steps"][0]["status"] == "waiting" and state["steps"][0]["secondary"]
    assert state["steps"][1]["status"] == "pending"
    assert cd_imm.post(f"/api/v1/stations/{c1}/call-next").status_code == 204  # not in the primary queue

    inspector = _seat(api("cd-immigration-2"), s1)
    called = inspector.post(f"/api/v1/stations/{s1}/call-next").json
    assert [s["id"] for s in called["steps_here"]] == [exit_step]
    _decide(inspector, exit_step, "referred", reason="again", expect=422)
    _identity(inspector, exit_step)
    state = _decide(inspector, exit_step)["crossing"]
    assert state["steps"][0]["status"] == "cleared"
    assert state["steps"][1]["status"] == "waiting"
    kinds = [e["kind"] for e in state["steps"][0]["events"]]
    assert kinds == ["queued", "called", "started", "referred", "queued", "called", "started", "cleared"]


def test_refusal_ends_crossing_and_asks_exit_country_to_readmit(api, station_id):
    desk = api("supervisor-1")
    ticket = _issue(desk, "RW-CD", "traveller")
    c1 = station_id("C1")
    rw_imm = _seat(api("rw-immigration-1"), c1)
    cd_imm = _seat(api("cd-immigration-1"), c1)
    exit_step, entry_step = (s["id"] for s in rw_imm.post(f"/api/v1/stations/{c1}/call-next").json["steps_here"])
    _identity(rw_imm, exit_step)
    _decide(rw_imm, exit_step)
    final = _decide(cd_imm, entry_step, "refused", reason="No valid visa")["crossing"]
    assert final["status"] == "refused"
    assert final["refusal_reason"] == "No valid visa"
    assert final["readmission_required"] is True
    assert final["steps"][2]["status"] == "cancelled"
    assert final["gate_pass"] is None
    assert final["ticket"] == ticket["code"]
    # The counter is free again.
    assert rw_imm.post(f"/api/v1/stations/{c1}/call-next").status_code == 204


def test_other_agency_cannot_decide_and_is_audited(app, api, station_id):
    desk = api("supervisor-1")
    _issue(desk)
    c1 = station_id("C1")
    rw_imm = _seat(api("rw-immigration-1"), c1)
    cd_imm = _seat(api("cd-immigration-1"), c1)
    exit_step, entry_step = (s["id"] for s in rw_imm.post(f"/api/v1/stations/{c1}/call-next").json["steps_here"])

    wrong = cd_imm.post(f"/api/v1/steps/{exit_step}/decision", json={"outcome": "cleared"})
    assert wrong.status_code == 403
    assert wrong.json["error"]["code"] == "wrong_agency"
    early = cd_imm.post(f"/api/v1/steps/{entry_step}/decision", json={"outcome": "cleared"})
    assert early.status_code == 409
    assert early.json["error"]["code"] == "step_out_of_order"

    customs = api("rw-customs-1")
    not_served = customs.post(f"/api/v1/stations/{c1}/seat")
    assert not_served.status_code == 403
    not_seated = customs.post(f"/api/v1/stations/{c1}/call-next")
    assert not_seated.status_code == 403
    with app.app_context():
        denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "authorization.denied")).all()
        assert [(e.username, e.detail["code"]) for e in denied] == [
            ("cd-immigration-1", "wrong_agency"),
            ("rw-customs-1", "wrong_agency"),
            ("rw-customs-1", "not_seated_here"),
        ]
        db.session.remove()


def test_bad_requests_get_json_errors_never_500(api, station_id):
    desk, officer = api("supervisor-1"), api("rw-immigration-1")
    cases = [
        (desk.post("/api/v1/tickets", data="not json", content_type="application/json"), 400, "bad_json"),
        (desk.post("/api/v1/tickets", json=["a list"]), 400, "bad_json"),
        (desk.post("/api/v1/tickets", json={"direction": "RW-UG", "category": "trader"}), 422, "invalid_direction"),
        (desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "tourist"}), 422, "invalid_category"),
        (desk.post("/api/v1/tickets", json={"direction": 7, "category": "trader"}), 422, "invalid_field"),
        (desk.get("/api/v1/crossings/999999"), 404, "crossing_not_found"),
        (desk.get("/api/v1/crossings/abc"), 404, "not_found"),
        (officer.post("/api/v1/steps/999999/decision", json={"outcome": "cleared"}), 404, "step_not_found"),
        (officer.post("/api/v1/stations/999999/call-next"), 404, "station_not_found"),
        (desk.get("/api/v1/tickets"), 405, "method_not_allowed"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, (response.json, status)
        assert response.json["error"]["code"] == code
        assert response.json["error"]["message"]


def test_unauthenticated_api_is_refused(client):
    response = client.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    bad_token = client.get("/api/v1/stations", headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401


def test_station_serves_one_ticket_at_a_time(api, station_id):
    desk = api("supervisor-1")
    _issue(desk)
    _issue(desk)
    c1 = station_id("C1")
    rw_imm = _seat(api("rw-immigration-1"), c1)
    assert rw_imm.post(f"/api/v1/stations/{c1}/call-next").status_code == 200
    busy = rw_imm.post(f"/api/v1/stations/{c1}/call-next")
    assert busy.status_code == 409
    assert busy.json["error"]["code"] == "station_busy"


def test_ticket_numbers_count_per_category(api):
    desk = api("supervisor-1")
    codes = [_issue(desk, "RW-CD", c)["code"] for c in ("trader", "trader", "driver", "resident", "traveller")]
    assert codes == ["T-001", "T-002", "D-001", "R-001", "P-001"]


def test_openapi_document_lists_the_public_interface(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    for path in (
        "/tickets",
        "/crossings/{crossing_id}",
        "/stations",
        "/stations/{station_id}/call-next",
        "/steps/{step_id}/decision",
    ):
        assert path in document["paths"]


def test_every_document_type_can_be_recorded(api, station_id):
    """The longest code (emergency_travel_document, 25 characters) was a 500 on PostgreSQL: the column held 16."""
    from osbp.agencies.immigration.operations import DOCUMENT_TYPES

    desk = api("supervisor-1")
    c1 = station_id("C1")
    rw_imm = _seat(api("rw-immigration-1"), c1)
    for document_type in DOCUMENT_TYPES:
        _issue(desk, category="traveller")
        step_id = rw_imm.post(f"/api/v1/stations/{c1}/call-next").json["steps_here"][0]["id"]
        body = {
            "holder_name": "Anna Maria Eriksson",
            "nationality": "RWA",
            "document_type": document_type,
            "document_number": "L898902C3",
            "birth_date": "1974-08-12",
        }
        response = rw_imm.post(f"/api/v1/steps/{step_id}/identity", json=body)
        assert response.status_code == 200, (document_type, response.status_code)
        assert response.json["holder"]["document_type"] == document_type
        _decide(rw_imm, step_id, outcome="refused", reason="test")
