"""The counters of a simulated day and what happens at them: the officers and lanes (one copy of a staffed counter
for one shift), a visit at a primary counter (call, recalls and no-shows, each agency's step, referral or refusal,
the gate-out scan) and a secondary inspection (an officer walks to the room, inspects, walks back).

Processing times, reactions and walks, referral and refusal rates, absences and gate-out delays are the figures
below. ``Visits`` holds the visits as methods of osbp/bilateral/sim_hall.py's ``Day`` (it is mixed into it and uses
its clock, queues, lanes and seats); the hall's header says how officers and copies of the hall work.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import sim_model as model

if TYPE_CHECKING:
    from .sim_hall import HallStation

# Processing time of a step (seconds): (median, sigma) of a lognormal, per (agency kind, control).
SERVICE = {
    ("immigration", "exit"): (55.0, 0.45),  # includes recording the identity and travel document
    ("immigration", "entry"): (40.0, 0.45),
    ("health", "screening"): (25.0, 0.5),
    ("customs", "export"): (45.0, 0.55),
    ("customs", "import"): (80.0, 0.55),
}
DRIVER_CUSTOMS = 2.0  # a truck's papers take longer
SECONDARY_SERVICE = {"immigration": (420.0, 0.5), "health": (600.0, 0.45), "customs": (840.0, 0.5)}
REACTION = (2.0, 12.0)  # counter free → Call next (uniform)
WALK = (22.0, 0.5)  # called → at the counter (lognormal)
GAP = (3.0, 12.0)  # one agency's decision → the next agency's start at a joint counter (uniform)
TO_ROOM = (30.0, 90.0)  # an officer's walk to or from the secondary room (uniform)

REFERRAL = {
    ("immigration", "exit"): 0.004,
    ("immigration", "entry"): 0.012,
    ("health", "screening"): 0.012,
    ("customs", "export"): 0.006,
    ("customs", "import"): 0.03,
}
DRIVER_IMPORT_REFERRAL = 2.0
REFUSAL = {
    ("immigration", "exit"): 0.0015,
    ("immigration", "entry"): 0.002,
    ("health", "screening"): 0.0008,
    ("customs", "export"): 0.0005,
    ("customs", "import"): 0.001,
}
SECONDARY_REFUSAL = 0.15
REFERRAL_REASONS = {
    "immigration": ("Document check", "Watch-list hit"),
    "health": ("Temperature 38 °C or more", "Symptoms reported"),
    "customs": ("Goods inspection", "Value above the STR limit"),
}
REFUSAL_REASONS = {
    "immigration": ("Expired travel document", "No valid entry permit"),
    "health": ("No yellow fever certificate",),
    "customs": ("Prohibited goods", "Goods not on the common list"),
}
ABSENT = 0.012  # not there when called: recalled, then shows up (LATE) or a no-show (requeued once)
LATE = 0.5
ABSENT_AGAIN = 0.35  # called again after a no-show and still not there: cancelled (crossing no_show)
RECALL_EVERY = (30.0, 60.0)
GATE_OUT_SHARE = 0.9
GATE_OUT_DELAY = (60.0, 600.0)


def _mean(median: float, sigma: float) -> float:
    return median * math.exp(sigma * sigma / 2)


def service_mean(kind, category: str) -> float:
    median, sigma = SERVICE.get((kind.agency_kind, kind.control), (60.0, 0.5))
    factor = DRIVER_CUSTOMS if category == "driver" and kind.agency_kind == "customs" else 1.0
    return _mean(median, sigma) * factor


def call_overhead() -> float:
    """Mean seconds from a counter free to the person at it: the officer's reaction, then the walk."""
    return sum(REACTION) / 2 + _mean(*WALK)


# -- counters and their officers -------------------------------------------------------------------------------------

OPEN, CLOSING, CLOSED, PENDING = "open", "closing", "closed", "pending"


class Officer:
    __slots__ = ("user", "agency", "copy", "lane", "away", "seat", "release", "last")

    def __init__(self, user: int, agency: int, copy: int):
        self.user = user
        self.agency = agency
        self.copy = copy
        self.lane = None  # the lane of the current shift
        self.away = False  # at the secondary station
        self.seat = None  # (station id, seated_at)
        self.release = False  # leave when back from the secondary station (shift over)
        self.last = 0.0  # time of the last thing done


