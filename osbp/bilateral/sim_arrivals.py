"""Who comes to the post on a simulated day, and when: arrivals per hour (closed at night, two peaks), direction,
category, priority, kiosk or desk, and the identity and travel document each one shows immigration.

The volume of a day (``WEEKDAY_FACTORS``, ``VOLUME_SPREAD``) is applied by osbp/bilateral/simulate.py; the hall
(osbp/bilateral/sim_hall.py) takes the arrivals in and queues them. Times are UTC seconds since the epoch.
"""

from __future__ import annotations

from bisect import bisect
from datetime import date, timedelta

from osbp.queues.models import CATEGORY_LETTERS

from . import sim_model as model

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
PEAK_HOURS = (7, 8, 16, 17)
WEEKDAY_FACTORS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.55)  # Monday … Sunday, times --per-day
VOLUME_SPREAD = 0.03  # day-to-day variation of the volume (standard deviation, relative)
CATEGORY_WEIGHTS = (("trader", 0.46), ("traveller", 0.34), ("resident", 0.12), ("driver", 0.08))
MORNING_FROM_B = 0.6  # before noon most come from side B (Bukavu → Rusizi); after noon most go back
PRIORITY_SHARE = 0.03
KIOSK_SHARE = 0.3

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


def arrivals(ctx, rng, hour: dict, volume: int, cut: float | None) -> list[tuple[float, model.SimCrossing]]:
    """The day's arrivals in time order, (when, crossing) each, for ``hour`` (local hour → UTC seconds of its
    start); on the last day (``cut``), only those until the cut."""
    hours = sorted(HOUR_WEIGHTS)
    cumulative, total = [], 0
    for h in hours:
        total += HOUR_WEIGHTS[h]
        cumulative.append(total)
    times = []
    for _ in range(volume):
        start = hours[bisect(cumulative, rng.random() * total)]
        span = 3600 * (min(start + 1, LAST_ARRIVAL_HOUR) - start)
        times.append(hour[start] + rng.random() * span)
    times.sort()
    if cut is not None:  # the last day: the day's arrivals until the cut
        times = [t for t in times if t <= cut]
    side_a, side_b = ctx.directions  # a→b, b→a
    noon = hour[12]
    categories = [c for c, _w in CATEGORY_WEIGHTS]
    category_cum = _cumulative([w for _c, w in CATEGORY_WEIGHTS])
    priorities = sorted(ctx.boosts)
    arrived = []
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
            identity=identity(rng, direction, category),
        )
        arrived.append((when, crossing))
    return arrived


def identity(rng, direction: str, category: str) -> tuple:
    """(name, nationality, document type, document number, birth date) of someone crossing from that side."""
    origin = direction.split("-")[0]
    nationality = _pick(rng, NATIONALITIES.get(origin, (("XXA", 1.0),)))
    document = _pick(rng, DOCUMENTS[category])
    digits = 15 if document == "national_id" else 7
    number = f"{_DOCUMENT_PREFIX[document]}{rng.randrange(10**digits):0{digits}d}"
    born = _BIRTH_FIRST + timedelta(days=rng.randrange(_BIRTH_DAYS))
    return (f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", nationality, document, number, born)


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
