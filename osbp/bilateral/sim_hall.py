"""One simulated day at the post: arrivals, queues, counters and officers, as a discrete-event simulation.

The hall works the way the real post does. Every station calls from the queues of the step kinds it serves, the
first ticket by ``rank_at`` then arrival (call-next), and keeps the person for the consecutive steps it serves (the
one stop); a joint counter calls only when all its officers are there. Each officer decides their own agency's
steps; a referral sends the person to the agency's secondary station, and an officer of that agency walks there when
free (the referring one, most often), leaving their counter waiting meanwhile: the seats say so (``take_seat`` at
the secondary station, then back). Two shifts a day: officers leave their counter when their last person is done
and the next shift's officers sit down; the last shift serves until the hall is empty.

The demo post has few officers (one customs officer per country); to carry thousands of crossings a day the hall
is copied: ``copies`` identical sets of counters (lanes) per group of stations, each with its own copy of the
group's officers, all sharing the same queues and writing the same station and user ids. At the volumes the demo
staffing carries (a few hundred a day) there is one copy, and then every row is exact: one ticket at a station at a
time, one seat per officer at a time, every decision made by an officer seated at that station. With several
copies the seats of one officer overlap (one per copy), so the staffed hours of the report match the work done.

Times are UTC seconds since the epoch (floats); the day's clock is the post's local time.

The hall is in four modules: who arrives (osbp/bilateral/sim_arrivals.py), who sits where (sim_staffing.py), what
happens at a counter and in the secondary room (sim_counters.py), and the day that runs them (here).
"""

from __future__ import annotations

import heapq
from datetime import date, datetime, time, timedelta

from . import sim_model as model
from .sim_arrivals import arrivals
from .sim_counters import CLOSED, CLOSING, OPEN, Lane, Officer, Visits
from .sim_staffing import CLOSE_HOUR, OPEN_HOUR, SHIFTS, Staffing

CUT_HOUR = 18  # the last day stops at the end of the evening peak, with people in the hall


class HallStation:
    """A station of the hall: the queues it calls from, its idle lanes, its secondary rooms."""

    __slots__ = ("info", "queues", "idle", "rooms")

    def __init__(self, info, queues):
        self.info = info
        self.queues = queues  # the heaps of the step kinds it serves (its stage)
        self.idle = set()  # ids of its lanes free and waiting for someone to call
        self.rooms: dict[int, bool] = {}  # secondary station: copy -> busy


