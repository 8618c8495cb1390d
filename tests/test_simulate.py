"""The traffic simulator (osbp/bilateral/simulate.py).

Scenarios run through the REAL operations (tickets, seats, call-next, recall, no-show, decisions, referral and
secondary inspection, refusal, gate-out) and through the simulator's scripted plans must leave rows of the same
shape: statuses, which columns are NULL, who did what at which station, the StepEvent kinds and detail keys in
order, ticket codes. Then a simulated run (2 days × 300) must be deterministic, refuse production, and look like a
border post: its volume, peaks, referral rate, waits growing at the peaks, every step decided by an officer seated
at that station, one ticket at a station at a time.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from osbp.agencies.immigration import operations as immigration
from osbp.agencies.immigration.models import TravellerIdentity
from osbp.auth.models import User
from osbp.bilateral import sim_arrivals, sim_hall
from osbp.bilateral.sim_context import load_context
from osbp.bilateral.sim_staffing import plan_staffing
from osbp.bilateral.simulate import IDENTITY, Plan, simulate, simulate_command, write_plans
from osbp.extensions import db
from osbp.post.models import Post
from osbp.queues import operations as queues
from osbp.queues.models import Seat, Station, Ticket, TicketCounter
from osbp.workflow import operations as workflow
from osbp.workflow.models import Crossing, Step, StepEvent

# -- scenarios -------------------------------------------------------------------------------------------------------
# RW-CD: 1 RW immigration exit, 2 CD immigration entry (Counter 1/2), 3 CD health (Counter 3),
#        4 RW customs export, 5 CD customs import (Counter 4/5); residents stop after 2, travellers after 3.

THREE_RECALLS = [("recall",)] * 3
EXIT_AND_ENTRY = [("call", "C1"), ("identity",), ("decide", 1, "cleared"), ("decide", 2, "cleared")]

FINISHED = {
    "cleared, gate-out": Plan(
        "RW-CD",
        "traveller",
        [*EXIT_AND_ENTRY, ("call", "C3"), ("decide", 3, "cleared"), ("gate_out",)],
        channel="kiosk",
    ),
    "referred at import, cleared in secondary": Plan(
        "CD-RW",
        "trader",
        [
            ("call", "C1"),
            ("identity",),
            ("decide", 1, "cleared"),
            ("start", 2),
            ("decide", 2, "cleared"),
            ("call", "C3"),
            ("decide", 3, "cleared"),
            ("call", "C4"),
            ("decide", 4, "cleared"),
            ("start", 5),
            ("decide", 5, "referred", "Goods inspection"),
            ("call", "S3"),
            ("start", 5),
            ("decide", 5, "cleared"),
            ("gate_out",),
        ],
    ),
    "referred at exit, entry returned, priority": Plan(
        "RW-CD",
        "resident",
        [
            ("call", "C1"),
            ("identity",),
            ("decide", 1, "referred", "Document check"),
            ("call", "S1"),
            ("decide", 1, "cleared"),
            ("call", "C1"),
            ("decide", 2, "cleared"),
        ],
        priority="elderly",
    ),
    "refused at health after the exit (re-admission)": Plan(
        "RW-CD",
        "traveller",
        [*EXIT_AND_ENTRY, ("call", "C3"), ("start", 3), ("decide", 3, "refused", "No yellow fever certificate")],
    ),
    "refused in secondary": Plan(
        "RW-CD",
        "trader",
        [
            ("call", "C1"),
            ("identity",),
            ("decide", 1, "cleared"),
            ("decide", 2, "referred", "Watch-list hit"),
            ("call", "S1"),
            ("start", 2),
            ("decide", 2, "refused", "No valid entry permit"),
        ],
    ),
    "refused at exit": Plan(
        "CD-RW", "traveller", [("call", "C1"), ("identity",), ("decide", 1, "refused", "Expired travel document")]
    ),
    "no-show requeued, then cleared": Plan(
        "RW-CD",
        "traveller",
        [
            ("call", "C1"),
            *THREE_RECALLS,
            ("no_show", "requeue"),
            *EXIT_AND_ENTRY,
            ("call", "C3"),
            ("decide", 3, "cleared"),
            ("gate_out",),
        ],
    ),
    "no-show requeued, then cancelled": Plan(
        "CD-RW",
        "resident",
        [("call", "C1"), *THREE_RECALLS, ("no_show", "requeue"), ("call", "C1"), *THREE_RECALLS, ("no_show", "cancel")],
    ),
    "no-show after the exit": Plan(
        "RW-CD", "trader", [*EXIT_AND_ENTRY, ("call", "C3"), *THREE_RECALLS, ("no_show", "cancel")], channel="kiosk"
    ),
    "late after a recall": Plan("RW-CD", "resident", [("call", "C1"), ("recall",), *EXIT_AND_ENTRY[1:]]),
}
# Left in the hall (in this order: each keeps a counter or a queue the ones after do not need).
IN_HALL = {
    "called at customs": Plan(
        "RW-CD", "trader", [*EXIT_AND_ENTRY, ("call", "C3"), ("decide", 3, "cleared"), ("call", "C4")]
    ),
    "in progress at health": Plan("CD-RW", "traveller", [*EXIT_AND_ENTRY, ("call", "C3"), ("start", 3)]),
    "waiting for secondary": Plan(
        "RW-CD",
        "resident",
        [
            ("call", "C1"),
            ("identity",),
            ("decide", 1, "cleared"),
            ("start", 2),
            ("decide", 2, "referred", "Document check"),
        ],
    ),
    "waiting": Plan("RW-CD", "trader", []),
}
SCENARIOS = {**FINISHED, **IN_HALL}


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _officer(agency_id: int) -> User:
    """The officer the simulator's plans use for an agency: its first by username."""
    return db.session.scalar(
        select(User).where(User.agency_id == agency_id, User.role == "officer").order_by(User.username)
    )


