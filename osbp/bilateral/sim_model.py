"""The rows the real operations write, mirrored on plain Python objects for the traffic simulator.

Each function below does to a ``SimCrossing`` (a crossing, its ticket and its steps) exactly what the operation it
names does to the database rows, column by column and StepEvent by StepEvent, in the same order:

=========================  =====================================================================================
here                       the real operation
=========================  =====================================================================================
``issue``                  ``queues.operations.issue_ticket`` (``workflow.create_crossing`` then ``enqueue``)
``enqueue``                ``queues.operations.enqueue`` (``workflow.queue_step``)
``call``                   ``queues.operations.call_next`` (the claiming UPDATE) then ``workflow.call_run``
``recall``                 ``queues.operations.recall``
``no_show_requeue``        ``queues.operations.no_show`` with policy requeue (``requeue``, ``workflow.return_run``)
``no_show_cancel``         ``queues.operations.no_show`` with policy cancel (``workflow.end_as_no_show``)
``start``                  ``queues.operations.start_step`` (``workflow.mark_in_progress``)
``record_identity``        ``agencies.immigration.operations.record_identity`` (its ``TravellerIdentity`` row)
``decide``                 ``queues.operations.decide_step`` (``workflow.record_decision``: ``_refer``,
                           ``_refuse_crossing``, ``_advance``)
``gate_out``               ``gate.operations.record_gate_out``
=========================  =====================================================================================

Times are UTC seconds since the epoch (floats). A change to one of those operations must be made here too:
tests/test_simulate.py runs the same scenarios through both and compares the rows.
"""

from __future__ import annotations

FINAL = ("cleared", "refused", "cancelled")
AT_COUNTER = ("called", "in_progress")

# StepEvent.detail values, shared (never mutated): the writer turns each into JSON once.
STAGE_DETAIL = {"primary": {"stage": "primary"}, "secondary": {"stage": "secondary"}}
REQUEUE_DETAIL = {
    "primary": {"stage": "primary", "station_id": None},
    "secondary": {"stage": "secondary", "station_id": None},
}
NO_SHOW_DETAIL: dict = {}
CANCELLED_NO_SHOW = {"reason": "no_show"}
_RECALL_DETAILS: dict[int, dict] = {}
_REASON_DETAILS: dict[str, dict] = {}

# The gate pass stays "to be numbered" until the writer knows the crossing's id.
GATE_PASS_PENDING = "pending"  # noqa: S105 (not a password)


def recall_detail(count: int) -> dict:
    return _RECALL_DETAILS.setdefault(count, {"recall": count})


def reason_detail(reason: str) -> dict:
    return _REASON_DETAILS.setdefault(reason, {"reason": reason})


class SimStep:
    """A ``Step`` row and its ``StepEvent`` rows (kind, at, user_id, station_id, detail)."""

    __slots__ = (
        "position",
        "kind",
        "agency",
        "status",
        "outcome",
        "reason",
        "referral_reason",
        "station",
        "queued_at",
        "called_at",
        "started_at",
        "started_by",
        "decided_at",
        "decided_by",
        "events",
    )

    def __init__(self, position: int, kind: int, agency: int):
        self.position = position
        self.kind = kind
        self.agency = agency
        self.status = "pending"
        self.outcome = self.reason = self.referral_reason = None
        self.station = self.queued_at = self.called_at = self.started_at = self.started_by = None
        self.decided_at = self.decided_by = None
        self.events: list[tuple] = []

    def event(self, kind: str, at: float, user=None, station=None, detail=None) -> None:
        self.events.append((kind, at, user, station, detail))


