"""The sequenced joint workflow: crossings, steps, decisions, gate passes.

Workflow moves a crossing's steps and knows nothing of tickets, stations' seats or agencies by name: osbp/queues
holds the ticket (the person's place in the queues), takes its lock and calls these operations, then moves the
ticket as they say; each agency's own check comes through the contract (osbp/workflow/contract.py). Who may act is
checked by the caller (osbp/permissions.py). Operations validate first, then change state, flush and audit. They
never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.base import NO_VALUE

from osbp import events
from osbp.audit import operations as audit
from osbp.errors import Conflict, Invalid, NotFound
from osbp.extensions import db
from osbp.types import utcnow
from osbp.validation import clean_reason
from osbp.workflow import contract, readmission
from osbp.workflow.models import (
    AT_COUNTER,
    CATEGORIES,
    CLOSED_STEP_STATUSES,
    Crossing,
    CrossingStatus,
    Outcome,
    Route,
    Stage,
    Step,
    StepEvent,
    StepStatus,
)

_GATE_PASS_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # noqa: S105 (not a password)


def find_route(post, direction: str, category: str) -> Route:
    if direction not in post.directions:
        raise Invalid(
            _(
                "Unknown direction %(direction)s. Use one of: %(choices)s.",
                direction=direction,
                choices=", ".join(post.directions),
            ),
            code="invalid_direction",
        )
    if category not in CATEGORIES:
        raise Invalid(
            _(
                "Unknown category %(category)s. Use one of: %(choices)s.",
                category=category,
                choices=", ".join(CATEGORIES),
            ),
            code="invalid_category",
        )
    route = db.session.scalar(
        select(Route).where(Route.post_id == post.id, Route.direction == direction, Route.category == category)
    )
    if route is None or not route.steps:
        raise Invalid(_("This post has no route for that direction and category."), code="no_route")
    return route


def create_crossing(post, direction: str, category: str, *, created_by) -> Crossing:
    """A new case file with one step per route step, all pending."""
    route = find_route(post, direction, category)
    crossing = Crossing(
        post_id=post.id,
        route_id=route.id,
        direction=direction,
        category=category,
        created_by_id=getattr(created_by, "id", None),
        created_at=utcnow(),
    )
    for route_step in route.steps:
        crossing.steps.append(
            Step(
                position=route_step.position,
                step_kind_id=route_step.step_kind_id,
                step_kind=route_step.step_kind,
                agency_id=route_step.step_kind.agency_id,
                status=StepStatus.PENDING,
            )
        )
    db.session.add(crossing)
    return crossing


def queue_step(step: Step, now, *, stage: str) -> None:
    """The step waits in the queue of its kind and stage from ``now``, at no station."""
    step.status = StepStatus.WAITING
    step.station_id = None
    step.called_at = None
    step.queued_at = now
    step_event(step, "queued", now, detail={"stage": stage})


def return_run(
    crossing: Crossing, station_id: int, now, *, event: str, new_place: bool, user=None, detail=None, queued_detail=None
) -> tuple[Step, bool]:
    """The run of steps at ``station_id`` leaves the station (transfer, no-show, closing).

    The head of the run (or the next open step) waits again; the rest of the run goes back to pending. Returns the
    head and whether it is queued from ``now`` (``new_place``, or never queued before); otherwise it keeps its
    ``queued_at``. ``queued_detail`` goes on the head's "queued" event.
    """
    run = crossing.run_at(station_id)
    head = run[0] if run else crossing.next_open_step()
    for step in run:
        step_event(
            step, event if step is head else "returned", now, user=user, station_id=station_id, detail=detail or {}
        )
        _leave_counter(step, StepStatus.PENDING)
    head.status = StepStatus.WAITING
    queued_now = new_place or head.queued_at is None
    if queued_now:
        head.queued_at = now
    step_event(head, "queued", now, detail=queued_detail)
    return head, queued_now


def end_as_no_show(crossing: Crossing, station_id: int, now, *, user=None) -> None:
    """No-show policy "cancel": the crossing ends with status no_show, its open steps are cancelled; after a cleared
    exit the exit country gets a re-admission task (osbp/workflow/readmission.py)."""
    for step in crossing.steps:
        if step.station_id == station_id and step.status in AT_COUNTER:
            step_event(step, "no_show", now, user=user, station_id=station_id)
        if step.status not in CLOSED_STEP_STATUSES:
            step.status = StepStatus.CANCELLED
            step.station_id = None
            step_event(step, "cancelled", now, detail={"reason": "no_show"})
    crossing.status = CrossingStatus.NO_SHOW
    crossing.ended_at = now
    readmission.open_if_exit_cleared(crossing, CrossingStatus.NO_SHOW, now)


def read_crossing_again(crossing_id: int) -> Crossing:
    """A crossing and all its steps read again from the database (two statements), after taking a lock."""
    return db.session.execute(
        select(Crossing)
        .where(Crossing.id == crossing_id)
        .options(selectinload(Crossing.steps))
        .execution_options(populate_existing=True)
    ).scalar_one()


def steps_here(crossing: Crossing, station) -> list[Step]:
    """The consecutive open steps the station serves, starting at the crossing's next open step ("one stop")."""
    served = {k.id for k in station.step_kinds}
    run: list[Step] = []
    for step in crossing.steps:
        if step.status in CLOSED_STEP_STATUSES:
            if run:
                break
            continue
        if step.step_kind_id not in served:
            break
        run.append(step)
        if station.stage == Stage.SECONDARY:
            break  # secondary inspection handles the one referred step
    return run


