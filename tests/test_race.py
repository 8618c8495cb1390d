"""Concurrency: call-next and ticket numbers under real threads and real commits (no mocks).

Runs on whichever database the session uses (SQLite file by default, PostgreSQL with OSBP_TEST_DATABASE_URL).
Each thread works in its own app context, so it has its own scoped session and connection.
"""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
import traceback
from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text

from osbp import events
from osbp.audit.models import AuditEvent
from osbp.auth.models import User
from osbp.errors import Conflict
from osbp.extensions import db
from osbp.post.models import Agency, Post
from osbp.queues import operations as queues
from osbp.queues.models import Station, Ticket
from tests.conftest import _cached_hash

TICKETS = 60
STATIONS = 8  # C1, C2 and six extra immigration counters, one officer each
JOIN_TIMEOUT = 60


def _post():
    return db.session.get(Post, db.session.scalar(select(Post.id)))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _issue(count: int, category: str = "traveller") -> None:
    post = _post()
    desk = _user("supervisor-1")
    for _ in range(count):
        queues.issue_ticket(post, "RW-CD", category, issued_by=desk)
    db.session.commit()
    events.discard()


def _immigration_counters(count: int) -> list[tuple[int, int]]:
    """(station id, officer id) pairs: C1, C2 and extra RW-immigration-capable counters, one seated officer each."""
    post = _post()
    agency = db.session.scalar(select(Agency).where(Agency.post_id == post.id, Agency.code == "RW-IMM"))
    c1 = db.session.scalar(select(Station).where(Station.post_id == post.id, Station.code == "C1"))
    kinds = list(c1.step_kinds)
    assert "RW-IMM-EXIT" in {k.code for k in kinds}
    stations = [c1, db.session.scalar(select(Station).where(Station.post_id == post.id, Station.code == "C2"))]
    officers = [_user("rw-immigration-1"), _user("rw-immigration-2")]
    for n in range(len(stations) + 1, count + 1):
        station = Station(post_id=post.id, code=f"R{n}", name=f"Race counter {n}", stage="primary", is_open=True)
        station.step_kinds = kinds
        officer = User(
            post_id=post.id,
            username=f"rw-race-{n}",
            full_name=f"Race officer {n}",
            role="officer",
            agency_id=agency.id,
            password_hash=_cached_hash("race-officer-password"),
        )
        db.session.add_all([station, officer])
        stations.append(station)
        officers.append(officer)
    db.session.flush()
    for station, officer in zip(stations, officers, strict=True):
        queues.take_seat(station, officer)
    db.session.commit()
    return [(s.id, o.id) for s, o in zip(stations, officers, strict=True)]


def db_name(app) -> str:
    return "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"


