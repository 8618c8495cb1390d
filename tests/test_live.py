"""Live queues: device accounts (boards, kiosks) and their deny-by-default rules, the public rooms and what reaches
them (after commit only, never personal data), the public ticket status API and its rate limit, the supervisors'
live view, and the device commands."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from osbp import events
from osbp.auth.models import ApiToken, User
from osbp.extensions import db, socketio
from osbp.post.models import Post
from osbp.queues.models import Station, Ticket
from osbp.types import utcnow
from osbp.web import PUBLIC_ENDPOINTS
from tests.conftest import audit_rows, open_device_link
from tests.test_security import _routes

HOLDER = {
    "holder_name": "Uwimana Grace",
    "nationality": "RWA",
    "document_type": "passport",
    "document_number": "PC1234567",
    "birth_date": "1988-03-14",
}
PERSONAL = ("Uwimana", "Grace", "PC1234567", "1988-03-14", "RWA", "GP-")
LIVE_AUDIT = ("outcome", "username", "detail")


# -- helpers shared with tests/test_kiosk.py and tests/test_browser_live.py ---------------------------------------------


def make_device(app, role: str, name: str | None = None) -> str:
    """A new board or kiosk account; returns its device token."""
    from osbp.live.devices import create_device

    with app.app_context():
        post = db.session.scalar(select(Post))
        _user, token = create_device(post, role, name or f"{role}-test-1")
        db.session.commit()
        db.session.remove()
    return token


def device_client(app, role: str, name: str | None = None):
    """A test client logged in as a new board or kiosk through its device link."""
    client = app.test_client()
    token = make_device(app, role, name)
    response = open_device_link(client, token)
    assert response.status_code == 302, response.get_data(as_text=True)
    client.token = token
    return client


def events_of(socket_client) -> list[dict]:
    """The events a socket received, without their live number and the bare ``sync`` markers (tested in
    tests/test_live_sequence.py)."""
    messages = [m["args"][0] for m in socket_client.get_received() if m["name"] == "event"]
    return [{k: v for k, v in m.items() if k != "seq"} for m in messages if m["type"] != "sync"]


def issue(api_client, direction="RW-CD", category="trader") -> dict:
    response = api_client.post("/api/v1/tickets", json={"direction": direction, "category": category})
    assert response.status_code == 201, response.json
    return response.json


def seat(api_client, station: int):
    response = api_client.post(f"/api/v1/stations/{station}/seat")
    assert response.status_code == 200, response.json


def call(api_client, station: int) -> dict:
    response = api_client.post(f"/api/v1/stations/{station}/call-next")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def decide(api_client, step_id: int, outcome="cleared", reason=None) -> dict:
    body = {"outcome": outcome} | ({"reason": reason} if reason else {})
    response = api_client.post(f"/api/v1/steps/{step_id}/decision", json=body)
    assert response.status_code == 200, response.json
    return response.json


def through_counter_one(api, station_id) -> dict:
    """T-001 (RW→CD trader) called at Counter 1, identity recorded, both immigration steps cleared: now waits for
    Counter 3 (health). Returns the officers' API clients."""
    desk, rw, cd = api("supervisor-1"), api("rw-immigration-1"), api("cd-immigration-1")
    issue(desk)
    c1 = station_id("C1")
    seat(rw, c1)
    seat(cd, c1)
    called = call(rw, c1)
    exit_step, entry_step = called["steps_here"]
    assert rw.post(f"/api/v1/steps/{exit_step['id']}/identity", json=HOLDER).status_code == 200
    decide(rw, exit_step["id"])
    decide(cd, entry_step["id"])
    return {"desk": desk, "rw": rw, "cd": cd}


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    """The status rate limit and the kiosk's idempotency keys live in the process: start every test empty."""
    for name in ("osbp_status_limiter", "osbp_kiosk_posts"):
        if name in app.extensions:
            app.extensions[name].reset()
    yield


# -- device accounts ----------------------------------------------------------------------------------------------------


def test_device_link_logs_in_once_and_leaves_the_token_out_of_the_address(app):
    token = make_device(app, "board", "board-hall-1")
    client = app.test_client()
    response = open_device_link(client, token)
    assert response.status_code == 302
    assert response.location == "/live/board"
    assert token not in response.location
    page = client.get("/live/board")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert audit_rows(app, "device.login", LIVE_AUDIT)[0][:2] == ("ok", "board-hall-1")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "board-hall-1"))
        assert user.role == "board" and user.password_hash.startswith("!")
        stored = db.session.scalar(select(ApiToken.token_hash).where(ApiToken.user_id == user.id))
        assert token not in stored
        db.session.remove()


