"""Stations: seats, and opening, pausing and closing a counter.

Each action is atomic: it first takes the station row with a guarded UPDATE … RETURNING, which checks the state it
expects and locks the row until the request commits (PostgreSQL row lock; SQLite write lock). Stations are always
locked before tickets, so two actions never wait for each other in a circle.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from osbp import events
from osbp.audit import operations as audit
from osbp.errors import Conflict, Forbidden, NotFound
from osbp.extensions import db
from osbp.i18n import station_name
from osbp.permissions import ensure_may_manage, ensure_officer_of_post
from osbp.queues.models import Seat, Station, Ticket, TicketStatus
from osbp.queues.operations.tickets import lock_ticket, requeue, ticket_rooms
from osbp.types import utcnow
from osbp.workflow import operations as workflow
from osbp.workflow.models import StepStatus


def get_station(station_id: int, post_id: int) -> Station:
    station = db.session.get(Station, station_id)
    if station is None or station.post_id != post_id:
        raise NotFound(_("No station with number %(id)s.", id=station_id), code="station_not_found")
    return station


def list_stations(post_id: int) -> list[Station]:
    return list(db.session.scalars(select(Station).where(Station.post_id == post_id).order_by(Station.id)))


def seated_officers(post_id: int) -> dict[int, list]:
    """Station id → officers seated there now."""
    from osbp.auth.models import User

    rows = db.session.execute(
        select(Seat.station_id, User)
        .join(User, User.id == Seat.user_id)
        .where(Seat.left_at.is_(None), User.post_id == post_id)
        .order_by(User.username)
    )
    seated: dict[int, list] = {}
    for station_id, user in rows:
        seated.setdefault(station_id, []).append(user)
    return seated


def take_seat(station: Station, officer) -> Seat:
    """Seat an officer at a station that serves one of their agency's step kinds."""
    ensure_officer_of_post(officer, station.post_id, _("Only an officer of this post can take a seat at a counter."))
    if officer.agency_id not in station.agency_ids:
        raise Forbidden(
            _("%(station)s does not serve your agency.", station=station_name(station)), code="wrong_agency"
        )
    if not station.is_open:
        raise Conflict(_("%(station)s is closed.", station=station_name(station)), code="station_closed")
    now = utcnow()
    current = _open_seat(officer)
    if current is not None:
        if current.station_id == station.id:
            return current
        _leave(current, officer, now)  # moving to another counter leaves this one
    seat = Seat(user_id=officer.id, station_id=station.id, seated_at=now)
    db.session.add(seat)
    audit.record("station.seated", user=officer, obj=station)
    _seats_changed(station)
    return seat


def leave_seat(officer) -> Ticket | None:
    """The officer leaves their seat. Returns the ticket sent back to its queue when they were the last one seated
    there (``_return_when_unstaffed``), else None."""
    seat = _open_seat(officer)
    if seat is None:
        return None
    return _leave(seat, officer, utcnow())


def _leave(seat: Seat, officer, now) -> Ticket | None:
    station = seat.station
    # The station row first (stations before tickets): two officers leaving at once see each other's leaving.
    db.session.execute(select(Station.id).where(Station.id == station.id).with_for_update())
    seat.left_at = now
    db.session.flush()
    audit.record("station.left", user=officer, obj=station)
    returned = _return_when_unstaffed(station, officer, now)
    _seats_changed(station)
    return returned


def _return_when_unstaffed(station: Station, user, now) -> Ticket | None:
    """Nobody is seated at ``station`` any more: a ticket called there whose service has not started goes back to its
    queue with its place kept (first in line again), as when the station closes; audited ``ticket.returned``. A ticket
    whose service started stays: a supervisor transfers it or closes the station."""
    seated = select(Seat.id).where(Seat.station_id == station.id, Seat.left_at.is_(None)).limit(1)
    if db.session.scalar(seated) is not None:
        return None
    ticket = lock_ticket(Ticket.station_id == station.id, Ticket.status == TicketStatus.CALLED)
    if ticket is None or any(s.status == StepStatus.IN_PROGRESS for s in ticket.crossing.run_at(station.id)):
        return None
    requeue(ticket, station.id, now, event="returned", user=user, detail={"reason": "last_officer_left"})
    audit.record(
        "ticket.returned", user=user, obj=ticket, code=ticket.code, station_id=station.id, reason="last_officer_left"
    )
    _publish_returned(ticket, station)
    return ticket