@contextmanager
def _timed_claims(engine):
    """Wall time of each claiming UPDATE … RETURNING as the driver runs it (lock waits included)."""
    durations: list[float] = []

    def before(conn, _cursor, statement, *_args):
        if statement.startswith("UPDATE tickets SET status") and "RETURNING" in statement:
            conn.info["claim_started"] = time.perf_counter()

    def after(conn, *_args):
        started = conn.info.pop("claim_started", None)
        if started is not None:
            durations.append(time.perf_counter() - started)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield durations
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _run_threads(targets, timeout: float = JOIN_TIMEOUT) -> list[str]:
    """Start one thread per target, return the formatted tracebacks of those that failed."""
    errors: list[str] = []

    def guarded(target):
        try:
            target()
        except BaseException:  # noqa: BLE001 (reported to the main thread)
            errors.append(f"{threading.current_thread().name}:\n{traceback.format_exc()}")

    threads = [threading.Thread(target=guarded, args=(t,), name=f"racer-{i}") for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running after {timeout} s (deadlock?): {stuck}"
    return errors


class LockWait:
    """The first transaction keeps its locks until the second is seen waiting on them: no sleep-and-hope.

    PostgreSQL: the second's backend shows ``wait_event_type = 'Lock'`` in pg_stat_activity and
    ``pg_blocking_pids()`` names the first's backend. SQLite (one writer at a time): the second thread is inside a
    writing statement while the first still holds the write lock (a probe's ``BEGIN IMMEDIATE`` finds it locked),
    and that statement ends only after the first committed.

    First thread: its action, then ``first()``, then ``wait_for_second()``, then ``committing()`` and commit.
    Second thread: ``held.wait()``, ``second()``, then its action. After both: ``assert_waited()``.
    """

    TIMEOUT = 10.0

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.postgres = self.engine.dialect.name == "postgresql"
        self.held = threading.Event()  # the first holds its locks
        self.second_ready = threading.Event()
        self.second_thread: int | None = None
        self.pids: dict[str, int] = {}
        self.write_started = threading.Event()  # SQLite: the second entered its first writing statement
        self.write_ended: float | None = None
        self.committed: float | None = None
        self.seen = ""

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        event.listen(self.engine, "handle_error", self._failed)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        event.remove(self.engine, "handle_error", self._failed)

    def _before(self, conn, _cursor, statement, *_args):
        writing = statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
        if writing and threading.get_ident() == self.second_thread and not self.write_started.is_set():
            conn.info["lock_wait_watched"] = True
            self.write_started.set()

    def _after(self, conn, *_args):
        if conn.info.pop("lock_wait_watched", False):
            self.write_ended = time.perf_counter()

    def _failed(self, context):  # the second's statement may end in an error (a unique-index collision)
        if context.connection is not None:
            self._after(context.connection)

    def _backend_pid(self) -> int | None:
        if not self.postgres:
            return None
        return db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()

    def first(self) -> None:
        self.pids["first"] = self._backend_pid()
        self.held.set()

    def second(self) -> None:
        assert self.held.wait(self.TIMEOUT), "the first transaction never took its locks"
        self.second_thread = threading.get_ident()
        self.pids["second"] = self._backend_pid()
        self.second_ready.set()

    def wait_for_second(self) -> None:
        """Return once the second is seen waiting on this transaction's lock; fail if it never is."""
        assert self.second_ready.wait(self.TIMEOUT), "the second transaction never started"
        if self.postgres:
            self._wait_in_pg_stat_activity()
        else:
            self._wait_on_the_sqlite_write_lock()

    def _wait_in_pg_stat_activity(self) -> None:
        query = text(
            "SELECT wait_event_type, wait_event, :first = ANY(pg_blocking_pids(pid)), query"
            " FROM pg_stat_activity WHERE pid = :second"
        )
        deadline = time.monotonic() + self.TIMEOUT
        with self.engine.connect() as probe:
            while True:
                row = probe.execute(query, self.pids).one_or_none()
                probe.rollback()  # a fresh pg_stat_activity snapshot on every look
                if row is not None and row[0] == "Lock" and row[2]:
                    self.seen = f"backend {self.pids['second']} waits on {row[0]}/{row[1]} held by {self.pids['first']}"
                    return
                assert time.monotonic() < deadline, f"the second transaction never waited on the first's lock: {row}"
                time.sleep(0.005)

    def _wait_on_the_sqlite_write_lock(self) -> None:
        assert self.write_started.wait(self.TIMEOUT), "the second transaction never reached a writing statement"
        probe = sqlite3.connect(self.engine.url.database, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            locked = False
        except sqlite3.OperationalError as error:
            locked = "locked" in str(error)
        finally:
            probe.close()
        assert locked, "the first transaction does not hold the SQLite write lock"
        assert self.write_ended is None, "the second's writing statement did not wait for the first's write lock"
        self.seen = "the second's writing statement is running while the first holds the write lock"

    def committing(self) -> None:
        self.committed = time.perf_counter()

    def assert_waited(self) -> None:
        assert self.seen, "the second transaction was never seen waiting"
        if not self.postgres:
            assert self.write_ended is not None and self.committed is not None
            assert self.write_ended > self.committed, "the second's write ended before the first committed"


@pytest.mark.parametrize("shortlist", [queues.SHORTLIST_PER_KIND, 1], ids=["shortlist", "shortlist-of-one"])
def test_call_next_hands_each_ticket_to_exactly_one_counter(app, demo_post, monkeypatch, shortlist):
    # A shortlist of one ticket per kind (PostgreSQL) makes racing counters find it taken and fall back to the
    # whole line: still every ticket exactly once, in order.
    monkeypatch.setattr(queues, "SHORTLIST_PER_KIND", shortlist)
    with app.app_context():
        _issue(TICKETS)
        seats = _immigration_counters(STATIONS)
        waiting = db.session.scalar(select(func.count(Ticket.id)).where(Ticket.status == "waiting"))
        assert waiting == TICKETS
        db.session.remove()

    barrier = threading.Barrier(len(seats) + 1)
    calls: list[tuple[str, int, str, int]] = []  # (thread, ticket id, ticket code, station id), in call order
    busy_seconds: list[float] = []

    def counter(station_id: int, officer_id: int):
        def run():
            with app.app_context():
                mine: list[tuple[str, int, str, int]] = []
                spent = 0.0
                try:
                    barrier.wait()
                    while True:
                        station = db.session.get(Station, station_id)
                        officer = db.session.get(User, officer_id)
                        started = time.perf_counter()
                        called = queues.call_next(station, officer)
                        if called is None:
                            db.session.rollback()
                            break
                        ticket, _steps = called
                        db.session.commit()
                        spent += time.perf_counter() - started
                        events.discard()
                        mine.append((threading.current_thread().name, ticket.id, ticket.code, station_id))
                        # Finish: the ticket leaves the counter without going back to any waiting queue.
                        ticket.status = "done"
                        ticket.station_id = None
                        ticket.step_kind_id = None
                        db.session.commit()
                finally:
                    calls.extend(mine)
                    busy_seconds.append(spent)
                    db.session.remove()

        return run

    targets = [counter(station_id, officer_id) for station_id, officer_id in seats]
    # The main thread is the last party at the barrier, so every counter starts together.
    timer: dict[str, float] = {}

    def release():
        barrier.wait()
        timer["start"] = time.perf_counter()

    with app.app_context():
        engine = db.engine
    with _timed_claims(engine) as claim_seconds:
        errors = _run_threads([*targets, release])
        elapsed = time.perf_counter() - timer.get("start", time.perf_counter())
    assert not errors, "\n".join(errors)

    ids = Counter(ticket_id for _, ticket_id, _, _ in calls)
    duplicates = {ticket_id: n for ticket_id, n in ids.items() if n > 1}
    assert not duplicates, f"tickets called more than once (id: times): {duplicates}; calls: {calls}"
    with app.app_context():
        all_ids = set(db.session.scalars(select(Ticket.id)))
        statuses = Counter(db.session.scalars(select(Ticket.status)))
        called_audits = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "ticket.called"))
        db.session.remove()
    lost = all_ids - set(ids)
    assert not lost, f"tickets never called: {sorted(lost)}"
    assert len(calls) == TICKETS, f"{len(calls)} calls for {TICKETS} tickets"
    assert statuses == {"done": TICKETS}, statuses
    assert called_audits == TICKETS
    per_station = Counter(station_id for *_, station_id in calls)
    assert len(per_station) > 1, f"one counter took every ticket, the race did not happen: {per_station}"

    # Each counter always takes the longest-waiting ticket: its own calls come in queue order.
    by_thread: dict[str, list[int]] = {}
    for name, ticket_id, _, _ in calls:
        by_thread.setdefault(name, []).append(ticket_id)
    for name, taken in by_thread.items():
        assert taken == sorted(taken), f"{name} took tickets out of queue order: {taken}"

    in_call = sum(busy_seconds)
    claims_ms = sorted(1000 * d for d in claim_seconds)
    print(
        f"\n[{db_name(app)}] {len(calls)} call-next by {len(seats)} racing counters in {elapsed:.2f} s: "
        f"{len(calls) / elapsed:.0f} call-next/s overall (each then finishes its ticket in a second commit); "
        f"call_next() + commit {1000 * in_call / len(calls):.1f} ms mean; "
        f"claim UPDATE … RETURNING ({len(claims_ms)} runs, lock waits included) "
        f"median {statistics.median(claims_ms):.2f} ms, max {claims_ms[-1]:.1f} ms; per counter {dict(per_station)}"
    )


