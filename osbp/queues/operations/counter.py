"""What an officer does with the ticket at the counter: recall, no-show, transfer, priority, start and decide.

Each action first locks the ticket it acts on (``lock_ticket``: a guarded UPDATE … RETURNING that checks the state it
expects), then reads the crossing again, then checks who may act (osbp/permissions.py) and changes state: the
workflow moves the steps, the ticket follows (osbp/queues/operations/tickets.py).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from osbp import events
from osbp.audit import operations as audit
from osbp.errors import Conflict, Forbidden, Invalid
from osbp.i18n import station_name
from osbp.permissions import ensure_officer_at_step, ensure_own_ticket, ensure_seated_at
from osbp.queues import priority as ranking
from osbp.queues.models import Station, Ticket, TicketStatus
from osbp.queues.operations.calling import called_ticket, nothing_called, read_station_state
from osbp.queues.operations.stations import list_stations
from osbp.queues.operations.tickets import (
    follow_decision,
    lock_ticket,
    lock_ticket_at_counter,
    priority_kind,
    release,
    requeue,
    ticket_rooms,
)
from osbp.types import utcnow
from osbp.validation import clean_reason
from osbp.workflow import operations as workflow
from osbp.workflow.models import StepStatus


def _config():
    return current_app.config["OSBP"]


def recall(station: Station, officer) -> Ticket:
    """Chime the called ticket again. Allowed OSBP_MAX_RECALLS times, before the service starts."""
    ensure_seated_at(station, officer)
    ticket = _lock_called_ticket(station)
    _ensure_not_started(ticket, station)
    limit = _config().max_recalls
    if ticket.recalls >= limit:
        raise Conflict(
            _(
                "%(code)s was recalled %(count)s times. Mark it as a no-show.",
                code=ticket.code,
                count=ticket.recalls,
            ),
            code="recall_limit",
        )
    ticket.recalls += 1
    now = utcnow()
    for step in ticket.crossing.run_at(station.id):
        workflow.step_event(
            step, "recalled", now, user=officer, station_id=station.id, detail={"recall": ticket.recalls}
        )
    audit.record("ticket.recalled", user=officer, obj=ticket, station_id=station.id, recalls=ticket.recalls)
    events.publish(
        "ticket.recalled",
        {"code": ticket.code, "station": station.name, "station_id": station.id, "recalls": ticket.recalls},
        *ticket_rooms(ticket, station.id),
    )
    return ticket


def no_show(station: Station, officer) -> Ticket:
    """After OSBP_MAX_RECALLS recalls: back to the end of its queue, or cancelled (OSBP_NO_SHOW_POLICY)."""
    ensure_seated_at(station, officer)
    ticket = _lock_called_ticket(station)
    _ensure_not_started(ticket, station)
    config = _config()
    if ticket.recalls < config.max_recalls:
        raise Conflict(
            _(
                "%(code)s was recalled %(done)s of %(needed)s times. Recall it again before marking a no-show.",
                code=ticket.code,
                done=ticket.recalls,
                needed=config.max_recalls,
            ),
            code="recalls_needed",
        )
    recalls = ticket.recalls
    now = utcnow()
    if config.no_show_policy == "cancel":
        workflow.end_as_no_show(ticket.crossing, station.id, now, user=officer)
        release(ticket, TicketStatus.CANCELLED)
    else:  # requeue: a new place at the end of the line (no priority boost for this queue)
        requeue(ticket, station.id, now, event="no_show", user=officer, rank_at=now)
    audit.record(
        "ticket.no_show",
        user=officer,
        obj=ticket,
        station_id=station.id,
        recalls=recalls,
        policy=config.no_show_policy,
        crossing_id=ticket.crossing_id,
    )
    events.publish(
        "ticket.no_show",
        {"code": ticket.code, "station": station.name, "station_id": station.id, "status": ticket.status},
        *ticket_rooms(ticket, station.id),
    )
    return ticket


def transfer(ticket: Ticket, target: Station, user) -> Ticket:
    """Send a ticket to another station that serves its next step. Same code; it keeps its place in line.

    A called ticket leaves its station; a waiting ticket just changes line. Either way it then waits for ``target``
    only (``target_station_id``; call-next honours it). Officers transfer the ticket called at their own counter;
    supervisors move any waiting or called ticket of their post.
    """
    if user.post_id != ticket.post_id or target.post_id != ticket.post_id:
        raise Forbidden(_("This ticket or station belongs to another post."), code="wrong_post")
    ensure_own_ticket(ticket, user, _("Officers can only transfer the ticket called at their own counter."))
    status, from_station_id, from_target = ticket.status, ticket.station_id, ticket.target_station_id
    if status not in (TicketStatus.WAITING, TicketStatus.CALLED):
        raise Conflict(_("%(code)s is no longer in a queue.", code=ticket.code), code="ticket_closed")
    target = read_station_state(target)  # stations before tickets
    if not target.is_open:
        raise Conflict(_("%(station)s is closed.", station=station_name(target)), code="station_closed")
    station_check = Ticket.station_id.is_(None) if from_station_id is None else Ticket.station_id == from_station_id
    held = lock_ticket(Ticket.id == ticket.id, Ticket.status == status, station_check)
    if held is None:
        raise Conflict(
            _("%(code)s changed meanwhile (called or moved). Look again.", code=ticket.code), code="ticket_changed"
        )
    ticket = held
    step = ticket.crossing.current_step(from_station_id)
    if from_station_id == target.id:
        raise Invalid(
            _("%(code)s is already at %(station)s.", code=ticket.code, station=station_name(target)),
            code="same_station",
        )
    if target.stage != ticket.stage or step is None or step.step_kind_id not in {k.id for k in target.step_kinds}:
        raise Invalid(
            _(
                "%(station)s does not serve the next control of %(code)s.",
                station=station_name(target),
                code=ticket.code,
            ),
            code="station_not_serving",
        )
    now = utcnow()
    detail = {"from": from_station_id or from_target, "to": target.id}
    if status == TicketStatus.CALLED:
        requeue(
            ticket, from_station_id, now, event="transferred", user=user, detail=detail, target_station_id=target.id
        )
    else:
        ticket.target_station_id = target.id
        workflow.step_event(step, "transferred", now, user=user, detail=detail)
    audit.record(
        "ticket.transferred", user=user, obj=ticket, from_station_id=from_station_id, station_id=target.id, was=status
    )
    events.publish(
        "ticket.transferred",
        {"code": ticket.code, "station": target.name, "station_id": target.id, "status": ticket.status},
        *ticket_rooms(ticket, from_station_id, target.id),
    )
    return ticket


def transfer_targets(ticket: Ticket) -> list[Station]:
    """Stations a ticket could be transferred to: not closed, its stage, serving its next step, not where it is."""
    if ticket.status not in (TicketStatus.WAITING, TicketStatus.CALLED):
        return []
    step = ticket.crossing.current_step(ticket.station_id)
    if step is None:
        return []
    return [
        s
        for s in list_stations(ticket.post_id)
        if s.is_open
        and s.stage == ticket.stage
        and s.id != ticket.station_id
        and step.step_kind_id in {k.id for k in s.step_kinds}
    ]


def set_priority(ticket: Ticket, user, kind: str | None, reason: str | None) -> Ticket:
    """Flag (or clear) a ticket's priority, with a reason (audited). A waiting ticket moves up its line at once."""
    if user.post_id != ticket.post_id:
        raise Forbidden(_("This ticket belongs to another post."), code="wrong_post")
    ensure_own_ticket(
        ticket, user, _("Officers can only flag the ticket called at their own counter; ask a supervisor.")
    )
    kind = priority_kind(kind)
    reason = clean_reason(reason, missing=_("Give a reason for the priority."))
    held = lock_ticket(Ticket.id == ticket.id, Ticket.status.in_((TicketStatus.WAITING, TicketStatus.CALLED)))
    if held is None:
        raise Conflict(_("%(code)s is no longer in a queue.", code=ticket.code), code="ticket_closed")
    ticket = held
    before = ticket.priority
    if before == kind:
        return ticket
    ticket.priority = kind
    if ticket.status == TicketStatus.WAITING and ticket.queued_at is not None:
        ticket.rank_at = ranking.rank_at(ticket.queued_at, kind)
    now = utcnow()
    step = ticket.crossing.current_step(ticket.station_id)
    workflow.step_event(step, "priority", now, user=user, station_id=ticket.station_id, detail={"priority": kind})
    audit.record("ticket.priority", user=user, obj=ticket, priority=kind, before=before, reason=reason)
    events.publish(
        "ticket.priority",
        {"code": ticket.code, "priority": kind},
        events.post_room(ticket.post_id),
        events.supervisor_room(ticket.post_id),
    )
    return ticket


