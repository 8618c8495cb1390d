"""Tickets, seats and the atomic call-next. Operations never commit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ARRAY, Integer, any_, cast, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from osbp import events
from osbp.audit import operations as audit
from osbp.errors import Conflict, Forbidden, Invalid, NotFound
from osbp.extensions import db
from osbp.i18n import station_name
from osbp.queues import priority as ranking
from osbp.queues.models import (
    CATEGORY_LETTERS,
    CHANNELS,
    PRIORITY_KINDS,
    Seat,
    Station,
    Ticket,
    TicketCounter,
    station_step_kinds,
)
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


def issue_ticket(
    post, direction: str, category: str, issued_by=None, channel: str = "desk", priority: str | None = None
) -> Ticket:
    """Open a crossing and give its ticket a place in the first queue.

    ``issued_by`` is None for self-service (the kiosk); ``channel`` is desk, kiosk or advance; ``priority`` one of
    PRIORITY_KINDS or None.
    """
    if channel not in CHANNELS:
        raise Invalid(
            _("Unknown channel %(channel)s. Use one of: %(choices)s.", channel=channel, choices=", ".join(CHANNELS)),
            code="invalid_channel",
        )
    priority = _priority_kind(priority)
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
        channel=channel,
        priority=priority,
    )
    db.session.add(ticket)
    db.session.flush()
    workflow.enqueue(ticket, crossing.steps[0], now=now)
    db.session.flush()
    audit.record(
        "ticket.issued",
        user=issued_by,
        obj=ticket,
        crossing_id=crossing.id,
        code=ticket.code,
        channel=channel,
        priority=priority,
    )
    events.publish("ticket.issued", {"code": ticket.code, "category": category}, *events.post_rooms(post.id))
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


def _waiting_for(station: Station, ticket=Ticket, kind=None):
    """Conditions for a ticket waiting in this station's line (of one step kind when ``kind`` is given)."""
    if kind is None:
        kinds = select(station_step_kinds.c.step_kind_id).where(station_step_kinds.c.station_id == station.id)
        of_kind = ticket.step_kind_id.in_(kinds)
    else:
        of_kind = ticket.step_kind_id == kind
    return (
        ticket.post_id == station.post_id,
        ticket.status == "waiting",
        ticket.stage == station.stage,
        of_kind,
        or_(ticket.target_station_id.is_(None), ticket.target_station_id == station.id),
    )


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
    if not officer.is_officer or officer.post_id != station.post_id:
        raise Forbidden(_("Only an officer of this post can call tickets."), code="not_officer")
    seat_station = seated_station(officer)
    if seat_station is None or seat_station.id != station.id:
        raise Forbidden(
            _("Take a seat at %(station)s before calling tickets.", station=station_name(station)),
            code="not_seated_here",
        )
    _ensure_can_call(_read_station_state(station))
    now = utcnow()
    try:
        ticket = _claim(station, officer, now)
    except IntegrityError as error:
        # uq_tickets_called_station: this counter still has a called ticket (or another officer here just called).
        raise _station_busy(station, current_ticket(station)) from error
    if ticket is None:
        busy = current_ticket(station)  # nothing was claimed: say so only if the counter is free
        if busy is not None:
            raise _station_busy(station, busy)
        _ensure_can_call(_read_station_state(station))  # closed or paused meanwhile (SQLite)
        return None
    steps = workflow.mark_called(ticket, station, officer, now)
    audit.record("ticket.called", user=officer, obj=ticket, station_id=station.id)
    events.publish(
        "ticket.called",
        {"code": ticket.code, "station": station.name, "station_id": station.id},
        *events.post_rooms(station.post_id),
        events.station_room(station.id),
        events.ticket_room(station.post_id, ticket.code),
    )
    return ticket, steps


# Per step kind, the claim looks at this many tickets first (PostgreSQL); more counters than this racing for one
# kind, and it falls back to the whole line.
SHORTLIST_PER_KIND = 16


