"""The sequenced joint workflow: crossings, steps, decisions, gate passes.

Operations validate first, then change state, flush and audit. They never commit.
"""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import NO_VALUE

from osbp import events
from osbp.audit import operations as audit
from osbp.errors import Conflict, Forbidden, Invalid, NotFound
from osbp.extensions import db
from osbp.queues import priority
from osbp.queues.models import Seat, Ticket
from osbp.types import utcnow
from osbp.workflow.models import CATEGORIES, OUTCOMES, Crossing, Route, Step, StepEvent

_GATE_PASS_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # noqa: S105 (not a password)
MAX_REASON = 500


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
                status="pending",
            )
        )
    db.session.add(crossing)
    return crossing


def enqueue(ticket: Ticket, step: Step, *, stage: str = "primary", now=None) -> None:
    """Put the ticket in the queue for ``step`` (its next control), leaving any station.

    Its place is ``rank_at = now - boost`` (osbp/queues/priority.py): a priority ticket keeps its boost in every queue.
    """
    now = now or utcnow()
    step.status = "waiting"
    step.station_id = None
    step.called_at = None
    step.queued_at = now
    ticket.status = "waiting"
    ticket.step_kind_id = step.step_kind_id
    ticket.stage = stage
    ticket.queued_at = now
    ticket.rank_at = priority.rank_at(now, ticket.priority)
    ticket.target_station_id = None
    ticket.station_id = None
    ticket.called_at = None
    ticket.called_by_id = None
    ticket.recalls = 0
    step_event(step, "queued", now, detail={"stage": stage})
    events.publish(
        "ticket.queued",
        {"code": ticket.code, "status": "waiting", "stage": stage},
        events.ticket_room(ticket.post_id, ticket.code),
        events.supervisor_room(ticket.post_id),
    )


def requeue(
    ticket: Ticket,
    station_id: int,
    now,
    *,
    event: str,
    user=None,
    detail: dict | None = None,
    rank_at=None,
    target_station_id: int | None = None,
) -> Step:
    """Send a called ticket back from its station to the queue of its next open step (transfer, no-show, closing).

    The step at the head of the run this station was serving waits again; the rest of the run goes back to pending.
    ``rank_at=None`` keeps the ticket's place (its old ``rank_at`` and ``queued_at``); a given ``rank_at`` is a new
    place, queued now. ``target_station_id`` makes the ticket wait for that one station. The caller holds the ticket
    row (a guarded UPDATE) before calling this.
    """
    run = [s for s in ticket.crossing.steps if s.station_id == station_id and s.status in ("called", "in_progress")]
    head = run[0] if run else ticket.crossing.next_open_step()
    detail = detail or {}
    for step in run:
        step_event(step, event if step is head else "returned", now, user=user, station_id=station_id, detail=detail)
        step.status = "pending"
        step.station_id = None
        step.called_at = None
        step.started_at = None
        step.started_by_id = None
    head.status = "waiting"
    if rank_at is not None or head.queued_at is None:
        head.queued_at = now
        ticket.queued_at = now
        ticket.rank_at = rank_at if rank_at is not None else priority.rank_at(now, ticket.priority)
    ticket.status = "waiting"
    ticket.step_kind_id = head.step_kind_id
    ticket.target_station_id = target_station_id
    ticket.station_id = None
    ticket.called_at = None
    ticket.called_by_id = None
    ticket.recalls = 0
    step_event(head, "queued", now, detail={"stage": ticket.stage, "station_id": target_station_id})
    return head


def end_as_no_show(ticket: Ticket, station_id: int, now, *, user=None) -> None:
    """No-show policy "cancel": the crossing ends with status no_show, its open steps are cancelled."""
    crossing = ticket.crossing
    for step in crossing.steps:
        if step.station_id == station_id and step.status in ("called", "in_progress"):
            step_event(step, "no_show", now, user=user, station_id=station_id)
        if step.status not in ("cleared", "refused", "cancelled"):
            step.status = "cancelled"
            step.station_id = None
            step_event(step, "cancelled", now, detail={"reason": "no_show"})
    crossing.status = "no_show"
    crossing.ended_at = now
    ticket.status = "cancelled"
    ticket.step_kind_id = None
    ticket.station_id = None
    ticket.target_station_id = None


