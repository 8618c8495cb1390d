"""When people wait: the median wait (queued → called, primary stage) by local weekday × hour of arrival in the
queue, and wait-target compliance: the share of open hours (a local date and hour in which anyone was called) whose
median wait stayed within ``OSBP_WAIT_TARGET_MINUTES``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from osbp.bilateral.query import MIN_CELL, people, round1, share, summarise

KEY = "pattern"


def compute(context) -> dict:
    by_cell: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    by_open_hour: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (hour, day, _k3, value), count in context.facts.get("pattern").items():
        hour = int(hour)
        by_cell[(date.fromisoformat(day).weekday(), hour)][value] += count
        by_open_hour[(day, hour)][value] += count
    target = context.rules["wait_target_minutes"] * 60
    medians = {key: summarise(sorted(values.items())) for key, values in by_cell.items()}
    compliant = sum(1 for values in by_open_hour.values() if summarise(sorted(values.items()))["median"] <= target)
    return {
        "median_wait": [
            {
                "weekday": weekday,
                "hour": hour,
                "count": people(figures["count"]),
                "median": round1(figures["median"]) if figures["count"] >= MIN_CELL else None,
            }
            for (weekday, hour), figures in sorted(medians.items())
        ],
        "wait_target": {
            "minutes": context.rules["wait_target_minutes"],
            "open_hours": len(by_open_hour),
            "compliant_hours": compliant,
            "share": share(compliant, len(by_open_hour)),
        },
    }
