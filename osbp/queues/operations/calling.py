"""The atomic call-next: a counter takes the first ticket in its line, and no ticket is ever taken twice."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import ARRAY, Integer, any_, cast, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from osbp import events
from osbp.audit import operations as audit
from osbp.errors import Conflict
from osbp.extensions import db
from osbp.i18n import station_name
from osbp.permissions import ensure_seated_at
from osbp.queues.models import Station, Ticket, TicketStatus, station_step_kinds
from osbp.types import utcnow
from osbp.workflow import operations as workflow

# Per step kind, the claim looks at this many tickets first (PostgreSQL); more counters than this racing for one
# kind, and it falls back to the whole line.
SHORTLIST_PER_KIND = 16


def current_ticket(station: Station) -> Ticket | None:
    return db.session.scalar(
        select(Ticket).where(Ticket.station_id == station.id, Ticket.status == TicketStatus.CALLED)
    )


def called_ticket(station: Station) -> Ticket:
    """The ticket called at the station; Conflict(nothing_called) when there is none."""
    ticket = current_ticket(station)
    if ticket is None:
        raise nothing_called(station)
    return ticket


def nothing_called(station: Station) -> Conflict:
    return Conflict(_("Nobody is called at %(station)s now.", station=station_name(station)), code="nothing_called")


def call_next(station: Station, officer) -> tuple[Ticket, list] | None:
    """Call the first ticket in line for this station. Atomic: one UPDATE … RETURNING.

    The line is ordered by ``rank_at`` (arrival minus the priority boost), then id; a transferred ticket is in the
    line of its target station only. On PostgreSQL the candidate row is locked with FOR UPDATE SKIP LOCKED so racing
    counters take different tickets; on SQLite the single statement holds the write lock from start to end.
    Two officers at one counter pressing together: the loser collides with uq_tickets_called_station
    and gets Conflict(code="station_busy"), never an IntegrityError. The station's open/paused state is read under
    a shared row lock (PostgreSQL) and checked again inside the UPDATE, so closing or pausing a station and calling
    at it never interleave.
    """
    ensure_seated_at(
        station,
        officer,
        not_officer=_("Only an officer of this post can call tickets."),
        not_seated=_("Take a seat at %(station)s before calling tickets.", station=station_name(station)),
    )
    ensure_can_call(read_station_state(station))
    now = utcnow()
    try:
        ticket = _claim_first_in_line(station, officer, now)
    except IntegrityError as error:
        # uq_tickets_called_station: this counter still has a called ticket (or another officer here just called).
        raise _station_busy(station, current_ticket(station)) from error
    if ticket is None:
        busy = current_ticket(station)  # nothing was claimed: say so only if the counter is free
        if busy is not None:
            raise _station_busy(station, busy)
        ensure_can_call(read_station_state(station))  # closed or paused meanwhile (SQLite)
        return None
    steps = workflow.call_run(ticket.crossing, station, officer, now, queued_at=ticket.queued_at)
    audit.record("ticket.called", user=officer, obj=ticket, station_id=station.id)
    events.publish(
        "ticket.called",
        {"code": ticket.code, "station": station.name, "station_id": station.id},
        *events.post_rooms(station.post_id),
        events.station_room(station.id),
        events.ticket_room(station.post_id, ticket.code),
    )
    return ticket, steps


def read_station_state(station: Station) -> Station:
    """Read is_open/paused again, under a shared row lock on PostgreSQL (closing or pausing waits for us)."""
    return db.session.execute(
        select(Station)
        .where(Station.id == station.id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).scalar_one()


def ensure_can_call(station: Station) -> None:
    if not station.is_open:
        raise Conflict(_("%(station)s is closed.", station=station_name(station)), code="station_closed")
    if station.paused:
        raise Conflict(
            _("%(station)s is paused. Resume it to call tickets.", station=station_name(station)),
            code="station_paused",
        )


def _claim_first_in_line(station: Station, officer, now) -> Ticket | None:
    """Run the claiming UPDATE so that a unique-index collision leaves the transaction usable.

    PostgreSQL aborts the whole transaction on an error, so the statement runs in a SAVEPOINT there, first on a
    shortlist (the oldest tickets of each step kind, read from the waiting index) and, when every one of those is
    taken, on the whole line. SQLite undoes only the failed statement and keeps the transaction. A SAVEPOINT would
    even be harmful there: when nothing has been written yet in the request, pysqlite lets the SAVEPOINT open the
    transaction, and its RELEASE then commits the claim on its own, before the steps and the audit record.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return db.session.execute(_claim_statement(station, officer, now, _line(station))).scalar()
    with db.session.begin_nested():
        ticket = db.session.execute(_claim_statement(station, officer, now, _shortlist(station))).scalar()
        if ticket is None:
            ticket = db.session.execute(_claim_statement(station, officer, now, _line(station))).scalar()
        return ticket


