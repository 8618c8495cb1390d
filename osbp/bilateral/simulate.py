"""``flask --app osbp simulate``: realistic traffic at the demo post, written as the real operations write it.

For each day (the post's local days; timestamps stored in UTC) the simulator issues tickets with a daily profile
(closed at night, peaks 07–09 and 16–18, Saturdays and Sundays quieter), in both directions, for the four
categories, a few with priority, at the desk or the kiosk; runs every crossing through its route at the stations
serving each step (a joint counter keeps the person for the consecutive steps it serves) with queues that grow at
the peaks, processing times per agency, referrals to secondary inspection (most cleared, some refused), refusals
at primary (some after the exit was cleared: re-admission), no-shows (recalled, requeued once, a few cancelled),
gate passes and, for most, a gate-out scan; and seats officers at the stations in two shifts a day. The last day
stops at 18:00, at the end of the evening peak, with the crossings then in the hall left as they are (waiting,
called, in progress, waiting for secondary inspection) and the officers still seated.

Every row has the shape the operations give it: the columns set or NULL at each status, the StepEvent kinds and
details in the order the operations write them, ticket codes per day and letter from ``TicketCounter`` (numbering
goes on after tickets already issued that day), unique gate pass codes. In osbp/bilateral/: sim_model.py mirrors
the operations; sim_hall.py runs the hall (its header says how officers and copies of the hall work) with
sim_arrivals.py (who comes, and when), sim_staffing.py (who sits where) and sim_counters.py (what happens at a
counter and in the secondary room); sim_context.py reads the post; sim_db.py writes in bulk (COPY on PostgreSQL) the
rows sim_rows.py makes. ``write_plans`` writes crossings from a scripted plan of actions instead, so that a scenario
can be compared with the real operations (tests/test_simulate.py).

Audit rows are not simulated: the audit log records real actions by real people, and a simulated decision is none.
Neither are transfers, station pauses or closures. Deterministic for a seed (and start date): the same seed gives
the same rows, whatever ids the database hands out. Refuses to run in production. Commits once per day.
"""

from __future__ import annotations

import random
import resource
import threading
import time as clock
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from osbp.extensions import db
from osbp.post.models import Post
from osbp.queues.models import CATEGORY_LETTERS, Seat

from . import sim_model as model
from .sim_arrivals import VOLUME_SPREAD, WEEKDAY_FACTORS
from .sim_context import load_context
from .sim_db import Writer
from .sim_hall import Day
from .sim_staffing import SimulationError, plan_staffing


@dataclass
class DayReport:
    day: date
    rows: dict
    simulated_seconds: float
    written_seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def daily_volume(per_day: int, day: date, rng: random.Random) -> int:
    """The day's arrivals: ``per_day`` on weekdays, fewer at the weekend, with a small spread."""
    return max(0, round(per_day * WEEKDAY_FACTORS[day.weekday()] * rng.gauss(1.0, VOLUME_SPREAD)))


def simulate(post: Post, *, days: int, per_day: int, seed: int = 0, start: date | None = None, echo=None):
    """Simulate ``days`` days from ``start`` (default: the days up to yesterday, post's local time). Commits after
    each day. Returns a DayReport per day (``echo`` gets each as soon as its day is committed).

    Two days at most are in memory: while one day's rows are written (in a thread of its own, with its own
    session: the database works while Python simulates), the next day is simulated."""
    config = current_app.config["OSBP"]
    ctx = load_context(post, config)
    staffing = plan_staffing(ctx, per_day)
    db.session.commit()  # nothing to write: ends the read, the writer works in its own session
    if start is None:
        start = datetime.now(ctx.zone).date() - timedelta(days=days)
    app = current_app._get_current_object()
    reports: list[DayReport] = []

    def done(writer: _DayWriter) -> None:
        reports.append(writer.finish())
        if echo is not None:
            echo(reports[-1])

    writing: _DayWriter | None = None
    try:
        for index in range(days):
            day = start + timedelta(days=index)
            began = clock.perf_counter()
            rng = random.Random(f"osbp-simulate:{seed}:{day.isoformat()}")  # noqa: S311 (simulated data)
            volume = daily_volume(per_day, day, rng)
            crossings, seats = Day(ctx, staffing, rng, day, volume, cut=index == days - 1).run()
            simulated = clock.perf_counter() - began
            if writing is not None:
                done(writing)
            writing = _DayWriter(app, ctx, day, crossings, seats, simulated)
            del crossings, seats
    except BaseException:
        if writing is not None:
            writing.join()  # never leave a day half written behind
        raise
    done(writing)
    return reports