def _station(code: str) -> Station:
    return db.session.scalar(select(Station).where(Station.code == code))


def _gate_out(post, crossing: Crossing) -> None:
    gate = db.session.scalar(
        select(User).where(User.role == "gate", User.country == crossing.destination).order_by(User.username)
    )
    try:
        from osbp.gate.operations import record_gate_out
    except ImportError:  # the gate operation sets these two columns
        crossing.gate_out_at, crossing.gate_out_by_id = workflow.utcnow(), gate.id
    else:
        record_gate_out(post, crossing.gate_pass_code, gate)


def run_real(post, plan: Plan, configure) -> int:
    """The plan through the real operations, as officers at their counters would do it."""
    desk = _user("supervisor-1") if plan.channel == "desk" else None
    ticket = queues.issue_ticket(
        post, plan.direction, plan.category, issued_by=desk, channel=plan.channel, priority=plan.priority
    )
    crossing_id = ticket.crossing_id
    station = caller = None

    def crossing() -> Crossing:
        return db.session.get(Crossing, crossing_id)

    for action in plan.actions:
        name = action[0]
        if name == "call":
            station = _station(action[1])
            caller = _officer(crossing().next_open_step().agency_id)
            queues.take_seat(station, caller)
            called, _steps = queues.call_next(station, caller)
            assert called.crossing_id == crossing_id
        elif name == "recall":
            queues.recall(station, caller)
        elif name == "no_show":
            configure(no_show_policy=action[1])
            queues.no_show(station, caller)
        elif name == "identity":
            step = next(
                s for s in crossing().steps if s.station_id == station.id and s.step_kind.agency.kind == "immigration"
            )
            officer = _officer(step.agency_id)
            queues.take_seat(station, officer)
            holder, nationality, document_type, number, born = IDENTITY
            immigration.record_identity(
                step,
                officer,
                holder_name=holder,
                nationality=nationality,
                document_type=document_type,
                document_number=number,
                birth_date=born,
            )
        elif name in ("start", "decide"):
            step = crossing().steps[action[1] - 1]
            officer = _officer(step.agency_id)
            queues.take_seat(db.session.get(Station, step.station_id), officer)
            if name == "start":
                queues.start_step(step, officer)
            else:
                queues.decide_step(step, officer, action[2], action[3] if len(action) > 3 else None)
        elif name == "gate_out":
            _gate_out(post, crossing())
        db.session.flush()
    db.session.commit()
    return crossing_id


# -- shapes ------------------------------------------------------------------------------------------------------------

