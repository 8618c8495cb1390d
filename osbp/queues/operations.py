"""Tickets, seats and the atomic call-next. Operations never commit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from osbp import events
from osbp.audit import operations as audit
from osbp.errors import Conflict, Forbidden, NotFound
from osbp.extensions import db
from osbp.i18n import station_name
from osbp.queues.models import CATEGORY_LETTERS, Seat, Station, Ticket, TicketCounter, station_step_kinds
from osbp.types import utcnow
from osbp.workflow import operations as workflow


def service_date(post, now: datetime | None = None):
    """The post's local calendar day: ticket numbers restart at local midnight."""
    return (now or utcnow()).astimezone(ZoneInfo(post.timezone)).date()


def next_ticket_number(post, day, letter: str) -> int:
    """Atomically take the next number of the day for a category letter."""
    bump = (
        update(TicketCounter)
        .where(TicketCounter.post_id == post.id, TicketCounter.service_date == day, TicketCounter.letter == letter)
        .values(last_number=TicketCounter.last_number + 1)
        .returning(TicketCounter.last_number)
    )
    number = db.session.scalar(bump)
    if number is not None:
        return number
    try:
        with db.session.begin_nested():
            db.session.add(TicketCounter(post_id=post.id, service_date=day, letter=letter, last_number=1))
        return 1
    except IntegrityError:  # another request created today's counter first
        return db.session.scalar(bump)


def issue_ticket(post, direction: str, category: str, *, issued_by) -> Ticket:
    crossing = workflow.create_crossing(post, direction, category, created_by=issued_by)
    now = crossing.created_at
    day = service_date(post, now)
    letter = CATEGORY_LETTERS[category]
    number = next_ticket_number(post, day, letter)
    ticket = Ticket(
        post_id=post.id,
        crossing=crossing,
        code=f"{letter}-{number:03d}",
        service_date=day,
        issued_at=now,
        issued_by_id=getattr(issued_by, "id", None),
    )
    db.session.add(ticket)
    db.session.flush()
    workflow.enqueue(ticket, crossing.steps[0], now=now)
    db.session.flush()
    audit.record("ticket.issued", user=issued_by, obj=ticket, crossing_id=crossing.id, code=ticket.code)
    events.publish("ticket.issued", {"code": ticket.code, "category": category}, events.post_room(post.id))
    return ticket


def get_station(station_id: int, post_id: int) -> Station:
    station = db.session.get(Station, station_id)
    if station is None or station.post_id != post_id:
        raise NotFound(_("No station with number %(id)s.", id=station_id), code="station_not_found")
    return station


def seated_station(user) -> Station | None:
    seat = db.session.scalar(select(Seat).where(Seat.user_id == user.id, Seat.left_at.is_(None)))
    return seat.station if seat else None


def take_seat(station: Station, officer) -> Seat:
    """Seat an officer at a station that serves one of their agency's step kinds."""
    if not officer.is_officer or officer.post_id != station.post_id:
        raise Forbidden(_("Only an officer of this post can take a seat at a counter."), code="not_officer")
    if officer.agency_id not in station.agency_ids:
        raise Forbidden(
            _("%(station)s does not serve your agency.", station=station_name(station)), code="wrong_agency"
        )
    if not station.is_open:
        raise Conflict(_("%(station)s is closed.", station=station_name(station)), code="station_closed")
    now = utcnow()
    current = db.session.scalar(select(Seat).where(Seat.user_id == officer.id, Seat.left_at.is_(None)))
    if current is not None:
        if current.station_id == station.id:
            return current
        current.left_at = now
        db.session.flush()
    seat = Seat(user_id=officer.id, station_id=station.id, seated_at=now)
    db.session.add(seat)
    audit.record("station.seated", user=officer, obj=station)
    return seat


def leave_seat(officer) -> None:
    seat = db.session.scalar(select(Seat).where(Seat.user_id == officer.id, Seat.left_at.is_(None)))
    if seat is not None:
        seat.left_at = utcnow()
        audit.record("station.left", user=officer, obj=seat.station)


def current_ticket(station: Station) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.station_id == station.id, Ticket.status == "called"))


def _waiting_for(station: Station):
    kinds = select(station_step_kinds.c.step_kind_id).where(station_step_kinds.c.station_id == station.id)
    return (
        Ticket.post_id == station.post_id,
        Ticket.status == "waiting",
        Ticket.stage == station.stage,
        Ticket.step_kind_id.in_(kinds),
    )