class _DayWriter(threading.Thread):
    """Writes and commits one day in a thread of its own (own application context, own session)."""

    def __init__(self, app, ctx, day: date, crossings: list, seats: list, simulated: float):
        super().__init__(name=f"simulate-{day.isoformat()}", daemon=True)
        self.app, self.ctx, self.day = app, ctx, day
        self.crossings, self.seats, self.simulated = crossings, seats, simulated
        self.rows: dict | None = None
        self.error: BaseException | None = None
        self.seconds = 0.0
        self.start()

    def run(self) -> None:
        began = clock.perf_counter()
        with self.app.app_context():
            try:
                self.rows = Writer(self.ctx).write(self.crossings, self.seats)
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 (raised again in the caller's thread)
                db.session.rollback()
                self.error = error
            finally:
                db.session.remove()
                self.crossings = self.seats = None
        self.seconds = clock.perf_counter() - began

    def finish(self) -> DayReport:
        self.join()
        if self.error is not None:
            raise self.error
        return DayReport(self.day, self.rows, self.simulated, self.seconds)


# -- scripted crossings ----------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """One crossing's script. ``actions``, each one step further in time:

    - ``("call", "C1")``: the officer of the crossing's next step at that station calls it (seated there first);
    - ``("recall",)``, ``("no_show", "requeue" | "cancel")``: at the station where it is called;
    - ``("identity",)``: immigration records the identity at the first immigration step called;
    - ``("start", position)``, ``("decide", position, outcome[, reason])``: by the officer of that step's agency;
    - ``("gate_out",)``: a gate officer of the destination country scans the gate pass.
    """

    direction: str
    category: str
    actions: list = field(default_factory=list)
    priority: str | None = None
    channel: str = "desk"


PLAN_ACTIONS = ("call", "recall", "no_show", "identity", "start", "decide", "gate_out")
IDENTITY = ("Aline Uwase", "RWA", "passport", "PC1234567", date(1990, 5, 17))


def write_plans(post: Post, plans: list[Plan], start: datetime, step_seconds: float = 30.0) -> list[int]:
    """Write one crossing per plan, in order, from ``start`` on (one action every ``step_seconds``), as the
    simulator writes its traffic. Officers are seated as the real ``take_seat`` would (an open seat elsewhere is
    closed). Does not commit. Returns the crossings' ids."""
    ctx = load_context(post, current_app.config["OSBP"])
    script = _Script(ctx, start.astimezone(UTC).timestamp(), step_seconds)
    crossings = [script.run(order, plan) for order, plan in enumerate(plans)]
    db.session.flush()
    writer = Writer(ctx, reserve_outside=False)
    writer.write(crossings, script.seat_rows())
    return writer.crossing_ids


class _Script:
    """Plays plans on simulated crossings, each action by the first officer (by username) of the agency."""

    def __init__(self, ctx, now: float, step_seconds: float):
        self.ctx = ctx
        self.now = now
        self.step_seconds = step_seconds
        self.officers = {agency: users[0] for agency, users in ctx.officers.items()}
        self.open_rows = {s.user_id: s for s in db.session.scalars(select(Seat).where(Seat.left_at.is_(None)))}
        self.seated: dict[int, tuple] = {}  # user -> (station, seated_at, the Seat row when it was open already)
        self.seats: list[tuple] = []
        self.station = self.caller = None

    def seat(self, user: int, station: int) -> None:
        current = self.seated.get(user)
        if current is None and user in self.open_rows:
            row = self.open_rows.pop(user)
            current = self.seated[user] = (row.station_id, row.seated_at.timestamp(), row)
        if current is not None:
            if current[0] == station:
                return
            if current[2] is not None:
                current[2].left_at = datetime.fromtimestamp(self.now, UTC)
            else:
                self.seats.append((user, current[0], current[1], self.now))
        self.seated[user] = (station, self.now, None)

    def seat_rows(self) -> list[tuple]:
        still = [(user, station, since, None) for user, (station, since, row) in self.seated.items() if row is None]
        return self.seats + still

    def run(self, order: int, plan: Plan) -> model.SimCrossing:
        ctx = self.ctx
        route_id, kinds = ctx.routes[(plan.direction, plan.category)]
        crossing = model.SimCrossing(
            order,
            route_id,
            plan.direction,
            plan.category,
            [model.SimStep(i + 1, k.id, k.agency) for i, k in enumerate(kinds)],
            letter=CATEGORY_LETTERS[plan.category],
            priority=plan.priority,
            boost=ctx.boosts.get(plan.priority, 0.0) if plan.priority else 0.0,
            channel=plan.channel,
            issued_by=ctx.desk_user if plan.channel == "desk" else None,
            identity=IDENTITY,
        )
        model.issue(crossing, self.now)
        for action in plan.actions:
            if action[0] not in PLAN_ACTIONS:
                raise ValueError(f"unknown plan action {action!r}")
            self.now += self.step_seconds
            getattr(self, f"_{action[0]}")(crossing, *action[1:])
        self.now += self.step_seconds
        return crossing

    def _call(self, crossing, code: str) -> None:
        self.station = self.ctx.station(code)
        self.caller = self.officers[crossing.next_open_step().agency]
        self.seat(self.caller, self.station.id)
        secondary = self.station.stage == "secondary"
        model.call(crossing, self.station.id, self.station.kinds, secondary, self.caller, self.now)

    def _recall(self, crossing) -> None:
        model.recall(crossing, self.station.id, self.caller, self.now)

    def _no_show(self, crossing, policy: str) -> None:
        if policy == "cancel":
            model.no_show_cancel(crossing, self.station.id, self.caller, self.now)
        else:
            model.no_show_requeue(crossing, self.station.id, self.caller, self.now)

    def _identity(self, crossing) -> None:
        run = model.run_at(crossing, self.station.id)
        step = next(s for s in run if self.ctx.agency_kinds[s.agency] == "immigration")
        self.seat(self.officers[step.agency], self.station.id)
        model.record_identity(crossing, step, self.officers[step.agency], self.now)

    def _start(self, crossing, position: int) -> None:
        step = crossing.steps[position - 1]
        self.seat(self.officers[step.agency], step.station)
        model.start(step, self.officers[step.agency], self.now)

    def _decide(self, crossing, position: int, outcome: str, reason: str | None = None) -> None:
        step = crossing.steps[position - 1]
        self.seat(self.officers[step.agency], step.station)
        model.decide(crossing, step, self.officers[step.agency], outcome, reason, self.now)

    def _gate_out(self, crossing) -> None:
        model.gate_out(crossing, self.ctx.gate_officers[crossing.direction.split("-")[1]], self.now)


# -- the command -----------------------------------------------------------------------------------------------------


def _post(code: str | None) -> Post:
    from osbp.post.seed import POST_CODE

    post = db.session.scalar(select(Post).where(Post.code == (code or POST_CODE)))
    if post is None:
        raise click.ClickException(f"no post {code or POST_CODE}: run `flask --app osbp seed-demo` first")
    return post


def _echo(report: DayReport) -> None:
    rows = report.rows
    click.echo(
        f"{report.day.isoformat()} {report.day.strftime('%a')}: {rows['crossings']:,} crossings, "
        f"{rows['steps']:,} steps, {rows['step_events']:,} step events, {rows['seats']:,} seats; "
        f"simulated in {report.simulated_seconds:.1f} s, {report.total_rows:,} rows written in "
        f"{report.written_seconds:.1f} s ({report.total_rows / max(report.written_seconds, 1e-6):,.0f} rows/s)"
    )


@click.command("simulate")
@click.option("--days", type=click.IntRange(1, 366), required=True, help="How many days.")
@click.option("--per-day", type=click.IntRange(1, 1_000_000), required=True, help="Crossings on a weekday.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same traffic.")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day (YYYY-MM-DD, the post's local date). Default: the days up to yesterday.",
)
@click.option("--post", "post_code", default=None, help="The post's code (default: the demo post).")
@with_appcontext
def simulate_command(days: int, per_day: int, seed: int, start, post_code: str | None) -> None:
    """Fill the database with simulated traffic at the demo post (never in production)."""
    if current_app.config["OSBP"].production:
        raise click.ClickException("refusing to simulate traffic in production")
    post = _post(post_code)
    began = clock.perf_counter()
    try:
        reports = simulate(
            post, days=days, per_day=per_day, seed=seed, start=start.date() if start else None, echo=_echo
        )
    except SimulationError as error:
        raise click.ClickException(str(error)) from None
    seconds = clock.perf_counter() - began
    rows = sum(r.total_rows for r in reports)
    crossings = sum(r.rows["crossings"] for r in reports)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    click.echo(
        f"Done: {crossings:,} crossings, {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s), "
        f"peak memory {peak:,.0f} MB."
    )
