"""The role matrix (osbp/roles.py, docs/security.md): every route × every role, every Socket.IO event × every role.

One app, the test client, the demo post with one ticket called at Counter 1. A forbidden combination is refused by the
role matrix itself (403 ``role_not_allowed``, or 401 / the login page for an anonymous caller); an allowed one is never
403 — except an officer refused another agency's record by the finer checks (osbp/permissions.py: ``wrong_agency``),
never by the matrix. POSTs carry no CSRF token: an allowed one stops at the CSRF check (400) and changes nothing, a forbidden one is
refused before it. An endpoint missing from the matrix fails here by name.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from osbp import events, roles
from osbp.auth.models import User
from osbp.extensions import db, socketio
from osbp.queues.models import Ticket
from osbp.workflow.models import Step
from tests.conftest import keep_socketio
from tests.test_live import device_client

OFFICERS = (
    "rw-immigration-1",
    "cd-immigration-1",
    "rw-customs-1",
    "cd-customs-1",
    "rw-health-1",
    "cd-health-1",
)
PEOPLE = (*OFFICERS, "supervisor-1", "admin", "rw-gate-1", "rw-committee-1")
DEVICES = ("board", "kiosk")
HALL_ENDPOINTS = (
    "queues.desk",
    "queues.stations",
    "queues.issue_ticket",
    "queues.open_station",
    "queues.close_station",
    "queues.set_priority",
    "queues.move_ticket",
    "queues.crossing",
    "api.create_ticket",
    "api.list_stations",
    "api.close_station",
    "live.supervisor",
    "live.station_action",
)


@pytest.fixture
def hall(app, api, station_id):
    """T-001 called at Counter 1; the ids and codes the URLs are built with."""
    c1 = station_id("C1")
    desk, rw = api("supervisor-1"), api("rw-immigration-1")
    assert desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"}).status_code == 201
    assert rw.post(f"/api/v1/stations/{c1}/seat").status_code == 200
    assert rw.post(f"/api/v1/stations/{c1}/call-next").status_code == 200
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        step_id = db.session.scalar(select(Step.id).where(Step.crossing_id == ticket.crossing_id).order_by(Step.id))
        values = {
            "station_id": c1,
            "crossing_id": ticket.crossing_id,
            "step_id": step_id,
            "code": ticket.code,
            "action": "pause",
            "filename": "osbp.css",
            "file_format": "json",
            # an account nobody in the sweep uses: the admin pages answer 404, and no client is logged out midway
            "user_id": 999999,
        }
        db.session.remove()
    return values


def _url(rule, values: dict) -> str:
    path = rule.rule
    for argument in rule.arguments:
        assert argument in values, f"no seeded value for <{argument}> in {rule.rule}: add one to the hall fixture"
        for converter in ("int:", "path:", ""):
            path = path.replace(f"<{converter}{argument}>", str(values[argument]))
    return path


def _clients(app, login) -> dict:
    clients = {username: login(username) for username in PEOPLE}
    clients |= {role: device_client(app, role, f"{role}-matrix") for role in DEVICES}
    clients["anonymous"] = app.test_client()
    return clients


def _role(app, name: str) -> str:
    if name in DEVICES or name == "anonymous":
        return name
    with app.app_context():
        role = db.session.scalar(select(User.role).where(User.username == name))
        db.session.remove()
    return role


def _refused_by_the_matrix(response, anonymous: bool, path: str) -> bool:
    if anonymous:
        if path.startswith("/api/"):
            return response.status_code == 401
        return response.status_code == 302 and urlsplit(response.location).path == "/login"
    if response.status_code != 403:
        return False
    if response.is_json:
        return response.json["error"]["code"] == "role_not_allowed"
    return 'data-error="role_not_allowed"' in response.get_data(as_text=True)


def test_every_route_is_in_the_matrix(app):
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(roles.ENDPOINT_ROLES))
    assert missing == [], f"endpoints with no row in osbp/roles.py ENDPOINT_ROLES (refused to everyone): {missing}"
    stale = sorted(set(roles.ENDPOINT_ROLES) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert stale == [], f"rows of osbp/roles.py for endpoints that do not exist: {stale}"
    for endpoint, allowed in roles.ENDPOINT_ROLES.items():
        assert allowed <= roles.PUBLIC, (endpoint, allowed - roles.PUBLIC)


def test_every_route_for_every_role(app, login, hall):
    clients = _clients(app, login)
    role_of = {name: _role(app, name) for name in clients}
    refused = allowed = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        path = _url(rule, hall)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for name, client in clients.items():
                role = role_of[name]
                response = client.open(path, method=method)
                where = (rule.endpoint, method, path, name, response.status_code)
                if role in roles.ENDPOINT_ROLES.get(rule.endpoint, ()):
                    assert not _refused_by_the_matrix(response, False, path), where
                    if role != "officer":  # an officer may still be refused another agency's record (permissions.py)
                        assert response.status_code != 403, where
                    assert response.status_code < 500, where
                    allowed += 1
                else:
                    assert _refused_by_the_matrix(response, role == "anonymous", path), where
                    refused += 1
                response.close()
    assert allowed > 100 and refused > 400, (allowed, refused)
    with app.app_context():  # POSTs without a CSRF token changed nothing: T-001 is still called at Counter 1
        ticket = db.session.scalar(select(Ticket))
        assert (ticket.status, ticket.station_id) == ("called", hall["station_id"])
        db.session.remove()


def test_the_supervisor_runs_the_hall_and_the_admin_does_not(app, login, api):
    supervisor = login("supervisor-1")
    for path in ("/desk", "/stations", "/live/supervisor"):
        assert supervisor.get(path).status_code == 200, path
    nav = supervisor.get("/desk").get_data(as_text=True).split("<nav>")[1].split("</nav>")[0]
    assert "/live/supervisor" in nav and "/desk" in nav
    admin = login("admin")
    for endpoint in HALL_ENDPOINTS:
        assert "admin" not in roles.ENDPOINT_ROLES[endpoint], endpoint
    for path in ("/desk", "/stations", "/live/supervisor", "/counters"):
        assert admin.get(path).status_code == 403, path
    closing = admin.post("/stations/1/close", data={"csrf_token": admin.csrf})
    assert closing.status_code == 403
    bearer = api("admin")
    assert bearer.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"}).status_code == 403
    assert bearer.get("/api/v1/stations").status_code == 403
    home = admin.get("/")
    assert home.status_code == 302 and urlsplit(home.location).path == "/admin/accounts"
    nav = admin.get("/admin/accounts").get_data(as_text=True).split("<nav>")[1].split("</nav>")[0]
    assert "/desk" not in nav and "/live/supervisor" not in nav and "/stations" not in nav
    with app.app_context():
        assert db.session.scalar(select(Ticket.id)) is None
        db.session.remove()


def test_an_endpoint_missing_from_the_matrix_is_refused_to_everyone(app, database_url, tmp_path, login):
    """Deny by default: a new route nobody put in the matrix is refused to every role, and sent to the login page
    when nobody is logged in."""
    from osbp import create_app

    with keep_socketio():
        other = create_app({"env": "testing", "database_url": database_url, "secret_key": "t" * 40})
        other.instance_path = str(tmp_path)
        other.add_url_rule("/probe", "probe.page", lambda: "reached")
        try:
            assert other.test_client().get("/probe").status_code == 302
            for username in ("supervisor-1", "admin", "rw-immigration-1"):
                session = login(username)
                cookie = session.get_cookie("osbp_session")
                client = other.test_client()
                client.set_cookie(cookie.key, cookie.value)
                response = client.get("/probe")
                assert response.status_code == 403, username
                assert "reached" not in response.get_data(as_text=True)
        finally:
            with other.app_context():
                db.session.remove()
                db.engine.dispose()


# -- Socket.IO ---------------------------------------------------------------------------------------------------------


def _rooms(socket_client) -> set[str]:
    manager = socketio.server.manager
    sid = manager.sid_from_eio_sid(socket_client.eio_sid, "/")
    return {room for room in manager.get_rooms(sid, "/") if room is not None and room != sid}


def test_every_socket_event_for_every_role(app, login, demo_post):
    handled = set(socketio.server.handlers["/"])
    assert handled - {"disconnect"} == set(roles.SOCKET_EVENTS), f"socket events not in the matrix: {handled}"
    clients = _clients(app, login)
    for name, client in clients.items():
        role = _role(app, name)
        live = socketio.test_client(app, flask_test_client=client)
        assert live.is_connected() == (role in roles.SOCKET_EVENTS["connect"]), name
        if not live.is_connected():
            continue
        rooms = _rooms(live)
        hall_rooms = {events.post_room(demo_post), events.supervisor_room(demo_post), events.board_room(demo_post)}
        expected = {
            "officer": {events.post_room(demo_post)},
            "supervisor": {events.post_room(demo_post), events.supervisor_room(demo_post)},
            "board": {events.board_room(demo_post)},
        }.get(role, set())
        assert rooms & hall_rooms == expected, (name, rooms)
        answer = live.emit("watch", {"code": "T-001"}, callback=True)
        assert answer["ok"] is (role in roles.SOCKET_EVENTS["watch"]), (name, answer)
        live.disconnect()