def test_the_device_token_never_travels_in_a_url(app):
    """Access logs keep URLs: the token is posted by the set-up page, and a GET with the token in the path (the old
    link) logs nobody in."""
    token = make_device(app, "board", "board-hall-1")
    client = app.test_client()
    assert client.get(f"/live/device/{token}").status_code in (404, 405)
    assert client.get(f"/live/device?token={token}").status_code == 200  # the set-up page: logs nobody in
    assert client.get("/live/board").status_code == 302  # still anonymous
    assert audit_rows(app, "device.login") == []
    page = client.get("/live/device").get_data(as_text=True)
    assert 'method="post"' in page and 'name="token"' in page and "js/device-setup.js" in page
    assert token not in page
    assert open_device_link(client, token).location == "/live/board"


def test_the_set_up_link_carries_the_token_after_the_hash(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-device", "board", "board-hall-9", "--base-url", "https://osbp.example"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("https://osbp.example/live/device#osbp_")
    path, token = link.removeprefix("https://osbp.example").split("#")
    assert path == "/live/device"  # what the browser requests; the fragment stays in the browser
    client = app.test_client()
    assert client.get(path).status_code == 200
    assert open_device_link(client, token).location == "/live/board"


def test_the_set_up_form_needs_its_csrf_token(app):
    client = app.test_client()
    response = client.post("/live/device", data={"token": make_device(app, "board")})
    assert response.status_code == 400
    assert client.get("/live/board").status_code == 302


def test_kiosk_link_leads_to_the_kiosk(app):
    client = app.test_client()
    response = open_device_link(client, make_device(app, "kiosk"))
    assert response.location == "/live/kiosk"
    assert client.get("/live/kiosk").status_code == 200


def test_unknown_tokens_and_officers_tokens_open_nothing(app, api):
    officer_token = api("supervisor-1").headers["Authorization"][7:]
    for token in (officer_token, "osbp_" + "x" * 43, "short"):
        client = app.test_client()
        assert open_device_link(client, token).status_code == 404
        assert client.get("/live/board").status_code == 302  # still anonymous: to the login page
    assert [row[0] for row in audit_rows(app, "device.login", LIVE_AUDIT)] == ["failed"] * 3


def test_a_device_link_never_replaces_a_persons_session(app, login):
    officer = login("rw-immigration-1")
    response = open_device_link(officer, make_device(app, "board"))
    assert response.status_code == 409
    assert officer.get("/desk").status_code == 200  # still the officer


def test_guessing_device_links_is_rate_limited(app, monkeypatch):
    monkeypatch.setitem(app.config, "OSBP", app.config["OSBP"].replace(status_rate_per_minute=2))
    client = app.test_client()
    assert [open_device_link(client, f"osbp_guess{i:040d}").status_code for i in range(3)] == [404, 404, 429]
    assert len(audit_rows(app, "device.login", LIVE_AUDIT)) == 2


def test_a_device_has_no_usable_password(app, client):
    from tests.test_auth import post_login

    make_device(app, "kiosk", "kiosk-hall")
    for password in ("", "!", "kiosk-hall", "rusizi-demo-officer"):
        assert post_login(client, "kiosk-hall", password).status_code == 401


def _allowed_for(role: str) -> set[str]:
    from osbp.roles import ENDPOINT_ROLES

    return set(PUBLIC_ENDPOINTS) | {endpoint for endpoint, roles in ENDPOINT_ROLES.items() if role in roles}


@pytest.mark.parametrize("role", ["board", "kiosk"])
def test_devices_are_denied_everything_else_and_it_is_audited(app, role):
    device = device_client(app, role)
    checked = 0
    for rule, url in _routes(app):
        if rule.endpoint in _allowed_for(role):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = device.open(url, method=method)  # no CSRF token: refused before the CSRF check
            assert response.status_code == 403, (role, method, url, response.status_code)
            checked += 1
    assert checked >= 20
    denied = audit_rows(app, "authorization.denied", LIVE_AUDIT)
    assert len(denied) == checked
    assert {row[1] for row in denied} == {f"{role}-test-1"}
    assert device.get("/live/board" if role == "board" else "/live/kiosk").status_code == 200  # still logged in


def test_device_tokens_as_bearer_tokens_reach_no_more(app):
    token = make_device(app, "board")
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.get("/api/v1/board", headers=headers).status_code == 200
    assert client.get("/api/v1/stations", headers=headers).status_code == 403
    assert (
        client.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"}, headers=headers).status_code
        == 403
    )


def test_staff_cannot_open_device_pages(app, login):
    supervisor = login("supervisor-1")
    assert supervisor.get("/live/board").status_code == 403
    assert supervisor.get("/live/kiosk").status_code == 403
    officer = login("rw-immigration-1")
    assert officer.get("/live/supervisor").status_code == 403
    assert officer.get("/live/supervisor/panel").status_code == 403


def test_device_sessions_have_no_idle_or_absolute_timeout(app):
    board = device_client(app, "board")
    with board.session_transaction() as session:
        session["seen_at"] -= 3 * 24 * 3600
        session["login_at"] -= 30 * 24 * 3600
    assert board.get("/live/board").status_code == 200
    live = socketio.test_client(app, flask_test_client=board)
    assert live.is_connected()
    live.disconnect()


def test_revoking_a_device_ends_its_session_and_sockets(app):
    from osbp.live.devices import revoke_device

    board = device_client(app, "board")
    live = socketio.test_client(app, flask_test_client=board)
    assert live.is_connected()
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "board-test-1"))
        revoke_device(user)
        db.session.commit()
        events.flush()
        db.session.remove()
    assert not live.is_connected()
    assert board.get("/live/board").status_code == 302
    assert open_device_link(board, board.token).status_code == 404  # the link is dead too


