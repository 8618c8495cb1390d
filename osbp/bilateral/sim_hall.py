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
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from osbp.queues.models import CATEGORY_LETTERS

from . import sim_model as model

# -- the shape of a day -------------------------------------------------------------------------------------------

# Arrivals per local hour (relative): closed at night, peaks 07–09 and 16–18; the last arrivals at 21:30.
HOUR_WEIGHTS = {
    6: 3,
    7: 9,
    8: 10,
    9: 7,
    10: 5,
    11: 5,
    12: 5,
    13: 5,
    14: 5,
    15: 6,
    16: 9,
    17: 10,
    18: 7,
    19: 4,
    20: 2,
    21: 1,
}
LAST_ARRIVAL_HOUR = 21.5
OPEN_HOUR, CLOSE_HOUR = 6, 22
SHIFTS = ((6, 14), (14, 22))  # local hours; the last shift serves until the hall is empty
CUT_HOUR = 18  # the last day stops at the end of the evening peak, with people in the hall
PEAK_HOURS = (7, 8, 16, 17)
WEEKDAY_FACTORS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.55)  # Monday … Sunday, times --per-day
VOLUME_SPREAD = 0.03  # day-to-day variation of the volume (standard deviation, relative)
CATEGORY_WEIGHTS = (("trader", 0.46), ("traveller", 0.34), ("resident", 0.12), ("driver", 0.08))
MORNING_FROM_B = 0.6  # before noon most come from side B (Bukavu → Rusizi); after noon most go back
PRIORITY_SHARE = 0.03
KIOSK_SHARE = 0.3

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
UTILISATION = 0.95  # counters per copy are sized for this load over the busiest three hours

FIRST_NAMES = [
    "Aline",
    "Jean",
    "Claudine",
    "Eric",
    "Diane",
    "Patrick",
    "Esperance",
    "Furaha",
    "Chance",
    "Bahati",
    "Josiane",
    "Emmanuel",
    "Grace",
    "Innocent",
    "Solange",
    "Yves",
    "Neema",
    "Amani",
    "Riziki",
    "Olivier",
]
LAST_NAMES = [
    "Uwase",
    "Habimana",
    "Mukamana",
    "Niyonzima",
    "Ingabire",
    "Mugisho",
    "Bisimwa",
    "Cirhuza",
    "Mapendo",
    "Kabamba",
    "Uwimana",
    "Nsengiyumva",
    "Mukeshimana",
    "Byamungu",
    "Murhula",
    "Balagizi",
    "Iradukunda",
    "Hakizimana",
    "Kahindo",
    "Zawadi",
]
NATIONALITIES = {"RW": (("RWA", 0.82), ("COD", 0.12), ("BDI", 0.03), ("UGA", 0.02), ("KEN", 0.01))}
NATIONALITIES["CD"] = (("COD", 0.82), ("RWA", 0.12), ("BDI", 0.04), ("TZA", 0.02))
DOCUMENTS = {
    "resident": (("cepgl_pass", 1.0),),
    "traveller": (("passport", 0.5), ("national_id", 0.35), ("laissez_passer", 0.15)),
    "trader": (("national_id", 0.55), ("laissez_passer", 0.3), ("passport", 0.15)),
    "driver": (("passport", 0.8), ("laissez_passer", 0.2)),
}
_DOCUMENT_PREFIX = {"passport": "PC", "national_id": "1", "laissez_passer": "LP", "cepgl_pass": "CEPGL"}
_BIRTH_FIRST = date(1950, 1, 1)
_BIRTH_DAYS = (date(2006, 12, 31) - _BIRTH_FIRST).days


class SimulationError(Exception):
    """The post cannot be simulated as it is (no officer for a step, no route)."""


def _mean(median: float, sigma: float) -> float:
    return median * math.exp(sigma * sigma / 2)


def service_mean(kind, category: str) -> float:
    median, sigma = SERVICE.get((kind.agency_kind, kind.control), (60.0, 0.5))
    factor = DRIVER_CUSTOMS if category == "driver" and kind.agency_kind == "customs" else 1.0
    return _mean(median, sigma) * factor


# -- staffing --------------------------------------------------------------------------------------------------------


@dataclass
class Staffing:
    """Who sits where: per shift, the staffed primary stations and their officer per agency; per agency, the
    secondary station of its referrals and how many copies of the hall carry its share of the volume."""

    shifts: list  # [[(StationInfo, {agency id: user id}), ...] per shift]
    copies: dict  # agency id -> copies
    secondary: dict  # agency id -> StationInfo
    groups: list = field(default_factory=list)  # [(stations, agencies, staffed, copies)] for the record