CROSSING_COLUMNS = [c.name for c in Crossing.__table__.columns if c.name != "id"]
TICKET_COLUMNS = [c.name for c in Ticket.__table__.columns if c.name != "id"]
STEP_COLUMNS = [c.name for c in Step.__table__.columns if c.name != "id"]
CODE = re.compile(r"^([TPRD])-(\d{3,})$")
GATE_PASS = re.compile(r"^GP-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$")


def _nulls(row, columns) -> tuple[str, ...]:
    return tuple(c for c in columns if getattr(row, c) is None)


def _identity(crossing: Crossing, names: dict) -> tuple | None:
    """Immigration's record of the crossing: the identity, at which step (position) and by whom."""
    identity = immigration.identity_of(crossing)
    if identity is None:
        return None
    step = db.session.get(Step, identity.step_id)
    return (
        identity.holder_name,
        identity.nationality,
        identity.document_type,
        identity.document_number,
        identity.birth_date,
        step.crossing_id == crossing.id and step.position,
        names.get(identity.recorded_by_id),
        identity.recorded_at is not None,
    )


def shape(crossing_id: int, names: dict, codes: dict) -> dict:
    """What a crossing looks like, ids and times left out: statuses, NULL columns, people and stations by name,
    the step timeline's kinds and detail keys."""
    crossing = db.session.get(Crossing, crossing_id)
    ticket = db.session.scalar(select(Ticket).where(Ticket.crossing_id == crossing_id))
    letter = CODE.match(ticket.code)
    assert (
        letter
        and letter.group(1) == {"trader": "T", "traveller": "P", "resident": "R", "driver": "D"}[crossing.category]
    )
    if crossing.gate_pass_code is not None:
        assert GATE_PASS.match(crossing.gate_pass_code)
    steps = []
    for step in crossing.steps:
        events = db.session.scalars(select(StepEvent).where(StepEvent.step_id == step.id).order_by(StepEvent.id)).all()
        steps.append(
            {
                "position": step.position,
                "status": step.status,
                "outcome": step.outcome,
                "reason": step.reason,
                "referral_reason": step.referral_reason,
                "station": codes.get(step.station_id),
                "started_by": names.get(step.started_by_id),
                "decided_by": names.get(step.decided_by_id),
                "nulls": _nulls(step, STEP_COLUMNS),
                "events": [
                    (e.kind, names.get(e.user_id), codes.get(e.station_id), None if e.detail is None else e.detail)
                    for e in events
                ],
            }
        )
    return {
        "crossing": {
            "status": crossing.status,
            "refusal_reason": crossing.refusal_reason,
            "readmission": crossing.readmission_required,
            "created_by": names.get(crossing.created_by_id),
            "gate_out_by": names.get(crossing.gate_out_by_id),
            "identity": _identity(crossing, names),
            "nulls": _nulls(crossing, CROSSING_COLUMNS),
        },
        "ticket": {
            "status": ticket.status,
            "stage": ticket.stage,
            "recalls": ticket.recalls,
            "priority": ticket.priority,
            "channel": ticket.channel,
            "called_by": names.get(ticket.called_by_id),
            "station": codes.get(ticket.station_id),
            "queue": ticket.step_kind_id is not None,
            "nulls": _nulls(ticket, TICKET_COLUMNS),
        },
        "steps": steps,
    }


def _names() -> tuple[dict, dict]:
    users = dict(db.session.execute(select(User.id, User.username)).all())
    stations = dict(db.session.execute(select(Station.id, Station.code)).all())
    return users, stations


def _seats(after_id: int = 0) -> list[tuple]:
    names, codes = _names()
    rows = db.session.scalars(select(Seat).where(Seat.id > after_id)).all()
    return sorted((names[s.user_id], codes[s.station_id], s.left_at is None) for s in rows)


# -- invariants both the operations and the simulator keep ---------------------------------------------------------