def _claim(station: Station, officer, now) -> Ticket | None:
    """Run the claiming UPDATE so that a unique-index collision leaves the transaction usable.

    PostgreSQL aborts the whole transaction on an error, so the statement runs in a SAVEPOINT there, first on a
    shortlist (the oldest tickets of each step kind, read from the waiting index) and, when every one of those is
    taken, on the whole line. SQLite undoes only the failed statement and keeps the transaction. A SAVEPOINT would
    even be harmful there: when nothing has been written yet in the request, pysqlite lets the SAVEPOINT open the
    transaction, and its RELEASE then commits the claim on its own, before the steps and the audit record.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return db.session.execute(_claiming(station, officer, now, _line(station))).scalar()
    with db.session.begin_nested():
        ticket = db.session.execute(_claiming(station, officer, now, _shortlist(station))).scalar()
        if ticket is None:
            ticket = db.session.execute(_claiming(station, officer, now, _line(station))).scalar()
        return ticket


def _claiming(station: Station, officer, now, candidates):
    """UPDATE … RETURNING the first ticket among ``candidates`` (a condition) that no other counter holds.

    Nothing is updated when the station is closed or paused by then.
    """
    candidate = (
        select(Ticket.id)
        .where(candidates, Ticket.status == "waiting")
        .order_by(Ticket.rank_at, Ticket.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    ready = select(Station.id).where(Station.id == station.id, Station.is_open.is_(True), Station.paused.is_(False))
    return (
        update(Ticket)
        .where(Ticket.id == candidate, Ticket.status == "waiting", ready.exists())
        .values(
            status="called",
            station_id=station.id,
            called_at=now,
            called_by_id=officer.id,
            recalls=0,
            target_station_id=None,
        )
        .returning(Ticket)
        .execution_options(synchronize_session=False, populate_existing=True)
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
            & (Ticket.status == "waiting")
            & (Ticket.post_id == Station.post_id)
            & (Ticket.target_station_id.is_(None) | (Ticket.target_station_id == Station.id)),
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


# Station actions: recall, no-show, transfer, start/finish, pause/open/close, priority.
#
# Each one is atomic: it first takes the row it acts on with a guarded UPDATE … RETURNING (the ticket called at the
# station, the waiting ticket, or the station itself), which checks the state it expects and locks the row until the
# request commits (PostgreSQL row lock; SQLite write lock). Everything read before is then read again. Stations are
# always locked before tickets, so two actions never wait for each other in a circle.

SUPERVISOR_ROLES = ("supervisor", "admin")
MAX_REASON = 500


def _config():
    return current_app.config["OSBP"]


def _is_supervisor(user) -> bool:
    return user.role in SUPERVISOR_ROLES


def _priority_kind(kind) -> str | None:
    if kind is None or kind == "":
        return None
    if kind not in PRIORITY_KINDS:
        raise Invalid(
            _(
                "Unknown priority %(priority)s. Use one of: %(choices)s.",
                priority=kind,
                choices=", ".join(PRIORITY_KINDS),
            ),
            code="invalid_priority",
        )
    return kind


def _read_station_state(station: Station) -> Station:
    """Read is_open/paused again, under a shared row lock on PostgreSQL (closing or pausing waits for us)."""
    return db.session.execute(
        select(Station)
        .where(Station.id == station.id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _ensure_can_call(station: Station) -> None:
    if not station.is_open:
        raise Conflict(_("%(station)s is closed.", station=station_name(station)), code="station_closed")
    if station.paused:
        raise Conflict(
            _("%(station)s is paused. Resume it to call tickets.", station=station_name(station)),
            code="station_paused",
        )


def _ensure_seated(station: Station, officer) -> None:
    if not officer.is_officer or officer.post_id != station.post_id:
        raise Forbidden(_("Only an officer of this post can act at a counter."), code="not_officer")
    seat_station = seated_station(officer)
    if seat_station is None or seat_station.id != station.id:
        raise Forbidden(
            _("Take a seat at %(station)s before acting there.", station=station_name(station)),
            code="not_seated_here",
        )


def _ensure_may_manage(station: Station, user) -> None:
    """Supervisors (and admins) manage any station of their post; an officer only the station they sit at."""
    if user.post_id != station.post_id:
        raise Forbidden(_("This station belongs to another post."), code="wrong_post")
    if _is_supervisor(user):
        return
    seat_station = seated_station(user) if user.is_officer else None
    if seat_station is None or seat_station.id != station.id:
        raise Forbidden(
            _(
                "Only a supervisor or an officer seated at %(station)s can open, pause or close it.",
                station=station_name(station),
            ),
            code="not_allowed",
        )


def _hold_called(station: Station) -> Ticket:
    ticket = workflow.hold(Ticket.station_id == station.id, Ticket.status == "called")
    if ticket is None:
        raise _nothing_called(station)
    return ticket


def _run_at(ticket: Ticket, station_id: int) -> list:
    """The steps of the ticket now called or in progress at the station."""
    return [s for s in ticket.crossing.steps if s.station_id == station_id and s.status in ("called", "in_progress")]


def _ensure_not_started(ticket: Ticket, station: Station) -> None:
    if any(s.status == "in_progress" for s in _run_at(ticket, station.id)):
        raise Conflict(
            _("%(code)s is already being served at %(station)s.", code=ticket.code, station=station_name(station)),
            code="service_started",
        )


def _ticket_rooms(ticket: Ticket, *station_ids) -> tuple[str, ...]:
    """Post staff and boards, the stations concerned, the kiosk following this ticket, the supervisors."""
    return (
        *events.post_rooms(ticket.post_id),
        *(events.station_room(i) for i in station_ids if i is not None),
        events.ticket_room(ticket.post_id, ticket.code),
        events.supervisor_room(ticket.post_id),
    )


def recall(station: Station, officer) -> Ticket:
    """Chime the called ticket again. Allowed OSBP_MAX_RECALLS times, before the service starts."""
    _ensure_seated(station, officer)
    ticket = _hold_called(station)
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
    for step in _run_at(ticket, station.id):
        workflow.step_event(
            step, "recalled", now, user=officer, station_id=station.id, detail={"recall": ticket.recalls}
        )
    audit.record("ticket.recalled", user=officer, obj=ticket, station_id=station.id, recalls=ticket.recalls)
    events.publish(
        "ticket.recalled",
        {"code": ticket.code, "station": station.name, "station_id": station.id, "recalls": ticket.recalls},
        *_ticket_rooms(ticket, station.id),
    )
    return ticket


def no_show(station: Station, officer) -> Ticket:
    """After OSBP_MAX_RECALLS recalls: back to the end of its queue, or cancelled (OSBP_NO_SHOW_POLICY)."""
    _ensure_seated(station, officer)
    ticket = _hold_called(station)
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
        workflow.end_as_no_show(ticket, station.id, now, user=officer)
    else:  # requeue: a new place at the end of the line (no priority boost for this queue)
        workflow.requeue(ticket, station.id, now, event="no_show", user=officer, rank_at=now)
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
        *_ticket_rooms(ticket, station.id),
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
    if not _is_supervisor(user):
        seat_station = seated_station(user) if user.is_officer else None
        if seat_station is None or ticket.status != "called" or ticket.station_id != seat_station.id:
            raise Forbidden(
                _("Officers can only transfer the ticket called at their own counter."), code="not_your_ticket"
            )
    status, from_station_id, from_target = ticket.status, ticket.station_id, ticket.target_station_id
    if status not in ("waiting", "called"):
        raise Conflict(_("%(code)s is no longer in a queue.", code=ticket.code), code="ticket_closed")
    target = _read_station_state(target)  # stations before tickets
    if not target.is_open:
        raise Conflict(_("%(station)s is closed.", station=station_name(target)), code="station_closed")
    station_check = Ticket.station_id.is_(None) if from_station_id is None else Ticket.station_id == from_station_id
    held = workflow.hold(Ticket.id == ticket.id, Ticket.status == status, station_check)
    if held is None:
        raise Conflict(
            _("%(code)s changed meanwhile (called or moved). Look again.", code=ticket.code), code="ticket_changed"
        )
    ticket = held
    run = _run_at(ticket, from_station_id) if from_station_id else []
    step = run[0] if run else ticket.crossing.next_open_step()
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
    if status == "called":
        workflow.requeue(
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
        *_ticket_rooms(ticket, from_station_id, target.id),
    )
    return ticket


def called_ticket(station: Station) -> Ticket:
    """The ticket called at the station; Conflict(nothing_called) when there is none."""
    ticket = current_ticket(station)
    if ticket is None:
        raise _nothing_called(station)
    return ticket


def _nothing_called(station: Station) -> Conflict:
    return Conflict(_("Nobody is called at %(station)s now.", station=station_name(station)), code="nothing_called")


def transfer_targets(ticket: Ticket) -> list[Station]:
    """Stations a ticket could be transferred to: not closed, its stage, serving its next step, not where it is."""
    if ticket.status not in ("waiting", "called"):
        return []
    run = _run_at(ticket, ticket.station_id) if ticket.station_id else []
    step = run[0] if run else ticket.crossing.next_open_step()
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


def _my_step(station: Station, officer):
    """The ticket called at the station and the caller's step on it (Conflict when there is none)."""
    ticket = called_ticket(station)
    step = next((s for s in _run_at(ticket, station.id) if s.agency_id == officer.agency_id), None)
    if step is None:
        raise Conflict(
            _("%(code)s has no step for your agency at this counter.", code=ticket.code), code="no_step_for_agency"
        )
    return ticket, step