def _publish_returned(ticket: Ticket, station: Station) -> None:
    events.publish(
        "ticket.returned",
        {"code": ticket.code, "station": station.name, "station_id": station.id, "status": TicketStatus.WAITING},
        *ticket_rooms(ticket, station.id),
    )


def _seats_changed(station: Station) -> None:
    """Who sits where changes the waits (a queue with no officer has no estimate): boards and supervisors fetch
    them again on ``station.seats_changed``."""
    events.publish(
        "station.seats_changed",
        {"station": station.name, "station_id": station.id},
        *events.post_rooms(station.post_id),
        events.supervisor_room(station.post_id),
    )


def _open_seat(officer) -> Seat | None:
    return db.session.scalar(select(Seat).where(Seat.user_id == officer.id, Seat.left_at.is_(None)))


def _set_station(station: Station, *conditions, **values) -> bool:
    """Guarded UPDATE of the station row (locks it); then reads the station again."""
    db.session.flush()
    changed = db.session.execute(
        update(Station)
        .where(Station.id == station.id, *conditions)
        .values(**values)
        .returning(Station.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    db.session.refresh(station)
    return changed is not None


def _station_changed(station: Station, user, action: str, **detail) -> None:
    audit.record(f"station.{action}", user=user, obj=station, state=station.state, **detail)
    events.publish(
        "station.changed",
        {"station": station.name, "station_id": station.id, "status": station.state},
        *events.post_rooms(station.post_id),
        events.station_room(station.id),
        events.supervisor_room(station.post_id),
    )


def pause_station(station: Station, user) -> Station:
    """A break: the station keeps its current ticket and its seats but calls nobody new."""
    ensure_may_manage(station, user)
    if not _set_station(station, Station.is_open.is_(True), Station.paused.is_(False), paused=True):
        if not station.is_open:
            raise Conflict(_("%(station)s is closed.", station=station_name(station)), code="station_closed")
        return station  # already paused
    _station_changed(station, user, "paused")
    return station


def open_station(station: Station, user) -> Station:
    """Open a closed station or resume a paused one."""
    ensure_may_manage(station, user)
    was = station.state
    if _set_station(station, or_(Station.is_open.is_(False), Station.paused.is_(True)), is_open=True, paused=False):
        _station_changed(station, user, "opened", was=was)
    return station


def close_station(station: Station, user) -> tuple[Station, Ticket | None, list[Ticket]]:
    """Close a station. Returns (station, the called ticket sent back to its queue, tickets released).

    A ticket called here and not yet started goes back to its queue with its place kept (it is first in line again);
    if its service has started, closing is refused (409 station_busy): finish or transfer it first. Tickets that were
    transferred to this station wait again for any station of their queue, with their place kept.
    """
    ensure_may_manage(station, user)
    if not _set_station(station, Station.is_open.is_(True), is_open=False, paused=False):
        return station, None, []  # already closed
    now = utcnow()
    returned = lock_ticket(Ticket.station_id == station.id, Ticket.status == TicketStatus.CALLED)
    if returned is not None:
        if any(s.status == StepStatus.IN_PROGRESS for s in returned.crossing.run_at(station.id)):
            raise Conflict(
                _(
                    "%(station)s is serving %(code)s. Finish or transfer it before closing.",
                    station=station_name(station),
                    code=returned.code,
                ),
                code="station_busy",
            )
        requeue(returned, station.id, now, event="returned", user=user, detail={"reason": "station_closed"})
    released = _release_transfers_to(station)
    for ticket in released:
        step = ticket.crossing.next_open_step()
        workflow.step_event(step, "transferred", now, user=user, detail={"from": station.id, "to": None})
    _station_changed(
        station,
        user,
        "closed",
        returned=returned.code if returned else None,
        released=[t.code for t in released],
    )
    for ticket in [*([returned] if returned else []), *released]:
        _publish_returned(ticket, station)
    return station, returned, released


def _release_transfers_to(station: Station) -> list[Ticket]:
    """Tickets transferred to a station that closes wait again for any station of their queue."""
    db.session.flush()
    released_ids = (
        db.session.execute(
            update(Ticket)
            .where(Ticket.target_station_id == station.id, Ticket.status == TicketStatus.WAITING)
            .values(target_station_id=None)
            .returning(Ticket.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    return list(
        db.session.scalars(select(Ticket).where(Ticket.id.in_(released_ids)).execution_options(populate_existing=True))
    )