def start_step(step, officer):
    """The officer starts serving their step (timestamped: started); nothing changes when it is started already."""
    ticket = lock_ticket_at_counter(step)
    ensure_officer_at_step(step, officer)
    if ticket is None:
        raise workflow.not_at_counter(step)
    if step.status == StepStatus.CALLED:
        workflow.mark_in_progress(step, officer, utcnow())
        audit.record("step.started", user=officer, obj=step, crossing_id=step.crossing_id, station_id=step.station_id)
    return step


def decide_step(step, officer, outcome: str, reason: str | None = None):
    """Record cleared / referred / refused on a step at the officer's counter; the ticket follows the crossing."""
    ticket = lock_ticket_at_counter(step)
    ensure_officer_at_step(step, officer)
    if ticket is None:
        raise workflow.not_at_counter(step)
    now = utcnow()
    moved = workflow.record_decision(step, officer, outcome, reason, now)
    follow_decision(ticket, moved, now)
    return step


def start_my_step(station: Station, officer):
    """The officer starts their step on the ticket called at their station."""
    ensure_seated_at(station, officer)
    ticket, step = _my_step(station, officer)
    was = step.status
    start_step(step, officer)
    if was == StepStatus.CALLED:
        events.publish(
            "ticket.started",
            {"code": ticket.code, "station": station.name, "station_id": station.id, "status": StepStatus.IN_PROGRESS},
            *ticket_rooms(ticket, station.id),
        )
    return step


