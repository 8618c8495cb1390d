"""The exit gate: a gate pass is valid once, only at the gate of the destination country; gate officers and committee
members reach only their own pages and sockets (deny by default)."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from markupsafe import escape
from sqlalchemy import select, update

from osbp import events
from osbp.auth.models import User
from osbp.errors import Conflict
from osbp.extensions import db, socketio
from osbp.gate import operations as gate
from osbp.gate.operations import normalise_code
from osbp.post.models import Post
from osbp.post.seed import DEMO_PASSWORDS
from osbp.workflow.models import Crossing
from tests.conftest import ApiClient, audit_rows, csrf_from, is_postgres
from tests.test_race import _run_threads
from tests.test_workflow_api import _decide, _identity, _issue, _seat

FR = {"Accept-Language": "fr"}
HOLDER = "Anna Maria Eriksson"  # tests/test_workflow_api.py _identity
GATE_AUDIT = ("outcome", "username", "object_id", "detail")
DENIED = ("outcome", "username", "detail")


class Hall:
    """Immigration at Counter 1, both countries: resident crossings cleared through the API (two steps each)."""

    def __init__(self, api, station_id):
        self.desk = api("supervisor-1")
        self.c1 = station_id("C1")
        self.rw = _seat(api("rw-immigration-1"), self.c1)
        self.cd = _seat(api("cd-immigration-1"), self.c1)

    def crossing(self, direction: str = "RW-CD", outcome: str = "cleared") -> tuple[int, dict]:
        ticket = _issue(self.desk, direction, "resident")
        exit_officer, entry_officer = (self.rw, self.cd) if direction == "RW-CD" else (self.cd, self.rw)
        called = exit_officer.post(f"/api/v1/stations/{self.c1}/call-next")
        assert called.status_code == 200, called.json
        exit_step, entry_step = (s["id"] for s in called.json["steps_here"])
        _identity(exit_officer, exit_step)
        _decide(exit_officer, exit_step)
        reason = "No valid pass" if outcome == "refused" else None
        final = _decide(entry_officer, entry_step, outcome, reason=reason)["crossing"]
        assert final["status"] == outcome
        return ticket["crossing_id"], final

    def gate_pass(self, direction: str = "RW-CD") -> str:
        _crossing_id, final = self.crossing(direction)
        return final["gate_pass"]["code"]


@pytest.fixture
def hall(api, station_id):
    return Hall(api, station_id)


def _exit(client, code, **headers):
    """POST the gate API as a bearer-token client or a logged-in test client (with extra headers)."""
    if isinstance(client, ApiClient):
        client, headers = client.client, {**client.headers, **headers}
    return client.post(f"/api/v1/gate-passes/{code}/exit", headers=headers)


def _crossing_row(app, crossing_id: int) -> Crossing:
    with app.app_context():
        crossing = db.session.get(Crossing, crossing_id)
        db.session.expunge(crossing)
        db.session.remove()
    return crossing


def _user_id(app, username: str) -> int:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        db.session.remove()
    return user_id


def _kigali_short(value: datetime, locale: str) -> str:
    """The short date and time a person at the post reads, computed here without the app."""
    return format_datetime(value, "short", tzinfo=ZoneInfo("Africa/Kigali"), locale=locale)


# --- the journey ---------------------------------------------------------------------------------------------------


def test_trader_journey_ends_at_the_gate_of_the_destination_country(app, api, station_id):
    desk = api("supervisor-1")
    ticket = _issue(desk, "RW-CD", "trader")
    c1, c3, c4 = station_id("C1"), station_id("C3"), station_id("C4")
    rw_imm, cd_imm = _seat(api("rw-immigration-1"), c1), _seat(api("cd-immigration-1"), c1)
    exit_step, entry_step = (s["id"] for s in rw_imm.post(f"/api/v1/stations/{c1}/call-next").json["steps_here"])
    _identity(rw_imm, exit_step)
    _decide(rw_imm, exit_step)
    _decide(cd_imm, entry_step)
    cd_health = _seat(api("cd-health-1"), c3)
    _decide(cd_health, cd_health.post(f"/api/v1/stations/{c3}/call-next").json["steps_here"][0]["id"])
    rw_cus, cd_cus = _seat(api("rw-customs-1"), c4), _seat(api("cd-customs-1"), c4)
    export_step, import_step = (s["id"] for s in cd_cus.post(f"/api/v1/stations/{c4}/call-next").json["steps_here"])
    _decide(rw_cus, export_step)
    final = _decide(cd_cus, import_step)["crossing"]
    assert final["status"] == "cleared"
    code = final["gate_pass"]["code"]
    assert re.fullmatch(r"GP-[A-Z0-9]{8}", code)

    # The Rwandan gate is the wrong one for a crossing into DR Congo: refused, named, nothing recorded.
    wrong = _exit(api("rw-gate-1"), code)
    assert wrong.status_code == 403
    assert wrong.json["error"]["code"] == "wrong_gate"
    assert "DR Congo" in wrong.json["error"]["message"] and code in wrong.json["error"]["message"]
    assert _crossing_row(app, ticket["crossing_id"]).gate_out_at is None

    # The Congolese gate officer types it in lower case without the prefix.
    cd_gate = api("cd-gate-1")
    before = datetime.now(ZoneInfo("UTC"))
    response = _exit(cd_gate, code.removeprefix("GP-").lower())
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == {"gate_pass_code", "gate_out_at", "direction", "category", "holder_name", "document_type"}
    assert (body["gate_pass_code"], body["direction"], body["category"]) == (code, "RW-CD", "trader")
    assert (body["holder_name"], body["document_type"]) == (HOLDER, "passport")
    gate_out_at = datetime.fromisoformat(body["gate_out_at"])
    assert before <= gate_out_at <= datetime.now(ZoneInfo("UTC"))
    stored = _crossing_row(app, ticket["crossing_id"])
    assert stored.gate_out_at == gate_out_at
    assert stored.gate_out_by_id == _user_id(app, "cd-gate-1")

    # Valid once: the second scan is refused and says when the pass was used, in the post's time.
    again = _exit(cd_gate, code)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "gate_pass_used"
    assert _kigali_short(gate_out_at, "en") in again.json["error"]["message"]
    assert _crossing_row(app, ticket["crossing_id"]).gate_out_at == gate_out_at

    crossing_id = ticket["crossing_id"]
    rows = audit_rows(app, "gate_pass.exit", GATE_AUDIT)
    assert rows == [
        ("failed", "rw-gate-1", crossing_id, {"code": "wrong_gate", "gate_pass": code}),
        ("ok", "cd-gate-1", crossing_id, {"gate_pass": code}),
        ("failed", "cd-gate-1", crossing_id, {"code": "gate_pass_used", "gate_pass": code}),
    ]
    denied = audit_rows(app, "authorization.denied", DENIED)
    assert [(o, u, d["code"]) for o, u, d in denied] == [("denied", "rw-gate-1", "wrong_gate")]


def test_gate_page_records_the_exit_and_shows_the_pass(app, hall, login):
    crossing_id, final = hall.crossing("CD-RW")
    code = final["gate_pass"]["code"]
    officer = login("rw-gate-1")

    # The start page is the gate page; the page has one big autofocused input, posted with CSRF.
    home = officer.get("/")
    assert home.status_code == 302 and home.location.endswith("/gate")
    page = officer.get("/gate")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<input id="gate-code" name="code"[^>]* autofocus', html)
    assert 'action="/gate/scan"' in html and "Gate-out recorded" not in html
    assert "No scans yet." in html

    forged = officer.post("/gate/scan", data={"code": code})
    assert forged.status_code == 400
    assert _crossing_row(app, crossing_id).gate_out_at is None

    scanned = officer.post("/gate/scan", data={"code": f"  {code.lower()}\n", "csrf_token": officer.csrf})
    assert scanned.status_code == 302 and scanned.location.endswith("/gate")  # redirect after POST
    stored = _crossing_row(app, crossing_id)
    assert stored.gate_out_by_id == _user_id(app, "rw-gate-1")

    shown = officer.get("/gate").get_data(as_text=True)
    assert 'class="gate-result gate-ok"' in shown and "Gate-out recorded" in shown
    assert f"Gate pass: {code}" in shown
    assert HOLDER in shown
    assert "Border resident (CEPGL pass)" in shown  # the category, as a label
    assert str(escape("DR Congo → Rwanda")) in shown
    assert "Passport" in shown
    assert _kigali_short(stored.gate_out_at, "en") in shown
    # The verdict is shown once; the last scans stay.
    later = officer.get("/gate").get_data(as_text=True)
    assert "gate-result" not in later and HOLDER not in later
    assert code in later and "No scans yet." not in later

    # The same pass again: a red panel with the reason and the person, for the officer to stop them.
    officer.post("/gate/scan", data={"code": code, "csrf_token": officer.csrf})
    refused = officer.get("/gate").get_data(as_text=True)
    assert 'class="gate-result gate-refused"' in refused and 'role="alert"' in refused
    assert "Gate-out refused" in refused
    assert escape(f"Gate pass {code} was already used on {_kigali_short(stored.gate_out_at, 'en')}.") in refused
    assert HOLDER in refused

    # Enter on an empty field: nothing recorded, nothing said.
    empty = officer.post("/gate/scan", data={"code": "   ", "csrf_token": officer.csrf})
    assert empty.status_code == 302
    scans = re.findall(r'<tr class="(scan-ok|scan-refused)">', officer.get("/gate").get_data(as_text=True))
    assert scans == ["scan-refused", "scan-ok"]  # newest first
    assert [row[:2] for row in audit_rows(app, "gate_pass.exit", GATE_AUDIT)] == [
        ("ok", "rw-gate-1"),
        ("failed", "rw-gate-1"),
    ]


def test_last_ten_scans_on_the_page(app, hall, login):
    officer = login("cd-gate-1")
    codes = [hall.gate_pass("RW-CD") for _ in range(2)]
    for n in range(11):
        officer.post("/gate/scan", data={"code": f"GP-ZZZZ{n:04d}", "csrf_token": officer.csrf})
    for code in codes:
        officer.post("/gate/scan", data={"code": code, "csrf_token": officer.csrf})
    html = officer.get("/gate").get_data(as_text=True)
    rows = re.findall(r'<tr class="scan-(ok|refused)">\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>([^<]*)</td>', html)
    assert len(rows) == 10
    assert rows[:2] == [("ok", codes[1]), ("ok", codes[0])]
    assert [code for _, code in rows[2:]] == [f"GP-ZZZZ{n:04d}" for n in range(10, 2, -1)]
    assert "Unknown pass" in html


def test_gate_api_with_the_session_needs_csrf(app, hall, login):
    code = hall.gate_pass("RW-CD")
    officer = login("cd-gate-1")
    refused = _exit(officer, code)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    accepted = _exit(officer, code, **{"X-CSRFToken": officer.csrf})
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["gate_pass_code"] == code


# --- refusals ------------------------------------------------------------------------------------------------------


def test_unknown_and_malformed_codes(app, api):
    cd_gate = api("cd-gate-1")
    unknown = _exit(cd_gate, "GP-ZZZZ2345")
    assert unknown.status_code == 404
    assert unknown.json["error"]["code"] == "gate_pass_unknown"
    assert "GP-ZZZZ2345" in unknown.json["error"]["message"]
    for bad in ("hello", "GP-123", "T-001", "GP-ABCD23456", "GX-ABCD2345", "GP-ABCD 234", "x" * 70):
        response = _exit(cd_gate, bad)
        assert response.status_code == 422, (bad, response.json)
        assert response.json["error"]["code"] == "invalid_gate_pass_code"
        assert "GP-ABCD2345" in response.json["error"]["message"]  # it says what a code looks like
    rows = audit_rows(app, "gate_pass.exit", GATE_AUDIT)
    assert rows[0] == ("failed", "cd-gate-1", None, {"code": "gate_pass_unknown", "gate_pass": "GP-ZZZZ2345"})
    assert rows[1:] == [("failed", "cd-gate-1", None, {"code": "invalid_gate_pass_code", "gate_pass": None})] * 7


def test_normalise_code():
    assert normalise_code(" gp-abcd2345\r\n") == "GP-ABCD2345"
    assert normalise_code("abcd2345") == "GP-ABCD2345"
    assert normalise_code("GPABCD2345") == "GP-ABCD2345"
    for bad in (None, 42, "", "GP-", "GP-ABC", "GP--ABCD2345", "GP-ABCD234É", "ABCD-2345"):
        assert normalise_code(bad) is None, bad


@pytest.mark.parametrize("status", ["refused", "no_show", "in_progress"])
def test_a_pass_of_a_crossing_that_is_not_cleared_is_not_valid(app, hall, api, status):
    crossing_id, final = hall.crossing("RW-CD")
    code = final["gate_pass"]["code"]
    with app.app_context():  # the crossing ended otherwise after its pass was printed (or a pass was copied)
        db.session.execute(update(Crossing).where(Crossing.id == crossing_id).values(status=status))
        db.session.commit()
        db.session.remove()
    response = _exit(api("cd-gate-1"), code)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "gate_pass_not_valid"
    assert _crossing_row(app, crossing_id).gate_out_at is None
    assert audit_rows(app, "gate_pass.exit", GATE_AUDIT) == [
        ("failed", "cd-gate-1", crossing_id, {"code": "gate_pass_not_valid", "gate_pass": code})
    ]


def test_a_refused_crossing_has_no_pass_to_scan(app, hall, api):
    crossing_id, final = hall.crossing("RW-CD", outcome="refused")
    assert final["gate_pass"] is None
    with app.app_context():
        db.session.execute(update(Crossing).where(Crossing.id == crossing_id).values(gate_pass_code="GP-RFSD2345"))
        db.session.commit()
        db.session.remove()
    response = _exit(api("cd-gate-1"), "GP-RFSD2345")
    assert (response.status_code, response.json["error"]["code"]) == (409, "gate_pass_not_valid")


def test_wrong_country_both_ways(app, hall, api):
    into_rwanda = hall.gate_pass("CD-RW")
    response = _exit(api("cd-gate-1"), into_rwanda)
    assert (response.status_code, response.json["error"]["code"]) == (403, "wrong_gate")
    assert "Rwanda" in response.json["error"]["message"]
    assert _exit(api("rw-gate-1"), into_rwanda).status_code == 200


def test_a_pass_of_another_post_is_unknown_here(app, hall, api):
    code = hall.gate_pass("RW-CD")
    with app.app_context():
        other = Post(code="GOMA", name_a="Rubavu", name_b="Goma", country_a="RW", country_b="CD", default_locale="en")
        db.session.add(other)
        db.session.flush()
        db.session.execute(update(User).where(User.username == "cd-gate-1").values(post_id=other.id))
        db.session.commit()
        db.session.remove()
    response = _exit(api("cd-gate-1"), code)
    assert (response.status_code, response.json["error"]["code"]) == (404, "gate_pass_unknown")


def test_messages_follow_the_callers_language(app, hall, api):
    code = hall.gate_pass("RW-CD")
    cd_gate = api("cd-gate-1")
    assert _exit(cd_gate, code, **FR).status_code == 200
    used = _exit(cd_gate, code, **FR)
    assert (used.status_code, used.json["error"]["code"]) == (409, "gate_pass_used")
    gate_out_at = _crossing_row(app, _crossing_id_of(app, code)).gate_out_at
    assert _kigali_short(gate_out_at, "fr") in used.json["error"]["message"]  # a French date, the post's clock
    for path, status, error_code in [
        ("GP-ZZZZ2345", 404, "gate_pass_unknown"),
        ("T-001", 422, "invalid_gate_pass_code"),
    ]:
        response = _exit(cd_gate, path, **FR)
        assert (response.status_code, response.json["error"]["code"]) == (status, error_code)
        assert response.json["error"]["message"]
    wrong = _exit(api("rw-gate-1"), code, **FR)
    assert (wrong.status_code, wrong.json["error"]["code"]) == (403, "wrong_gate")
    assert "RD Congo" in wrong.json["error"]["message"] or "DR Congo" in wrong.json["error"]["message"]


def _crossing_id_of(app, code: str) -> int:
    with app.app_context():
        crossing_id = db.session.scalar(select(Crossing.id).where(Crossing.gate_pass_code == code))
        db.session.remove()
    return crossing_id


# --- who may use the gate -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["cd-immigration-1", "supervisor-1", "admin", "cd-committee-1"])
def test_only_gate_officers_record_a_gate_out(app, hall, api, login, username):
    code = hall.gate_pass("RW-CD")
    before = len(audit_rows(app, "authorization.denied"))
    response = _exit(api(username), code)
    assert response.status_code == 403
    session = login(username)
    assert _exit(session, code, **{"X-CSRFToken": session.csrf}).status_code == 403
    assert session.get("/gate").status_code == 403
    assert session.post("/gate/scan", data={"code": code, "csrf_token": session.csrf}).status_code == 403
    assert _crossing_row(app, _crossing_id_of(app, code)).gate_out_at is None
    assert audit_rows(app, "gate_pass.exit") == []
    denied = audit_rows(app, "authorization.denied", DENIED)[before:]
    assert len(denied) == 4 and {u for _, u, _ in denied} == {username}


def test_the_gate_user_reaches_only_the_gate(app, hall, api, login):
    crossing_id, _final = hall.crossing("RW-CD")
    c1 = hall.c1
    bearer = api("cd-gate-1")
    for path in ["/api/v1/stations", f"/api/v1/crossings/{crossing_id}", "/api/v1/queues", "/api/v1/tickets/T-001"]:
        response = bearer.get(path)
        assert response.status_code == 403, path
        assert response.json["error"]["code"] == "role_not_allowed"  # the role matrix (osbp/roles.py)
    for path, body in [
        ("/api/v1/tickets", {"direction": "RW-CD", "category": "trader"}),
        (f"/api/v1/stations/{c1}/seat", None),
        (f"/api/v1/stations/{c1}/call-next", None),
    ]:
        assert bearer.post(path, json=body).status_code == 403, path

    officer = login("cd-gate-1")
    for path in ["/desk", "/counters", "/stations", f"/crossings/{crossing_id}", f"/counters/{c1}", "/live/supervisor"]:
        assert officer.get(path).status_code == 403, path
    issue = officer.post("/desk/tickets", data={"direction": "RW-CD", "category": "trader", "csrf_token": officer.csrf})
    assert issue.status_code == 403
    seat = officer.post(f"/counters/{c1}/seat", data={"csrf_token": officer.csrf})
    assert seat.status_code == 403
    assert len(audit_rows(app, "authorization.denied")) == 7 + 8

    # Its navigation shows the gate only; language switch and logout work.
    page = officer.get("/gate").get_data(as_text=True)
    nav = page.split("<nav>")[1].split("</nav>")[0]
    assert re.findall(r'href="([^"]+)"', nav) == ["/gate"]
    language = officer.post("/language", data={"locale": "fr", "next": "/gate", "csrf_token": officer.csrf})
    assert language.status_code == 302 and language.location.endswith("/gate")
    assert officer.get("/gate").status_code == 200
    assert officer.post("/logout", data={"csrf_token": officer.csrf}).status_code == 302
    assert officer.get("/gate").status_code == 302  # logged out


def test_the_committee_user_reaches_only_the_reports(app, hall, api, login):
    crossing_id, final = hall.crossing("RW-CD")
    bearer = api("rw-committee-1")
    for path in ["/api/v1/stations", f"/api/v1/crossings/{crossing_id}", "/api/v1/queues", "/api/v1/tickets/T-001"]:
        assert bearer.get(path).status_code == 403, path
    assert bearer.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"}).status_code == 403
    assert _exit(bearer, final["gate_pass"]["code"]).status_code == 403

    member = login("rw-committee-1")
    for path in ["/desk", "/counters", "/stations", f"/crossings/{crossing_id}", "/gate", "/live/supervisor"]:
        assert member.get(path).status_code == 403, path
    home = member.get("/")
    assert home.status_code == 302 and urlsplit(home.location).path == "/reports"
    if "bilateral.reports" in app.view_functions:  # the reports page (osbp/bilateral): the only link in the bar
        reports = member.get("/reports").get_data(as_text=True)
        nav = reports.split("<nav>")[1].split("</nav>")[0]
        assert re.findall(r'href="([^"]+)"', nav) == ["/reports"]
    assert member.post("/logout", data={"csrf_token": member.csrf}).status_code == 302


def test_committee_and_gate_rows_of_the_role_matrix():
    from osbp.roles import may_reach

    committee, gate_user = User(role="committee"), User(role="gate")
    assert may_reach(committee, "bilateral.reports") and may_reach(committee, "bilateral.report_api")
    assert may_reach(committee, "auth.logout") and may_reach(gate_user, "auth.logout")
    assert not may_reach(committee, "bilateralx.reports") and not may_reach(committee, "bilateral.unknown")
    assert not may_reach(committee, "gate.page") and not may_reach(committee, "queues.desk")
    assert not may_reach(gate_user, "bilateral.reports") and not may_reach(gate_user, "api.list_stations")
    assert may_reach(gate_user, "gate.api_exit") and not may_reach(gate_user, None)
    assert not may_reach(User(role="officer"), "gate.page")


@pytest.mark.parametrize("username", ["cd-gate-1", "rw-committee-1"])
def test_login_lands_on_the_roles_own_page(app, client, username):
    role = "gate" if "-gate-" in username else "committee"
    token = csrf_from(client, "/login?next=/desk")
    response = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORDS[role], "next": "/desk", "csrf_token": token},
    )
    home = "/gate" if role == "gate" else "/reports"
    assert response.status_code == 302 and urlsplit(response.location).path == home  # not /desk: 403 for them
    if home in {rule.rule for rule in app.url_map.iter_rules()}:
        assert client.get(home).status_code == 200


# --- sockets -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["cd-gate-1", "rw-committee-1"])
def test_gate_and_committee_sockets_join_only_their_own_room(app, api, login, station_id, username):
    client = login(username)
    live = socketio.test_client(app, flask_test_client=client)
    assert live.is_connected()
    sid = socketio.server.manager.sid_from_eio_sid(live.eio_sid, "/")
    rooms = {room for room in socketio.server.manager.get_rooms(sid, "/") if ":" in room}
    assert rooms == {f"user:{_user_id(app, username)}"}

    officer = socketio.test_client(app, flask_test_client=login("rw-immigration-1"))
    desk = api("supervisor-1")
    assert desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"}).status_code == 201
    c1 = station_id("C1")
    rw_imm = _seat(api("rw-immigration-1"), c1)
    assert rw_imm.post(f"/api/v1/stations/{c1}/call-next").status_code == 200
    assert [m for m in officer.get_received() if m["name"] == "event"]  # the post's staff got the events
    assert [m for m in live.get_received() if m["name"] == "event"] == []  # not this socket

    assert client.post("/logout", data={"csrf_token": client.csrf}).status_code == 302
    assert not live.is_connected()  # the user room closes it
    officer.disconnect()


# --- the OpenAPI document ------------------------------------------------------------------------------------------


def test_openapi_documents_the_gate(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/gate-passes/{code}/exit"]["post"]
    assert set(operation["responses"]) >= {"200", "401", "403", "404", "409", "422"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(document["components"]["schemas"][schema]["properties"]) == {
        "gate_pass_code",
        "gate_out_at",
        "direction",
        "category",
        "holder_name",
        "document_type",
    }


# --- two gate officers, one pass, the same moment --------------------------------------------------------------------

RACERS = 6
ROUNDS = 4


def _gate_officers(count: int) -> list[int]:
    post = db.session.scalar(select(Post))
    ids = [db.session.scalar(select(User.id).where(User.username == "cd-gate-1"))]
    for n in range(2, count + 1):
        user = User(
            post_id=post.id,
            username=f"cd-gate-{n}",
            full_name=f"Gate officer {n}",
            role="gate",
            country="CD",
            password_hash="!not-used",
        )
        db.session.add(user)
        db.session.flush()
        ids.append(user.id)
    db.session.commit()
    return ids


def _race(app, code: str, officer_ids: list[int], first_check: threading.local) -> list[tuple[int, str]]:
    """Every officer scans ``code`` at once, each in its own thread, app context and connection."""
    start = threading.Barrier(len(officer_ids))
    outcomes: list[tuple[int, str]] = []

    def racer(officer_id: int):
        def run():
            with app.app_context():
                try:
                    officer = db.session.get(User, officer_id)
                    post = db.session.get(Post, officer.post_id)
                    first_check.done = False
                    start.wait(timeout=30)
                    try:
                        gate.record_gate_out(post, code, officer)
                        outcomes.append((officer_id, "ok"))
                    except Conflict as error:
                        outcomes.append((officer_id, error.code))
                    db.session.commit()  # a refusal's audit row is kept, as the controllers keep it
                    events.discard()
                finally:
                    db.session.remove()

        return run

    errors = _run_threads([racer(officer_id) for officer_id in officer_ids])
    assert not errors, "\n".join(errors)
    return outcomes


def test_gate_officers_scanning_one_pass_at_once_exactly_one_succeeds(app, hall, monkeypatch):
    codes = [hall.gate_pass("RW-CD") for _ in range(ROUNDS)]
    with app.app_context():
        officer_ids = _gate_officers(RACERS)
        db.session.remove()

    # Every racer passes the read-only checks before any of them writes: only the guarded UPDATE can stop the rest.
    checked = threading.Barrier(RACERS)
    first_check = threading.local()
    original = gate._ensure_unused_and_cleared

    def check_then_wait(crossing, officer, code):
        original(crossing, officer, code)
        if not getattr(first_check, "done", False):
            first_check.done = True
            checked.wait(timeout=30)

    monkeypatch.setattr(gate, "_ensure_unused_and_cleared", check_then_wait)
    for code in codes:
        outcomes = _race(app, code, officer_ids, first_check)
        winners = [officer_id for officer_id, outcome in outcomes if outcome == "ok"]
        assert len(winners) == 1, outcomes
        assert sorted(outcome for _, outcome in outcomes) == ["gate_pass_used"] * (RACERS - 1) + ["ok"]
        with app.app_context():
            crossing = db.session.scalar(select(Crossing).where(Crossing.gate_pass_code == code))
            assert crossing.gate_out_by_id == winners[0]
            db.session.remove()

    rows = audit_rows(app, "gate_pass.exit", ("outcome", "user_id"))
    assert sum(1 for outcome, _ in rows if outcome == "ok") == ROUNDS
    assert sum(1 for outcome, _ in rows if outcome == "failed") == ROUNDS * (RACERS - 1)
    database = "postgresql" if is_postgres() else "sqlite"
    print(f"\n[{database}] {ROUNDS} passes, {RACERS} gate officers scanning each at once: one gate-out per pass")
