"""Comparison with the previous period of the same length and with the post's baseline (value, date, source:
``OSBP_RELEASE_BASELINE_*``), on a few headline figures."""

from __future__ import annotations

from osbp.bilateral.query import people, round1, share, stats
from osbp.bilateral.sections import outcomes, release

KEY = "comparison"


def measure(context, scope) -> tuple[dict, dict | None, dict]:
    """The release counts, the overall release stats and the referral counts of a period, read in SQL."""
    rules = context.rules
    limit = rules["outlier_hours"] * 3600
    counts = release.release_figures(scope, limit, rules["release_target_minutes"] * 60)
    overall = stats(release.timed(scope, limit), (), "total").get(())
    return counts, overall, outcomes.referral_counts(scope)


def figures(counts: dict, overall: dict | None, referrals: dict) -> dict:
    enough = overall is not None and overall["count"] >= 5
    decided = sum(n for n, _ in referrals.values())
    referred = sum(r for _, r in referrals.values())
    return {
        "crossings": people(counts["started"]),
        "released": people(counts["released"]),
        "median": round1(overall["median"]) if enough else None,
        "p90": round1(overall["p90"]) if enough else None,
        "within_target": share(counts["within_target"], counts["valid"]),
        "referral_rate": share(referred, decided),
    }


def compute(context) -> dict:
    previous = context.scope.previous()
    baseline = context.baseline
    return {
        "current": figures(
            context.cache["release_counts"], context.cache["release_overall"], context.cache["referrals"]
        ),
        "previous": figures(*measure(context, previous)),
        "previous_period": {"from": previous.first_day.isoformat(), "to": previous.last_day.isoformat()},
        "baseline": baseline,
    }