def decide_my_step(station: Station, officer, outcome: str, reason: str | None = None):
    """The officer ends their step on the ticket called at their station: cleared, referred or refused."""
    ensure_seated_at(station, officer)
    _ticket, step = _my_step(station, officer)
    return decide_step(step, officer, outcome, reason)


def _my_step(station: Station, officer):
    """The ticket called at the station and the caller's step on it (Conflict when there is none)."""
    ticket = called_ticket(station)
    step = next((s for s in ticket.crossing.run_at(station.id) if s.agency_id == officer.agency_id), None)
    if step is None:
        raise Conflict(
            _("%(code)s has no step for your agency at this counter.", code=ticket.code), code="no_step_for_agency"
        )
    return ticket, step


def _lock_called_ticket(station: Station) -> Ticket:
    ticket = lock_ticket(Ticket.station_id == station.id, Ticket.status == TicketStatus.CALLED)
    if ticket is None:
        raise nothing_called(station)
    return ticket


def _ensure_not_started(ticket: Ticket, station: Station) -> None:
    if any(s.status == StepStatus.IN_PROGRESS for s in ticket.crossing.run_at(station.id)):
        raise Conflict(
            _("%(code)s is already being served at %(station)s.", code=ticket.code, station=station_name(station)),
            code="service_started",
        )