def _claim_statement(station: Station, officer, now, candidates):
    """UPDATE … RETURNING the first ticket among ``candidates`` (a condition) that no other counter holds.

    Nothing is updated when the station is closed or paused by then.
    """
    candidate = (
        select(Ticket.id)
        .where(candidates, Ticket.status == TicketStatus.WAITING)
        .order_by(Ticket.rank_at, Ticket.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    ready = select(Station.id).where(Station.id == station.id, Station.is_open.is_(True), Station.paused.is_(False))
    return (
        update(Ticket)
        .where(Ticket.id == candidate, Ticket.status == TicketStatus.WAITING, ready.exists())
        .values(
            status=TicketStatus.CALLED,
            station_id=station.id,
            called_at=now,
            called_by_id=officer.id,
            recalls=0,
            target_station_id=None,
        )
        .returning(Ticket)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


def _waiting_for(station: Station, ticket=Ticket, kind=None):
    """Conditions for a ticket waiting in this station's line (of one step kind when ``kind`` is given)."""
    if kind is None:
        kinds = select(station_step_kinds.c.step_kind_id).where(station_step_kinds.c.station_id == station.id)
        of_kind = ticket.step_kind_id.in_(kinds)
    else:
        of_kind = ticket.step_kind_id == kind
    return (
        ticket.post_id == station.post_id,
        ticket.status == TicketStatus.WAITING,
        ticket.stage == station.stage,
        of_kind,
        or_(ticket.target_station_id.is_(None), ticket.target_station_id == station.id),
    )


def _line(station: Station):
    """Any ticket this station could call: a sort over all waiting tickets of its step kinds."""
    waiting = aliased(Ticket)
    return Ticket.id.in_(select(waiting.id).where(*_waiting_for(station, waiting)))


def _shortlist(station: Station):
    """The oldest SHORTLIST_PER_KIND waiting tickets of each step kind the station serves (PostgreSQL LATERAL).

    The first in line is the first of its own kind, so it is always on the shortlist; each kind is read in order
    from ix_tickets_waiting, so the claim costs the same with 100 or 20,000 tickets waiting (docs/performance.md).
    """
    waiting = aliased(Ticket)
    oldest = (
        select(waiting.id)
        .where(*_waiting_for(station, waiting, kind=station_step_kinds.c.step_kind_id))
        .order_by(waiting.rank_at, waiting.id)
        .limit(SHORTLIST_PER_KIND)
        .lateral()
    )
    shortlist = (
        select(func.array_agg(oldest.c.id))
        .select_from(station_step_kinds.join(oldest, true()))
        .where(station_step_kinds.c.station_id == station.id)
        .scalar_subquery()
    )
    # One array, then primary-key lookups (an IN made PostgreSQL hash-join a scan of all tickets).
    return Ticket.id == any_(cast(shortlist, ARRAY(Integer)))


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
    """Waiting tickets per station (a ticket counts at every station that could call it)."""
    rows = db.session.execute(
        select(Station.id, func.count(Ticket.id))
        .join(station_step_kinds, station_step_kinds.c.station_id == Station.id)
        .join(
            Ticket,
            (Ticket.step_kind_id == station_step_kinds.c.step_kind_id)
            & (Ticket.stage == Station.stage)
            & (Ticket.status == TicketStatus.WAITING)
            & (Ticket.post_id == Station.post_id)
            & (Ticket.target_station_id.is_(None) | (Ticket.target_station_id == Station.id)),
        )
        .where(Station.post_id == post_id)
        .group_by(Station.id)
    )
    return dict(rows.all())