def start_service(station: Station, officer):
    """The officer starts their step on the ticket called here (timestamped: started)."""
    _ensure_seated(station, officer)
    ticket, step = _my_step(station, officer)
    was = step.status
    workflow.start_step(step, officer)
    if was == "called":
        events.publish(
            "ticket.started",
            {"code": ticket.code, "station": station.name, "station_id": station.id, "status": "in_progress"},
            *_ticket_rooms(ticket, station.id),
        )
    return step


def finish_service(station: Station, officer, outcome: str, reason: str | None = None):
    """The officer ends their step on the ticket called here: cleared, referred or refused (a decision)."""
    _ensure_seated(station, officer)
    _ticket, step = _my_step(station, officer)
    return workflow.decide_step(step, officer, outcome, reason)


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
    _ensure_may_manage(station, user)
    if not _set_station(station, Station.is_open.is_(True), Station.paused.is_(False), paused=True):
        if not station.is_open:
            raise Conflict(_("%(station)s is closed.", station=station_name(station)), code="station_closed")
        return station  # already paused
    _station_changed(station, user, "paused")
    return station


def open_station(station: Station, user) -> Station:
    """Open a closed station or resume a paused one."""
    _ensure_may_manage(station, user)
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
    _ensure_may_manage(station, user)
    if not _set_station(station, Station.is_open.is_(True), is_open=False, paused=False):
        return station, None, []  # already closed
    now = utcnow()
    returned = workflow.hold(Ticket.station_id == station.id, Ticket.status == "called")
    if returned is not None:
        if any(s.status == "in_progress" for s in _run_at(returned, station.id)):
            raise Conflict(
                _(
                    "%(station)s is serving %(code)s. Finish or transfer it before closing.",
                    station=station_name(station),
                    code=returned.code,
                ),
                code="station_busy",
            )
        workflow.requeue(returned, station.id, now, event="returned", user=user, detail={"reason": "station_closed"})
    db.session.flush()
    released_ids = (
        db.session.execute(
            update(Ticket)
            .where(Ticket.target_station_id == station.id, Ticket.status == "waiting")
            .values(target_station_id=None)
            .returning(Ticket.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    released = list(
        db.session.scalars(select(Ticket).where(Ticket.id.in_(released_ids)).execution_options(populate_existing=True))
    )
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
        events.publish(
            "ticket.returned",
            {"code": ticket.code, "station": station.name, "station_id": station.id, "status": "waiting"},
            *_ticket_rooms(ticket, station.id),
        )
    return station, returned, released


def set_priority(ticket: Ticket, user, kind: str | None, reason: str | None) -> Ticket:
    """Flag (or clear) a ticket's priority, with a reason (audited). A waiting ticket moves up its line at once."""
    if user.post_id != ticket.post_id:
        raise Forbidden(_("This ticket belongs to another post."), code="wrong_post")
    if not _is_supervisor(user):
        seat_station = seated_station(user) if user.is_officer else None
        if seat_station is None or ticket.status != "called" or ticket.station_id != seat_station.id:
            raise Forbidden(
                _("Officers can only flag the ticket called at their own counter; ask a supervisor."),
                code="not_your_ticket",
            )
    kind = _priority_kind(kind)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give a reason for the priority."), code="reason_required")
    if len(reason) > MAX_REASON:
        raise Invalid(_("The reason is too long (%(max)s characters at most).", max=MAX_REASON), code="reason_too_long")
    held = workflow.hold(Ticket.id == ticket.id, Ticket.status.in_(("waiting", "called")))
    if held is None:
        raise Conflict(_("%(code)s is no longer in a queue.", code=ticket.code), code="ticket_closed")
    ticket = held
    before = ticket.priority
    if before == kind:
        return ticket
    ticket.priority = kind
    if ticket.status == "waiting" and ticket.queued_at is not None:
        ticket.rank_at = ranking.rank_at(ticket.queued_at, kind)
    now = utcnow()
    run = _run_at(ticket, ticket.station_id) if ticket.station_id else []
    step = run[0] if run else ticket.crossing.next_open_step()
    workflow.step_event(step, "priority", now, user=user, station_id=ticket.station_id, detail={"priority": kind})
    audit.record("ticket.priority", user=user, obj=ticket, priority=kind, before=before, reason=reason)
    events.publish(
        "ticket.priority",
        {"code": ticket.code, "priority": kind},
        events.post_room(ticket.post_id),
        events.supervisor_room(ticket.post_id),
    )
    return ticket
