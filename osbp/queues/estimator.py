"""Estimated waits, from recent service times. The rule is written out in docs/queues.md; in short:

1. **Service time of a queue** (a step kind at a stage, e.g. RW immigration exit, primary): from the StepEvent rows of
   the last ``OSBP_WAIT_WINDOW_MINUTES`` (120), every *visit* — a ticket called at a station until the station's last
   decision on it (cleared, referred or refused) — counts for the queue of the first step called. The one stop makes
   a visit cover every step the station serves in a row, so a joint counter's visit is the time the counter is busy.
   The service time is the median of the last ``OSBP_WAIT_SAMPLES`` (20) visits; with fewer than 3, it is
   ``OSBP_DEFAULT_SERVICE_SECONDS`` (180).
2. **Servers**: the stations that could call the ticket (they serve its step kind at its stage, or the one station it
   was transferred to) that are open, not paused, and have an officer of that step's agency seated. With none, the
   estimate counts one (a paused station has to resume) and reports ``servers: 0``.
3. **Unstaffed**: no officer of the step's agency is seated at any open station that could call the ticket. Then
   there is no estimate: ``wait_seconds`` is None and ``unstaffed`` True (screens say "no officer at Counter 3 yet",
   never "about 3 min"). A paused station with its officer seated is staffed (it will resume).
4. **Position**: 1 + the waiting tickets ranked before it (``rank_at``, then id) that any of those stations could call.
5. **Wait** = position × service time ÷ servers, in whole seconds. A station's wait is the wait of the last ticket in
   its line that has an estimate (0 when nobody waits, None when everyone in its line is unstaffed); its
   ``unstaffed`` counts the tickets in its line without an officer.

Service times move slowly and cost the most to compute (every visit of the window), so each process keeps them per
post for ``OSBP_WAIT_CACHE_SECONDS`` (30; not under TESTING) and then computes them again in the background while
callers keep the older figures. Lines, seats and station states are read fresh each call.
One ticket's answer (``ticket_wait``, the kiosk status) counts the tickets ahead of it in one COUNT instead of
ranking the whole post: the same rule, at a cost that does not grow with the queue.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, func, or_, select

from osbp.auth.models import User
from osbp.extensions import db
from osbp.queues.models import Seat, Station, Ticket, TicketStatus, station_step_kinds
from osbp.types import utcnow
from osbp.workflow.models import Outcome, Step, StepEvent, StepKind

MIN_SAMPLES = 3
DECISIONS = tuple(Outcome)

_cache: dict[tuple[str, int], tuple[float, dict]] = {}
_refreshing: set[tuple[str, int]] = set()
_cache_lock = threading.Lock()


def service_times(post_id: int, now=None) -> dict[tuple[int, str], dict]:
    """(step kind id, stage) → {"seconds": median visit duration, "samples": visits used}, for queues with visits.

    Cached per process and post for OSBP_WAIT_CACHE_SECONDS, unless ``now`` is given or the app is TESTING. Once the
    cache is older than that, the caller still gets it at once and one background thread computes it again: at a
    busy post the window holds tens of thousands of events, and no kiosk lookup should wait for them. Treat the
    result as read-only.
    """
    ttl = current_app.config["OSBP"].wait_cache_seconds
    if now is not None or ttl <= 0 or current_app.testing:
        return _service_times(post_id, now)
    key = (str(db.engine.url), post_id)
    cached = _cache.get(key)
    if cached is None:
        return _remember(key, _service_times(post_id, None))  # the first call of the process computes it here
    if time.monotonic() - cached[0] >= ttl:
        _refresh_in_background(key, post_id)
    return cached[1]


def _remember(key: tuple[str, int], value: dict) -> dict:
    with _cache_lock:
        _cache[key] = (time.monotonic(), value)
    return value


def _refresh_in_background(key: tuple[str, int], post_id: int) -> threading.Thread | None:
    """Start computing a post's service times again in a thread of its own, unless one already is."""
    with _cache_lock:
        if key in _refreshing:
            return None
        _refreshing.add(key)
    app = current_app._get_current_object()

    def refresh() -> None:
        try:
            with app.app_context():
                try:
                    _remember(key, _service_times(post_id, None))
                except Exception:  # the stale value stays; the next caller after the TTL tries again
                    app.logger.exception("service times of post %s not refreshed", post_id)
                finally:
                    db.session.remove()
        finally:
            with _cache_lock:
                _refreshing.discard(key)

    thread = threading.Thread(target=refresh, name=f"osbp-service-times-{post_id}", daemon=True)
    thread.start()
    return thread


