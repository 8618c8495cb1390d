"""When people wait: the median wait (queued → called, primary stage) by local weekday × hour of arrival in the
queue, and wait-target compliance: the share of open hours (a local date and hour in which anyone was called) whose
median wait stayed within ``OSBP_WAIT_TARGET_MINUTES``."""

from __future__ import annotations

from sqlalchemy import select

from osbp.bilateral.query import people, round1, share, stats

KEY = "pattern"


def _waits(context, *keys):
    visits = context.visits()
    return select(*(visits.c[k] for k in keys), visits.c.wait_primary)


def compute(context) -> dict:
    by_cell = stats(_waits(context, "weekday", "hour"), ("weekday", "hour"), "wait_primary")
    by_open_hour = stats(_waits(context, "day", "hour"), ("day", "hour"), "wait_primary")
    target = context.rules["wait_target_minutes"] * 60
    compliant = sum(1 for figures in by_open_hour.values() if figures["median"] <= target)
    return {
        "median_wait": [
            {
                "weekday": int(weekday),
                "hour": int(hour),
                "count": people(figures["count"]),
                "median": round1(figures["median"]) if figures["count"] >= 5 else None,
            }
            for (weekday, hour), figures in sorted(by_cell.items())
        ],
        "wait_target": {
            "minutes": context.rules["wait_target_minutes"],
            "open_hours": len(by_open_hour),
            "compliant_hours": compliant,
            "share": share(compliant, len(by_open_hour)),
        },
    }
