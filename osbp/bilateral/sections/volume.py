"""Volume: crossings per day by direction × category, the peak hour, busiest hours and weekdays.

One GROUP BY (local date, local hour, direction, category) — at most days × 24 × 8 rows; the rest is summed from it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import func, select

from osbp.bilateral.query import in_period, local_date, local_hour, people
from osbp.extensions import db
from osbp.workflow.models import CATEGORIES, Crossing

KEY = "volume"


def counts(scope) -> list[tuple[str, int, str, str, int]]:
    day = local_date(Crossing.created_at, scope).label("day")
    hour = local_hour(Crossing.created_at, scope).label("hour")
    query = (
        select(day, hour, Crossing.direction, Crossing.category, func.count())
        .where(Crossing.post_id == scope.post_id, in_period(Crossing.created_at, scope))
        .group_by(day, hour, Crossing.direction, Crossing.category)
    )
    return [(str(day), hour, d, c, n) for day, hour, d, c, n in db.session.execute(query)]  # date or text → text


def compute(context) -> dict:
    scope = context.scope
    rows = counts(scope)
    directions = context.directions
    by_lane: Counter = Counter()
    by_day: dict[str, Counter] = defaultdict(Counter)
    by_day_hour: Counter = Counter()
    for day, hour, direction, category, count in rows:
        by_lane[(direction, category)] += count
        by_day[day][(direction, category)] += count
        by_day_hour[(day, int(hour))] += count
    days = [d.isoformat() for d in scope.dates()]
    peak = min(by_day_hour.items(), key=lambda item: (-item[1], item[0]), default=None)  # the first of the busiest
    by_hour: Counter = Counter()
    by_weekday: Counter = Counter()
    for (day, hour), count in by_day_hour.items():
        by_hour[hour] += count
        by_weekday[date.fromisoformat(day).weekday()] += count
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
            for day in days
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