def call_run(crossing: Crossing, station, officer, now, *, queued_at) -> list[Step]:
    """The steps the station serves are called there now (``queued_at``: when the ticket joined this queue)."""
    steps = steps_here(crossing, station)
    for step in steps:
        step.status = StepStatus.CALLED
        step.station_id = station.id
        step.called_at = now
        if step.queued_at is None:
            step.queued_at = queued_at
        step_event(step, "called", now, user=officer, station_id=station.id)
    return steps


def get_step(step_id: int) -> Step:
    step = db.session.get(Step, step_id)
    if step is None:
        raise NotFound(_("No step with number %(id)s.", id=step_id), code="step_not_found")
    return step


def get_crossing(crossing_id: int) -> Crossing:
    crossing = db.session.get(Crossing, crossing_id)
    if crossing is None:
        raise NotFound(_("No crossing with number %(id)s.", id=crossing_id), code="crossing_not_found")
    return crossing


def ensure_at_counter(step: Step) -> None:
    """The step is called or in progress at a counter now."""
    if step.status not in AT_COUNTER:
        raise not_at_counter(step)


def ensure_in_order(step: Step) -> None:
    """Every earlier step of the crossing is cleared: agencies decide in the route's order."""
    earlier = [s for s in step.crossing.steps if s.position < step.position and s.status != StepStatus.CLEARED]
    if earlier:
        raise Conflict(
            _("Step out of order: %(agency)s must decide first.", agency=earlier[0].step_kind.agency.label),
            code="step_out_of_order",
        )


def not_at_counter(step: Step) -> Conflict:
    return Conflict(
        _("This step is not at a counter now (it is %(status)s).", status=step_status_label(step.status)),
        code="step_not_called",
    )


def mark_in_progress(step: Step, officer, now) -> None:
    """The officer starts serving a called step."""
    step.status = StepStatus.IN_PROGRESS
    step.started_at = now
    step.started_by_id = officer.id
    step_event(step, "started", now, user=officer, station_id=step.station_id)


@dataclass(frozen=True)
class Moved:
    """Where a decision sends the person: the queue of ``queue_step`` (at ``stage``), nowhere new (the next step
    is at the same joint counter), or out (``ended``: cleared with a gate pass, or refused)."""

    queue_step: Step | None = None
    stage: str = Stage.PRIMARY
    ended: bool = False


