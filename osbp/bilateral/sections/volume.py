"""Volume: crossings per day by direction × category, the peak hour, busiest hours and weekdays (from the
``crossings`` facts: per local day, hour of arrival, direction and category)."""

from __future__ import annotations

from collections import Counter, defaultdict

from osbp.bilateral.query import people
from osbp.workflow.models import CATEGORIES

KEY = "volume"


def compute(context) -> dict:
    scope = context.scope
    directions = context.directions
    by_lane: Counter = Counter()
    by_day: dict[str, Counter] = defaultdict(Counter)
    by_day_hour: Counter = Counter()
    for (day, hour, direction, category, _value), count in context.facts.get("crossings", by_day=True).items():
        day = day.isoformat()
        by_lane[(direction, category)] += count
        by_day[day][(direction, category)] += count
        by_day_hour[(day, int(hour))] += count
    peak = min(by_day_hour.items(), key=lambda item: (-item[1], item[0]), default=None)  # the first of the busiest
    by_hour: Counter = Counter()
    by_weekday: Counter = Counter()
    weekday_of = {d.isoformat(): d.weekday() for d in scope.dates()}
    for (day, hour), count in by_day_hour.items():
        by_hour[hour] += count
        by_weekday[weekday_of[day]] += count
    weekday_days = Counter(d.weekday() for d in scope.dates())
    return {
        "total": sum(by_lane.values()),
        "by_lane": [
            {"direction": d, "category": c, "count": people(by_lane[(d, c)])} for d in directions for c in CATEGORIES
        ],
        "by_day": [
            {
                "date": day,
                "total": people(sum(by_day[day].values())),
                "lanes": {d: {c: people(by_day[day][(d, c)]) for c in CATEGORIES} for d in directions},
            }
            for day in weekday_of
        ],
        "peak_hour": {"date": peak[0][0], "hour": peak[0][1], "persons": people(peak[1])} if peak else None,
        "by_hour": [
            {"hour": h, "persons": people(by_hour[h]), "mean_per_day": _mean(by_hour[h], scope.days)} for h in range(24)
        ],
        "by_weekday": [
            {
                "weekday": w,
                "persons": people(by_weekday[w]),
                "days": weekday_days[w],
                "mean_per_day": _mean(by_weekday[w], weekday_days[w]),
            }
            for w in range(7)
        ],
    }


def _mean(persons: int, days: int) -> float | None:
    """Persons per day; None where the count itself is a small cell."""
    if not days or isinstance(people(persons), str):
        return None
    return round(persons / days, 1)