def test_revoking_only_the_token_also_ends_the_session(app):
    board = device_client(app, "board")
    with app.app_context():
        db.session.execute(update(ApiToken).values(revoked_at=utcnow()))
        db.session.commit()
        db.session.remove()
    assert board.get("/live/board").status_code == 302
    assert not socketio.test_client(app, flask_test_client=board).is_connected()


def test_create_and_revoke_device_commands(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-device", "kiosk", "Kiosk-Hall-2", "--base-url", "https://osbp.example"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("https://osbp.example/live/device#osbp_")
    client = app.test_client()
    assert open_device_link(client, link.split("#")[1]).location == "/live/kiosk"
    again = runner.invoke(args=["create-device", "kiosk", "kiosk-hall-2"])
    assert again.exit_code != 0 and "taken" in again.output
    bad = runner.invoke(args=["create-device", "kiosk", "no spaces!"])
    assert bad.exit_code != 0
    revoked = runner.invoke(args=["revoke-device", "kiosk-hall-2"])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/live/kiosk").status_code == 302
    not_device = runner.invoke(args=["revoke-device", "supervisor-1"])
    assert not_device.exit_code != 0


# -- sockets and rooms ---------------------------------------------------------------------------------------------------


def test_board_socket_joins_only_the_public_board_room(app, demo_post):
    board = device_client(app, "board")
    live = socketio.test_client(app, flask_test_client=board)
    assert live.is_connected()
    assert live.emit("watch", {"code": "T-001"}, callback=True) == {"ok": False}  # boards follow no ticket
    sid = socketio.server.manager.sid_from_eio_sid(live.eio_sid, "/")
    rooms = set(socketio.server.manager.get_rooms(sid, "/"))
    assert {r for r in rooms if ":" in r} == {f"board:{demo_post}", f"user:{_user_id(app, 'board-test-1')}"}
    live.disconnect()


def _user_id(app, username: str) -> int:
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == username))
        db.session.remove()
    return uid


def test_board_gets_ticket_called_after_commit_and_never_personal_data(app, api, station_id):
    board = device_client(app, "board")
    live = socketio.test_client(app, flask_test_client=board)
    officers = through_counter_one(api, station_id)
    received = events_of(live)
    c1, c3 = station_id("C1"), station_id("C3")
    assert {"type": "ticket.called", "data": {"code": "T-001", "station": "Counter 1", "station_id": c1}} in received
    assert {"type": "ticket.issued", "data": {"code": "T-001"}} in received  # the category stays with the staff

    health = api("cd-health-1")
    seat(health, c3)
    seated = events_of(live)  # an officer sitting down changes the waits: the board fetches them again
    assert seated == [{"type": "station.seats_changed", "data": {"station": "Counter 3", "station_id": c3}}]
    failed = health.post(f"/api/v1/stations/{c3 + 999}/call-next")
    assert failed.status_code == 404
    assert events_of(live) == []  # nothing leaves a failed request

    call(health, c3)
    later = events_of(live)
    assert later == [{"type": "ticket.called", "data": {"code": "T-001", "station": "Counter 3", "station_id": c3}}]
    for message in received + seated + later:
        assert set(message.get("data", {})) <= events.PUBLIC_KEYS
        text = json.dumps(message)
        assert not any(value in text for value in PERSONAL), text
    assert officers
    live.disconnect()


