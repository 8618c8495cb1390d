"""Stages: waiting (queued → called) and processing (its turn → decided) per agency × country × primary/secondary,
from the stage visits (osbp/bilateral/visits.py says how a joint counter's one stop and a referral are counted).

Each stage's share of the median time in the facility is (median waiting + median processing) ÷ median total;
medians do not add up, and walking between counters belongs to no stage.
"""

from __future__ import annotations

from osbp.bilateral.query import round1, shown_stats, summarise

KEY = "stages"
STAGE_KEYS = ("country", "agency", "stage")
STAGES = ("primary", "secondary")


def stage_stats(facts) -> tuple[dict, dict]:
    """(country, agency, stage) → stats, for waiting and for processing."""
    waiting, processing = {}, {}
    for stage in STAGES:
        for measure, found in (("wait", waiting), ("work", processing)):
            for (country, kind), pairs in facts.histograms(f"{measure}_{stage}", 0, 1).items():
                found[(country, kind, stage)] = summarise(pairs)
    return waiting, processing


def compute(context) -> dict:
    waiting, processing = stage_stats(context.facts)
    context.cache["processing_by_stage"] = processing
    total = (context.cache["release"]["overall"] or {}).get("median")
    rows = []
    for country, kind, stage in context.stage_keys():
        shown_wait = shown_stats(waiting.get((country, kind, stage)))
        shown_work = shown_stats(processing.get((country, kind, stage)))
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
    # the bottleneck of the median person is a counter: secondary inspection concerns the few referred
    ranked = [r for r in rows if r["share_of_median_total"] is not None and r["stage"] == "primary"]
    bottleneck = max(ranked, key=lambda r: r["share_of_median_total"], default=None)
    return {"rows": rows, "bottleneck": {k: bottleneck[k] for k in STAGE_KEYS} if bottleneck else None}


def _share(waiting: dict, processing: dict, total_median) -> float | None:
    if processing["median"] is None or not total_median:
        return None
    return round((round1(waiting["median"] or 0) + processing["median"]) / round1(total_median), 4)
