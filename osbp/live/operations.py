"""Read-only views of the live queues: a ticket's public status, the board and the supervisors' snapshots.

Nothing here writes. The public shapes (``ticket_status``, ``board_state``) carry no personal data: ticket codes,
station ids and names, step labels, counts and waits only — never names, document numbers, reasons or gate passes.
"""

from __future__ import annotations

import importlib
import math
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select

from osbp import sequence
from osbp.extensions import db
from osbp.i18n import AGENCY_KIND_LABELS, CATEGORY_LABELS, COUNTRY_NAMES, station_name, step_label
from osbp.live import texts
from osbp.queues import operations as queues
from osbp.queues.models import CATEGORY_LETTERS, Station, Ticket, station_step_kinds
from osbp.queues.readmissions import open_rows as open_readmissions
from osbp.types import utcnow
from osbp.workflow.models import Crossing, Step, StepEvent, StepKind

CODE = re.compile(r"^([A-Z])\s*-?\s*(\d{1,4})$")
RECENT_CALLS = 7  # the current call and the six before it


def _hook(module: str, name: str):
    """An optional function from the queues package (estimator, priority-aware position), or None."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def normalise_code(raw) -> str | None:
    """``t42``, ``T 042``, ``T-042`` → ``T-042``; anything else → None."""
    if not isinstance(raw, str) or len(raw) > 16:
        return None
    match = CODE.match(raw.strip().upper())
    if match is None or match[1] not in CATEGORY_LETTERS.values():
        return None
    return f"{match[1]}-{int(match[2]):03d}"


def find_ticket(post, code: str) -> Ticket | None:
    """The latest ticket with this code, issued today or yesterday (a crossing may run past midnight)."""
    since = queues.service_date(post) - timedelta(days=1)
    return db.session.scalar(
        select(Ticket)
        .where(Ticket.post_id == post.id, Ticket.code == code, Ticket.service_date >= since)
        .order_by(Ticket.issued_at.desc())
        .limit(1)
    )


def _wait_minutes(seconds) -> int | None:
    """Whole minutes, rounded up, at least 1 for someone still waiting."""
    if seconds is None:
        return None
    return max(1, math.ceil(seconds / 60))


def waiting_place(ticket: Ticket) -> tuple[int | None, int | None, list[Station], bool]:
    """(position, estimated wait in minutes, open stations that may call it, unstaffed) of a waiting ticket.

    From the queues' estimator (``osbp.queues.estimator.ticket_wait``: priority order, transfers, staffed stations);
    without it, the arrival order and no estimate. Unstaffed: no officer of its step's agency is seated at any open
    station that may call it, so there is no estimate (None), only the counters that will call it once staffed.
    """
    ticket_wait = _hook("osbp.queues.estimator", "ticket_wait")
    if ticket_wait is not None:
        info = ticket_wait(ticket)
        ids = list(info.get("station_ids", ()))
        loaded = {s.id: s for s in db.session.scalars(select(Station).where(Station.id.in_(ids)))} if ids else {}
        stations = [loaded[i] for i in ids if i in loaded]  # one query, in the estimator's order
        unstaffed = bool(info.get("unstaffed"))
        minutes = None if unstaffed else _wait_minutes(info.get("wait_seconds"))
        return info.get("position"), minutes, stations, unstaffed
    stations = stations_serving(ticket.post_id, ticket.step_kind_id, ticket.stage) if ticket.step_kind_id else []
    return _arrival_position(ticket), None, [s for s in stations if s.is_open], False


def _arrival_position(ticket: Ticket) -> int:
    ahead = db.session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.post_id == ticket.post_id,
            Ticket.status == "waiting",
            Ticket.step_kind_id == ticket.step_kind_id,
            Ticket.stage == ticket.stage,
            (Ticket.queued_at < ticket.queued_at) | ((Ticket.queued_at == ticket.queued_at) & (Ticket.id < ticket.id)),
        )
    )
    return (ahead or 0) + 1


def stations_serving(post_id: int, step_kind_id: int, stage: str) -> list[Station]:
    return list(
        db.session.scalars(
            select(Station)
            .join(station_step_kinds, station_step_kinds.c.station_id == Station.id)
            .where(
                Station.post_id == post_id,
                Station.stage == stage,
                station_step_kinds.c.step_kind_id == step_kind_id,
            )
            .order_by(Station.is_open.desc(), Station.id)
        )
    )


def station_state(station: Station) -> str:
    """open, paused or closed."""
    return getattr(station, "state", "open" if station.is_open else "closed")


def public_station(station: Station) -> dict:
    return {"id": station.id, "code": station.code, "name": station_name(station), "open": station.is_open}


def _direction_label(crossing: Crossing) -> str:
    return _(
        "%(origin)s → %(destination)s",
        origin=COUNTRY_NAMES[crossing.origin],
        destination=COUNTRY_NAMES[crossing.destination],
    )


def _public_state(ticket: Ticket, crossing: Crossing) -> str:
    """waiting, called, cleared or closed. A refusal is not told to whoever types the code: it shows as closed."""
    if ticket.status in ("waiting", "called"):
        return ticket.status
    return "cleared" if crossing.status == "cleared" else "closed"


def ticket_status(ticket: Ticket) -> dict:
    """The kiosk's view of a ticket, in the current language. No personal data."""
    crossing = ticket.crossing
    state = _public_state(ticket, crossing)
    current = crossing.next_open_step() if state in ("waiting", "called") else None
    steps = []
    for step in crossing.steps:
        done = step.status in ("cleared", "refused", "cancelled")
        steps.append(
            {"label": step_label(step.step_kind), "state": "done" if done else "current" if step is current else "next"}
        )
    station = ticket.station if state == "called" else None
    position, wait, serving, unstaffed = waiting_place(ticket) if state == "waiting" else (None, None, [], False)
    kinds = {s.step_kind.agency.kind for s in crossing.steps}
    return {
        "code": ticket.code,
        "status": state,
        "message": _status_message(state, station, serving),
        "category": crossing.category,
        "category_label": str(CATEGORY_LABELS[crossing.category]),
        "direction": crossing.direction,
        "direction_label": _direction_label(crossing),
        "current_step": {
            "label": step_label(current.step_kind),
            "agency_kind": current.step_kind.agency.kind,
            "agency_kind_label": str(AGENCY_KIND_LABELS[current.step_kind.agency.kind]),
            "country": current.step_kind.agency.country,
        }
        if current is not None
        else None,
        "steps": steps,
        "position": position,
        "estimated_wait_minutes": wait,
        "unstaffed": unstaffed,
        "unstaffed_message": _unstaffed_message(ticket, serving) if unstaffed else None,
        "station": public_station(station) if station is not None else None,
        "stations": [public_station(s) for s in serving],
        "fees": {"due": [], "message": _("No fees recorded.")},
        "documents": texts.documents_for(crossing.category, kinds),
        "updated_at": utcnow().isoformat(),
    }