class Lane:
    """One copy of a staffed counter during one shift."""

    __slots__ = ("id", "station", "copy", "officers", "by_agency", "state", "busy")

    def __init__(self, lane_id: int, station, copy: int, officers: list):
        self.id = lane_id
        self.station = station
        self.copy = copy
        self.officers = officers
        self.by_agency = {o.agency: o for o in officers}
        self.state = PENDING
        self.busy = False


class Visits:
    """What happens at the counters of ``sim_hall.Day``: a visit at a primary counter, a secondary inspection."""

    # -- a visit at a primary counter ----------------------------------------------------------------------------

    def _serve(self, lane: Lane, crossing) -> None:
        rng, station = self.rng, lane.station.info
        stops = self.stops(lane.copy, station.id)
        lane.busy = True
        when = self.now + rng.uniform(*REACTION)
        head = crossing.next_open_step()
        caller = lane.by_agency[head.agency]
        if not self.live(stops, when):
            return
        run = model.call(crossing, station.id, station.kinds, False, caller.user, when)
        caller.last = when
        absent = ABSENT if crossing.no_shows == 0 else ABSENT_AGAIN
        if rng.random() < absent:
            late = self.ctx.max_recalls > 0 and rng.random() < LATE
            recalls = rng.randint(1, self.ctx.max_recalls) if late else self.ctx.max_recalls
            for _ in range(recalls):
                when += rng.uniform(*RECALL_EVERY)
                if not self.live(stops, when):
                    return
                model.recall(crossing, station.id, caller.user, when)
            caller.last = when
            if not late:
                when += rng.uniform(*RECALL_EVERY)
                if not self.live(stops, when):
                    return
                caller.last = when
                if crossing.no_shows == 0:
                    crossing.no_shows = 1
                    step = model.no_show_requeue(crossing, station.id, caller.user, when)
                    self.at(when, self._served, (lane, crossing, "queued", step))
                else:
                    model.no_show_cancel(crossing, station.id, caller.user, when)
                    self.at(when, self._served, (lane, crossing, "ended", None))
                return
        when += _lognormal(rng, *WALK)
        result, following = "stay", None
        for i, step in enumerate(run):
            if i:
                when += rng.uniform(*GAP)
            officer = lane.by_agency[step.agency]
            if not self.live(stops, when):
                return
            kind = self.ctx.kinds[step.kind]
            if crossing.identity is None and kind.agency_kind == "immigration":  # the first immigration step
                model.record_identity(crossing, step, officer.user, when)
            else:
                model.start(step, officer.user, when)
            when += self._processing(kind, crossing.category)
            if not self.live(stops, when):
                return
            outcome, reason = self._outcome(kind, crossing.category)
            result, following = model.decide(crossing, step, officer.user, outcome, reason, when)
            officer.last = when
            if result != "stay":
                break
        if result == "done":
            self._gate_out(crossing, when)
        self.at(when, self._served, (lane, crossing, result, following))

    def _processing(self, kind, category: str) -> float:
        median, sigma = SERVICE.get((kind.agency_kind, kind.control), (60.0, 0.5))
        factor = DRIVER_CUSTOMS if category == "driver" and kind.agency_kind == "customs" else 1.0
        return _lognormal(self.rng, median, sigma) * factor

    def _outcome(self, kind, category: str) -> tuple[str, str | None]:
        key = (kind.agency_kind, kind.control)
        refer = REFERRAL.get(key, 0.0) if kind.agency in self.secondary else 0.0
        if category == "driver" and key == ("customs", "import"):
            refer *= DRIVER_IMPORT_REFERRAL
        draw = self.rng.random()
        if draw < refer:
            return "referred", self.rng.choice(REFERRAL_REASONS[kind.agency_kind])
        if draw < refer + REFUSAL.get(key, 0.0):
            return "refused", self.rng.choice(REFUSAL_REASONS[kind.agency_kind])
        return "cleared", None

    def _gate_out(self, crossing, cleared_at: float) -> None:
        gate = self.ctx.gate_officers.get(crossing.direction.split("-")[1])
        if gate is None or self.rng.random() >= GATE_OUT_SHARE:
            return
        when = cleared_at + self.rng.uniform(*GATE_OUT_DELAY)
        if self.cut is None or when <= self.cut:
            model.gate_out(crossing, gate, when)

    def _served(self, argument) -> None:
        lane, crossing, result, following = argument
        lane.busy = False
        if result == "queued":
            stage = crossing.t_stage
            referrer = lane.by_agency.get(following.agency) if stage == "secondary" else None
            self._queue(crossing, following.kind, stage, prefer=referrer)
        self._ready(lane)

    # -- secondary inspection -------------------------------------------------------------------------------------

    def _to_room(self, officer: Officer, *, in_room: bool = False) -> bool:
        """The officer takes the first referral of their agency waiting, if their copy's room is free."""
        room = self.secondary.get(officer.agency)
        if room is None or room.rooms.get(officer.copy, True):
            return False
        kinds = [(k, "secondary") for k in room.info.kinds if self.ctx.kinds[k].agency == officer.agency]
        crossing = self._pop([self.queues[key] for key in kinds])
        if crossing is None:
            return False
        self.waiting_secondary[officer.agency] -= 1
        officer.away = True
        room.rooms[officer.copy] = True
        if officer.lane is not None:
            officer.lane.station.idle.discard(officer.lane.id)
        self._inspect(officer, room, crossing, in_room)
        return True

    def _inspect(self, officer: Officer, room: HallStation, crossing, in_room: bool) -> None:
        rng, info = self.rng, room.info
        stops = self.stops(officer.copy, info.id)
        when = self.now
        if not in_room:
            when += rng.uniform(*TO_ROOM)
            if not self.live(stops, when):
                return
            self._seat(officer, info.id, when)
        when += rng.uniform(5.0, 15.0)
        if not self.live(stops, when):
            return
        (step,) = model.call(crossing, info.id, info.kinds, True, officer.user, when)
        when += _lognormal(rng, *WALK)
        if not self.live(stops, when):
            return
        model.start(step, officer.user, when)
        kind = self.ctx.kinds[step.kind]
        median, sigma = SECONDARY_SERVICE.get(kind.agency_kind, (600.0, 0.5))
        when += _lognormal(rng, median, sigma)
        if not self.live(stops, when):
            return
        if rng.random() < SECONDARY_REFUSAL:
            outcome, reason = "refused", rng.choice(REFUSAL_REASONS[kind.agency_kind])
        else:
            outcome, reason = "cleared", None
        result, following = model.decide(crossing, step, officer.user, outcome, reason, when)
        officer.last = when
        if result == "done":
            self._gate_out(crossing, when)
        self.at(when, self._inspected, (officer, room, crossing, result, following))

    def _inspected(self, argument) -> None:
        officer, room, crossing, result, following = argument
        room.rooms[officer.copy] = False
        if result == "queued":
            self._queue(crossing, following.kind, "primary")
        lane = officer.lane
        if lane is not None and lane.state == OPEN and self.waiting_secondary.get(officer.agency):
            officer.away = False
            if self._to_room(officer, in_room=True):  # the next referral of the agency: stays in the room
                return
            officer.away = True
        self._room_free(room, officer.copy)
        self.at(self.now + self.rng.uniform(*TO_ROOM), self._back, officer)

    def _room_free(self, room: HallStation, copy: int) -> None:
        """Another officer of this copy, idle at their counter, takes a referral waiting for the room."""
        for agency in sorted(room.info.agencies):
            if not self.waiting_secondary.get(agency):
                continue
            for officer in self.by_agency.get(agency, ()):
                if officer.copy == copy and self._free_for_room(officer) and self._to_room(officer):
                    return

    def _back(self, officer: Officer) -> None:
        officer.away = False
        lane = officer.lane
        if officer.release or lane is None or lane.state != OPEN and lane.state != CLOSING:
            self._leave(officer, self.now)
            officer.lane = None
            officer.release = False
            self._open_pending()
            return
        self._seat(officer, lane.station.info.id, self.now)
        if lane.state == CLOSING:
            if not lane.busy:
                self._close(lane)
            return
        if not lane.busy:
            self._ready(lane)


def _lognormal(rng, median: float, sigma: float) -> float:
    return median * math.exp(sigma * rng.gauss())