NEXT_KIND = {
    None: {"queued", "called", "cancelled"},
    "queued": {"called", "cancelled"},
    "called": {"recalled", "started", "no_show", "returned", "cancelled"},
    "recalled": {"recalled", "started", "no_show", "returned", "cancelled"},
    "started": {"cleared", "refused", "referred"},
    "referred": {"queued"},
    "returned": {"called", "queued", "cancelled"},
    "no_show": {"queued", "cancelled"},
    "cleared": set(),
    "refused": set(),
    "cancelled": set(),
}
LAST_KIND = {
    "pending": {None, "returned"},
    "waiting": {"queued"},
    "called": {"called", "recalled"},
    "in_progress": {"started"},
    "cleared": {"cleared"},
    "refused": {"refused"},
    "cancelled": {"cancelled"},
}
DETAIL_KEYS = {
    "queued": ({"stage"}, {"stage", "station_id"}),
    "referred": ({"reason"},),
    "recalled": ({"recall"},),
    "no_show": (None, set()),
    "returned": (None, set()),
    "cancelled": (None, {"reason"}),
}
BY_OFFICER_AT_STATION = {"called", "recalled", "started", "cleared", "refused", "referred", "no_show"}


def check_rows(crossing_ids=None) -> dict:
    """Every rule the operations keep, on all rows (or the given crossings). Returns a few counts."""
    crossings = db.session.scalars(select(Crossing).order_by(Crossing.id)).all()
    if crossing_ids is not None:
        crossings = [c for c in crossings if c.id in set(crossing_ids)]
    ids = [c.id for c in crossings]
    steps = db.session.scalars(select(Step).where(Step.crossing_id.in_(ids)).order_by(Step.id)).all()
    events: dict[int, list] = {}
    for event in db.session.scalars(
        select(StepEvent).where(StepEvent.step_id.in_([s.id for s in steps])).order_by(StepEvent.id)
    ):
        events.setdefault(event.step_id, []).append(event)
    seats: dict[int, list] = {}
    for seat in db.session.scalars(select(Seat)):
        seats.setdefault(seat.user_id, []).append(seat)
    far = datetime(9999, 1, 1, tzinfo=UTC)
    for step in steps:
        timeline = events.get(step.id, [])
        previous = None
        for event in timeline:
            assert event.kind in NEXT_KIND[previous], (step.id, previous, event.kind)
            keys = None if event.detail is None else set(event.detail)
            assert keys in DETAIL_KEYS.get(event.kind, (None,)), (event.kind, event.detail)
            assert previous is None or event.at >= timeline[timeline.index(event) - 1].at
            if event.kind in BY_OFFICER_AT_STATION:
                assert event.user_id is not None and event.station_id is not None, event.kind
                assert any(
                    s.station_id == event.station_id and s.seated_at <= event.at <= (s.left_at or far)
                    for s in seats.get(event.user_id, ())
                ), ("not seated there", event.kind, event.user_id, event.station_id, event.at)
            if event.kind in ("queued", "cancelled"):
                assert event.user_id is None and event.station_id is None
            previous = event.kind
        assert previous in LAST_KIND[step.status], (step.status, previous)
        times = [t for t in (step.queued_at, step.called_at, step.started_at, step.decided_at) if t is not None]
        if step.status == "waiting" and step.referral_reason:  # waiting for secondary: started at primary before
            times = [step.started_at, step.queued_at]
        assert times == sorted(times), (step.id, step.status)
        if step.status in ("cleared", "refused"):
            assert step.outcome == step.status and step.decided_at and step.decided_by_id and step.started_by_id
            assert step.station_id is not None and step.called_at is not None
            assert (step.reason is not None) == (step.status == "refused")
        else:
            assert step.outcome is None and step.decided_at is None and step.decided_by_id is None
        if step.status in ("waiting", "pending"):
            assert step.station_id is None and step.called_at is None
        if step.status in ("called", "in_progress"):
            assert step.station_id is not None and step.called_at is not None
    tickets = {t.crossing_id: t for t in db.session.scalars(select(Ticket).where(Ticket.crossing_id.in_(ids)))}
    for crossing in crossings:
        ticket = tickets[crossing.id]
        assert crossing.created_at == ticket.issued_at
        ended = crossing.status != "in_progress"
        assert (crossing.ended_at is not None) == ended
        assert (
            ticket.status
            == {"in_progress": ticket.status, "cleared": "done", "refused": "done", "no_show": "cancelled"}[
                crossing.status
            ]
        )
        assert (crossing.refusal_reason is not None) == (crossing.status == "refused")
        cleared = crossing.status == "cleared"
        assert (crossing.gate_pass_code is not None) == cleared == (crossing.gate_pass_issued_at is not None)
        if cleared:
            assert crossing.gate_pass_issued_at == crossing.ended_at
        assert (crossing.gate_out_at is None) == (crossing.gate_out_by_id is None)
        if crossing.gate_out_at is not None:
            assert cleared and crossing.gate_out_at >= crossing.gate_pass_issued_at
        if ended:
            assert ticket.step_kind_id is None and ticket.station_id is None
        else:
            assert ticket.status in ("waiting", "called") and ticket.step_kind_id is not None
            assert (ticket.station_id is not None) == (ticket.status == "called")
        assert ticket.rank_at <= ticket.queued_at
    return {"crossings": len(crossings), "steps": len(steps), "events": sum(len(v) for v in events.values())}


