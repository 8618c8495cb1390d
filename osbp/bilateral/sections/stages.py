"""Stages: waiting (queued → called) and processing (its turn → decided) per agency × country × primary/secondary.

A *stage visit* is one agency's control of one person at one stage. At a joint counter a station keeps the person for
consecutive steps (the one stop): the second agency's step was called with the first, so it has no wait of its own,
and its turn starts when the first agency decided. A referred step has two visits: its primary visit (from the step
timeline: first queued, first called, referred) and its secondary one (queued at the referral, called, decided).
Each stage's share of the median time in the facility is (median waiting + median processing) ÷ median total;
medians do not add up, and walking between counters belongs to no stage.
"""

from __future__ import annotations

from sqlalchemy import case, func, literal, select, union_all

from osbp.bilateral.query import in_period, round1, seconds, shown_stats, stats
from osbp.post.models import Agency
from osbp.workflow.models import Crossing, Step, StepEvent

KEY = "stages"
STAGE_KEYS = ("country", "agency", "stage")


def _steps(scope):
    """A crossing's steps in the period, with their agency and the decision time of the step before."""
    return (
        select(
            Step.id,
            Step.queued_at,
            Step.called_at,
            Step.decided_at,
            Step.referral_reason,
            Step.agency_id,
            Agency.country.label("country"),
            Agency.kind.label("agency"),
            func.lag(Step.decided_at).over(partition_by=Step.crossing_id, order_by=Step.position).label("previous"),
        )
        .join(Crossing, Crossing.id == Step.crossing_id)
        .join(Agency, Agency.id == Step.agency_id)
        .where(Crossing.post_id == scope.post_id, in_period(Crossing.created_at, scope))
        .subquery("steps_in_period")
    )


def _first_visits(scope):
    """Referred steps' primary visit from the timeline: first queued, first called, referred."""

    def first(kind):
        return func.min(case((StepEvent.kind == kind, StepEvent.at)))

    return (
        select(
            StepEvent.step_id,
            first("queued").label("queued_at"),
            first("called").label("called_at"),
            first("referred").label("referred_at"),
        )
        .join(Step, Step.id == StepEvent.step_id)
        .join(Crossing, Crossing.id == Step.crossing_id)
        .where(
            Crossing.post_id == scope.post_id,
            in_period(Crossing.created_at, scope),
            Step.referral_reason.is_not(None),
            StepEvent.kind.in_(("queued", "called", "referred")),
        )
        .group_by(StepEvent.step_id)
        .subquery("first_visits")
    )


def _visit(steps, stage, queued, called, decided, previous=None):
    """Columns of one stage visit. With ``previous`` (the step before decided after this one was called: the same
    stop at a joint counter) there is no wait, and the turn starts at that decision."""
    if previous is None:
        waiting, turn = seconds(called, queued), called
    else:
        same_stop = previous > called
        waiting = case((same_stop, None), else_=seconds(called, queued))
        turn = case((same_stop, previous), else_=called)
    return (
        steps.c.country,
        steps.c.agency,
        steps.c.agency_id,
        literal(stage).label("stage"),
        queued.label("queued_at"),
        waiting.label("waiting"),
        seconds(decided, turn).label("processing"),
    )


def visits(scope):
    """Every completed stage visit of the period: country, agency, agency_id, stage, queued_at, waiting, processing
    (seconds). A SELECT; callers aggregate it."""
    steps = _steps(scope)
    first = _first_visits(scope)
    plain = select(
        *_visit(steps, "primary", steps.c.queued_at, steps.c.called_at, steps.c.decided_at, steps.c.previous)
    ).where(steps.c.referral_reason.is_(None), steps.c.decided_at.is_not(None), steps.c.called_at.is_not(None))
    referred_primary = (
        select(*_visit(steps, "primary", first.c.queued_at, first.c.called_at, first.c.referred_at, steps.c.previous))
        .join(first, first.c.step_id == steps.c.id)
        .where(first.c.referred_at.is_not(None), first.c.called_at.is_not(None))
    )
    secondary = select(*_visit(steps, "secondary", steps.c.queued_at, steps.c.called_at, steps.c.decided_at)).where(
        steps.c.referral_reason.is_not(None), steps.c.decided_at.is_not(None), steps.c.called_at.is_not(None)
    )
    return select(union_all(plain, referred_primary, secondary).subquery("visits"))


def compute(context) -> dict:
    source = context.visits()
    waiting = stats(source, STAGE_KEYS, "waiting")
    processing = stats(source, STAGE_KEYS, "processing")
    context.cache["processing_by_stage"] = processing
    total = (context.cache.get("release_overall") or {}).get("median")
    rows = []
    for country, kind, stage in context.stage_keys():
        wait, work = waiting.get((country, kind, stage)), processing.get((country, kind, stage))
        shown_wait, shown_work = shown_stats(wait), shown_stats(work)
        rows.append(
            {
                "country": country,
                "agency": kind,
                "stage": stage,
                "waiting": shown_wait,
                "processing": shown_work,
                "share_of_median_total": _share(shown_wait, shown_work, total),
            }
        )
    ranked = [r for r in rows if r["share_of_median_total"] is not None]
    bottleneck = max(ranked, key=lambda r: r["share_of_median_total"], default=None)
    return {
        "rows": rows,
        "bottleneck": {k: bottleneck[k] for k in STAGE_KEYS} if bottleneck else None,
    }


def _share(waiting: dict, processing: dict, total_median) -> float | None:
    if processing["median"] is None or not total_median:
        return None
    return round((round1(waiting["median"] or 0) + processing["median"]) / round1(total_median), 4)
