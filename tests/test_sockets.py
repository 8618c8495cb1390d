"""Socket.IO: anonymous connections are refused; an officer's socket receives events only after commit."""

from __future__ import annotations

from osbp.extensions import socketio


def test_anonymous_socket_is_refused(app):
    client = socketio.test_client(app, flask_test_client=app.test_client())
    assert not client.is_connected()


def test_officer_socket_gets_ticket_called_after_commit(app, login, api, station_id):
    officer = login("rw-immigration-1")
    live = socketio.test_client(app, flask_test_client=officer)
    assert live.is_connected()
    desk = api("supervisor-1")
    c1 = station_id("C1")
    seat = officer.post(f"/api/v1/stations/{c1}/seat", headers={"X-CSRFToken": officer.csrf})
    assert seat.status_code == 200
    desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"})
    live.get_received()  # drop the ticket.issued event

    failed = officer.post(f"/api/v1/stations/{c1 + 999}/call-next", headers={"X-CSRFToken": officer.csrf})
    assert failed.status_code == 404
    assert live.get_received() == []  # nothing leaves a failed request

    called = officer.post(f"/api/v1/stations/{c1}/call-next", headers={"X-CSRFToken": officer.csrf})
    assert called.status_code == 200
    received = [m["args"][0] for m in live.get_received() if m["name"] == "event"]
    received = [{k: v for k, v in m.items() if k != "seq"} for m in received]  # the live number: test_live_sequence
    assert {"type": "ticket.called", "data": {"code": "T-001", "station": "Counter 1", "station_id": c1}} in received
    live.disconnect()


def test_logout_disconnects_the_users_sockets(app, login):
    officer = login("rw-immigration-1")
    live = socketio.test_client(app, flask_test_client=officer)
    other = socketio.test_client(app, flask_test_client=login("cd-immigration-1"))
    assert live.is_connected() and other.is_connected()
    response = officer.post("/logout", data={"csrf_token": officer.csrf})
    assert response.status_code == 302
    assert not live.is_connected()
    assert other.is_connected()  # only that user's sockets
    other.disconnect()


def test_idle_session_cannot_open_a_socket(app, login):
    officer = login("rw-immigration-1")
    with officer.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    live = socketio.test_client(app, flask_test_client=officer)
    assert not live.is_connected()


def test_a_supervisor_in_several_rooms_gets_each_event_once(app, login, api, station_id):
    # A supervisor's socket is in the post room and the supervisor room; a recall goes to both rooms.
    supervisor = socketio.test_client(app, flask_test_client=login("supervisor-1"))
    assert supervisor.is_connected()
    officer = api("rw-immigration-1")
    c1 = station_id("C1")
    assert officer.post(f"/api/v1/stations/{c1}/seat").status_code == 200
    assert (
        api("supervisor-1").post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"}).status_code
        == 201
    )
    assert officer.post(f"/api/v1/stations/{c1}/call-next").status_code == 200
    supervisor.get_received()
    assert officer.post(f"/api/v1/stations/{c1}/recall").status_code == 200
    kinds = [m["args"][0]["type"] for m in supervisor.get_received() if m["name"] == "event"]
    assert kinds.count("ticket.recalled") == 1, kinds
    supervisor.disconnect()