def test_a_rolled_back_call_reaches_no_board(app, api, station_id, monkeypatch):
    from sqlalchemy.exc import OperationalError

    board = device_client(app, "board")
    live = socketio.test_client(app, flask_test_client=board)
    desk, rw = api("supervisor-1"), api("rw-immigration-1")
    issue(desk)
    c1 = station_id("C1")
    seat(rw, c1)
    events_of(live)

    def lost(*_args, **_kwargs):
        raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection"))

    monkeypatch.setattr(db.session, "commit", lost)
    assert rw.post(f"/api/v1/stations/{c1}/call-next").status_code == 503
    monkeypatch.undo()
    assert events_of(live) == []
    call(rw, c1)  # the same call once the database is back
    assert [m["type"] for m in events_of(live)] == ["ticket.called"]
    live.disconnect()


def test_public_rooms_get_only_public_keys(app, demo_post):
    """Even if a caller puts more in an event, a board or kiosk room gets only PUBLIC_KEYS."""
    board = device_client(app, "board")
    kiosk = device_client(app, "kiosk")
    live = socketio.test_client(app, flask_test_client=board)
    watcher = socketio.test_client(app, flask_test_client=kiosk)
    assert watcher.emit("watch", {"code": "t-7"}, callback=True) == {"ok": True, "code": "T-007"}
    with app.test_request_context():
        events.publish(
            "ticket.called",
            {"code": "T-007", "station_id": 1, "holder_name": "Uwimana Grace", "priority": "pregnant"},
            *events.post_rooms(demo_post),
            events.ticket_room(demo_post, "T-007"),
        )
        events.flush()
    expected = [{"type": "ticket.called", "data": {"code": "T-007", "station_id": 1}}]
    assert events_of(live) == expected
    assert events_of(watcher) == expected
    live.disconnect()
    watcher.disconnect()


def test_kiosk_watches_one_ticket_at_a_time(app, api, station_id):
    kiosk = device_client(app, "kiosk")
    live = socketio.test_client(app, flask_test_client=kiosk)
    assert live.is_connected()
    desk, rw = api("supervisor-1"), api("rw-immigration-1")
    issue(desk)
    issue(desk)
    assert live.emit("watch", {"code": "T-001"}, callback=True)["ok"]
    assert live.emit("watch", {"code": "T-002"}, callback=True)["ok"]
    assert live.emit("watch", {"code": "<script>"}, callback=True) == {"ok": False}
    assert live.emit("watch", {"code": "T-002"}, callback=True)["ok"]
    c1 = station_id("C1")
    seat(rw, c1)
    call(rw, c1)  # T-001: not watched any more
    assert events_of(live) == []
    c2 = station_id("C2")
    call(_second_officer(api, station_id), c2)  # T-002
    assert {"type": "ticket.called", "data": {"code": "T-002", "station": "Counter 2", "station_id": c2}} in events_of(
        live
    )
    live.disconnect()


def _second_officer(api, station_id):
    officer = api("rw-immigration-2")
    seat(officer, station_id("C2"))
    return officer


def test_staff_sockets_cannot_watch_tickets_and_anonymous_sockets_are_refused(app, login):
    officer = socketio.test_client(app, flask_test_client=login("rw-immigration-1"))
    assert officer.emit("watch", {"code": "T-001"}, callback=True) == {"ok": False}
    officer.disconnect()
    assert not socketio.test_client(app, flask_test_client=app.test_client()).is_connected()


def test_supervisor_socket_gets_queue_changes(app, login, api, station_id):
    supervisor = socketio.test_client(app, flask_test_client=login("supervisor-1"))
    officer = socketio.test_client(app, flask_test_client=login("rw-immigration-1"))
    through_counter_one(api, station_id)
    types = [m["type"] for m in events_of(supervisor)]
    assert "ticket.queued" in types and "ticket.called" in types
    assert "ticket.queued" not in [m["type"] for m in events_of(officer)]  # supervisors' room only
    supervisor.disconnect()
    officer.disconnect()