def hold(*conditions) -> Ticket | None:
    """The guarded UPDATE on one ticket: checks ``conditions``, locks the row for the rest of the transaction.

    Returns the ticket as the UPDATE found it, with its crossing and all the crossing's steps read again after the
    lock (three statements; expiring the whole session instead reloaded the user, the step kinds and every step one
    by one). None: no ticket matches any more, its state changed meanwhile.
    """
    db.session.flush()
    ticket = db.session.execute(
        update(Ticket)
        .where(*conditions)
        .values(status=Ticket.status)
        .returning(Ticket)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).scalar()
    if ticket is not None:
        set_committed_value(ticket, "crossing", read_crossing_again(ticket.crossing_id))
    return ticket


def hold_ticket(step: Step) -> Ticket | None:
    """Lock the ticket while ``step`` is at its station, for the rest of the transaction, then read state again.

    Station actions (recall, no-show, transfer, closing) take the same row lock with ``hold`` first, so a start or a
    decision never interleaves with them: whichever comes second sees what the first committed. The step, its
    crossing and the crossing's steps are read again whether or not the ticket is still there, so that the checks
    after this one see the current state. None: the step is no longer at a counter.
    """
    if step.station_id is None:
        return None
    ticket = hold(
        Ticket.crossing_id == step.crossing_id, Ticket.status == "called", Ticket.station_id == step.station_id
    )
    crossing = ticket.crossing if ticket is not None else read_crossing_again(step.crossing_id)
    set_committed_value(step, "crossing", crossing)  # the step is one of its steps: read again with them
    return ticket


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
        if step.status in ("cleared", "cancelled", "refused"):
            if run:
                break
            continue
        if step.step_kind_id not in served:
            break
        run.append(step)
        if station.stage == "secondary":
            break  # secondary inspection handles the one referred step
    return run


def mark_called(ticket: Ticket, station, officer, now) -> list[Step]:
    steps = steps_here(ticket.crossing, station)
    for step in steps:
        step.status = "called"
        step.station_id = station.id
        step.called_at = now
        if step.queued_at is None:
            step.queued_at = ticket.queued_at
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


def ensure_can_view(crossing: Crossing, user) -> None:
    """Supervisors and admins of the post; officers of an agency with a step on the crossing."""
    if user.post_id != crossing.post_id:
        raise Forbidden(_("This crossing belongs to another post."), code="wrong_post")
    if user.role in ("supervisor", "admin"):
        return
    if user.agency_id is None or all(s.agency_id != user.agency_id for s in crossing.steps):
        raise Forbidden(_("Your agency has no control on this crossing."), code="wrong_agency")


def _seated_station_id(officer) -> int | None:
    return db.session.scalar(select(Seat.station_id).where(Seat.user_id == officer.id, Seat.left_at.is_(None)))


def ensure_officer_at_step(step: Step, officer) -> None:
    if not officer.is_officer or officer.post_id != step.crossing.post_id:
        raise Forbidden(_("Only an officer of this post can act on a step."), code="not_officer")
    if step.agency_id != officer.agency_id:
        raise Forbidden(
            _(
                "This step belongs to %(agency)s; you can only act on your own agency's steps.",
                agency=step.step_kind.agency.label,
            ),
            code="wrong_agency",
        )
    if step.status not in ("called", "in_progress"):
        raise Conflict(
            _("This step is not at a counter now (it is %(status)s).", status=step_status_label(step.status)),
            code="step_not_called",
        )
    if _seated_station_id(officer) != step.station_id:
        raise Forbidden(_("You are not seated at the counter serving this step."), code="not_seated_here")
    earlier = [s for s in step.crossing.steps if s.position < step.position and s.status != "cleared"]
    if earlier:
        raise Conflict(
            _("Step out of order: %(agency)s must decide first.", agency=earlier[0].step_kind.agency.label),
            code="step_out_of_order",
        )


def start_step(step: Step, officer) -> Step:
    held = hold_ticket(step)
    ensure_officer_at_step(step, officer)
    if held is None:
        raise _not_at_counter(step)
    if step.status == "called":
        start(step, officer, utcnow())
        audit.record("step.started", user=officer, obj=step, crossing_id=step.crossing_id, station_id=step.station_id)
    return step