class SimCrossing:
    """A ``Crossing`` row, its ``Ticket`` row (the ``t_`` attributes) and its steps."""

    __slots__ = (
        "order",
        "route",
        "direction",
        "category",
        "status",
        "created_at",
        "created_by",
        "ended_at",
        "refusal_reason",
        "gate_pass_code",
        "gate_pass_issued_at",
        "gate_out_at",
        "gate_out_by",
        "identity",
        "identity_by",
        "identity_at",
        "identity_step",
        "letter",
        "t_status",
        "t_kind",
        "t_stage",
        "t_queued_at",
        "t_rank_at",
        "t_target",
        "t_station",
        "t_called_at",
        "t_called_by",
        "t_recalls",
        "priority",
        "boost",
        "channel",
        "steps",
        "no_shows",
        "pending_identity",
    )

    def __init__(self, order: int, route: int, direction: str, category: str, steps: list[SimStep], **ticket):
        self.order = order  # arrival order: ids are given in this order
        self.route = route
        self.direction = direction
        self.category = category
        self.status = "in_progress"
        self.created_at = self.ended_at = None
        self.created_by = ticket.get("issued_by")
        self.refusal_reason = self.gate_pass_code = self.gate_pass_issued_at = None
        self.gate_out_at = self.gate_out_by = None
        self.identity = None  # (holder_name, nationality, document_type, document_number, birth_date)
        self.identity_by = self.identity_at = self.identity_step = None  # who recorded it, when, at which step
        self.pending_identity = ticket.get("identity")
        self.letter = ticket["letter"]
        self.priority = ticket.get("priority")
        self.boost = ticket.get("boost", 0.0)  # seconds: the priority boost of its kind
        self.channel = ticket.get("channel", "desk")
        self.t_status = "waiting"
        self.t_kind = None
        self.t_stage = "primary"
        self.t_queued_at = self.t_rank_at = self.t_target = self.t_station = None
        self.t_called_at = self.t_called_by = None
        self.t_recalls = 0
        self.steps = steps
        self.no_shows = 0

    @property
    def ended(self) -> bool:
        return self.status != "in_progress"

    def next_open_step(self) -> SimStep | None:
        for step in self.steps:
            if step.status not in FINAL:
                return step
        return None


def issue(crossing: SimCrossing, at: float) -> None:
    crossing.created_at = at
    enqueue(crossing, crossing.steps[0], "primary", at)


def enqueue(crossing: SimCrossing, step: SimStep, stage: str, at: float) -> None:
    step.status = "waiting"
    step.station = None
    step.called_at = None
    step.queued_at = at
    crossing.t_status = "waiting"
    crossing.t_kind = step.kind
    crossing.t_stage = stage
    crossing.t_queued_at = at
    crossing.t_rank_at = at - crossing.boost
    crossing.t_target = None
    crossing.t_station = None
    crossing.t_called_at = None
    crossing.t_called_by = None
    crossing.t_recalls = 0
    step.event("queued", at, detail=STAGE_DETAIL[stage])


def steps_here(crossing: SimCrossing, served: frozenset, secondary: bool) -> list[SimStep]:
    run: list[SimStep] = []
    for step in crossing.steps:
        if step.status in FINAL:
            if run:
                break
            continue
        if step.kind not in served:
            break
        run.append(step)
        if secondary:
            break
    return run


def call(crossing: SimCrossing, station: int, served: frozenset, secondary: bool, officer: int, at: float):
    """The claim (ticket called at the station) and ``mark_called``: returns the run of steps called."""
    crossing.t_status = "called"
    crossing.t_station = station
    crossing.t_called_at = at
    crossing.t_called_by = officer
    crossing.t_recalls = 0
    crossing.t_target = None
    run = steps_here(crossing, served, secondary)
    for step in run:
        step.status = "called"
        step.station = station
        step.called_at = at
        if step.queued_at is None:
            step.queued_at = crossing.t_queued_at
        step.event("called", at, officer, station)
    return run


def run_at(crossing: SimCrossing, station: int) -> list[SimStep]:
    return [s for s in crossing.steps if s.station == station and s.status in AT_COUNTER]


def recall(crossing: SimCrossing, station: int, officer: int, at: float) -> None:
    crossing.t_recalls += 1
    detail = recall_detail(crossing.t_recalls)
    for step in run_at(crossing, station):
        step.event("recalled", at, officer, station, detail)