def test_ticket_numbers_race_from_the_first_ticket_of_the_day(app, demo_post):
    threads, per_thread = 8, 10
    barrier = threading.Barrier(threads)
    codes: list[str] = []

    def issuer():
        with app.app_context():
            mine: list[str] = []
            try:
                post = _post()
                desk = _user("supervisor-1")
                barrier.wait()
                for _ in range(per_thread):
                    ticket = queues.issue_ticket(post, "RW-CD", "trader", issued_by=desk)
                    db.session.commit()
                    events.discard()
                    mine.append(ticket.code)
            finally:
                codes.extend(mine)
                db.session.remove()

    errors = _run_threads([issuer] * threads)
    assert not errors, "\n".join(errors)
    total = threads * per_thread
    duplicates = {code: n for code, n in Counter(codes).items() if n > 1}
    assert not duplicates, f"duplicate ticket codes: {duplicates}"
    expected = [f"T-{n:03d}" for n in range(1, total + 1)]
    assert sorted(codes) == expected, (
        f"missing: {sorted(set(expected) - set(codes))}; extra: {set(codes) - set(expected)}"
    )
    with app.app_context():
        stored = sorted(db.session.scalars(select(Ticket.code)))
        db.session.remove()
    assert stored == expected


def test_two_officers_at_one_station_only_one_ticket_is_called(app, demo_post):
    """Officer A's call is not committed yet when officer B presses Call next at the same counter.

    B passes the "station busy?" check (A's ticket is invisible to B), then its UPDATE waits for A (SQLite write lock,
    PostgreSQL unique-index entry) and collides with uq_tickets_called_station once A commits. B must get a clean
    Conflict, not an IntegrityError.
    """
    with app.app_context():
        _issue(3)
        c1 = db.session.scalar(select(Station.id).where(Station.code == "C1"))
        station = db.session.get(Station, c1)
        queues.take_seat(station, _user("rw-immigration-1"))
        queues.take_seat(station, _user("rw-immigration-2"))
        db.session.commit()
        db.session.remove()

    lock = LockWait(app)
    outcome: dict[str, object] = {}

    def officer_a():
        with app.app_context():
            try:
                called = queues.call_next(db.session.get(Station, c1), _user("rw-immigration-1"))
                outcome["a"] = called[0].code if called else None
                lock.first()
                lock.wait_for_second()  # B reached its UPDATE and waits for us
                lock.committing()
                db.session.commit()
            finally:
                lock.held.set()
                db.session.remove()

    def officer_b():
        with app.app_context():
            try:
                lock.second()
                try:
                    called = queues.call_next(db.session.get(Station, c1), _user("rw-immigration-2"))
                    outcome["b"] = called[0].code if called else None
                    db.session.commit()
                except Conflict as error:
                    outcome["b"] = error
                    db.session.rollback()
            finally:
                db.session.remove()

    with lock:
        errors = _run_threads([officer_a, officer_b])
    assert not errors, "\n".join(errors)
    lock.assert_waited()
    assert outcome["a"] == "P-001"
    assert isinstance(outcome["b"], Conflict), f"officer B got {outcome['b']!r} instead of a Conflict"
    assert outcome["b"].code == "station_busy"
    with app.app_context():
        called = list(db.session.scalars(select(Ticket.code).where(Ticket.status == "called")))
        waiting = db.session.scalar(select(func.count(Ticket.id)).where(Ticket.status == "waiting"))
        db.session.remove()
    assert called == ["P-001"]
    assert waiting == 2