# -- the public status API ----------------------------------------------------------------------------------------------


def test_status_is_public_and_carries_no_personal_data(app, api, station_id):
    through_counter_one(api, station_id)
    anonymous = app.test_client()
    response = anonymous.get("/api/v1/tickets/T-001/status")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    status = response.json
    assert status["code"] == "T-001"
    assert status["status"] == "waiting"
    assert status["current_step"]["label"] == "CD Health — screening"
    assert status["position"] == 1
    assert [s["code"] for s in status["stations"]] == ["C3"]
    assert [s["state"] for s in status["steps"]] == ["done", "done", "current", "next", "next"]
    assert status["fees"] == {"due": [], "message": "No fees recorded."}
    assert any("yellow fever" in d for d in status["documents"])
    assert set(status) == {
        "code",
        "status",
        "message",
        "category",
        "category_label",
        "direction",
        "direction_label",
        "current_step",
        "steps",
        "position",
        "estimated_wait_minutes",
        "unstaffed",
        "unstaffed_message",
        "station",
        "stations",
        "fees",
        "documents",
        "updated_at",
        "seq",  # the post's live number: the kiosk's snapshot (docs/live.md)
    }
    text = json.dumps(status)
    assert not any(value in text for value in PERSONAL), text
    assert "crossing_id" not in text and "holder" not in text


@pytest.mark.parametrize(
    ("lang", "name", "message"),
    [
        ("fr", "Guichet 1", "Allez maintenant à\u00a0: Guichet 1."),  # a no-break space before the colon
        ("rw", "Konteri 1", "Jya kuri Konteri 1 ubu."),
        ("en", "Counter 1", "Go to Counter 1 now."),
    ],
)
def test_status_when_called_says_where_to_go(app, api, station_id, lang, name, message):
    desk, rw = api("supervisor-1"), api("rw-immigration-1")
    issue(desk)
    c1 = station_id("C1")
    seat(rw, c1)
    call(rw, c1)
    status = app.test_client().get(f"/api/v1/tickets/t1/status?lang={lang}").json
    assert status["status"] == "called"
    assert status["station"] == {"id": c1, "code": "C1", "name": name, "open": True}
    assert status["message"] == message
    assert status["position"] is None and status["estimated_wait_minutes"] is None


def test_refused_crossing_shows_closed_and_no_reason(app, api, station_id):
    desk, rw = api("supervisor-1"), api("rw-immigration-1")
    issue(desk)
    c1 = station_id("C1")
    seat(rw, c1)
    step = call(rw, c1)["steps_here"][0]
    decide(rw, step["id"], "refused", reason="Forged passport of Uwimana")
    status = app.test_client().get("/api/v1/tickets/T-001/status").json
    assert status["status"] == "closed"
    assert "Uwimana" not in json.dumps(status) and "Forged" not in json.dumps(status)


def test_status_errors_are_clear(app):
    client = app.test_client()
    bad = client.get("/api/v1/tickets/hello/status")
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_ticket_code"
    missing = client.get("/api/v1/tickets/T-999/status")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "ticket_not_found"
    french = client.get("/api/v1/tickets/T-999/status", headers={"Accept-Language": "fr"})
    assert french.json["error"]["message"] != "" and "T-999" in french.json["error"]["message"]
    other_post = client.get("/api/v1/tickets/T-001/status?post=NOWHERE")
    assert other_post.status_code == 404 and other_post.json["error"]["code"] == "post_not_found"