def no_show_requeue(crossing: SimCrossing, station: int, officer: int, at: float) -> SimStep:
    """Back to the end of the queue of the step at the head of the run (a new place: rank_at = now)."""
    run = run_at(crossing, station)
    head = run[0] if run else crossing.next_open_step()
    for step in run:
        step.event("no_show" if step is head else "returned", at, officer, station, NO_SHOW_DETAIL)
        step.status = "pending"
        step.station = None
        step.called_at = None
        step.started_at = None
        step.started_by = None
    head.status = "waiting"
    head.queued_at = at
    crossing.t_queued_at = at
    crossing.t_rank_at = at
    crossing.t_status = "waiting"
    crossing.t_kind = head.kind
    crossing.t_target = None
    crossing.t_station = None
    crossing.t_called_at = None
    crossing.t_called_by = None
    crossing.t_recalls = 0
    head.event("queued", at, detail=REQUEUE_DETAIL[crossing.t_stage])
    return head


def no_show_cancel(crossing: SimCrossing, station: int, officer: int, at: float) -> None:
    for step in crossing.steps:
        if step.station == station and step.status in AT_COUNTER:
            step.event("no_show", at, officer, station)
        if step.status not in FINAL:
            step.status = "cancelled"
            step.station = None
            step.event("cancelled", at, detail=CANCELLED_NO_SHOW)
    crossing.status = "no_show"
    crossing.ended_at = at
    crossing.t_status = "cancelled"
    crossing.t_kind = None
    crossing.t_station = None
    crossing.t_target = None


def start(step: SimStep, officer: int, at: float) -> None:
    step.status = "in_progress"
    step.started_at = at
    step.started_by = officer
    step.event("started", at, officer, step.station)


def record_identity(crossing: SimCrossing, step: SimStep, officer: int, at: float) -> None:
    crossing.identity = crossing.pending_identity
    crossing.identity_by, crossing.identity_at, crossing.identity_step = officer, at, step.position
    if step.status == "called":
        start(step, officer, at)


def decide(crossing: SimCrossing, step: SimStep, officer: int, outcome: str, reason: str | None, at: float):
    """A decision. Returns what became of the ticket: ("stay", None) the run goes on at this counter,
    ("queued", step) waiting in that step's queue (primary, or secondary after a referral), ("done", None) cleared
    with a gate pass, ("refused", None)."""
    if step.status == "called":
        start(step, officer, at)
    station = step.station
    if outcome == "referred":
        _refer(crossing, step, officer, reason, at)
        return "queued", step
    step.status = outcome
    step.outcome = outcome
    step.reason = reason
    step.decided_at = at
    step.decided_by = officer
    step.event(outcome, at, officer, station)
    if outcome == "refused":
        _refuse(crossing, reason, at)
        return "refused", None
    return _advance(crossing, at)


def _refer(crossing: SimCrossing, step: SimStep, officer: int, reason: str, at: float) -> None:
    step.status = "referred"
    step.referral_reason = reason
    step.event("referred", at, officer, step.station, reason_detail(reason))
    for other in crossing.steps:
        if other.position > step.position and other.status in AT_COUNTER:
            other.status = "pending"
            other.station = None
            other.called_at = None
            other.started_at = None
            other.started_by = None
            other.event("returned", at, officer)
    enqueue(crossing, step, "secondary", at)


def _refuse(crossing: SimCrossing, reason: str, at: float) -> None:
    crossing.status = "refused"
    crossing.refusal_reason = reason
    crossing.ended_at = at
    for other in crossing.steps:
        if other.status not in ("cleared", "refused"):
            other.status = "cancelled"
            other.event("cancelled", at)
    _close_ticket(crossing)


def _advance(crossing: SimCrossing, at: float):
    following = crossing.next_open_step()
    if following is None:
        crossing.status = "cleared"
        crossing.ended_at = at
        crossing.gate_pass_code = GATE_PASS_PENDING
        crossing.gate_pass_issued_at = at
        _close_ticket(crossing)
        return "done", None
    if following.status not in AT_COUNTER:
        enqueue(crossing, following, "primary", at)
        return "queued", following
    return "stay", following


def _close_ticket(crossing: SimCrossing) -> None:
    crossing.t_status = "done"
    crossing.t_kind = None
    crossing.t_station = None


def gate_out(crossing: SimCrossing, officer: int, at: float) -> None:
    crossing.gate_out_at = at
    crossing.gate_out_by = officer