def _not_at_counter(step: Step) -> Conflict:
    return Conflict(
        _("This step is not at a counter now (it is %(status)s).", status=step_status_label(step.status)),
        code="step_not_called",
    )


def start(step: Step, officer, now) -> None:
    step.status = "in_progress"
    step.started_at = now
    step.started_by_id = officer.id
    step_event(step, "started", now, user=officer, station_id=step.station_id)


def decide_step(step: Step, officer, outcome: str, reason: str | None = None) -> Step:
    """Record cleared / referred / refused on a step and move the crossing and its ticket on."""
    ticket = hold_ticket(step)
    ensure_officer_at_step(step, officer)
    if ticket is None:
        raise _not_at_counter(step)
    reason = (reason or "").strip() or None
    if outcome not in OUTCOMES:
        raise Invalid(_("The outcome must be cleared, referred or refused."), code="invalid_outcome")
    if outcome in ("referred", "refused") and not reason:
        raise Invalid(_("Give a reason for a referral or a refusal."), code="reason_required")
    if reason and len(reason) > MAX_REASON:
        raise Invalid(_("The reason is too long (%(max)s characters at most).", max=MAX_REASON), code="reason_too_long")
    if outcome == "referred" and step.is_secondary:
        raise Invalid(_("Secondary inspection ends in cleared or refused."), code="already_referred")
    crossing = step.crossing
    if outcome == "cleared" and step.step_kind.agency.kind == "immigration" and not crossing.document_number:
        raise Invalid(_("Record the identity and travel document before clearing."), code="identity_required")

    now = utcnow()
    if step.status == "called":
        start(step, officer, now)
    station_id = step.station_id
    if outcome == "referred":
        _refer(step, ticket, officer, reason, now)
    else:
        step.status = outcome
        step.outcome = outcome
        step.reason = reason
        step.decided_at = now
        step.decided_by_id = officer.id
        step_event(step, outcome, now, user=officer, station_id=station_id)
        if outcome == "refused":
            _refuse_crossing(crossing, ticket, reason, now)
        else:
            _advance(crossing, ticket, now)
    audit.record(f"step.{outcome}", user=officer, obj=step, crossing_id=crossing.id, station_id=station_id)
    events.publish(
        "step.decided",
        {"step_id": step.id, "crossing_id": crossing.id, "outcome": outcome, "crossing_status": crossing.status},
        events.station_room(station_id),
        events.agency_room(step.agency_id),
    )
    return step


def _refer(step: Step, ticket: Ticket, officer, reason: str, now) -> None:
    step.status = "referred"
    step.referral_reason = reason
    step_event(step, "referred", now, user=officer, station_id=step.station_id, detail={"reason": reason})
    # The rest of the run at this counter waits until secondary inspection is done.
    for other in step.crossing.steps:
        if other.position > step.position and other.status in ("called", "in_progress"):
            other.status = "pending"
            other.station_id = None
            other.called_at = None
            other.started_at = None
            other.started_by_id = None
            step_event(other, "returned", now, user=officer)
    enqueue(ticket, step, stage="secondary", now=now)


def _refuse_crossing(crossing: Crossing, ticket: Ticket, reason: str, now) -> None:
    crossing.status = "refused"
    crossing.refusal_reason = reason
    crossing.ended_at = now
    for other in crossing.steps:
        if other.status not in ("cleared", "refused"):
            other.status = "cancelled"
            step_event(other, "cancelled", now)
    _close_ticket(ticket)


def _advance(crossing: Crossing, ticket: Ticket, now) -> None:
    following = crossing.next_open_step()
    if following is None:
        crossing.status = "cleared"
        crossing.ended_at = now
        crossing.gate_pass_code = _new_gate_pass_code()
        crossing.gate_pass_issued_at = now
        _close_ticket(ticket)
        audit.record("gate_pass.issued", obj=crossing)
    elif following.status not in ("called", "in_progress"):
        enqueue(ticket, following, now=now)


def _close_ticket(ticket: Ticket) -> None:
    ticket.status = "done"
    ticket.step_kind_id = None
    ticket.station_id = None
    events.publish(
        "ticket.done",
        {"code": ticket.code, "status": "done"},
        events.ticket_room(ticket.post_id, ticket.code),
        events.supervisor_room(ticket.post_id),
    )


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