def _unstaffed_message(ticket: Ticket, serving: list[Station]) -> str:
    """ "No officer at Counter 3 yet.": the open counters that will call it, else every counter serving its step
    (or the one it was transferred to)."""
    stations = serving
    if not stations and ticket.step_kind_id is not None:
        stations = stations_serving(ticket.post_id, ticket.step_kind_id, ticket.stage)
    if ticket.target_station_id is not None and not serving:
        stations = [s for s in stations if s.id == ticket.target_station_id] or stations
    return unstaffed_text(stations)


def unstaffed_text(stations) -> str:
    """ "No officer at Counter 3 yet." (several counters: "Counter 1 / Counter 2"), in the current language."""
    names = " / ".join(station_name(s) for s in stations)
    return _("No officer at %(stations)s yet.", stations=names or "—")


def _status_message(state: str, station: Station | None, serving: list[Station]) -> str:
    if state == "called" and station is not None:
        return _("Go to %(station)s now.", station=station_name(station))
    if state == "waiting":
        if not any(s.is_open for s in serving):  # the estimator lists open stations only: none means all closed
            return _("The counters for your next step are closed for now. Please wait.")
        return _("Please wait. Your number will be called on the screens.")
    if state == "cleared":
        return _("All controls are done. Show your gate pass at the exit gate.")
    return _("This ticket is closed. Ask an officer if you need help.")


# -- the boards ------------------------------------------------------------------------------------------------------


def _today_start(post):
    """The post's local midnight: the board's history starts there."""
    day = queues.service_date(post)
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(post.timezone))