def check_counters() -> None:
    """TicketCounter: the last number issued per day and letter, as issue_ticket keeps it."""
    highest: Counter = Counter()
    for ticket in db.session.scalars(select(Ticket)):
        letter, number = CODE.match(ticket.code).groups()
        key = (ticket.service_date, letter)
        highest[key] = max(highest[key], int(number))
    counters = {(c.service_date, c.letter): c.last_number for c in db.session.scalars(select(TicketCounter))}
    assert counters == dict(highest)


# -- the comparison --------------------------------------------------------------------------------------------------


@pytest.fixture
def configure(app, monkeypatch):
    def _configure(**changes):
        monkeypatch.setitem(app.config, "OSBP", app.config["OSBP"].replace(**changes))

    return _configure


def test_scripted_crossings_have_the_shapes_of_the_real_operations(app, ctx, configure):
    post = db.session.scalar(select(Post))
    real_ids = {name: run_real(post, plan, configure) for name, plan in SCENARIOS.items()}
    names, codes = _names()
    real = {name: shape(crossing_id, names, codes) for name, crossing_id in real_ids.items()}
    real_seats = _seats()
    check_rows(list(real_ids.values()))
    check_counters()

    # Free the counters the last scenarios hold, and let everyone leave, before the simulator's turn.
    for name in ("called at customs", "in progress at health"):
        crossing = db.session.get(Crossing, real_ids[name])
        step = next(s for s in crossing.steps if s.status in ("called", "in_progress"))
        queues.decide_step(step, _officer(step.agency_id), "refused", "Test over")
        db.session.commit()
    for user in db.session.scalars(select(User).where(User.role == "officer")):
        queues.leave_seat(user)
    db.session.commit()
    last_seat = db.session.scalar(select(db.func.max(Seat.id)))

    sim_ids = write_plans(post, list(SCENARIOS.values()), workflow.utcnow() + timedelta(minutes=1))
    db.session.commit()
    assert min(sim_ids) > max(real_ids.values())  # after whatever rows exist
    names, codes = _names()
    for name, sim_id in zip(real_ids, sim_ids, strict=True):
        assert shape(sim_id, names, codes) == real[name], name
    assert _seats(last_seat) == real_seats
    check_rows(sim_ids)
    check_counters()  # the simulator numbered its tickets after the real ones of the day


def test_plans_leave_the_readmission_and_stage_details_the_operations_leave(app, ctx):
    """A few values the shapes above take for granted, spelled out."""
    post = db.session.scalar(select(Post))
    start = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)
    plans = [
        FINISHED["refused at health after the exit (re-admission)"],
        FINISHED["referred at import, cleared in secondary"],
    ]
    refused_id, referred_id = write_plans(post, plans, start)
    db.session.commit()
    refused = db.session.get(Crossing, refused_id)
    assert refused.status == "refused" and refused.readmission_required
    referred = db.session.get(Crossing, referred_id)
    ticket = db.session.scalar(select(Ticket).where(Ticket.crossing_id == referred_id))
    assert referred.status == "cleared" and ticket.stage == "secondary"  # the referred step was the last one
    kinds = [e.kind for e in referred.steps[4].events]
    assert kinds == ["called", "started", "referred", "queued", "called", "started", "cleared"]  # called with export
    assert [e.detail for e in referred.steps[4].events if e.kind == "queued"] == [{"stage": "secondary"}]
    assert ticket.service_date == date(2026, 11, 3) and ticket.code == "T-001"


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk check", "row triggers"])
def test_a_reference_to_no_row_is_refused_and_nothing_is_written(app, ctx, monkeypatch, bulk):
    """PostgreSQL: the COPY skips the per-row foreign-key triggers when the role may and checks the block after;
    either way (and on SQLite) a row referring to nothing never gets in."""
    from osbp.bilateral import simulate as simulation
    from osbp.bilateral.sim_db import WriteError, Writer

    monkeypatch.setattr(Writer, "bulk_references", bulk)
    real_context = simulation.load_context

    def nobody_at_the_desk(post, config):
        context = real_context(post, config)
        context.desk_user = 10**9  # no such user
        return context

    monkeypatch.setattr(simulation, "load_context", nobody_at_the_desk)
    post = db.session.scalar(select(Post))
    with pytest.raises(Exception) as refused:  # noqa: PT011 (the database's own error, or the bulk check's)
        write_plans(post, [FINISHED["cleared, gate-out"], IN_HALL["waiting"]], datetime(2026, 11, 3, 7, tzinfo=UTC))
    if bulk and db.engine.dialect.name == "postgresql":
        assert isinstance(refused.value, WriteError) and "users" in str(refused.value)
    else:
        assert "foreign key" in str(refused.value).lower()
    db.session.rollback()
    assert db.session.scalar(select(db.func.count(Crossing.id))) == 0