def test_simultaneous_call_next_at_one_station_over_the_api(app, api, station_id):
    """Two officers of one counter press Call next together: one 200, one 409 station_busy, never a 500."""
    with app.app_context():
        _issue(6)
        db.session.remove()
    c1 = station_id("C1")
    clients = [api("rw-immigration-1"), api("rw-immigration-2")]
    for client in clients:
        assert client.post(f"/api/v1/stations/{c1}/seat").status_code == 200

    for round_ in range(3):
        barrier = threading.Barrier(len(clients))
        responses = {}

        def press(client, name, barrier=barrier, responses=responses):
            def run():
                barrier.wait()
                response = client.post(f"/api/v1/stations/{c1}/call-next")
                responses[name] = (response.status_code, response.get_json())

            return run

        errors = _run_threads([press(c, f"officer-{i}") for i, c in enumerate(clients)])
        assert not errors, "\n".join(errors)
        statuses = sorted(status for status, _ in responses.values())
        assert statuses == [200, 409], f"round {round_}: {responses}"
        refused = next(body for status, body in responses.values() if status == 409)
        assert refused["error"]["code"] == "station_busy", refused
        with app.app_context():
            called = list(db.session.scalars(select(Ticket).where(Ticket.station_id == c1, Ticket.status == "called")))
            assert len(called) == 1, [t.code for t in called]
            called[0].status = "done"
            called[0].station_id = None
            db.session.commit()
            db.session.remove()