def _service_times(post_id: int, now=None) -> dict[tuple[int, str], dict]:
    config = current_app.config["OSBP"]
    since = (now or utcnow()) - timedelta(minutes=config.wait_window_minutes)
    rows = db.session.execute(
        select(
            StepEvent.step_id,
            StepEvent.kind,
            StepEvent.at,
            StepEvent.station_id,
            Step.crossing_id,
            Step.position,
            Step.step_kind_id,
            Station.stage,
        )
        .join(Step, Step.id == StepEvent.step_id)
        .join(Station, Station.id == StepEvent.station_id)
        .where(
            Station.post_id == post_id,
            StepEvent.at >= since,
            StepEvent.kind.in_(("called", *DECISIONS)),
        )
        .order_by(StepEvent.step_id, StepEvent.id)
    )
    called: dict[int, tuple] = {}
    visits: dict[tuple, list] = {}  # (crossing, station, called at) → [first position, its kind, stage, called, end]
    for step_id, kind, at, station_id, crossing_id, position, step_kind_id, stage in rows:
        if kind == "called":
            called[step_id] = (at, station_id)
            continue
        start = called.pop(step_id, None)
        if start is None or start[1] != station_id:
            continue
        key = (crossing_id, station_id, start[0])
        visit = visits.setdefault(key, [position, step_kind_id, stage, start[0], at])
        if position < visit[0]:
            visit[0], visit[1] = position, step_kind_id
        visit[4] = max(visit[4], at)
    durations: dict[tuple[int, str], list] = defaultdict(list)
    for _position, step_kind_id, stage, started, ended in visits.values():
        durations[(step_kind_id, stage)].append((started, (ended - started).total_seconds()))
    result = {}
    for queue, samples in durations.items():
        recent = [seconds for _, seconds in sorted(samples)[-config.wait_samples :]]
        if len(recent) >= MIN_SAMPLES:
            result[queue] = {"seconds": round(statistics.median(recent)), "samples": len(recent)}
        else:
            result[queue] = {"seconds": config.default_service_seconds, "samples": len(recent)}
    return result


@dataclass
class _Station:
    id: int
    stage: str
    can_call: bool
    is_open: bool
    kinds: set = field(default_factory=set)
    staffed_agencies: set = field(default_factory=set)


class TicketEstimate(NamedTuple):
    """One waiting ticket's place: ``wait_seconds`` is None when ``unstaffed``."""

    position: int
    wait_seconds: int | None
    eligible: tuple[int, ...]  # the stations that could call it
    servers: int  # of those, open, not paused and staffed for its step
    unstaffed: bool  # no officer of its step's agency seated at any open station that could call it


@dataclass
class _Estimate:
    """Everything about one post's lines at one moment."""

    stations: dict[int, _Station]
    tickets: dict[int, TicketEstimate]  # ticket id → its estimate


def _servers_and_staffed(eligible, stations: dict[int, _Station], agency) -> tuple[int, bool]:
    """(stations able to call now with an officer of ``agency`` seated, whether any open station has one seated)."""
    staffed = [stations[i] for i in eligible if i in stations and agency in stations[i].staffed_agencies]
    return sum(1 for s in staffed if s.can_call), any(s.is_open for s in staffed)