def test_status_is_rate_limited_per_client(app, api, monkeypatch):
    monkeypatch.setitem(app.config, "OSBP", app.config["OSBP"].replace(status_rate_per_minute=3))
    issue(api("supervisor-1"))
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/tickets/T-001/status").status_code == 200
    limited = client.get("/api/v1/tickets/T-999/status")  # failed lookups count too: no guessing codes
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) >= 1
    other = app.test_client()
    assert other.get("/api/v1/tickets/T-001/status", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200
    kiosk = device_client(app, "kiosk")  # a logged-in kiosk has its own bucket
    assert kiosk.get("/api/v1/tickets/T-001/status").status_code == 200


def test_token_bucket_refills():
    from osbp.live.limits import TokenBucket

    bucket = TokenBucket(max_keys=2)
    assert [bucket.take("a", 2, now=0.0) for _ in range(3)] == [0.0, 0.0, 30.0]
    assert bucket.take("a", 2, now=30.0) == 0.0
    assert bucket.take("b", 2, now=30.0) == 0.0
    bucket.take("c", 2, now=1000.0)  # over max_keys: full buckets are forgotten
    assert len(bucket._buckets) <= 2


def test_board_state_api(app, api, station_id):
    board = device_client(app, "board")
    through_counter_one(api, station_id)
    state = board.get("/api/v1/board").json
    assert state["calls"] == [
        {"code": "T-001", "station_id": station_id("C1"), "station_code": "C1", "station": "Counter 1", "recall": False}
    ]
    by_code = {q["station_code"]: q for q in state["queues"]}
    assert set(by_code) == {"C1", "C2", "C3", "C4", "C5"}  # public counters only
    # nobody is seated at Counter 3 (health): no minutes, the board says so (tests/test_honest_waits.py)
    assert by_code["C3"]["waiting"] == 1 and by_code["C3"]["wait_minutes"] is None and by_code["C3"]["unstaffed"] == 1
    seat(api("cd-health-1"), station_id("C3"))
    by_code = {q["station_code"]: q for q in board.get("/api/v1/board").json["queues"]}
    assert by_code["C3"]["wait_minutes"] >= 1 and by_code["C3"]["unstaffed"] == 0
    assert by_code["C1"]["waiting"] == 0
    assert not any(value in json.dumps(state) for value in PERSONAL)


def test_openapi_describes_the_public_status_and_the_board(client):
    document = client.get("/api/v1/openapi.json").json
    status = document["paths"]["/tickets/{code}/status"]["get"]
    assert status["security"] == []
    assert "429" in status["responses"]
    assert "TicketStatus" in document["components"]["schemas"]
    assert "/board" in document["paths"]


# -- the supervisors' live view -----------------------------------------------------------------------------------------


def test_supervisor_live_view_shows_queues_stations_and_alerts(app, login, api, station_id, monkeypatch):
    through_counter_one(api, station_id)
    seat(
        api("cd-health-1"), station_id("C3")
    )  # T-001's queue is staffed (unstaffed queues: tests/test_honest_waits.py)
    supervisor = login("supervisor-1")
    page = supervisor.get("/live/supervisor")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "CD Health — screening" in html
    assert "Aline Uwase (rw-immigration-1)" in html  # who is seated at Counter 1
    assert 'role="alert"' not in html

    with app.app_context():  # T-001 has waited 45 minutes for health
        db.session.execute(update(Ticket).values(queued_at=utcnow() - timedelta(minutes=45)))
        db.session.commit()
        db.session.remove()
    panel = supervisor.get("/live/supervisor/panel").get_data(as_text=True)
    assert 'role="alert"' in panel
    assert "CD Health — screening: waiting up to 45 min, over the 30 min target (1 waiting)." in panel
    monkeypatch.setitem(app.config, "OSBP", app.config["OSBP"].replace(wait_target_minutes=60))
    assert 'role="alert"' not in supervisor.get("/live/supervisor/panel").get_data(as_text=True)


def test_supervisor_can_close_and_open_a_station_from_the_live_view(app, login, station_id):
    supervisor = login("supervisor-1")
    c2 = station_id("C2")
    closed = supervisor.post(f"/live/supervisor/stations/{c2}/close", data={"csrf_token": supervisor.csrf})
    assert closed.status_code == 302 and closed.location == "/live/supervisor"
    with app.app_context():
        assert db.session.get(Station, c2).is_open is False
        db.session.remove()
    assert "Counter 2: Closed." in supervisor.get("/live/supervisor").get_data(as_text=True)
    assert (
        supervisor.post(f"/live/supervisor/stations/{c2}/open", data={"csrf_token": supervisor.csrf}).status_code == 302
    )
    with app.app_context():
        assert db.session.get(Station, c2).is_open is True
        db.session.remove()
    assert (
        supervisor.post(f"/live/supervisor/stations/{c2}/explode", data={"csrf_token": supervisor.csrf}).status_code
        == 404
    )
    assert supervisor.post(f"/live/supervisor/stations/{c2}/close").status_code == 400  # CSRF