# -- simulated days --------------------------------------------------------------------------------------------------

START = date(2026, 11, 2)  # a Monday


def _run(app, *args):
    return app.test_cli_runner().invoke(
        simulate_command, ["--days", "2", "--per-day", "300", "--seed", "1", "--start", START.isoformat(), *args]
    )


def _aggregates() -> dict:
    crossings = db.session.scalars(select(Crossing).order_by(Crossing.created_at)).all()
    steps = db.session.execute(select(Step.status, Step.referral_reason.is_not(None))).all()
    return {
        "crossings": [
            (c.created_at, c.direction, c.category, c.status, c.ended_at, c.gate_out_at, c.refusal_reason)
            for c in crossings
        ],
        "tickets": sorted(
            map(tuple, db.session.execute(select(Ticket.code, Ticket.status, Ticket.priority, Ticket.recalls))), key=str
        ),
        "steps": Counter(steps),
        "events": Counter(db.session.scalars(select(StepEvent.kind))),
        "seats": sorted(
            map(tuple, db.session.execute(select(Seat.user_id, Seat.station_id, Seat.seated_at, Seat.left_at))), key=str
        ),
    }


def test_simulate_is_deterministic_and_refuses_production(app, ctx, configure):
    from tests.conftest import _cached_hash, reset_database

    result = _run(app)
    assert result.exit_code == 0, result.output
    assert "2026-11-02 Mon" in result.output and "rows/s" in result.output
    first = _aggregates()
    assert len(first["crossings"]) > 400

    db.session.rollback()  # let go of the tables (TRUNCATE on PostgreSQL waits for readers)
    reset_database()
    from osbp.post.seed import seed_demo

    seed_demo(hasher=_cached_hash)
    db.session.commit()
    assert _run(app).exit_code == 0
    assert _aggregates() == first

    configure(env="production", secret_key="p" * 40)
    result = _run(app)
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(select(db.func.count(Crossing.id))) == len(first["crossings"])