def record_decision(step: Step, officer, outcome: str, reason: str | None, now) -> Moved:
    """Record cleared / referred / refused on a step at a counter and move the crossing on.

    The caller has checked the officer (osbp.permissions.ensure_officer_at_step) and holds the ticket's lock; it moves
    the ticket as the returned ``Moved`` says.
    """
    if outcome not in tuple(Outcome):
        raise Invalid(_("The outcome must be cleared, referred or refused."), code="invalid_outcome")
    needs_reason = outcome in (Outcome.REFERRED, Outcome.REFUSED)
    reason = clean_reason(reason, missing=_("Give a reason for a referral or a refusal.") if needs_reason else None)
    if outcome == Outcome.REFERRED and step.is_secondary:
        raise Invalid(_("Secondary inspection ends in cleared or refused."), code="already_referred")
    if outcome == Outcome.CLEARED:
        contract.control_for(step.step_kind.agency.kind).check_before_clearing(step)

    crossing = step.crossing
    if step.status == StepStatus.CALLED:
        mark_in_progress(step, officer, now)
    station_id = step.station_id
    if outcome == Outcome.REFERRED:
        moved = _refer(step, officer, reason, now)
    else:
        step.status = outcome
        step.outcome = outcome
        step.reason = reason
        step.decided_at = now
        step.decided_by_id = officer.id
        step_event(step, outcome, now, user=officer, station_id=station_id)
        moved = _refuse_crossing(crossing, reason, now) if outcome == Outcome.REFUSED else _advance(crossing, now)
    audit.record(f"step.{outcome}", user=officer, obj=step, crossing_id=crossing.id, station_id=station_id)
    events.publish(
        "step.decided",
        {"step_id": step.id, "crossing_id": crossing.id, "outcome": outcome, "crossing_status": crossing.status},
        events.station_room(station_id),
        events.agency_room(step.agency_id),
        post_id=crossing.post_id,
    )
    return moved


def _leave_counter(step: Step, status: str) -> None:
    step.status = status
    step.station_id = None
    step.called_at = None
    step.started_at = None
    step.started_by_id = None


def _refer(step: Step, officer, reason: str, now) -> Moved:
    step.status = StepStatus.REFERRED
    step.referral_reason = reason
    step_event(step, "referred", now, user=officer, station_id=step.station_id, detail={"reason": reason})
    # The rest of the run at this counter waits until secondary inspection is done.
    for other in step.crossing.steps:
        if other.position > step.position and other.status in AT_COUNTER:
            _leave_counter(other, StepStatus.PENDING)
            step_event(other, "returned", now, user=officer)
    queue_step(step, now, stage=Stage.SECONDARY)
    return Moved(queue_step=step, stage=Stage.SECONDARY)


def _refuse_crossing(crossing: Crossing, reason: str, now) -> Moved:
    crossing.status = CrossingStatus.REFUSED
    crossing.refusal_reason = reason
    crossing.ended_at = now
    for other in crossing.steps:
        if other.status not in (StepStatus.CLEARED, StepStatus.REFUSED):
            other.status = StepStatus.CANCELLED
            step_event(other, "cancelled", now)
    readmission.open_if_exit_cleared(crossing, CrossingStatus.REFUSED, now)
    return Moved(ended=True)


def _advance(crossing: Crossing, now) -> Moved:
    following = crossing.next_open_step()
    if following is None:
        crossing.status = CrossingStatus.CLEARED
        crossing.ended_at = now
        crossing.gate_pass_code = _new_gate_pass_code()
        crossing.gate_pass_issued_at = now
        audit.record("gate_pass.issued", obj=crossing)
        return Moved(ended=True)
    if following.status in AT_COUNTER:
        return Moved()  # the next agency decides at the same joint counter
    queue_step(following, now, stage=Stage.PRIMARY)
    return Moved(queue_step=following)


def _new_gate_pass_code() -> str:
    while True:
        code = "GP-" + "".join(secrets.choice(_GATE_PASS_ALPHABET) for _ in range(8))
        if db.session.scalar(select(Crossing.id).where(Crossing.gate_pass_code == code)) is None:
            return code


def step_event(step: Step, kind: str, at, *, user=None, station_id=None, detail=None) -> None:
    """Record a StepEvent without loading the step's timeline.

    Appending to ``step.events`` would first load every event of the step; when that collection is not loaded yet,
    the event is added to the session on its own and a later read of ``step.events`` (autoflush) still sees it.
    A new step (no id yet) or a loaded collection gets the event appended, as before.
    """
    event = StepEvent(kind=kind, at=at, user_id=getattr(user, "id", None), station_id=station_id, detail=detail)
    state = sa_inspect(step)
    if state.identity is None or state.attrs.events.loaded_value is not NO_VALUE:
        step.events.append(event)
        return
    event.step_id = state.identity[0]  # the primary key, without refreshing an expired step
    db.session.add(event)


def step_status_label(status: str) -> str:
    from osbp.i18n import STEP_STATUS_LABELS

    return str(STEP_STATUS_LABELS.get(status, status))