class Day(Visits):
    """The simulation of one day. ``cut``: stop at that time (the last day), leaving what is open as it is."""

    def __init__(self, ctx, staffing: Staffing, rng, day: date, volume: int, *, cut: bool = False):
        self.ctx = ctx
        self.staffing = staffing
        self.rng = rng
        self.day = day
        self.volume = volume
        zone = ctx.zone
        self._hour = {h: datetime.combine(day, time(h), tzinfo=zone).timestamp() for h in range(24)}
        self._hour[24] = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).timestamp()
        self.close_at = self._hour[CLOSE_HOUR]
        self.cut = self._hour[CUT_HOUR] if cut else None
        self.events: list = []
        self._seq = 0
        self.seats: list[tuple] = []
        self.crossings: list[model.SimCrossing] = []
        # queues: (step kind id, stage) -> heap of (rank_at, arrival order, crossing)
        self.queues: dict[tuple[int, str], list] = {}
        self.stations: dict[int, HallStation] = {}
        for info in ctx.stations:
            heaps = [self.queues.setdefault((k, info.stage), []) for k in sorted(info.kinds)]
            self.stations[info.id] = HallStation(info, heaps)
        self.serving: dict[int, list[HallStation]] = {}
        for station in self.stations.values():
            if station.info.stage == "primary":
                for kind in station.info.kinds:
                    self.serving.setdefault(kind, []).append(station)
        self.secondary = {a: self.stations[s.id] for a, s in staffing.secondary.items()}
        for agency, room in self.secondary.items():
            for copy in range(staffing.copies.get(agency, 1)):
                room.rooms[copy] = False
        self.waiting_secondary: dict[int, int] = {}
        self.officers: dict[tuple[int, int], Officer] = {}
        self.by_agency: dict[int, list[Officer]] = {}
        self.shift_lanes: list[list[Lane]] = []
        self.pending: list[Lane] = []
        self.slots: set[tuple[int, int]] = set()
        lane_id = 0
        for crew_list in staffing.shifts:
            lanes = []
            for info, crew in crew_list:
                copies = max(staffing.copies.get(a, 1) for a in crew)
                for copy in range(copies):
                    officers = [self._officer(user, agency, copy) for agency, user in sorted(crew.items())]
                    lanes.append(Lane(lane_id, self.stations[info.id], copy, officers))
                    lane_id += 1
            self.shift_lanes.append(lanes)
        self._lanes = {lane.id: lane for lanes in self.shift_lanes for lane in lanes}

    def _officer(self, user: int, agency: int, copy: int) -> Officer:
        key = (user, copy)
        if key not in self.officers:
            officer = self.officers[key] = Officer(user, agency, copy)
            self.by_agency.setdefault(agency, []).append(officer)
        return self.officers[key]

    # -- the clock ------------------------------------------------------------------------------------------------

    def at(self, when: float, action, argument=None) -> None:
        self._seq += 1
        heapq.heappush(self.events, (when, self._seq, action, argument))

    def stops(self, copy: int, station: int) -> bool:
        """Whether a visit at this station by this copy stops at the cut, the person left there as they are: only
        copy 0, and not at a station that has a ticket called already (a station calls one ticket at a time;
        other copies finish the person they serve)."""
        return self.cut is not None and copy == 0 and station not in self.ctx.busy_stations

    def live(self, stops: bool, when: float) -> bool:
        """False for what a visit that stops at the cut would do after it: left undone."""
        return not stops or when <= self.cut

    def run(self) -> tuple[list, list]:
        self._arrivals()
        self.at(self._hour[OPEN_HOUR], self._open_shift, 0)
        for shift, (_start, end) in enumerate(SHIFTS[:-1]):
            self.at(self._hour[end], self._end_shift, shift)
        while self.events:
            when, _seq, action, argument = heapq.heappop(self.events)
            if self.cut is not None and when > self.cut:
                break
            self.now = when
            action(argument)
        self._leave_all()
        return self.crossings, self.seats

    def _leave_all(self) -> None:
        for officer in self.officers.values():
            if officer.seat is None:
                continue
            if self.cut is None:
                self._leave(officer, max(self.close_at, officer.last, officer.seat[1]))
            elif officer.copy or officer.user in self.ctx.open_seat_users:
                self._leave(officer, max(self.cut, officer.last, officer.seat[1]))
            else:
                self.seats.append((officer.user, officer.seat[0], officer.seat[1], None))  # still seated

    # -- arrivals ---------------------------------------------------------------------------------------------------

    def _arrivals(self) -> None:
        for when, crossing in arrivals(self.ctx, self.rng, self._hour, self.volume, self.cut):
            self.crossings.append(crossing)
            self.at(when, self._arrive, crossing)

    def _arrive(self, crossing) -> None:
        model.issue(crossing, self.now)
        self._queue(crossing, crossing.steps[0].kind, "primary")

    # -- queues -----------------------------------------------------------------------------------------------------

    def _queue(self, crossing, kind: int, stage: str, prefer: Officer | None = None) -> None:
        """The ticket joins a queue; an idle counter serving it calls (an idle officer walks to the secondary
        room: ``prefer``, the one who referred, first)."""
        heapq.heappush(self.queues[(kind, stage)], (crossing.t_rank_at, crossing.order, crossing))
        if stage == "primary":
            for station in self.serving.get(kind, ()):
                while station.idle:
                    if self._ready(self._lanes[station.idle.pop()]):
                        return
            return
        agency = self.ctx.kinds[kind].agency
        self.waiting_secondary[agency] = self.waiting_secondary.get(agency, 0) + 1
        candidates = self.by_agency.get(agency, ())
        if prefer is not None:
            candidates = [prefer, *candidates]
        for officer in candidates:
            if self._free_for_room(officer) and self._to_room(officer):
                return

    @staticmethod
    def _pop(heaps):
        best = None
        for heap in heaps:
            if heap and (best is None or heap[0] < best[0]):
                best = heap
        return heapq.heappop(best)[2] if best is not None else None

    # -- lanes and officers -----------------------------------------------------------------------------------------

    def _open_shift(self, shift: int) -> None:
        self.pending = list(self.shift_lanes[shift])
        self._open_pending()

    def _end_shift(self, shift: int) -> None:
        self.pending = list(self.shift_lanes[shift + 1])
        for lane in self.shift_lanes[shift]:
            if lane.state == OPEN:
                lane.state = CLOSING
                lane.station.idle.discard(lane.id)
                if not lane.busy:
                    self._close(lane)
        self._open_pending()

    def _open_pending(self) -> None:
        still = []
        for lane in self.pending:
            slot = (lane.station.info.id, lane.copy)
            if slot in self.slots or any(o.lane is not None or o.away for o in lane.officers):
                still.append(lane)
                continue
            self.slots.add(slot)
            lane.state = OPEN
            for officer in lane.officers:
                officer.lane = lane
                officer.release = False
                self._seat(officer, lane.station.info.id, self.now)
            self._ready(lane)
        self.pending = still

    def _close(self, lane: Lane) -> None:
        lane.state = CLOSED
        lane.station.idle.discard(lane.id)
        self.slots.discard((lane.station.info.id, lane.copy))
        for officer in lane.officers:
            if officer.away:
                officer.release = True
            else:
                self._leave(officer, self.now)
                officer.lane = None
        self._open_pending()

    def _seat(self, officer: Officer, station: int, when: float) -> None:
        """``take_seat``: a seat at another station closes the current one at the same instant."""
        if officer.seat is not None:
            if officer.seat[0] == station:
                return
            self._leave(officer, when)
        officer.seat = (station, when)
        officer.last = max(officer.last, when)

    def _leave(self, officer: Officer, when: float) -> None:
        if officer.seat is not None:
            self.seats.append((officer.user, officer.seat[0], officer.seat[1], when))
            officer.seat = None
            officer.last = max(officer.last, when)

    def _ready(self, lane: Lane) -> bool:
        """The lane has nobody at its counter: its officers take a referral first, else it calls the next.
        True when it called someone."""
        if lane.state == CLOSING:
            self._close(lane)
            return False
        if lane.state != OPEN or lane.busy:
            return False
        for officer in lane.officers:
            if not officer.away and self.waiting_secondary.get(officer.agency):
                self._to_room(officer)
        station = lane.station
        if any(o.away for o in lane.officers):
            station.idle.discard(lane.id)
            return False
        crossing = self._pop(station.queues)
        if crossing is None:
            station.idle.add(lane.id)
            return False
        station.idle.discard(lane.id)
        self._serve(lane, crossing)
        return True

    def _free_for_room(self, officer: Officer) -> bool:
        lane = officer.lane
        return lane is not None and lane.state == OPEN and not lane.busy and not officer.away
