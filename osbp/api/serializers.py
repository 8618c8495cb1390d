"""JSON shapes of the public API. Keep them stable: devices and the bilateral layer depend on them."""

from __future__ import annotations


def _ts(value):
    return value.isoformat() if value else None


def step_kind(kind) -> dict:
    return {
        "id": kind.id,
        "code": kind.code,
        "country": kind.agency.country,
        "agency": kind.agency.code,
        "agency_kind": kind.agency.kind,
        "control": kind.control,
    }


def step(s) -> dict:
    return {
        "id": s.id,
        "position": s.position,
        "kind": step_kind(s.step_kind),
        "status": s.status,
        "outcome": s.outcome,
        "reason": s.reason,
        "secondary": s.is_secondary,
        "referral_reason": s.referral_reason,
        "station_id": s.station_id,
        "queued_at": _ts(s.queued_at),
        "called_at": _ts(s.called_at),
        "started_at": _ts(s.started_at),
        "started_by": s.started_by_id,
        "decided_at": _ts(s.decided_at),
        "decided_by": s.decided_by_id,
        "events": [
            {"kind": e.kind, "at": _ts(e.at), "user_id": e.user_id, "station_id": e.station_id} for e in s.events
        ],
    }


def _load_events(steps) -> None:
    """Load the timelines of these steps in one query, instead of one lazy load per step."""
    from sqlalchemy import inspect, select
    from sqlalchemy.orm.attributes import NO_VALUE, set_committed_value

    from osbp.extensions import db
    from osbp.workflow.models import StepEvent

    unloaded = [s for s in steps if s.id is not None and inspect(s).attrs.events.loaded_value is NO_VALUE]
    if not unloaded:
        return
    by_step = {s.id: [] for s in unloaded}
    # autoflush first: events added to the session but not yet written are in the answer
    for event in db.session.scalars(
        select(StepEvent).where(StepEvent.step_id.in_(by_step)).order_by(StepEvent.step_id, StepEvent.id)
    ):
        by_step[event.step_id].append(event)
    for s in unloaded:
        set_committed_value(s, "events", by_step[s.id])


def crossing(c, ticket=None) -> dict:
    _load_events(c.steps)
    return {
        "id": c.id,
        "direction": c.direction,
        "category": c.category,
        "status": c.status,
        "ticket": ticket.code if ticket else None,
        "created_at": _ts(c.created_at),
        "ended_at": _ts(c.ended_at),
        "refusal_reason": c.refusal_reason,
        "readmission_required": c.readmission_required,
        "gate_pass": {"code": c.gate_pass_code, "issued_at": _ts(c.gate_pass_issued_at)} if c.gate_pass_code else None,
        **_agency_records(c),
        "steps": [step(s) for s in c.steps],
    }


def _agency_records(c) -> dict:
    """What each agency recorded on the crossing (immigration: ``holder``), through the agency contract."""
    from osbp.workflow import contract

    records: dict = {}
    for control in contract.controls():
        records.update(control.crossing_data(c))
    return records


def ticket(t) -> dict:
    return {
        "code": t.code,
        "status": t.status,
        "crossing_id": t.crossing_id,
        "service_date": t.service_date.isoformat(),
        "station_id": t.station_id,
        "issued_at": _ts(t.issued_at),
        "queued_at": _ts(t.queued_at),
        "called_at": _ts(t.called_at),
        "channel": t.channel,
        "priority": t.priority,
        "target_station_id": t.target_station_id,
        "recalls": t.recalls,
    }


def ticket_wait(wait: dict) -> dict:
    return {
        "position": wait["position"],
        "wait_seconds": wait["wait_seconds"],
        "station_ids": list(wait["station_ids"]),
        "servers": wait["servers"],
        "unstaffed": wait.get("unstaffed", False),
    }


def station(s, queue_length: int, seated=(), wait_seconds: int | None = None) -> dict:
    return {
        "id": s.id,
        "code": s.code,
        "name": s.name,
        "stage": s.stage,
        "open": s.is_open,
        "state": s.state,
        "wait_seconds": wait_seconds,
        "step_kinds": [step_kind(k) for k in s.step_kinds],
        "queue_length": queue_length,
        "seated": [u.username for u in seated],
    }


def station_state(s) -> dict:
    return {"id": s.id, "code": s.code, "name": s.name, "state": s.state, "open": s.is_open}
