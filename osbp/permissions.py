"""Who may do what in the hall: one place for the checks the operations make before they act.

Roles (osbp/auth/models.py): officers act for their agency at the counter they are seated at; supervisors manage
their post's stations and tickets (admins do not run the hall). Which role reaches which endpoint at all is the role
matrix (osbp/roles.py), enforced by osbp/web.py before any of this runs; these are the finer checks. Every check raises Forbidden
(or Conflict for a state that forbids the action) with a translated message; nothing here writes.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from osbp.errors import Conflict, Forbidden
from osbp.extensions import db
from osbp.i18n import station_name
from osbp.queues.models import Seat, Station, TicketStatus
from osbp.workflow import operations as workflow


def ensure_supervisor(user) -> None:
    """Supervisors only (the live view and its station controls)."""
    if not user.is_supervisor:
        raise Forbidden(_("This page is for another kind of account."), code="wrong_role")


def ensure_audit_reader(user) -> None:
    """Supervisors (their post's events) and admins: the audit log."""
    if not (user.is_supervisor or user.is_admin):
        raise Forbidden(_("This page is for another kind of account."), code="wrong_role")


def ensure_admin(user) -> None:
    """Admins only: accounts and devices (docs/security.md, who may do what). Supervisors run the hall."""
    if not user.is_admin:
        raise Forbidden(_("Only an admin manages accounts and devices."), code="not_admin")


def seated_station(user) -> Station | None:
    """The station the officer is seated at now (one open seat per officer)."""
    seat = db.session.scalar(select(Seat).where(Seat.user_id == user.id, Seat.left_at.is_(None)))
    return seat.station if seat else None


def seated_station_id(user) -> int | None:
    return db.session.scalar(select(Seat.station_id).where(Seat.user_id == user.id, Seat.left_at.is_(None)))


def ensure_officer_of_post(user, post_id: int, message: str) -> None:
    if not user.is_officer or user.post_id != post_id:
        raise Forbidden(message, code="not_officer")


def ensure_seated_at(station: Station, officer, *, not_officer: str | None = None, not_seated: str | None = None):
    """An officer of the station's post, seated at it; the messages say what the officer was trying to do."""
    ensure_officer_of_post(
        officer, station.post_id, not_officer or _("Only an officer of this post can act at a counter.")
    )
    if seated_station_id(officer) != station.id:
        raise Forbidden(
            not_seated or _("Take a seat at %(station)s before acting there.", station=station_name(station)),
            code="not_seated_here",
        )


def ensure_officer_at_step(step, officer) -> None:
    """An officer of the step's agency, seated at the counter serving it, and the step's turn."""
    ensure_officer_of_post(officer, step.crossing.post_id, _("Only an officer of this post can act on a step."))
    if step.agency_id != officer.agency_id:
        raise Forbidden(
            _(
                "This step belongs to %(agency)s; you can only act on your own agency's steps.",
                agency=step.step_kind.agency.label,
            ),
            code="wrong_agency",
        )
    workflow.ensure_at_counter(step)
    if seated_station_id(officer) != step.station_id:
        raise Forbidden(_("You are not seated at the counter serving this step."), code="not_seated_here")
    workflow.ensure_in_order(step)


def ensure_own_ticket(ticket, user, message: str) -> None:
    """Supervisors act on any ticket of their post; an officer only on the ticket called at their own counter."""
    if user.is_supervisor:
        return
    station_id = seated_station_id(user) if user.is_officer else None
    if station_id is None or ticket.status != TicketStatus.CALLED or ticket.station_id != station_id:
        raise Forbidden(message, code="not_your_ticket")


def ensure_may_manage(station: Station, user) -> None:
    """Supervisors manage any station of their post; an officer only the station they sit at."""
    if user.post_id != station.post_id:
        raise Forbidden(_("This station belongs to another post."), code="wrong_post")
    if user.is_supervisor:
        return
    if not user.is_officer or seated_station_id(user) != station.id:
        raise Forbidden(
            _(
                "Only a supervisor or an officer seated at %(station)s can open, pause or close it.",
                station=station_name(station),
            ),
            code="not_allowed",
        )


def ensure_can_view(crossing, user) -> None:
    """A crossing's file: supervisors of the post; officers of an agency with a step on the crossing."""
    if user.post_id != crossing.post_id:
        raise Forbidden(_("This crossing belongs to another post."), code="wrong_post")
    if user.is_supervisor:
        return
    if user.agency_id is None or all(s.agency_id != user.agency_id for s in crossing.steps):
        raise Forbidden(_("Your agency has no control on this crossing."), code="wrong_agency")


def may_see_stations(user) -> bool:
    """The stations overview: supervisors and officers."""
    return user.is_supervisor or user.is_officer


def ensure_may_readmit(crossing, task, user) -> None:
    """Record a re-admission: an officer of the crossing's post whose agency holds the cleared exit step (the exit
    country's own service; in practice its immigration). Seated or not: the person is taken back at that agency's
    office, not through a ticket at a counter, and the task must not wait for a counter to open. Supervisors see the
    task but do not record it; devices, gate officers and committee members never reach the routes (osbp/web.py).

    ``task`` is the crossing's Readmission, None when it needs none (Conflict).
    """
    if user.post_id != crossing.post_id:
        raise Forbidden(_("This crossing belongs to another post."), code="wrong_post")
    if not user.is_officer:
        raise Forbidden(
            _("Only an officer of the exit country's agency can record a re-admission."), code="not_officer"
        )
    if task is None:
        raise Conflict(
            _(
                "Crossing %(id)s has no re-admission to record: nobody was turned back after the exit.",
                id=crossing.id,
            ),
            code="no_readmission",
        )
    if user.agency_id != task.agency_id:
        raise Forbidden(
            _(
                "Only %(agency)s, whose officers let this person out, can record the re-admission.",
                agency=task.agency.label,
            ),
            code="wrong_agency",
        )


def may_see_readmissions(user) -> bool:
    """The re-admission block of the counter pages: officers (each sees their own agency's tasks)."""
    return user.is_officer
