"""The wait estimator (osbp/queues/estimator.py, docs/queues.md) on recorded data: StepEvent rows with known
service times, tickets waiting, officers seated — and the estimates worked out by hand."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from osbp import create_app, events
from osbp.auth.models import User
from osbp.extensions import db
from osbp.post.models import Post
from osbp.queues import estimator
from osbp.queues import operations as queues
from osbp.queues.models import Station, Ticket
from osbp.types import utcnow
from osbp.workflow import operations as workflow
from osbp.workflow.models import StepEvent, StepKind
from tests.conftest import ApiClient, keep_socketio


@pytest.fixture
def hall(app, monkeypatch):
    """An app context on the demo post with helpers to record history and set up the hall."""
    with app.app_context():
        yield Hall(app, monkeypatch)
        db.session.rollback()
        events.discard()
        db.session.remove()


class Hall:
    def __init__(self, app, monkeypatch):
        self.app = app
        self.monkeypatch = monkeypatch
        self.post = db.session.scalar(select(Post))
        self.now = utcnow()

    def configure(self, **changes):
        self.monkeypatch.setitem(self.app.config, "OSBP", self.app.config["OSBP"].replace(**changes))

    def station(self, code) -> Station:
        return db.session.scalar(select(Station).where(Station.code == code))

    def kind(self, code) -> StepKind:
        return db.session.scalar(select(StepKind).where(StepKind.code == code))

    def seat(self, username, station_code):
        queues.take_seat(self.station(station_code), db.session.scalar(select(User).where(User.username == username)))
        db.session.flush()

    def visit(self, station_code, seconds, *, ago_minutes=10, direction="RW-CD", run=1, outcome="cleared"):
        """A past visit: the first ``run`` steps of a new crossing called together at a station ``ago_minutes`` ago;
        the last of them decided (``outcome``) ``seconds`` later, the others after half of that."""
        crossing = workflow.create_crossing(self.post, direction, "traveller", created_by=None)
        db.session.flush()
        station = self.station(station_code)
        called_at = self.now - timedelta(minutes=ago_minutes)
        steps = crossing.steps[:run]
        for index, step in enumerate(steps):
            db.session.add(StepEvent(step_id=step.id, kind="called", at=called_at, station_id=station.id))
            at = seconds if index == len(steps) - 1 else seconds / 2
            db.session.add(
                StepEvent(step_id=step.id, kind=outcome, at=called_at + timedelta(seconds=at), station_id=station.id)
            )
        db.session.flush()
        return crossing

    def issue(self, direction="RW-CD", count=1, **options) -> list[Ticket]:
        return [queues.issue_ticket(self.post, direction, "traveller", **options) for _ in range(count)]

    def times(self):
        return estimator.service_times(self.post.id, now=self.now)

    def waits(self):
        return estimator.queue_waits(self.post.id, now=self.now)


def test_service_time_is_the_median_of_recent_visits(hall):
    for seconds in (60, 120, 180, 240, 600):
        hall.visit("C1", seconds)
    rw_exit = hall.kind("RW-IMM-EXIT").id
    assert hall.times() == {(rw_exit, "primary"): {"seconds": 180, "samples": 5}}


def test_fewer_than_three_visits_use_the_configured_default(hall):
    hall.configure(default_service_seconds=300)
    hall.visit("C1", 30)
    hall.visit("C1", 40)
    assert hall.times()[(hall.kind("RW-IMM-EXIT").id, "primary")] == {"seconds": 300, "samples": 2}


def test_only_the_last_samples_inside_the_window_count(hall):
    hall.configure(wait_samples=3, wait_window_minutes=120)
    hall.visit("C1", 1000, ago_minutes=130)  # outside the two hours
    for ago, seconds in ((50, 900), (40, 100), (30, 200), (20, 300)):  # the oldest of these is beyond the last 3
        hall.visit("C1", seconds, ago_minutes=ago)
    assert hall.times()[(hall.kind("RW-IMM-EXIT").id, "primary")] == {"seconds": 200, "samples": 3}


def test_a_one_stop_visit_lasts_until_the_counters_last_decision(hall):
    # RW exit decided after 45 s, CD entry (same call, same counter) after 90 s: the counter was busy 90 s.
    for _ in range(3):
        hall.visit("C1", 90, run=2)
    rw_exit, cd_entry = hall.kind("RW-IMM-EXIT").id, hall.kind("CD-IMM-ENTRY").id
    times = hall.times()
    assert times[(rw_exit, "primary")] == {"seconds": 90, "samples": 3}
    assert (cd_entry, "primary") not in times


def test_a_referral_ends_the_visit_and_secondary_visits_count_for_secondary(hall):
    for seconds in (100, 200, 300):
        crossing = hall.visit("C1", seconds, outcome="referred")
        step = crossing.steps[0]
        s1 = hall.station("S1")
        called = hall.now - timedelta(minutes=5)
        db.session.add(StepEvent(step_id=step.id, kind="called", at=called, station_id=s1.id))
        db.session.add(StepEvent(step_id=step.id, kind="cleared", at=called + timedelta(seconds=600), station_id=s1.id))
    db.session.flush()
    rw_exit = hall.kind("RW-IMM-EXIT").id
    assert hall.times() == {
        (rw_exit, "primary"): {"seconds": 200, "samples": 3},
        (rw_exit, "secondary"): {"seconds": 600, "samples": 3},
    }


def test_waits_are_position_times_service_time_over_staffed_stations(hall):
    for _ in range(3):
        hall.visit("C1", 120)
    first, second, third, fourth = hall.issue(count=4)
    c1, c2, c3 = hall.station("C1").id, hall.station("C2").id, hall.station("C3").id

    # Nobody seated: no estimate, the queue is unstaffed (screens name the counters instead of minutes).
    assert estimator.ticket_wait(third, now=hall.now) == {
        "position": 3,
        "wait_seconds": None,
        "station_ids": [c1, c2],
        "servers": 0,
        "unstaffed": True,
    }
    assert hall.waits()[c1] == {"length": 4, "wait_seconds": None, "unstaffed": 4}
    # A CD officer does not serve RW exit: C1 is not staffed for that queue yet.
    hall.seat("cd-immigration-1", "C1")
    assert estimator.ticket_wait(first, now=hall.now)["servers"] == 0
    assert estimator.ticket_wait(first, now=hall.now)["unstaffed"] is True
    hall.seat("rw-immigration-1", "C1")
    hall.seat("rw-immigration-2", "C2")
    assert [estimator.ticket_wait(t, now=hall.now)["wait_seconds"] for t in (first, second, third, fourth)] == [
        60,
        120,
        180,
        240,
    ]
    waits = hall.waits()
    assert waits[c1] == waits[c2] == {"length": 4, "wait_seconds": 240, "unstaffed": 0}
    assert waits[c3] == {"length": 0, "wait_seconds": 0, "unstaffed": 0}

    # A paused station does not serve: one server left.
    queues.pause_station(hall.station("C2"), db.session.scalar(select(User).where(User.username == "supervisor-1")))
    assert estimator.ticket_wait(fourth, now=hall.now)["wait_seconds"] == 480


def test_position_counts_everyone_ahead_for_the_same_counters(hall):
    for _ in range(3):
        hall.visit("C1", 100)
    hall.seat("rw-immigration-1", "C1")
    hall.seat("cd-immigration-1", "C1")
    (leaving_cd,) = hall.issue("CD-RW")  # CD exit: also called at C1 and C2
    (leaving_rw,) = hall.issue("RW-CD")
    (urgent,) = hall.issue("RW-CD", priority="pregnant")  # boosted ahead of both
    positions = {t.code: estimator.ticket_wait(t, now=hall.now)["position"] for t in (leaving_cd, leaving_rw, urgent)}
    assert positions == {urgent.code: 1, leaving_cd.code: 2, leaving_rw.code: 3}
    # Its own queue's service time: 100 s for RW exit (recorded), the default 180 s for CD exit (no visits).
    assert estimator.ticket_wait(leaving_rw, now=hall.now)["wait_seconds"] == 300
    assert estimator.ticket_wait(leaving_cd, now=hall.now)["wait_seconds"] == 360


def test_a_transferred_ticket_is_in_its_target_line_only(hall):
    supervisor = db.session.scalar(select(User).where(User.username == "supervisor-1"))
    first, moved = hall.issue(count=2)
    c1, c2 = hall.station("C1"), hall.station("C2")
    queues.transfer(moved, c2, supervisor)
    moved = db.session.get(Ticket, moved.id)
    waits = hall.waits()
    assert waits[c1.id]["length"] == 1 and waits[c2.id]["length"] == 2
    assert estimator.ticket_wait(moved, now=hall.now)["station_ids"] == [c2.id]
    assert estimator.ticket_wait(moved, now=hall.now)["position"] == 2  # `first` may still be called at C2


def test_called_and_finished_tickets(hall):
    hall.seat("rw-immigration-1", "C1")
    officer = db.session.scalar(select(User).where(User.username == "rw-immigration-1"))
    (ticket,) = hall.issue()
    c1 = hall.station("C1")
    queues.call_next(c1, officer)
    ticket = db.session.get(Ticket, ticket.id)
    assert estimator.ticket_wait(ticket) == {
        "position": 0,
        "wait_seconds": 0,
        "station_ids": [c1.id],
        "servers": 1,
        "unstaffed": False,
    }
    ticket.status = "done"
    assert estimator.ticket_wait(ticket)["station_ids"] == []


def test_service_times_are_cached_per_process_for_a_while(hall, monkeypatch):
    monkeypatch.setattr(estimator, "_cache", {})
    monkeypatch.setitem(hall.app.config, "TESTING", False)  # the cache is off under TESTING
    hall.configure(wait_cache_seconds=30)
    rw_exit = (hall.kind("RW-IMM-EXIT").id, "primary")
    for _ in range(3):
        hall.visit("C1", 100)
    assert estimator.service_times(hall.post.id)[rw_exit]["seconds"] == 100
    for _ in range(6):
        hall.visit("C1", 400)
    assert estimator.service_times(hall.post.id)[rw_exit]["seconds"] == 100  # from the cache
    assert estimator.service_times(hall.post.id, now=hall.now)[rw_exit]["seconds"] == 400  # computed
    hall.configure(wait_cache_seconds=0)
    assert estimator.service_times(hall.post.id)[rw_exit]["seconds"] == 400


def test_old_service_times_are_answered_at_once_and_computed_again_in_the_background(hall, monkeypatch):
    monkeypatch.setattr(estimator, "_cache", {})
    monkeypatch.setitem(hall.app.config, "TESTING", False)
    hall.configure(wait_cache_seconds=30)
    rw_exit = (hall.kind("RW-IMM-EXIT").id, "primary")
    for _ in range(3):
        hall.visit("C1", 100)
    db.session.commit()  # the background thread reads with its own connection
    assert estimator.service_times(hall.post.id)[rw_exit]["seconds"] == 100
    for _ in range(6):
        hall.visit("C1", 400)
    db.session.commit()
    ((key, (stamp, value)),) = estimator._cache.items()
    estimator._cache[key] = (stamp - 31, value)  # 31 s later
    started, computing = [], threading.Event()
    refresh, compute = estimator._refresh_in_background, estimator._service_times

    def slow_in_background(post_id, now=None):
        if threading.current_thread().name.startswith("osbp-service-times"):
            computing.wait(10)  # held until the callers below have had their answers
        return compute(post_id, now)

    monkeypatch.setattr(estimator, "_service_times", slow_in_background)
    monkeypatch.setattr(estimator, "_refresh_in_background", lambda *a: started.append(refresh(*a)))
    assert estimator.service_times(hall.post.id)[rw_exit]["seconds"] == 100  # the old figure, without waiting
    assert estimator.service_times(hall.post.id)[rw_exit]["seconds"] == 100
    assert len(started) == 2 and started[0] is not None and started[1] is None  # one refresh at a time
    computing.set()
    started[0].join(10)
    assert estimator.service_times(hall.post.id)[rw_exit]["seconds"] == 400  # computed again meanwhile


CACHE_SECONDS = 2


@pytest.fixture
def deployed(database_url, monkeypatch):
    """The app as a deployment builds it (create_app() reading OSBP_*, as osbp/wsgi.py does) on the test database:
    not TESTING, so service times are cached, for OSBP_WAIT_CACHE_SECONDS. Its process cache starts empty, as a
    newly started server's does."""
    for name in [name for name in os.environ if name.startswith("OSBP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OSBP_ENV", "production")
    monkeypatch.setenv("OSBP_SECRET_KEY", "d" * 40)
    monkeypatch.setenv("OSBP_DATABASE_URL", database_url)
    monkeypatch.setenv("OSBP_WAIT_CACHE_SECONDS", str(CACHE_SECONDS))
    monkeypatch.setattr(estimator, "_cache", {})
    with keep_socketio():
        application = create_app()
        assert not application.testing and application.config["OSBP"].wait_cache_seconds == CACHE_SECONDS
        try:
            yield application
        finally:
            with application.app_context():
                db.session.remove()
                db.engine.dispose()


def test_a_deployment_serves_cached_service_times_for_their_lifetime_then_the_new_ones(hall, deployed):
    """What the supervisor's queue figures show (GET /api/v1/queues) on a deployed app: new visits change the service
    time only once the cache's lifetime is over (then at the latest a moment later, computed in the background),
    while a newly issued ticket shows in the line at once (lines are never cached). Fails if the cache is not used,
    never renewed, or renewed before its time."""
    from osbp.auth.operations import create_token

    rw_exit, c1 = hall.kind("RW-IMM-EXIT").id, hall.station("C1").id
    for _ in range(3):
        hall.visit("C1", 100)
    supervisor = ApiClient(deployed.test_client(), create_token("supervisor-1"))
    db.session.commit()  # the deployed app reads with its own connections

    def figures() -> tuple[int | None, int]:
        response = supervisor.get("/api/v1/queues")
        assert response.status_code == 200, response.get_data(as_text=True)
        service = {(t["step_kind_id"], t["stage"]): t["seconds"] for t in response.json["service_times"]}
        lines = {s["station_id"]: s["length"] for s in response.json["stations"]}
        return service.get((rw_exit, "primary")), lines[c1]

    computed_at = time.monotonic()
    assert figures() == (100, 0)
    for _ in range(6):
        hall.visit("C1", 400)  # the median becomes 400 s
    hall.issue()
    db.session.commit()
    assert figures() == (100, 1)  # service time from the cache, the new ticket at once

    deadline = computed_at + CACHE_SECONDS + 10
    while (seconds := figures()[0]) == 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    renewed_after = time.monotonic() - computed_at
    assert seconds == 400, f"the service time was not computed again {renewed_after:.1f} s later"
    assert renewed_after >= CACHE_SECONDS, f"computed again after {renewed_after:.2f} s, within the cache's lifetime"


def _whole_post_answer(ticket, now) -> dict:
    """ticket_wait() as it was: the ticket's entry in the whole post's estimate."""
    current = estimator.estimate(ticket.post_id, now)
    position, wait, eligible, servers, unstaffed = current.tickets.get(ticket.id, (1, 0, (), 0, False))
    open_ids = [i for i in eligible if i in current.stations and current.stations[i].is_open]
    return {
        "position": position,
        "wait_seconds": wait,
        "station_ids": open_ids,
        "servers": servers,
        "unstaffed": unstaffed,
    }


def test_one_ticket_answer_matches_the_whole_post_estimate(hall):
    """ticket_wait() counts one ticket's place in one query: the same answer as ranking the whole post, for
    overlapping lines (joint counters, a counter serving one kind only), transfers, stages, priorities and ties."""
    import random

    rng = random.Random(7)
    for _ in range(3):
        hall.visit("C1", 120)
        hall.visit("C3", 90)
    kinds = list(db.session.scalars(select(StepKind).where(StepKind.post_id == hall.post.id)))
    solo = Station(post_id=hall.post.id, code="C9", name="Counter 9", stage="primary", is_open=True)
    solo.step_kinds = [next(k for k in kinds if k.agency.kind == "immigration")]
    db.session.add(solo)
    db.session.flush()
    hall.seat("rw-immigration-1", "C1")
    hall.seat("cd-immigration-1", "C2")
    hall.seat("rw-health-1", "C3")
    supervisor = db.session.scalar(select(User).where(User.username == "supervisor-1"))
    queues.pause_station(hall.station("C2"), supervisor)
    hall.station("C5").is_open = False
    stations = list(db.session.scalars(select(Station).where(Station.post_id == hall.post.id)))
    tickets = []
    for _ in range(60):
        (ticket,) = hall.issue(rng.choice(("RW-CD", "CD-RW")), priority=rng.choice((None, None, None, "elderly")))
        roll = rng.random()
        if roll < 0.25:  # a later step of the crossing, at either stage
            ticket.step_kind_id = rng.choice(kinds).id
            ticket.stage = rng.choice(("primary", "secondary"))
        elif roll < 0.4:  # transferred
            ticket.target_station_id = rng.choice(stations).id
        if tickets and rng.random() < 0.15:  # same rank as an earlier ticket: id decides
            ticket.rank_at = rng.choice(tickets).rank_at
        tickets.append(ticket)
    db.session.flush()
    answers = [estimator.ticket_wait(t, now=hall.now) for t in tickets]
    assert answers == [_whole_post_answer(t, hall.now) for t in tickets]
    assert len({a["position"] for a in answers}) > 10 and any(a["servers"] for a in answers)
    assert {a["unstaffed"] for a in answers} == {True, False}  # e.g. CD health: nobody seated


def test_a_ticket_status_costs_the_same_statements_however_long_the_lines(hall):
    from sqlalchemy import event

    hall.seat("rw-immigration-1", "C1")
    statements = []

    def count(*_args):
        statements.append(1)

    def statements_for(ticket):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            estimator.ticket_wait(ticket, now=hall.now)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    (first,) = hall.issue()
    db.session.flush()
    few = statements_for(first)
    *_, last = hall.issue(count=30)
    db.session.flush()
    assert statements_for(last) == few <= 8