def recent_calls(post, limit: int = RECENT_CALLS) -> list[dict]:
    """The last calls of the day, newest first, one per ticket (its latest): ``[{"code", "station_id",
    "station_code", "station", "recall"}]``; ``recall`` is true when that latest call was a recall ("again")."""
    rows = db.session.execute(
        select(Ticket.code, Station.id, Station.code, Station.name, StepEvent.kind)
        .select_from(StepEvent)
        .join(Step, Step.id == StepEvent.step_id)
        .join(Ticket, Ticket.crossing_id == Step.crossing_id)
        .join(Station, Station.id == StepEvent.station_id)
        .where(
            Ticket.post_id == post.id,
            StepEvent.kind.in_(("called", "recalled")),
            StepEvent.at >= _today_start(post),
        )
        .order_by(StepEvent.at.desc(), StepEvent.id.desc())
        .limit(limit * 4)  # a call at a joint counter writes one event per step there
    )
    calls, seen = [], set()
    for code, station_id, station_code, name, kind in rows:
        if code in seen:  # a ticket shows once, at its latest call (as the board does live)
            continue
        seen.add(code)
        calls.append(
            {
                "code": code,
                "station_id": station_id,
                "station_code": station_code,
                "station": name,
                "recall": kind == "recalled",
            }
        )
        if len(calls) == limit:
            break
    return calls


def station_waits(post_id: int) -> dict[int, tuple[int, int | None, int]]:
    """Station id → (tickets in its line, estimated wait in minutes, how many of them are unstaffed).

    The wait is the last ticket's with an estimate: 0 for an empty line, None when unknown or when everyone in the
    line is unstaffed (no officer seated for their step at any open station that may call them).
    """
    queue_waits = _hook("osbp.queues.estimator", "queue_waits")
    if queue_waits is None:
        return {i: (n, None, 0) for i, n in queues.queue_lengths(post_id).items()}
    out = {}
    for i, line in queue_waits(post_id).items():
        seconds = line["wait_seconds"]
        minutes = None if seconds is None else _wait_minutes(seconds) if line["length"] else 0
        out[i] = (line["length"], minutes, line.get("unstaffed", 0))
    return out


def board_queues(post) -> list[dict]:
    """Per public counter (primary stage): its state, how many wait, the estimated wait. No personal data.

    ``unstaffed`` counts those in its line with no officer seated for their step at any open counter; when that is
    everyone, ``wait_minutes`` is None and the board says "No officer yet" instead of minutes. A counter that is not
    open has no wait either (the board shows its state).
    """
    waits = station_waits(post.id)
    out = []
    for station in queues.list_stations(post.id):
        if station.stage != "primary":
            continue
        waiting, minutes, unstaffed = waits.get(station.id, (0, None, 0))
        state = station_state(station)
        out.append(
            {
                "station_id": station.id,
                "station_code": station.code,
                "open": station.is_open,
                "state": state,
                "waiting": waiting,
                "wait_minutes": minutes if state == "open" else None,
                "unstaffed": unstaffed,
            }
        )
    return out


def board_stations(post) -> dict[int, dict]:
    """Station id → code and name in each board language (station names are data, demo names are translated)."""
    return {
        station.id: {"code": station.code, "names": texts.translations_of(lambda s=station: station_name(s))}
        for station in queues.list_stations(post.id)
    }


def board_state(post) -> dict:
    """The board's snapshot: the last calls, the waits per counter and the post's live number (read first)."""
    seq = sequence.current(post.id)
    return {"calls": recent_calls(post), "queues": board_queues(post), "at": utcnow().isoformat(), "seq": seq}


# -- the supervisors -------------------------------------------------------------------------------------------------