def _wait(position: int, seconds: int, servers: int, staffed: bool) -> int | None:
    return round(position * seconds / max(servers, 1)) if staffed else None


def _stations(post_id: int) -> dict[int, _Station]:
    stations = {
        s.id: _Station(id=s.id, stage=s.stage, can_call=s.can_call, is_open=s.is_open)
        for s in db.session.scalars(select(Station).where(Station.post_id == post_id))
    }
    for station_id, kind_id in db.session.execute(
        select(station_step_kinds.c.station_id, station_step_kinds.c.step_kind_id).where(
            station_step_kinds.c.station_id.in_(stations)
        )
    ):
        stations[station_id].kinds.add(kind_id)
    for station_id, agency_id in db.session.execute(
        select(Seat.station_id, User.agency_id)
        .join(User, User.id == Seat.user_id)
        .where(Seat.left_at.is_(None), User.post_id == post_id, User.agency_id.is_not(None))
    ):
        if station_id in stations:
            stations[station_id].staffed_agencies.add(agency_id)
    return stations


def estimate(post_id: int, now=None) -> _Estimate:
    config = current_app.config["OSBP"]
    stations = _stations(post_id)
    agency_of = dict(
        db.session.execute(select(StepKind.id, StepKind.agency_id).where(StepKind.post_id == post_id)).all()
    )
    service = service_times(post_id, now)
    waiting = db.session.execute(
        select(Ticket.id, Ticket.step_kind_id, Ticket.stage, Ticket.target_station_id)
        .where(Ticket.post_id == post_id, Ticket.status == TicketStatus.WAITING)
        .order_by(Ticket.rank_at, Ticket.id)
    ).all()

    lines: dict[tuple, tuple[int, ...]] = {}  # (kind, stage, target) → the stations that could call such a ticket
    for _id, kind, stage, target in waiting:
        if (kind, stage, target) not in lines:
            if target is not None:
                eligible = (target,)
            else:
                eligible = tuple(sorted(s.id for s in stations.values() if s.stage == stage and kind in s.kinds))
            lines[(kind, stage, target)] = eligible
    competitors = {
        key: [other for other, theirs in lines.items() if set(eligible) & set(theirs)]
        for key, eligible in lines.items()
    }
    seen: dict[tuple, int] = defaultdict(int)
    tickets = {}
    for ticket_id, kind, stage, target in waiting:
        key = (kind, stage, target)
        eligible = lines[key]
        position = 1 + sum(seen[other] for other in competitors[key])
        seen[key] += 1
        servers, staffed = _servers_and_staffed(eligible, stations, agency_of.get(kind))
        seconds = service.get((kind, stage), {"seconds": config.default_service_seconds})["seconds"]
        tickets[ticket_id] = TicketEstimate(
            position, _wait(position, seconds, servers, staffed), eligible, servers, not staffed
        )
    return _Estimate(stations=stations, tickets=tickets)


def queue_waits(post_id: int, now=None) -> dict[int, dict]:
    """Station id → {"length": tickets in its line, "wait_seconds": estimated wait of the last of them with an
    estimate (0 when nobody waits; None when all of them are unstaffed), "unstaffed": those without an officer}."""
    current = estimate(post_id, now)
    result = {station_id: {"length": 0, "wait_seconds": 0, "unstaffed": 0} for station_id in current.stations}
    for ticket in current.tickets.values():
        for station_id in ticket.eligible:
            if station_id in result:
                line = result[station_id]
                line["length"] += 1
                if ticket.unstaffed:
                    line["unstaffed"] += 1
                else:
                    line["wait_seconds"] = max(line["wait_seconds"], ticket.wait_seconds)
    for line in result.values():
        if line["length"] and line["unstaffed"] == line["length"]:
            line["wait_seconds"] = None
    return result