def call_next(station: Station, officer) -> tuple[Ticket, list] | None:
    """Call the longest-waiting ticket this station can serve. Atomic: one UPDATE … RETURNING.

    On PostgreSQL the candidate row is locked with FOR UPDATE SKIP LOCKED so racing counters take
    different tickets; on SQLite the single statement holds the write lock from start to end.
    Two officers at one counter pressing together: the loser collides with uq_tickets_called_station
    and gets Conflict(code="station_busy"), never an IntegrityError.
    """
    if not officer.is_officer or officer.post_id != station.post_id:
        raise Forbidden(_("Only an officer of this post can call tickets."), code="not_officer")
    seat_station = seated_station(officer)
    if seat_station is None or seat_station.id != station.id:
        raise Forbidden(
            _("Take a seat at %(station)s before calling tickets.", station=station_name(station)),
            code="not_seated_here",
        )
    if not station.is_open:
        raise Conflict(_("%(station)s is closed.", station=station_name(station)), code="station_closed")
    busy = current_ticket(station)
    if busy is not None:
        raise _station_busy(station, busy)
    candidate = (
        select(Ticket.id)
        .where(*_waiting_for(station))
        .order_by(Ticket.queued_at, Ticket.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    now = utcnow()
    claim = (
        update(Ticket)
        .where(Ticket.id == candidate, Ticket.status == "waiting")
        .values(status="called", station_id=station.id, called_at=now, called_by_id=officer.id)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    )
    try:
        claimed = _claim(claim)
    except IntegrityError as error:
        # uq_tickets_called_station: another officer at this counter called a ticket after our busy check.
        raise _station_busy(station, current_ticket(station)) from error
    if claimed is None:
        return None
    ticket = db.session.get(Ticket, claimed, populate_existing=True)
    steps = workflow.mark_called(ticket, station, officer, now)
    audit.record("ticket.called", user=officer, obj=ticket, station_id=station.id)
    events.publish(
        "ticket.called",
        {"code": ticket.code, "station": station.name, "station_id": station.id},
        events.post_room(station.post_id),
        events.station_room(station.id),
    )
    return ticket, steps


def _claim(claim) -> int | None:
    """Run the claiming UPDATE so that a unique-index collision leaves the transaction usable.

    PostgreSQL aborts the whole transaction on an error, so the statement runs in a SAVEPOINT there. SQLite undoes
    only the failed statement and keeps the transaction. A SAVEPOINT would even be harmful there: when nothing has
    been written yet in the request, pysqlite lets the SAVEPOINT open the transaction, and its RELEASE then commits
    the claim on its own, before the steps and the audit record.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return db.session.execute(claim).scalar()
    with db.session.begin_nested():
        return db.session.execute(claim).scalar()


def _station_busy(station: Station, busy: Ticket | None) -> Conflict:
    return Conflict(
        _(
            "%(station)s is still serving %(code)s. Finish it first.",
            station=station_name(station),
            code=busy.code if busy is not None else "…",
        ),
        code="station_busy",
    )


def queue_lengths(post_id: int) -> dict[int, int]:
    """Waiting tickets per station (a ticket counts at every station that could serve it)."""
    rows = db.session.execute(
        select(Station.id, func.count(Ticket.id))
        .join(station_step_kinds, station_step_kinds.c.station_id == Station.id)
        .join(
            Ticket,
            (Ticket.step_kind_id == station_step_kinds.c.step_kind_id)
            & (Ticket.stage == Station.stage)
            & (Ticket.status == "waiting")
            & (Ticket.post_id == Station.post_id),
        )
        .where(Station.post_id == post_id)
        .group_by(Station.id)
    )
    return dict(rows.all())


def list_stations(post_id: int) -> list[Station]:
    return list(db.session.scalars(select(Station).where(Station.post_id == post_id).order_by(Station.id)))


def get_ticket_by_code(post, code: str) -> Ticket:
    code = (code or "").strip().upper()
    ticket = db.session.scalar(
        select(Ticket).where(Ticket.post_id == post.id, Ticket.code == code).order_by(Ticket.issued_at.desc()).limit(1)
    )
    if ticket is None:
        raise NotFound(_("No ticket %(code)s today.", code=code), code="ticket_not_found")
    return ticket


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