def plan_staffing(ctx, per_day: int) -> Staffing:
    """Per shift, each group of primary stations serving the same step kinds gets as many counters as each of its
    agencies has officers (one of each agency per counter, the counters taken in turn from shift to shift); the
    copies of the hall follow from the volume. SimulationError when a step of a route has nobody to serve it."""
    primary = [s for s in ctx.stations if s.stage == "primary"]
    groups: dict[frozenset, list] = {}
    for station in primary:
        groups.setdefault(station.kinds, []).append(station)
    shifts = []
    staffed_count: dict[frozenset, int] = {}
    for shift in range(len(SHIFTS)):
        used: set[int] = set()
        seats = []
        for kinds, stations in groups.items():
            agencies = sorted({a for s in stations for a in s.agencies})
            free = {a: [u for u in ctx.officers.get(a, []) if u not in used] for a in agencies}
            staffed = min([len(stations), *(len(users) for users in free.values())])
            turn = shift % len(stations)
            rotated = stations[turn:] + stations[:turn]
            for i in range(staffed):
                crew = {a: free[a][i] for a in agencies}
                used.update(crew.values())
                seats.append((rotated[i], crew))
            staffed_count.setdefault(kinds, staffed)
        shifts.append(seats)
    served = {k for kinds, n in staffed_count.items() if n for k in kinds}
    for (direction, category), (_route, kinds) in ctx.routes.items():
        for kind in kinds:
            if kind.id not in served:
                raise SimulationError(
                    f"no officer can serve {kind.code} (route {direction} {category}): "
                    "seat officers of that agency at a station serving it (seed-demo)"
                )
    # Copies of the hall: the demand on each group over the busiest three hours, at UTILISATION.
    weights = [HOUR_WEIGHTS.get(h, 0) for h in range(24)]
    busiest = max(sum(weights[h : h + 3]) for h in range(22)) / 3
    per_hour = per_day * busiest / sum(weights)
    copies: dict[int, int] = {}
    record = []
    categories = dict(CATEGORY_WEIGHTS)
    for kinds, stations in groups.items():
        staffed = staffed_count[kinds]
        if not staffed:
            continue
        seconds = 0.0
        for (_direction, category), (_route, route_kinds) in ctx.routes.items():
            share = categories.get(category, 0.0) / len(ctx.directions)
            run = 0
            for kind in [*route_kinds, None]:
                if kind is not None and kind.id in kinds:
                    seconds += share * (service_mean(kind, category) + (sum(GAP) / 2 if run else _overhead()))
                    run += 1
                else:
                    run = 0
        needed = max(1, math.ceil(per_hour * seconds / (3600 * staffed * UTILISATION)))
        agencies = sorted({a for s in stations for a in s.agencies})
        for agency in agencies:
            copies.setdefault(agency, needed)
        record.append(([s.code for s in stations], agencies, staffed, needed))
    secondary = {}
    for station in ctx.stations:
        if station.stage == "secondary":
            for agency in station.agencies:
                secondary.setdefault(agency, station)
    return Staffing(shifts=shifts, copies=copies, secondary=secondary, groups=record)


def _overhead() -> float:
    return sum(REACTION) / 2 + _mean(*WALK)


# -- the simulation ------------------------------------------------------------------------------------------------

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


class _Station:
    __slots__ = ("info", "queues", "idle", "rooms")

    def __init__(self, info, queues):
        self.info = info
        self.queues = queues  # the heaps of the step kinds it serves (its stage)
        self.idle = set()  # ids of its lanes free and waiting for someone to call
        self.rooms: dict[int, bool] = {}  # secondary station: copy -> busy


class Day:
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
        self.stations: dict[int, _Station] = {}
        for info in ctx.stations:
            heaps = [self.queues.setdefault((k, info.stage), []) for k in sorted(info.kinds)]
            self.stations[info.id] = _Station(info, heaps)
        self.serving: dict[int, list[_Station]] = {}
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
        rng, ctx = self.rng, self.ctx
        hours = sorted(HOUR_WEIGHTS)
        cumulative, total = [], 0
        for hour in hours:
            total += HOUR_WEIGHTS[hour]
            cumulative.append(total)
        times = []
        for _ in range(self.volume):
            hour = hours[bisect(cumulative, rng.random() * total)]
            span = 3600 * (min(hour + 1, LAST_ARRIVAL_HOUR) - hour)
            times.append(self._hour[hour] + rng.random() * span)
        times.sort()
        if self.cut is not None:  # the last day: the day's arrivals until the cut
            times = [t for t in times if t <= self.cut]
        side_a, side_b = ctx.directions  # a→b, b→a
        noon = self._hour[12]
        categories = [c for c, _w in CATEGORY_WEIGHTS]
        category_cum = _cumulative([w for _c, w in CATEGORY_WEIGHTS])
        priorities = sorted(ctx.boosts)
        for order, when in enumerate(times):
            from_b = MORNING_FROM_B if when < noon else 1 - MORNING_FROM_B
            direction = side_b if rng.random() < from_b else side_a
            category = categories[bisect(category_cum, rng.random() * category_cum[-1])]
            route = ctx.routes.get((direction, category))
            if route is None:
                continue
            route_id, kinds = route
            priority = rng.choice(priorities) if rng.random() < PRIORITY_SHARE else None
            kiosk = ctx.desk_user is None or rng.random() < KIOSK_SHARE
            crossing = model.SimCrossing(
                order,
                route_id,
                direction,
                category,
                [model.SimStep(i + 1, k.id, k.agency) for i, k in enumerate(kinds)],
                letter=CATEGORY_LETTERS[category],
                priority=priority,
                boost=ctx.boosts.get(priority, 0.0) if priority else 0.0,
                channel="kiosk" if kiosk else "desk",
                issued_by=None if kiosk else ctx.desk_user,
                identity=self._identity(direction, category),
            )
            self.crossings.append(crossing)
            self.at(when, self._arrive, crossing)

    def _identity(self, direction: str, category: str) -> tuple:
        rng = self.rng
        origin = direction.split("-")[0]
        nationality = _pick(rng, NATIONALITIES.get(origin, (("XXA", 1.0),)))
        document = _pick(rng, DOCUMENTS[category])
        digits = 15 if document == "national_id" else 7
        number = f"{_DOCUMENT_PREFIX[document]}{rng.randrange(10**digits):0{digits}d}"
        born = _BIRTH_FIRST + timedelta(days=rng.randrange(_BIRTH_DAYS))
        return (f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", nationality, document, number, born)

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

    def _inspect(self, officer: Officer, room: _Station, crossing, in_room: bool) -> None:
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

    def _room_free(self, room: _Station, copy: int) -> None:
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


def _cumulative(weights) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _pick(rng, choices) -> str:
    draw = rng.random() * sum(w for _v, w in choices)
    for value, weight in choices:
        draw -= weight
        if draw < 0:
            return value
    return choices[-1][0]