def _age_minutes(since, now) -> int:
    return max(0, int((now - since).total_seconds() // 60)) if since else 0


def _queue_estimates(post_id: int) -> dict[tuple[int, str], tuple[int | None, int]]:
    """(step kind id, stage) → (estimated wait in minutes of the last ticket in that queue with an estimate, or None;
    how many of its tickets are unstaffed), in the estimator's order."""
    estimate = _hook("osbp.queues.estimator", "estimate")
    if estimate is None:
        return {}
    tickets = estimate(post_id).tickets
    waits: dict[tuple[int, str], tuple[int | None, int]] = {}
    rows = db.session.execute(
        select(Ticket.id, Ticket.step_kind_id, Ticket.stage).where(
            Ticket.post_id == post_id, Ticket.status == "waiting"
        )
    )
    for ticket_id, kind_id, stage in rows:
        if ticket_id not in tickets:
            continue
        minutes, unstaffed = waits.get((kind_id, stage), (None, 0))
        seconds = tickets[ticket_id][1]
        if seconds is None:
            unstaffed += 1
        else:
            minutes = max(minutes or 0, _wait_minutes(seconds))
        waits[(kind_id, stage)] = (minutes, unstaffed)
    return waits


def _serving_names(stations: list[Station], kind_id: int, stage: str) -> list[str]:
    """The names of the stations serving a queue: the open ones, or all of them when none is open."""
    serving = [s for s in stations if s.stage == stage and kind_id in {k.id for k in s.step_kinds}]
    return [station_name(s) for s in [s for s in serving if s.is_open] or serving]


def supervisor_state(post, target_minutes: int) -> dict:
    """Every queue (step kind and stage) with its length, longest wait so far and estimate; stations; alerts.

    A queue breaks its target when someone in it has waited longer than ``target_minutes``, or when the estimate for
    its last ticket is longer (``alerts``). A queue is **unstaffed** when people wait in it and no officer of its
    agency is seated at any open station serving it (``unstaffed``: one alert each, naming those stations).
    ``queues`` lists the queues with someone waiting; ``empty_queues`` the others (shown collapsed).
    """
    seq = sequence.current(post.id)  # before the state (osbp/sequence.py)
    now = utcnow()
    rows = db.session.execute(
        select(Ticket.step_kind_id, Ticket.stage, func.count(Ticket.id), func.min(Ticket.queued_at))
        .where(Ticket.post_id == post.id, Ticket.status == "waiting")
        .group_by(Ticket.step_kind_id, Ticket.stage)
    ).all()
    by_queue = {(kind_id, stage): (count, oldest) for kind_id, stage, count, oldest in rows}
    estimates = _queue_estimates(post.id)
    kinds = list(db.session.scalars(select(StepKind).where(StepKind.post_id == post.id).order_by(StepKind.id)))
    all_stations = queues.list_stations(post.id)
    queue_rows, empty_rows, alerts, unstaffed_alerts = [], [], [], []
    for kind in kinds:
        for stage in ("primary", "secondary"):
            count, oldest = by_queue.get((kind.id, stage), (0, None))
            if stage == "secondary" and not count:
                continue  # secondary queues show only when someone is referred
            longest = _age_minutes(oldest, now) if count else None
            estimate, unstaffed = estimates.get((kind.id, stage), (None, 0)) if count else (None, 0)
            breach = count > 0 and max(longest or 0, estimate or 0) > target_minutes
            row = {
                "step_kind_id": kind.id,
                "label": step_label(kind),
                "stage": stage,
                "waiting": count,
                "longest_minutes": longest,
                "wait_minutes": estimate,
                "breach": breach,
                "unstaffed": unstaffed,
                "stations": _serving_names(all_stations, kind.id, stage) if unstaffed else [],
            }
            (queue_rows if count else empty_rows).append(row)
            if breach:
                alerts.append(row)
            if unstaffed:
                unstaffed_alerts.append(row)
    waits = station_waits(post.id)
    seated = queues.seated_officers(post.id)
    serving = dict(
        db.session.execute(
            select(Ticket.station_id, Ticket.code).where(Ticket.post_id == post.id, Ticket.status == "called")
        ).all()
    )
    stations = []
    for station in all_stations:
        waiting, minutes, unstaffed = waits.get(station.id, (0, None, 0))
        stations.append(
            {
                "station": station,
                "name": station_name(station),
                "state": station_state(station),
                "waiting": waiting,
                "wait_minutes": minutes,
                "unstaffed": unstaffed,
                "serving": serving.get(station.id),
                "seated": seated.get(station.id, []),
            }
        )
    return {
        "seq": seq,
        "at": now,
        "target_minutes": target_minutes,
        "queues": queue_rows,
        "empty_queues": empty_rows,
        "alerts": alerts,
        "unstaffed": unstaffed_alerts,
        "stations": stations,
        "waiting": sum(count for count, _oldest in by_queue.values()),
        "serving": len(serving),
        # open re-admission tasks: an alert each until the exit country records it (osbp/queues/readmissions.py)
        "readmissions": open_readmissions(post.id),
    }