def test_call_next_with_priorities_and_transfers_hands_each_ticket_to_exactly_one_counter(app, demo_post):
    """Racing counters while some tickets carry a priority and some were transferred to one counter: every ticket is
    called exactly once, a transferred ticket only by its target, and each counter takes its line in rank order."""
    with app.app_context():
        post = _post()
        desk = _user("supervisor-1")
        seats = _immigration_counters(STATIONS)
        for n in range(TICKETS):
            queues.issue_ticket(post, "RW-CD", "traveller", issued_by=desk, priority="elderly" if n % 5 == 0 else None)
        db.session.flush()
        targets = {}
        for n, ticket in enumerate(db.session.scalars(select(Ticket).order_by(Ticket.id))):
            if n % 7 == 3:
                station_id = seats[n % len(seats)][0]
                queues.transfer(ticket, db.session.get(Station, station_id), desk)
                targets[ticket.id] = station_id
        db.session.commit()
        events.discard()
        ranks = {t.id: (t.rank_at, t.id) for t in db.session.scalars(select(Ticket))}
        db.session.remove()
    assert len(targets) >= 8

    barrier = threading.Barrier(len(seats))
    calls: list[tuple[int, int]] = []  # (station id, ticket id)

    def counter(station_id: int, officer_id: int):
        def run():
            with app.app_context():
                mine = []
                try:
                    barrier.wait()
                    while True:
                        called = queues.call_next(db.session.get(Station, station_id), db.session.get(User, officer_id))
                        if called is None:
                            db.session.rollback()
                            break
                        ticket = called[0]
                        db.session.commit()
                        events.discard()
                        mine.append((station_id, ticket.id))
                        ticket.status, ticket.station_id, ticket.step_kind_id = "done", None, None
                        db.session.commit()
                finally:
                    calls.extend(mine)
                    db.session.remove()

        return run

    errors = _run_threads([counter(s, o) for s, o in seats])
    assert not errors, "\n".join(errors)
    taken = Counter(ticket_id for _, ticket_id in calls)
    assert not {t: n for t, n in taken.items() if n > 1}, f"tickets called more than once: {taken.most_common(3)}"
    assert len(taken) == TICKETS
    wrong = {t: s for s, t in calls if t in targets and targets[t] != s}
    assert not wrong, f"transferred tickets called by another station: {wrong}"
    by_station: dict[int, list] = {}
    for station_id, ticket_id in calls:
        by_station.setdefault(station_id, []).append(ranks[ticket_id])
    for station_id, line in by_station.items():
        assert line == sorted(line), f"station {station_id} took its line out of rank order"


