"""Time in the facility: from the ticket (arrival) to the gate-out scan (release), in total and per lane.

A crossing's clock ends at its gate-out scan; at a post without a gate scan for it, at the gate pass (the report says
how many ended each way). Only released (cleared) crossings are timed. The outlier rule: a crossing still in progress
is excluded as incomplete; one over ``outlier_hours`` is excluded as an outlier; both are counted.
"""

from __future__ import annotations

from sqlalchemy import case, func, select

from osbp.bilateral.query import in_period, people, seconds, share, shown_stats, stats
from osbp.extensions import db
from osbp.workflow.models import CATEGORIES, Crossing

KEY = "release"
HISTOGRAM_MINUTES = (0, 15, 30, 45, 60, 90, 120, 180, 240, 360, 480)


def released_end():
    return func.coalesce(Crossing.gate_out_at, Crossing.gate_pass_issued_at)


def time_in_facility():
    return seconds(released_end(), Crossing.created_at)


def _in_scope(scope):
    return (Crossing.post_id == scope.post_id, in_period(Crossing.created_at, scope))


def timed(scope, limit_seconds: float):
    """Released crossings within the outlier limit: (direction, category, total seconds)."""
    total = time_in_facility()
    return select(Crossing.direction, Crossing.category, total.label("total")).where(
        *_in_scope(scope), Crossing.status == "cleared", released_end().is_not(None), total <= limit_seconds
    )


def release_figures(scope, limit_seconds: float, target_seconds: float, cumulative_minutes=()) -> dict:
    """Counts in one statement: started, released, incomplete, outliers, gate scans, within target and cumulative."""
    total = time_in_facility()
    released = Crossing.status == "cleared"
    valid = released & (total <= limit_seconds)

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    edges = [m * 60 for m in HISTOGRAM_MINUTES] + [limit_seconds]
    columns = {
        "started": func.count(),
        "released": count_if(released),
        "incomplete": count_if(Crossing.status == "in_progress"),
        "over_limit": count_if(released & (total > limit_seconds)),
        "gate_out": count_if(released & Crossing.gate_out_at.is_not(None)),
        "valid": count_if(valid),
        "within_target": count_if(valid & (total <= target_seconds)),
        **{f"within_{m}": count_if(valid & (total <= m * 60)) for m in cumulative_minutes},
        **{f"bucket_{i}": count_if(valid & _in_bucket(total, i, low, high)) for i, (low, high) in _buckets(edges)},
    }
    row = db.session.execute(select(*(c.label(k) for k, c in columns.items())).where(*_in_scope(scope))).one()
    figures = {key: int(value or 0) for key, value in row._mapping.items()}
    return figures


def _in_bucket(total, index: int, low, high):
    """The first bucket includes its lower bound (0 s), every bucket its upper bound."""
    return ((total >= low) if index == 0 else (total > low)) & (total <= high)


def _buckets(edges):
    return enumerate(zip(edges[:-1], edges[1:], strict=True))


def compute(context) -> dict:
    scope, rules = context.scope, context.rules
    limit = rules["outlier_hours"] * 3600
    target = rules["release_target_minutes"] * 60
    figures = release_figures(scope, limit, target, rules["cumulative_minutes"])
    source = timed(scope, limit)
    overall = stats(source, (), "total").get((), None)
    by_lane = stats(source, ("direction", "category"), "total")
    edges = [*HISTOGRAM_MINUTES, rules["outlier_hours"] * 60]
    context.cache["release_overall"] = overall
    context.cache["release_counts"] = figures
    return {
        "started": people(figures["started"]),
        "released": people(figures["released"]),
        "excluded": {"incomplete": people(figures["incomplete"]), "over_limit": people(figures["over_limit"])},
        "clock_end": {
            "gate_out": people(figures["gate_out"]),
            "gate_pass": people(figures["released"] - figures["gate_out"]),
        },
        "overall": shown_stats(overall),
        "by_lane": [
            {"direction": d, "category": c, **shown_stats(by_lane.get((d, c)))}
            for d in context.directions
            for c in CATEGORIES
        ],
        "within_target": share(figures["within_target"], figures["valid"]),
        "cumulative": [
            {"minutes": m, "share": share(figures[f"within_{m}"], figures["valid"])}
            for m in rules["cumulative_minutes"]
        ],
        "histogram": [
            {"from_minutes": low, "to_minutes": high, "count": people(figures[f"bucket_{i}"])}
            for i, (low, high) in _buckets(edges)
        ],
    }
