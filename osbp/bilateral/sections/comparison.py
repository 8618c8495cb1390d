"""Comparison with the previous period of the same length and with the post's baseline (value, date, source:
``OSBP_RELEASE_BASELINE_*``), on a few headline figures."""

from __future__ import annotations

from osbp.bilateral.query import people, round1, share
from osbp.bilateral.sections import outcomes, release

KEY = "comparison"


def figures(measured: dict, referrals: dict, rules: dict) -> dict:
    overall = measured["overall"]
    enough = overall is not None and overall["count"] >= 5
    decided = sum(n for n, _ in referrals.values())
    referred = sum(r for _, r in referrals.values())
    return {
        "crossings": people(measured["started"]),
        "released": people(measured["released"]),
        "median": round1(overall["median"]) if enough else None,
        "p90": round1(overall["p90"]) if enough else None,
        "within_target": share(
            release.within(measured["valid"], rules["release_target_minutes"] * 60), measured["valid_count"]
        ),
        "referral_rate": share(referred, decided),
    }


def compute(context) -> dict:
    previous = context.scope.previous()
    earlier = context.facts_for(previous)
    return {
        "current": figures(context.cache["release"], context.cache["referrals"], context.rules),
        "previous": figures(release.measure(earlier, context.rules), outcomes.referral_counts(earlier), context.rules),
        "previous_period": {"from": previous.first_day.isoformat(), "to": previous.last_day.isoformat()},
        "baseline": context.baseline,
    }
