"""Time in the facility: from the ticket (arrival) to the gate-out scan (release), in total and per lane.

A crossing's clock ends at its gate-out scan; at a post without a gate scan for it, at the gate pass (the report says
how many ended each way). Only released (cleared) crossings are timed. The outlier rule: a crossing still in progress
is excluded as incomplete; one over ``outlier_hours`` is excluded as an outlier; both are counted.
"""

from __future__ import annotations

from osbp.bilateral.query import people, share, shown_stats, summarise
from osbp.workflow.models import CATEGORIES

KEY = "release"
HISTOGRAM_MINUTES = (0, 15, 30, 45, 60, 90, 120, 180, 240, 360, 480)


def measure(facts, rules) -> dict:
    """Counts and statistics of one period's facts (also used for the previous period)."""
    limit = rules["outlier_hours"] * 3600
    statuses = facts.count("status", 0, 1)
    lanes = facts.histograms("release", 0, 1)
    valid_lanes = {lane: [(v, n) for v, n in pairs if v <= limit] for lane, pairs in lanes.items()}
    everyone: dict[int, int] = {}
    for pairs in valid_lanes.values():
        for value, count in pairs:
            everyone[value] = everyone.get(value, 0) + count
    valid = sorted(everyone.items())
    released = sum(n for (status, _), n in statuses.items() if status == "cleared")
    return {
        "started": sum(statuses.values()),
        "released": released,
        "incomplete": sum(n for (status, _), n in statuses.items() if status == "in_progress"),
        "gate_out": statuses.get(("cleared", "1"), 0),
        "over_limit": sum(n for pairs in lanes.values() for v, n in pairs if v > limit),
        "valid": valid,
        "valid_count": sum(n for _, n in valid),
        "overall": summarise(valid) if valid else None,
        "by_lane": {lane: summarise(pairs) for lane, pairs in valid_lanes.items() if pairs},
    }


def within(pairs, seconds: float) -> int:
    return sum(n for v, n in pairs if v <= seconds)


def compute(context) -> dict:
    rules = context.rules
    figures = measure(context.facts, rules)
    context.cache["release"] = figures
    valid, total = figures["valid"], figures["valid_count"]
    edges = [*HISTOGRAM_MINUTES, rules["outlier_hours"] * 60]
    return {
        "started": people(figures["started"]),
        "released": people(figures["released"]),
        "excluded": {"incomplete": people(figures["incomplete"]), "over_limit": people(figures["over_limit"])},
        "clock_end": {
            "gate_out": people(figures["gate_out"]),
            "gate_pass": people(figures["released"] - figures["gate_out"]),
        },
        "overall": shown_stats(figures["overall"]),
        "by_lane": [
            {"direction": d, "category": c, **shown_stats(figures["by_lane"].get((d, c)))}
            for d in context.directions
            for c in CATEGORIES
        ],
        "within_target": share(within(valid, rules["release_target_minutes"] * 60), total),
        "cumulative": [
            {"minutes": m, "share": share(within(valid, m * 60), total)} for m in rules["cumulative_minutes"]
        ],
        "histogram": [
            {"from_minutes": low, "to_minutes": high, "count": people(_in_bucket(valid, i, low * 60, high * 60))}
            for i, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True))
        ],
    }


def _in_bucket(pairs, index: int, low: int, high: int) -> int:
    """The first bucket includes its lower bound (0 s), every bucket its upper bound."""
    return sum(n for v, n in pairs if (v >= low if index == 0 else v > low) and v <= high)