def test_simulated_days_look_like_a_border_post(app, ctx):
    post = db.session.scalar(select(Post))
    staffing = plan_staffing(load_context(post, app.config["OSBP"]), 300)
    assert set(staffing.copies.values()) == {1}  # the demo staffing carries 300 a day: every row exact
    reports = simulate(post, days=2, per_day=300, seed=1, start=START)
    assert [r.day for r in reports] == [START, START + timedelta(days=1)]
    counts = check_rows()
    check_counters()
    assert counts["crossings"] == sum(r.rows["crossings"] for r in reports)

    zone = load_context(post, app.config["OSBP"]).zone
    crossings = db.session.scalars(select(Crossing)).all()
    local = [(c, c.created_at.astimezone(zone)) for c in crossings]
    monday = [c for c, t in local if t.date() == START]
    tuesday = [c for c, t in local if t.date() == START + timedelta(days=1)]
    weights = sim_arrivals.HOUR_WEIGHTS
    before_cut = sum(w for h, w in weights.items() if h < sim_hall.CUT_HOUR) / sum(weights.values())
    assert abs(len(monday) - 300) <= 30
    assert abs(len(tuesday) - 300 * before_cut) <= 30  # the last day stops at the evening peak
    hours = Counter(t.hour for _c, t in local if t.date() == START)
    assert min(hours) >= 6 and max(hours) <= 21  # closed at night
    assert sum(hours[h] for h in sim_arrivals.PEAK_HOURS) / len(monday) > 0.3
    assert {c.category for c in monday} == {"trader", "traveller", "resident", "driver"}
    assert {c.direction for c in monday} == {"RW-CD", "CD-RW"}

    finished = [c for c in monday if c.status != "in_progress"]
    assert len(finished) == len(monday)  # the hall empties at night
    in_hall = [c for c in tuesday if c.status == "in_progress"]
    assert in_hall  # the last day stops with people in the hall
    referred = db.session.scalars(select(Step.crossing_id).where(Step.referral_reason.is_not(None))).all()
    assert 0.01 <= len(set(referred)) / len(crossings) <= 0.1
    assert sum(c.status == "refused" for c in crossings) / len(crossings) < 0.03
    cleared = [c for c in monday if c.status == "cleared"]
    assert 0.8 <= sum(c.gate_out_at is not None for c in cleared) / len(cleared) <= 0.97
    recorded = set(db.session.scalars(select(TravellerIdentity.crossing_id)))
    assert all(c.id in recorded for c in cleared)  # immigration recorded everyone who crossed
    tickets = db.session.scalars(select(Ticket)).all()
    assert 0 < sum(t.priority is not None for t in tickets) < 0.1 * len(tickets)
    assert {t.channel for t in tickets} == {"desk", "kiosk"}

    # Waits (queued → called at the first counter) grow at the peaks.
    waits: dict[bool, list[float]] = {True: [], False: []}
    first_steps = db.session.execute(
        select(Step.queued_at, Step.called_at).where(Step.position == 1, Step.called_at.is_not(None))
    ).all()
    for queued, called in first_steps:
        hour = queued.astimezone(zone).hour
        if hour in sim_arrivals.PEAK_HOURS or 10 <= hour < 15:
            waits[hour in sim_arrivals.PEAK_HOURS].append((called - queued).total_seconds())
    peak, calm = (sum(w) / len(w) for w in (waits[True], waits[False]))
    assert peak > 1.5 * calm

    # One ticket at a station at a time; an officer in one seat at a time; seats in two shifts a day.
    visits: dict[int, list[list]] = {}
    crossing_of = dict(db.session.execute(select(Step.id, Step.crossing_id)).all())
    open_visit: dict[tuple[int, int], list] = {}
    for event in db.session.scalars(
        select(StepEvent).where(StepEvent.station_id.is_not(None)).order_by(StepEvent.at, StepEvent.id)
    ):
        key = (crossing_of[event.step_id], event.station_id)
        if event.kind == "called" and (key not in open_visit or open_visit[key][0] != event.at):
            open_visit[key] = [event.at, event.at]
            visits.setdefault(event.station_id, []).append(open_visit[key])
        open_visit[key][1] = max(open_visit[key][1], event.at)
    for station_visits in visits.values():
        station_visits.sort()
        for before, after in zip(station_visits, station_visits[1:], strict=False):
            assert after[0] >= before[1]
    seats = db.session.scalars(select(Seat).order_by(Seat.seated_at)).all()
    by_user: dict[int, list[Seat]] = {}
    for seat in seats:
        by_user.setdefault(seat.user_id, []).append(seat)
    for user_seats in by_user.values():
        for before, after in zip(user_seats, user_seats[1:], strict=False):
            assert before.left_at is not None and after.seated_at >= before.left_at
    assert sum(s.left_at is None for s in seats) == len(by_user)  # the officers of the last day are still seated
    officers = set(db.session.scalars(select(User.id).where(User.role == "officer")))
    primary = set(db.session.scalars(select(Station.id).where(Station.stage == "primary")))
    starts = Counter(
        (s.user_id, s.seated_at.astimezone(zone).hour)
        for s in seats
        if s.station_id in primary and s.seated_at.astimezone(zone).date() == START
    )
    assert {user for user, hour in starts if hour == 6} == officers  # two shifts: 06:00 and 14:00
    assert {user for user, hour in starts if hour == 14} == officers