def ticket_wait(ticket: Ticket, now=None) -> dict:
    """{"position", "wait_seconds", "station_ids", "servers", "unstaffed"} for one ticket.

    Called: position 0 at its station. Waiting in a queue with no officer seated at any open station serving it:
    ``wait_seconds`` None, ``unstaffed`` True, ``station_ids`` the open stations that will call it once staffed.
    """
    if ticket.status == TicketStatus.CALLED:
        return {"position": 0, "wait_seconds": 0, "station_ids": [ticket.station_id], "servers": 1, "unstaffed": False}
    if ticket.status != TicketStatus.WAITING:
        return {"position": 0, "wait_seconds": 0, "station_ids": [], "servers": 0, "unstaffed": False}
    one = _one_ticket(ticket, now)
    if one is None:  # no rank (not expected of a waiting ticket): the whole post's ranking, as the database orders it
        current = estimate(ticket.post_id, now)
        answer = current.tickets.get(ticket.id, TicketEstimate(1, 0, (), 0, False))
        stations = current.stations
    else:
        answer, stations = one
    open_ids = [i for i in answer.eligible if i in stations and stations[i].is_open]
    return {
        "position": answer.position,
        "wait_seconds": answer.wait_seconds,
        "station_ids": open_ids,
        "servers": answer.servers,
        "unstaffed": answer.unstaffed,
    }


def _one_ticket(ticket: Ticket, now=None) -> tuple[TicketEstimate, dict[int, _Station]] | None:
    """What ``estimate()`` gives one waiting ticket, without ranking the whole post: (its estimate, the post's
    stations). Position counts, in one COUNT, the waiting tickets ranked before it (rank_at, then id) that one of its
    eligible stations could call: transferred to one of them, or not transferred and of a step kind one of them
    serves at that stage. None when the ticket has no rank_at."""
    config = current_app.config["OSBP"]
    post_id = ticket.post_id
    row = db.session.execute(
        select(Ticket.step_kind_id, Ticket.stage, Ticket.target_station_id, Ticket.rank_at).where(
            Ticket.id == ticket.id, Ticket.status == TicketStatus.WAITING
        )
    ).first()
    stations = _stations(post_id)
    if row is None:  # no longer waiting in the database
        return TicketEstimate(1, 0, (), 0, False), stations
    kind, stage, target, rank_at = row
    if rank_at is None:
        return None
    if target is not None:
        eligible: tuple[int, ...] = (target,)
    else:
        eligible = tuple(sorted(s.id for s in stations.values() if s.stage == stage and kind in s.kinds))
    # the lines that share a station with this one: the stations' (stage, kinds), and transfers to them
    served: dict[str, set] = defaultdict(set)
    for i in eligible:
        if i in stations:
            served[stations[i].stage] |= stations[i].kinds
    shares = [Ticket.target_station_id.in_(eligible)] if eligible else []
    shares += [
        and_(Ticket.target_station_id.is_(None), Ticket.stage == line_stage, Ticket.step_kind_id.in_(sorted(kinds)))
        for line_stage, kinds in sorted(served.items())
        if kinds
    ]
    ahead = 0
    if shares:
        before = or_(Ticket.rank_at < rank_at, and_(Ticket.rank_at == rank_at, Ticket.id < ticket.id))
        ahead = db.session.scalar(
            select(func.count(Ticket.id)).where(
                Ticket.post_id == post_id, Ticket.status == TicketStatus.WAITING, before, or_(*shares)
            )
        )
    position = 1 + (ahead or 0)
    agency = (
        db.session.scalar(select(StepKind.agency_id).where(StepKind.id == kind, StepKind.post_id == post_id))
        if kind is not None
        else None
    )
    servers, staffed = _servers_and_staffed(eligible, stations, agency)
    service = service_times(post_id, now)
    seconds = service.get((kind, stage), {"seconds": config.default_service_seconds})["seconds"]
    return TicketEstimate(
        position, _wait(position, seconds, servers, staffed), eligible, servers, not staffed
    ), stations