def _hold_then_commit(app, action, lock: LockWait, outcome: dict, key: str):
    """Run ``action`` (which takes its row locks), keep the locks until the other side is seen waiting, then commit."""

    def run():
        with app.app_context():
            try:
                outcome[key] = action()
                lock.first()
                lock.wait_for_second()
                lock.committing()
                db.session.commit()
                events.discard()
            finally:
                lock.held.set()
                db.session.remove()

    return run


def _second(app, action, lock: LockWait, outcome: dict, key: str):
    def run():
        with app.app_context():
            try:
                lock.second()
                try:
                    outcome[key] = action()
                    db.session.commit()
                except Conflict as error:
                    outcome[key] = error
                    db.session.rollback()
                events.discard()
            finally:
                db.session.remove()

    return run


def test_a_transfer_and_a_decision_on_one_ticket_never_interleave(app, demo_post):
    """The supervisor transfers the ticket called at C1 while the officer there decides its step: the decision waits
    for the transfer's ticket lock, then finds the step back in a queue and refuses — never a half-moved crossing."""
    with app.app_context():
        _issue(1)
        c1 = db.session.scalar(select(Station.id).where(Station.code == "C1"))
        c2 = db.session.scalar(select(Station.id).where(Station.code == "C2"))
        officer = _user("rw-immigration-1")
        queues.take_seat(db.session.get(Station, c1), officer)
        ticket, steps = queues.call_next(db.session.get(Station, c1), officer)
        step_id = steps[0].id
        db.session.commit()
        events.discard()
        db.session.remove()

    lock, outcome = LockWait(app), {}

    def transfer():
        ticket = db.session.scalar(select(Ticket))
        return queues.transfer(ticket, db.session.get(Station, c2), _user("supervisor-1")).code

    def decide():
        from osbp.workflow import operations as workflow

        return queues.decide_step(workflow.get_step(step_id), _user("rw-immigration-1"), "refused", "no visa").status

    with lock:
        errors = _run_threads(
            [_hold_then_commit(app, transfer, lock, outcome, "transfer"), _second(app, decide, lock, outcome, "decide")]
        )
    assert not errors, "\n".join(errors)
    lock.assert_waited()
    assert outcome["transfer"] == "P-001"
    assert isinstance(outcome["decide"], Conflict), outcome["decide"]
    assert outcome["decide"].code == "step_not_called"
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert (ticket.status, ticket.target_station_id, ticket.crossing.status) == ("waiting", c2, "in_progress")
        assert [s.status for s in ticket.crossing.steps] == ["waiting", "pending", "pending"]
        db.session.remove()


def test_closing_a_station_and_calling_there_never_interleave(app, demo_post):
    """A supervisor closes C1 while its officer presses Call next: the call waits and finds the station closed."""
    with app.app_context():
        _issue(2)
        c1 = db.session.scalar(select(Station.id).where(Station.code == "C1"))
        queues.take_seat(db.session.get(Station, c1), _user("rw-immigration-1"))
        db.session.commit()
        db.session.remove()

    lock, outcome = LockWait(app), {}

    def close():
        return queues.close_station(db.session.get(Station, c1), _user("supervisor-1"))[0].state

    def call():
        return queues.call_next(db.session.get(Station, c1), _user("rw-immigration-1"))

    with lock:
        errors = _run_threads(
            [_hold_then_commit(app, close, lock, outcome, "close"), _second(app, call, lock, outcome, "call")]
        )
    assert not errors, "\n".join(errors)
    lock.assert_waited()
    assert outcome["close"] == "closed"
    assert isinstance(outcome["call"], Conflict), outcome["call"]
    assert outcome["call"].code == "station_closed"
    with app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id)).where(Ticket.status == "called")) == 0
        db.session.remove()
