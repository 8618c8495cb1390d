"""Outcomes: referral rate per agency and the median time in secondary (referral → decision); refusals by agency and
reason; re-admissions (refused or gone after the exit country let the person out); no-shows.

Refusal reasons are free text: a reason given fewer than 5 times is counted under "other reasons" (a rare reason
could point at one person).
"""

from __future__ import annotations

from sqlalchemy import case, exists, func, select

from osbp.bilateral.query import MIN_CELL, in_period, people, round1, seconds, share, stats
from osbp.extensions import db
from osbp.post.models import Agency
from osbp.workflow.models import Crossing, Step, StepEvent, StepKind

KEY = "outcomes"


def _steps_in_scope(scope):
    return (
        select(Step)
        .join(Crossing, Crossing.id == Step.crossing_id)
        .join(Agency, Agency.id == Step.agency_id)
        .where(Crossing.post_id == scope.post_id, in_period(Crossing.created_at, scope))
    )


def referral_counts(scope) -> dict[tuple[str, str], tuple[int, int]]:
    """(country, agency kind) → (steps decided or referred, steps referred)."""
    referred = Step.referral_reason.is_not(None)
    query = (
        _steps_in_scope(scope)
        .with_only_columns(
            Agency.country,
            Agency.kind,
            func.count(),
            func.sum(case((referred, 1), else_=0)),
        )
        .where(Step.decided_at.is_not(None) | referred)
        .group_by(Agency.country, Agency.kind)
    )
    return {(c, k): (int(n), int(r or 0)) for c, k, n, r in db.session.execute(query)}


def compute(context) -> dict:
    scope = context.scope
    counts = referral_counts(scope)
    secondary_time = stats(
        _steps_in_scope(scope)
        .with_only_columns(
            Agency.country.label("country"),
            Agency.kind.label("agency"),
            seconds(Step.decided_at, Step.queued_at).label("secondary"),
        )
        .where(Step.referral_reason.is_not(None), Step.decided_at.is_not(None)),
        ("country", "agency"),
        "secondary",
    )
    context.cache["referrals"] = counts
    return {
        "referrals": [
            {
                "country": country,
                "agency": kind,
                "decided": people(counts.get((country, kind), (0, 0))[0]),
                "referred": people(counts.get((country, kind), (0, 0))[1]),
                "rate": share(counts.get((country, kind), (0, 0))[1], counts.get((country, kind), (0, 0))[0]),
                "median_secondary": _median(secondary_time.get((country, kind))),
            }
            for country, kind in context.agency_keys()
        ],
        "refusals": _refusals(scope),
        "refused": people(_count_crossings(scope, Crossing.status == "refused")),
        "readmissions": people(_count_crossings(scope, Crossing.status.in_(("refused", "no_show")), _exit_cleared())),
        "no_show_crossings": people(_count_crossings(scope, Crossing.status == "no_show")),
        "no_show_calls": people(_no_show_calls(scope)),
    }


def _median(figures) -> float | None:
    return round1(figures["median"]) if figures and figures["count"] >= MIN_CELL else None


def _refusals(scope) -> list[dict]:
    reason = func.trim(Step.reason)
    query = (
        _steps_in_scope(scope)
        .with_only_columns(Agency.country, Agency.kind, reason.label("reason"), func.count())
        .where(Step.status == "refused")
        .group_by(Agency.country, Agency.kind, reason)
    )
    grouped: dict[tuple, int] = {}
    for country, kind, text, count in db.session.execute(query):
        key = (country, kind, text if count >= MIN_CELL and text else None)
        grouped[key] = grouped.get(key, 0) + int(count)
    rows = sorted(grouped.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] is None, -item[1], item[0][2]))
    return [{"country": c, "agency": k, "reason": r, "count": people(n)} for (c, k, r), n in rows]


def _exit_cleared():
    return exists(
        select(Step.id)
        .join(StepKind, StepKind.id == Step.step_kind_id)
        .where(Step.crossing_id == Crossing.id, Step.status == "cleared", StepKind.control == "exit")
    )


def _count_crossings(scope, *conditions) -> int:
    return int(
        db.session.scalar(
            select(func.count()).where(
                Crossing.post_id == scope.post_id, in_period(Crossing.created_at, scope), *conditions
            )
        )
        or 0
    )


def _no_show_calls(scope) -> int:
    """Calls that ended as a no-show (the ticket went back to its queue, or the crossing ended)."""
    query = (
        select(func.count())
        .select_from(StepEvent)
        .join(Step, Step.id == StepEvent.step_id)
        .join(Crossing, Crossing.id == Step.crossing_id)
        .where(StepEvent.kind == "no_show", Crossing.post_id == scope.post_id, in_period(Crossing.created_at, scope))
    )
    return int(db.session.scalar(query) or 0)
