"""Who sits where on a simulated day: the opening hours and the two shifts, the staffed counters of each shift and
their officers, the secondary station of each agency, and how many copies of the hall carry the volume.

How officers, shifts and copies of the hall then work is in osbp/bilateral/sim_hall.py's header.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .sim_arrivals import CATEGORY_WEIGHTS, HOUR_WEIGHTS
from .sim_counters import GAP, call_overhead, service_mean

OPEN_HOUR, CLOSE_HOUR = 6, 22
SHIFTS = ((6, 14), (14, 22))  # local hours; the last shift serves until the hall is empty
UTILISATION = 0.95  # counters per copy are sized for this load over the busiest three hours


class SimulationError(Exception):
    """The post cannot be simulated as it is (no officer for a step, no route)."""


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
                    seconds += share * (service_mean(kind, category) + (sum(GAP) / 2 if run else call_overhead()))
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
