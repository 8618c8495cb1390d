"""Tickets: issuing them, and every change of a ticket's place in the queues (queues own the ticket's state).

The workflow moves the crossing's steps; these functions move the ticket to match: into the queue of a step
(``enqueue``), back from a station (``requeue``), out of the queues (``release``). ``lock_ticket`` is the guarded
UPDATE every station action and decision takes first.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from osbp import events
from osbp.audit import operations as audit
from osbp.errors import Invalid, NotFound
from osbp.extensions import db
from osbp.queues import priority as ranking
from osbp.queues.models import (
    CATEGORY_LETTERS,
    CHANNELS,
    PRIORITY_KINDS,
    Stage,
    Station,
    Ticket,
    TicketCounter,
    TicketStatus,
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
    priority = priority_kind(priority)
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
    first = crossing.steps[0]
    workflow.queue_step(first, now, stage=Stage.PRIMARY)
    enqueue(ticket, first, now=now)
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


def channel_of(user) -> str:
    """The channel a ticket issued by ``user`` comes through: a kiosk device's are ``kiosk``; a person's (the desk's
    form, the API with their token or session) ``desk``. Never what a request says."""
    return "kiosk" if getattr(user, "role", None) == "kiosk" else "desk"


def ensure_channel(asked, user) -> str:
    """``user``'s channel (``channel_of``); a request naming another one is refused (422), not believed."""
    channel = channel_of(user)
    if asked is not None and asked != "" and asked != channel:
        raise Invalid(
            _(
                "Tickets you issue come through the %(channel)s channel; the request cannot choose another one.",
                channel=channel,
            ),
            code="channel_mismatch",
            field="channel",
        )
    return channel


def priority_kind(kind) -> str | None:
    """A priority kind from PRIORITY_KINDS, or None for no priority."""
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


def get_ticket_by_code(post, code: str) -> Ticket:
    code = (code or "").strip().upper()
    ticket = db.session.scalar(
        select(Ticket).where(Ticket.post_id == post.id, Ticket.code == code).order_by(Ticket.issued_at.desc()).limit(1)
    )
    if ticket is None:
        raise NotFound(_("No ticket %(code)s today.", code=code), code="ticket_not_found")
    return ticket


def enqueue(ticket: Ticket, step, *, stage: str = Stage.PRIMARY, now=None) -> None:
    """The ticket joins the queue of ``step`` (its next control, already queued by the workflow), at no station.

    Its place is ``rank_at = now - boost`` (osbp/queues/priority.py): a priority ticket keeps its boost in every queue.
    """
    now = now or utcnow()
    ticket.status = TicketStatus.WAITING
    ticket.step_kind_id = step.step_kind_id
    ticket.stage = stage
    ticket.queued_at = now
    ticket.rank_at = ranking.rank_at(now, ticket.priority)
    ticket.target_station_id = None
    _leave_station(ticket)
    events.publish(
        "ticket.queued",
        {"code": ticket.code, "status": TicketStatus.WAITING, "stage": stage},
        events.ticket_room(ticket.post_id, ticket.code),
        events.supervisor_room(ticket.post_id),
        *(events.station_room(i) for i in _stations_serving(ticket.post_id, step.step_kind_id, stage)),
    )


def _stations_serving(post_id: int, step_kind_id: int, stage: str) -> list[int]:
    """The stations whose line a ticket joins (their counter pages show the line's length)."""
    return list(
        db.session.scalars(
            select(Station.id)
            .join(station_step_kinds, station_step_kinds.c.station_id == Station.id)
            .where(
                Station.post_id == post_id,
                Station.stage == stage,
                station_step_kinds.c.step_kind_id == step_kind_id,
            )
        )
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
):
    """Send a called ticket back from its station to the queue of its next open step (transfer, no-show, closing).

    The workflow returns the run of steps at the station (its head waits again). ``rank_at=None`` keeps the
    ticket's place (its old ``rank_at`` and ``queued_at``); a given ``rank_at`` is a new place, queued now.
    ``target_station_id`` makes the ticket wait for that one station. The caller holds the ticket (``lock_ticket``).
    """
    head, queued_now = workflow.return_run(
        ticket.crossing,
        station_id,
        now,
        event=event,
        new_place=rank_at is not None,
        user=user,
        detail=detail,
        queued_detail={"stage": ticket.stage, "station_id": target_station_id},
    )
    if queued_now:
        ticket.queued_at = now
        ticket.rank_at = rank_at if rank_at is not None else ranking.rank_at(now, ticket.priority)
    ticket.status = TicketStatus.WAITING
    ticket.step_kind_id = head.step_kind_id
    ticket.target_station_id = target_station_id
    _leave_station(ticket)
    return head


def release(ticket: Ticket, status: str = TicketStatus.DONE) -> None:
    """The ticket leaves the queues: done (the crossing ended) or cancelled (a no-show)."""
    ticket.status = status
    ticket.step_kind_id = None
    ticket.station_id = None
    if status == TicketStatus.DONE:
        events.publish(
            "ticket.done",
            {"code": ticket.code, "status": TicketStatus.DONE},
            events.ticket_room(ticket.post_id, ticket.code),
            events.supervisor_room(ticket.post_id),
        )
    else:
        ticket.target_station_id = None


def follow_decision(ticket: Ticket, moved, now) -> None:
    """Move the ticket as a decision moved the crossing (``workflow.Moved``)."""
    if moved.ended:
        release(ticket)
    elif moved.queue_step is not None:
        enqueue(ticket, moved.queue_step, stage=moved.stage, now=now)


def _leave_station(ticket: Ticket) -> None:
    ticket.station_id = None
    ticket.called_at = None
    ticket.called_by_id = None
    ticket.recalls = 0


def lock_ticket(*conditions) -> Ticket | None:
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
        set_committed_value(ticket, "crossing", workflow.read_crossing_again(ticket.crossing_id))
    return ticket


def lock_ticket_at_counter(step) -> Ticket | None:
    """Lock the ticket while ``step`` is at its station, for the rest of the transaction, then read state again.

    Station actions (recall, no-show, transfer, closing) take the same row lock with ``lock_ticket`` first, so a
    start or a decision never interleaves with them: whichever comes second sees what the first committed. The step,
    its crossing and the crossing's steps are read again whether or not the ticket is still there, so that the checks
    after this one see the current state. None: the step is no longer at a counter.
    """
    if step.station_id is None:
        return None
    ticket = lock_ticket(
        Ticket.crossing_id == step.crossing_id,
        Ticket.status == TicketStatus.CALLED,
        Ticket.station_id == step.station_id,
    )
    crossing = ticket.crossing if ticket is not None else workflow.read_crossing_again(step.crossing_id)
    set_committed_value(step, "crossing", crossing)  # the step is one of its steps: read again with them
    return ticket


def ticket_rooms(ticket: Ticket, *station_ids) -> tuple[str, ...]:
    """Post staff and boards, the stations concerned, the kiosk following this ticket, the supervisors."""
    return (
        *events.post_rooms(ticket.post_id),
        *(events.station_room(i) for i in station_ids if i is not None),
        events.ticket_room(ticket.post_id, ticket.code),
        events.supervisor_room(ticket.post_id),
    )
