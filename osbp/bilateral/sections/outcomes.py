"""Outcomes: referral rate per agency and the median time in secondary (referral → decision); refusals by agency and
reason; re-admissions (refused or gone after the exit country let the person out); no-shows.

Refusal reasons are free text: a reason given fewer than 5 times is counted under "other reasons" (a rare reason
could point at one person).
"""

from __future__ import annotations

from osbp.bilateral.query import MIN_CELL, people, round1, share, summarise

KEY = "outcomes"


def referral_counts(facts) -> dict[tuple[str, str], tuple[int, int]]:
    """(country, agency kind) → (steps decided or referred, steps referred)."""
    decided, referred = facts.count("decided", 0, 1), facts.count("referred", 0, 1)
    return {key: (decided.get(key, 0), referred.get(key, 0)) for key in set(decided) | set(referred)}


def compute(context) -> dict:
    facts = context.facts
    counts = referral_counts(facts)
    secondary = {key: summarise(pairs) for key, pairs in facts.histograms("secondary", 0, 1).items()}
    statuses = facts.count("status", 0)
    context.cache["referrals"] = counts
    return {
        "referrals": [
            {
                "country": country,
                "agency": kind,
                "decided": people(counts.get((country, kind), (0, 0))[0]),
                "referred": people(counts.get((country, kind), (0, 0))[1]),
                "rate": _rate(*counts.get((country, kind), (0, 0))),
                "median_secondary": _median(secondary.get((country, kind))),
            }
            for country, kind in context.agency_keys()
        ],
        "refusals": _refusals(facts.count("refused", 0, 1, 2)),
        "refused": people(statuses.get(("refused",), 0)),
        "readmissions": people(sum(facts.count("readmission").values())),
        "no_show_crossings": people(statuses.get(("no_show",), 0)),
        "no_show_calls": people(sum(facts.count("no_show_call").values())),
    }


def _rate(decided: int, referred: int) -> float | None:
    """Referred ÷ decided; none when the referrals are a small cell (the rate times the steps would give it back)."""
    return None if 0 < referred < MIN_CELL else share(referred, decided)


def _median(figures) -> float | None:
    return round1(figures["median"]) if figures and figures["count"] >= MIN_CELL else None


def _refusals(counts: dict[tuple, int]) -> list[dict]:
    grouped: dict[tuple, int] = {}
    for (country, kind, text), count in counts.items():
        key = (country, kind, text if count >= MIN_CELL and text else None)
        grouped[key] = grouped.get(key, 0) + count
    rows = sorted(grouped.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] is None, -item[1], item[0][2]))
    return [{"country": c, "agency": k, "reason": r, "count": people(n)} for (c, k, r), n in rows]
