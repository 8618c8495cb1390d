"""The live sequence (osbp/sequence.py, osbp/events.py) and the message queue's resync (osbp/message_queue.py).

- Every committed request that publishes events for a post takes the post's next number; its events carry it, and
  the post's staff and board rooms each see every number (a ``sync`` marker when no event of the request reached
  them), so a page can tell a missed event from one it was not meant to see.
- Every snapshot endpoint (board, kiosk status, counter live parts, supervisor panel, and the pages themselves)
  carries the number read before its state: after a change, the number of that change's events.
- The Redis manager retries at most every second after a loss, and on its return tells every local socket to
  ``resync``; a publish that failed makes the next successful one ask the other instances to resync too.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from osbp.extensions import db, socketio
from osbp.message_queue import RESYNC_EVENT, RETRY_MAX_SECONDS, ResyncingRedisManager
from osbp.sequence import LiveSequence
from tests.test_live import device_client, through_counter_one

SEQ_ATTRIBUTE = re.compile(r'data-seq="(\d+)"')


def messages(socket_client) -> list[dict]:
    return [m["args"][0] for m in socket_client.get_received() if m["name"] == "event"]


def numbers(received: list[dict]) -> list[int]:
    return sorted({m["seq"] for m in received if "seq" in m})


def stored_seq(app) -> int:
    with app.app_context():
        seq = db.session.scalar(select(LiveSequence.seq))
        db.session.remove()
    return seq


# -- numbers on events ------------------------------------------------------------------------------------------------


def test_every_event_carries_its_posts_number_and_each_page_sees_every_number(app, login, api, station_id):
    board = socketio.test_client(app, flask_test_client=device_client(app, "board"))
    staff = socketio.test_client(app, flask_test_client=login("rw-immigration-2"))  # post room, no station
    through_counter_one(api, station_id)  # issue, seat ×2, call, identity, two decisions: 7 requests
    to_board, to_staff = messages(board), messages(staff)

    last = stored_seq(app)
    assert last >= 7
    # Every message of a post carries a number; the board and the staff each saw every one of them, in one
    # request's events the same number (identity.recorded and step.decided go to the station only: a sync each).
    for received in (to_board, to_staff):
        assert all(isinstance(m.get("seq"), int) for m in received), received
        assert numbers(received) == list(range(numbers(received)[0], last + 1))
    assert any(m["type"] == "sync" and m["data"] == {} for m in to_board)
    called = [m for m in to_board if m["type"] == "ticket.called"]
    assert len(called) == 1
    assert "sync" not in {m["type"] for m in to_board if m["seq"] == called[0]["seq"]}  # the event itself carried it
    board.disconnect()
    staff.disconnect()


def test_a_failed_request_takes_no_number(app, api, station_id):
    board = socketio.test_client(app, flask_test_client=device_client(app, "board"))
    desk, officer = api("supervisor-1"), api("rw-immigration-1")
    c1 = station_id("C1")
    assert officer.post(f"/api/v1/stations/{c1}/seat").status_code == 200
    before = stored_seq(app)
    assert officer.post(f"/api/v1/stations/{c1 + 999}/call-next").status_code == 404
    assert officer.post(f"/api/v1/stations/{c1}/call-next").status_code in (200, 204)  # nobody waits: no event
    assert stored_seq(app) == before
    assert desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"}).status_code == 201
    assert stored_seq(app) == before + 1
    assert numbers(messages(board))[-1] == before + 1
    board.disconnect()


# -- numbers on snapshots ---------------------------------------------------------------------------------------------


def test_every_snapshot_carries_the_number_of_the_last_change(app, login, api, station_id):
    board_client = device_client(app, "board")
    kiosk_client = device_client(app, "kiosk")
    board = socketio.test_client(app, flask_test_client=board_client)
    officers = through_counter_one(api, station_id)
    last = numbers(messages(board))[-1]
    assert last == stored_seq(app)

    snapshot = board_client.get("/api/v1/board")
    assert snapshot.status_code == 200
    assert snapshot.json["seq"] == last
    assert SEQ_ATTRIBUTE.search(board_client.get("/live/board").get_data(as_text=True)) is None  # JSON, not attribute
    assert f'"seq": {last}' in board_client.get("/live/board").get_data(as_text=True)

    status = kiosk_client.get("/api/v1/tickets/T-001/status")
    assert status.status_code == 200
    assert status.json["seq"] == last

    supervisor = login("supervisor-1")
    panel = supervisor.get("/live/supervisor/panel")
    assert panel.status_code == 200
    assert panel.headers["X-OSBP-Seq"] == str(last)
    page = supervisor.get("/live/supervisor").get_data(as_text=True)
    assert SEQ_ATTRIBUTE.search(page)[1] == str(last)

    # The counter page of an officer seated at Counter 1: its live parts and the page itself.
    officer = login("rw-immigration-2")
    c2 = station_id("C2")
    assert officer.post(f"/api/v1/stations/{c2}/seat", headers={"X-CSRFToken": officer.csrf}).status_code == 200
    seated = stored_seq(app)
    assert seated == last + 1  # sitting down is a change of the post (station.seats_changed)
    live = officer.get(f"/counters/{c2}/live")
    assert live.status_code == 200
    assert live.json["seq"] == seated
    assert SEQ_ATTRIBUTE.search(officer.get(f"/counters/{c2}").get_data(as_text=True))[1] == str(seated)
    assert officers
    board.disconnect()


# -- the message queue manager ------------------------------------------------------------------------------------------


class FakeServer:
    def __init__(self):
        self.emitted = []

    def emit(self, event, data, **options):
        self.emitted.append((event, data, options))


class Broken(Exception):
    pass


class FakePubSub:
    def __init__(self, script):
        self.script = script  # what listen() does: a list of messages, or an exception to raise

    def subscribe(self, channel):
        pass

    def listen(self):
        if isinstance(self.script, Exception):
            raise self.script
        yield from self.script

    def close(self):
        pass


def test_the_listener_retries_within_a_second_and_resyncs_its_sockets_when_the_queue_returns(monkeypatch):
    manager = ResyncingRedisManager("redis://127.0.0.1:1/0", channel="osbp-test")
    manager.server = FakeServer()
    # connect 1: subscribed, then the connection breaks; connects 2–9: Redis is down; connect 10: back.
    outcomes = [FakePubSub(Broken("connection reset"))] + [Broken("refused")] * 8 + [FakePubSub([{"data": b"x"}])]
    sleeps = []

    def connect():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        manager.pubsub, manager.redis = outcome, None

    monkeypatch.setattr(manager, "_redis_connect", connect)
    monkeypatch.setattr("osbp.message_queue.time.sleep", sleeps.append)
    listening = manager._redis_listen_with_retries()
    assert next(listening) == {"data": b"x"}  # the first message after the return
    assert manager.losses == 1
    assert manager.queue_up
    assert len(sleeps) == 9
    assert max(sleeps) <= RETRY_MAX_SECONDS  # python-socketio's own: 1, 2, 4 … 60 s
    assert sleeps[-1] == RETRY_MAX_SECONDS
    assert manager.server.emitted == [
        (RESYNC_EVENT, {"reason": "message_queue"}, {"namespace": "/", "ignore_queue": True})
    ]


class FakePublisher:
    def __init__(self, failures: int):
        self.failures = failures
        self.published = []

    def publish(self, channel, payload):
        if self.failures:
            self.failures -= 1
            raise Broken("refused")
        self.published.append(payload)
        return 1


def test_after_a_failed_publish_the_next_one_asks_every_other_instance_to_resync(monkeypatch):
    manager = ResyncingRedisManager("redis://127.0.0.1:1/0", channel="osbp-test")
    publisher = FakePublisher(failures=2)
    monkeypatch.setattr(manager, "_publisher", lambda: publisher)
    event = {"method": "emit", "event": "event", "data": [{"type": "ticket.called"}], "host_id": manager.host_id}
    assert manager._publish(event) is None  # two attempts, both refused: given up
    assert publisher.published == []
    assert manager._publish(event) == 1
    sent = [manager.json.loads(payload) for payload in publisher.published]
    assert [m["event"] for m in sent] == ["event", RESYNC_EVENT]
    assert sent[1]["room"] is None and sent[1]["host_id"] == manager.host_id  # every socket of the other hosts
    assert manager._publish(event) == 1
    assert len(publisher.published) == 3  # no resync once the queue works again


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://example.invalid:6380/0"])
def test_the_manager_bounds_its_connections(url):
    manager = ResyncingRedisManager(url, channel="osbp-test")
    assert manager.redis_options["socket_connect_timeout"] <= 1
    assert manager.redis_options["retry"].get_retries() == 0  # no silent reconnection inside redis-py
