"""Stage visits: one agency's control of one person at one stage, computed from the steps and their timeline.

A step's primary visit: waiting = queued → called, processing = its turn → decided. At a joint counter a station keeps
the person for consecutive steps (the one stop): the second agency's step was called with the first, so it has no
wait of its own, and its turn starts when the first agency decided. A referred step has two visits: its primary one
(from the step timeline: first queued, first called, referred) and its secondary one (queued at the referral,
called, decided). One pass over the period's steps writes them into a temporary table (private to the connection),
read by the day facts (osbp/bilateral/facts.py) and dropped after.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, case, func, insert, select

from osbp.bilateral.query import in_period, local_date, local_hour, seconds
from osbp.extensions import db
from osbp.post.models import Agency
from osbp.workflow.models import Crossing, Step, StepEvent


def _steps(scope):
    """A crossing's steps in the period, with their agency and the decision time of the step before."""
    return (
        select(
            Step.id,
            Step.queued_at,
            Step.called_at,
            Step.decided_at,
            Step.referral_reason,
            Step.agency_id,
            Agency.country.label("country"),
            Agency.kind.label("agency"),
            Crossing.created_at,
            func.lag(Step.decided_at).over(partition_by=Step.crossing_id, order_by=Step.position).label("previous"),
        )
        .join(Crossing, Crossing.id == Step.crossing_id)
        .join(Agency, Agency.id == Step.agency_id)
        .where(Crossing.post_id == scope.post_id, in_period(Crossing.created_at, scope))
        .subquery("steps_in_period")
    )


def _first_visits(scope):
    """Referred steps' primary visit from the timeline: first queued, first called, referred."""

    def first(kind):
        return func.min(case((StepEvent.kind == kind, StepEvent.at)))

    return (
        select(
            StepEvent.step_id,
            first("queued").label("queued_at"),
            first("called").label("called_at"),
            first("referred").label("referred_at"),
        )
        .join(Step, Step.id == StepEvent.step_id)
        .join(Crossing, Crossing.id == Step.crossing_id)
        .where(
            Crossing.post_id == scope.post_id,
            in_period(Crossing.created_at, scope),
            Step.referral_reason.is_not(None),
            StepEvent.kind.in_(("queued", "called", "referred")),
        )
        .group_by(StepEvent.step_id)
        .subquery("first_visits")
    )


def visits(scope):
    """One row per step of the period that was called: its agency, its primary visit (wait and processing, seconds)
    and, for a referred step, its secondary visit; the primary visit's queued time. A measure is NULL where that
    visit is not complete, and the primary wait is NULL for the second step of a joint-counter stop."""
    steps = _steps(scope)
    first = _first_visits(scope)
    referred = steps.c.referral_reason.is_not(None)
    queued = case((referred, first.c.queued_at), else_=steps.c.queued_at)
    called = case((referred, first.c.called_at), else_=steps.c.called_at)
    ended = case((referred, first.c.referred_at), else_=steps.c.decided_at)
    same_stop = steps.c.previous > called  # the step before was decided after this one was called: one stop
    secondary_done = referred & steps.c.decided_at.is_not(None)
    return (
        select(
            steps.c.country,
            steps.c.agency,
            steps.c.agency_id,
            steps.c.created_at,
            queued.label("queued_at"),
            case((same_stop | ended.is_(None), None), else_=seconds(called, queued)).label("wait_primary"),
            seconds(ended, case((same_stop, steps.c.previous), else_=called)).label("work_primary"),
            case((secondary_done, seconds(steps.c.called_at, steps.c.queued_at))).label("wait_secondary"),
            case((secondary_done, seconds(steps.c.decided_at, steps.c.called_at))).label("work_secondary"),
        )
        .select_from(steps)
        .outerjoin(first, first.c.step_id == steps.c.id)
        .where(called.is_not(None))
    )


# The period's stage visits, computed once per report (one pass over the steps) and read by several sections. A
# temporary table: private to the database connection of the request or command, dropped when the report is built.
_scratch = MetaData()
VISITS = Table(
    "report_stage_visits",
    _scratch,
    Column("country", String(2)),
    Column("agency", String(16)),
    Column("agency_id", Integer),
    Column("wait_primary", Integer),
    Column("work_primary", Integer),
    Column("wait_secondary", Integer),
    Column("work_secondary", Integer),
    Column("day", Date),  # the crossing's local arrival day: the period it belongs to
    Column("hour", Integer),  # the local hour and date its primary visit was queued (the wait pattern)
    Column("queued_day", Date),
    prefixes=["TEMPORARY"],
)


def materialise(scope) -> Table:
    """Write the period's stage visits into the temporary table (with the local weekday, hour and date of the time
    each was queued) and return the table."""
    connection = db.session.connection()
    VISITS.drop(connection, checkfirst=True)
    VISITS.create(connection)
    source = visits(scope).subquery("all_visits")
    columns = [
        source.c.country,
        source.c.agency,
        source.c.agency_id,
        source.c.wait_primary,
        source.c.work_primary,
        source.c.wait_secondary,
        source.c.work_secondary,
        local_date(source.c.created_at, scope),
        local_hour(source.c.queued_at, scope),
        local_date(source.c.queued_at, scope),
    ]
    connection.execute(insert(VISITS).from_select([c.name for c in VISITS.columns], select(*columns)))
    return VISITS


def drop() -> None:
    VISITS.drop(db.session.connection(), checkfirst=True)
