"""A scripted day at Rusizi II, driven through the real operations with a controlled clock, and the figures the
bilateral report must show for it, computed here from the script (not from the database).

Crossings are served one after the other (each alone in its queue), so every wait and every decision time is the
script's. The day: Tuesday 10 November 2026, post time (Africa/Kigali, UTC+2).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from osbp.agencies.immigration.operations import identity_of, record_identity
from osbp.auth.models import User
from osbp.extensions import db
from osbp.post.models import Post
from osbp.queues.models import Station
from tests.clock import patch_utcnow

DAY = date(2026, 11, 10)
ZONE = ZoneInfo("Africa/Kigali")
SEATS = {
    "C1": ("rw-immigration-1", "cd-immigration-1"),
    "C3": ("rw-health-1", "cd-health-1"),
    "C4": ("rw-customs-1", "cd-customs-1"),
    "S1": ("rw-immigration-2", "cd-immigration-2"),
}
STATION_OF = {"immigration": "C1", "health": "C3", "customs": "C4"}


def local(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, second, tzinfo=ZONE).astimezone(UTC)


@dataclass
class Visit:
    """Wait ``wait`` seconds in the queue, then the station decides ``decisions`` steps in a row:
    (seconds after the turn began, outcome, reason). ``no_show``: recalled until a no-show first, then wait again."""

    wait: int
    decisions: list[tuple[int, str, str | None]]
    secondary: bool = False
    no_show_then_wait: int | None = None


@dataclass
class Plan:
    issue: datetime
    direction: str
    category: str
    visits: list[Visit]
    gate_after: int | None = 120  # seconds after the gate pass; None: never scanned at the gate


@dataclass
class Expected:
    """What the script says happened, per crossing and per stage visit."""

    plans: list[Plan] = field(default_factory=list)
    totals: dict = field(default_factory=dict)  # (direction, category) → [seconds in facility] of released crossings
    clock_ends: dict = field(default_factory=lambda: {"gate_out": 0, "gate_pass": 0})
    stage_waits: dict = field(default_factory=dict)  # (country, agency, stage) → [seconds]
    stage_work: dict = field(default_factory=dict)
    referred: dict = field(default_factory=dict)  # (country, agency) → count
    decided: dict = field(default_factory=dict)  # (country, agency) → steps decided or referred
    refusals: list = field(default_factory=list)
    readmissions: int = 0
    no_show_calls: int = 0
    in_progress: int = 0


def plans() -> list[Plan]:
    """20 crossings: released travellers and traders in both directions, a referral, a refusal after the exit, a
    no-show, a resident never scanned at the gate, and one still waiting at the end of the day."""

    def traveller(issue, wait1, wait2, exit_s=90, entry_s=60, health_s=45):
        return Plan(
            issue,
            "RW-CD",
            "traveller",
            [
                Visit(wait1, [(exit_s, "cleared", None), (entry_s, "cleared", None)]),
                Visit(wait2, [(health_s, "cleared", None)]),
            ],
        )

    def trader(issue, waits, gate_after=180):
        w1, w2, w3 = waits
        return Plan(
            issue,
            "CD-RW",
            "trader",
            [
                Visit(w1, [(120, "cleared", None), (75, "cleared", None)]),
                Visit(w2, [(50, "cleared", None)]),
                Visit(w3, [(300, "cleared", None), (420, "cleared", None)]),
            ],
            gate_after=gate_after,
        )

    day = [
        traveller(local(7, 0), 60, 30),
        traveller(local(7, 10), 240, 45, exit_s=120),
        traveller(local(7, 20), 420, 60, entry_s=30),
        traveller(local(7, 30), 600, 20, health_s=90),
        traveller(local(8, 5), 180, 40),
        traveller(local(8, 15), 300, 100, exit_s=150, entry_s=100),
        traveller(local(8, 25), 90, 10),
        trader(local(9, 0), (120, 60, 300)),
        trader(local(9, 20), (200, 30, 600)),
        trader(local(10, 0), (45, 90, 900)),
        trader(local(10, 40), (400, 15, 240)),
        trader(local(11, 0), (30, 45, 1200), gate_after=600),
        # referred at the RW exit, cleared in secondary, back to the counter for the CD entry
        Plan(
            local(12, 0),
            "RW-CD",
            "traveller",
            [
                Visit(150, [(100, "referred", "Document to check")]),
                Visit(300, [(240, "cleared", None)], secondary=True),
                Visit(120, [(60, "cleared", None)]),
                Visit(30, [(40, "cleared", None)]),
            ],
        ),
        # the exit is cleared, the entry refused: Rwanda must re-admit the person
        Plan(
            local(12, 30),
            "RW-CD",
            "traveller",
            [Visit(200, [(80, "cleared", None), (150, "refused", "No valid visa")])],
            gate_after=None,
        ),
        # recalled three times, no-show, back in the line, called again and served
        Plan(
            local(13, 0),
            "RW-CD",
            "traveller",
            [
                Visit(100, [(90, "cleared", None), (60, "cleared", None)], no_show_then_wait=240),
                Visit(50, [(45, "cleared", None)]),
            ],
        ),
        # a border resident (immigration only), never scanned at the gate: the clock ends at the gate pass
        Plan(
            local(14, 0),
            "RW-CD",
            "resident",
            [Visit(60, [(30, "cleared", None), (30, "cleared", None)])],
            gate_after=None,
        ),
        traveller(local(15, 0), 80, 25),
        traveller(local(16, 30), 500, 35),
        traveller(local(17, 10), 700, 55, exit_s=200),
        # still waiting when the day is reported
        Plan(local(17, 45), "CD-RW", "traveller", []),
    ]
    return day


class Clock:
    def __init__(self, monkeypatch):
        self.now = local(6, 0)
        patch_utcnow(monkeypatch, lambda: self.now)

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, seconds: int) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def run_day(app, monkeypatch) -> Expected:
    """Drive the day through the operations (one commit per action, as a request would) and return the script's
    own account of it."""
    from osbp.queues import operations as queues
    from osbp.workflow import operations as workflow

    clock = Clock(monkeypatch)
    expected = Expected(plans=plans())
    with app.app_context():
        post = db.session.scalar(select(Post))
        users = {u.username: u for u in db.session.scalars(select(User))}
        stations = {s.code: s for s in db.session.scalars(select(Station))}
        for code, usernames in SEATS.items():
            for username in usernames:
                queues.take_seat(stations[code], users[username])
        db.session.commit()
        for plan in expected.plans:
            _run_crossing(plan, post, users, stations, clock, expected, queues, workflow)
        clock.set(local(18, 0))
        for usernames in SEATS.values():
            for username in usernames:
                queues.leave_seat(users[username])
        db.session.commit()
        db.session.remove()
    return expected


def _officer_at(station_code: str, step, users):
    return next(users[name] for name in SEATS[station_code] if users[name].agency_id == step.agency_id)


def _run_crossing(plan, post, users, stations, clock, expected, queues, workflow):
    clock.set(plan.issue)
    ticket = queues.issue_ticket(post, plan.direction, plan.category, issued_by=users["supervisor-1"])
    db.session.commit()
    code = ticket.code
    if not plan.visits:
        expected.in_progress += 1
        return
    queued = plan.issue
    refused = False
    for visit in plan.visits:
        crossing = queues.get_ticket_by_code(post, code).crossing
        step = crossing.next_open_step()
        station_code = "S1" if visit.secondary else STATION_OF[step.step_kind.agency.kind]
        station = stations[station_code]
        caller = users[SEATS[station_code][0]]
        clock.advance(visit.wait)
        if visit.no_show_then_wait is not None:
            assert queues.call_next(station, caller) is not None
            db.session.commit()
            for _ in range(app_max_recalls()):
                clock.advance(30)
                queues.recall(station, caller)
                db.session.commit()
            clock.advance(30)
            queues.no_show(station, caller)
            db.session.commit()
            expected.no_show_calls += 1
            queued = clock.now
            clock.advance(visit.no_show_then_wait)
        called = queues.call_next(station, caller)
        assert called is not None, f"{code}: nothing to call at {station_code}"
        db.session.commit()
        _ticket, steps = called
        call_time = turn = clock.now
        stage = "secondary" if visit.secondary else "primary"
        for index, (seconds, outcome, reason) in enumerate(visit.decisions):
            step = workflow.get_step(steps[index].id)
            agency = step.step_kind.agency
            key = (agency.country, agency.kind)
            officer = _officer_at(station_code, step, users)
            if agency.kind == "immigration" and identity_of(step.crossing) is None:
                record_identity(
                    step,
                    officer,
                    holder_name="Test Person",
                    nationality="RWA",
                    document_type="passport",
                    document_number="PA1234567",
                    birth_date="1990-01-01",
                )
            clock.advance(seconds)
            queues.decide_step(step, officer, outcome, reason)
            db.session.commit()
            waits = expected.stage_waits.setdefault((*key, stage), [])
            if index == 0:
                waits.append((call_time - queued).total_seconds())
            expected.stage_work.setdefault((*key, stage), []).append((clock.now - turn).total_seconds())
            expected.decided[key] = expected.decided.get(key, 0) + (0 if stage == "secondary" else 1)
            turn = clock.now
            if outcome == "referred":
                expected.referred[key] = expected.referred.get(key, 0) + 1
            if outcome == "refused":
                expected.refusals.append((*key, reason))
                refused = True
        queued = clock.now
    crossing = queues.get_ticket_by_code(post, code).crossing
    if refused:
        expected.readmissions += int(crossing.readmission_required)
        return
    assert crossing.status == "cleared", (code, crossing.status)
    end = crossing.gate_pass_issued_at
    if plan.gate_after is not None:
        end = clock.advance(plan.gate_after)
        crossing.gate_out_at = end
        crossing.gate_out_by_id = users["cd-gate-1" if crossing.destination == "CD" else "rw-gate-1"].id
        db.session.commit()
        expected.clock_ends["gate_out"] += 1
    else:
        expected.clock_ends["gate_pass"] += 1
    expected.totals.setdefault((plan.direction, plan.category), []).append((end - plan.issue).total_seconds())


def app_max_recalls() -> int:
    from flask import current_app

    return current_app.config["OSBP"].max_recalls


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (as PostgreSQL's percentile_cont), written independently."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def summary(values: list[float]) -> dict:
    return {
        "count": len(values),
        "mean": round(statistics.fmean(values), 1),
        "median": round(statistics.median(values), 1),
        "p90": round(percentile(values, 0.9), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }
