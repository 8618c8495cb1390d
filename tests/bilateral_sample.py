"""A hand-made canonical report (docs/reports.md) for November 2026 at Rusizi II / Ruzizi II, to render and test the
PDF, the CSV annexes and the JSON without a database.

The daily counts come from a fixed per-lane base and weekday factors with a fixed wobble (no randomness), and every
total is summed from them, so the sample is consistent the way the real report is: by-lane, by-day, by-hour and
by-weekday counts add up to the total; the histogram adds up to the timed crossings and the cumulative shares are
computed from it. Small cells (1–4 persons) are "< 5" and a group under 5 has null statistics, as the spec says:
the CD → RW drivers (4 in the month), some daily driver cells, the night hours, the CD health holding room.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta

FIRST_DAY = date(2026, 11, 1)  # a Sunday
DAYS = 30
DIRECTIONS = ("RW-CD", "CD-RW")
CATEGORIES = ("traveller", "trader", "resident", "driver")

# Persons per weekday (Monday first) per lane, before the weekday factor and the wobble.
LANE_BASE = {
    ("RW-CD", "traveller"): 118,
    ("RW-CD", "trader"): 164,
    ("RW-CD", "resident"): 152,
    ("RW-CD", "driver"): 9,
    ("CD-RW", "traveller"): 109,
    ("CD-RW", "trader"): 187,
    ("CD-RW", "resident"): 171,
    ("CD-RW", "driver"): 0,  # the few CD → RW drivers are added by hand below
}
WEEKDAY_FACTOR = (1.0, 1.04, 1.12, 1.0, 1.18, 0.86, 0.41)  # Wednesday and Friday are market days
CD_RW_DRIVERS = {4: 1, 11: 2, 25: 1}  # day index → persons: 4 in the month
# Share of a day's persons arriving in each local hour (the post opens at 05:00 and closes at 23:00).
HOUR_WEIGHTS = (0, 0, 0, 0, 0, 8, 40, 96, 112, 98, 84, 78, 70, 66, 72, 84, 98, 104, 80, 52, 30, 16, 8, 3)


def people(count: int) -> int | str:
    return "< 5" if 0 < count < 5 else count


def _apportion(total: int, weights) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), so the parts add up exactly."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _daily_counts(count: int) -> list[dict[tuple[str, str], int]]:
    days = []
    for index in range(count):
        day = FIRST_DAY + timedelta(days=index)
        factor = WEEKDAY_FACTOR[day.weekday()]
        counts = {}
        for lane_index, (lane, base) in enumerate(LANE_BASE.items()):
            wobble = ((index * 37 + lane_index * 11) % 13 - 6) / 100
            counts[lane] = round(base * factor * (1 + wobble))
        if day.weekday() == 6:  # few drivers on Sundays
            counts[("RW-CD", "driver")] = index % 4
        counts[("CD-RW", "driver")] = CD_RW_DRIVERS.get(index, 0)
        days.append(counts)
    return days


def _volume(daily) -> dict:
    total = sum(sum(day.values()) for day in daily)
    by_lane = {lane: sum(day[lane] for day in daily) for lane in LANE_BASE}
    by_day = []
    by_weekday = [0] * 7
    by_hour = [0] * 24
    peak = None
    for index, counts in enumerate(daily):
        day = FIRST_DAY + timedelta(days=index)
        day_total = sum(counts.values())
        by_weekday[day.weekday()] += day_total
        hours = _apportion(day_total, HOUR_WEIGHTS)
        for hour, persons in enumerate(hours):
            by_hour[hour] += persons
            if peak is None or persons > peak[2]:
                peak = (day.isoformat(), hour, persons)
        by_day.append(
            {
                "date": day.isoformat(),
                "total": people(day_total),
                "lanes": {d: {c: people(counts[(d, c)]) for c in CATEGORIES} for d in DIRECTIONS},
            }
        )
    weekday_days = [
        sum(1 for i in range(len(daily)) if (FIRST_DAY + timedelta(days=i)).weekday() == w) for w in range(7)
    ]
    return {
        "total": total,
        "by_lane": [
            {"direction": d, "category": c, "count": people(by_lane[(d, c)])} for d in DIRECTIONS for c in CATEGORIES
        ],
        "by_day": by_day,
        "peak_hour": {"date": peak[0], "hour": peak[1], "persons": peak[2]},
        "by_hour": [
            {
                "hour": h,
                "persons": people(by_hour[h]),
                "mean_per_day": None if 0 < by_hour[h] < 5 or not by_hour[h] else round(by_hour[h] / len(daily), 1),
            }
            for h in range(24)
        ],
        "by_weekday": [
            {
                "weekday": w,
                "persons": people(by_weekday[w]),
                "days": weekday_days[w],
                "mean_per_day": round(by_weekday[w] / weekday_days[w], 1),
            }
            for w in range(7)
        ],
    }


def stats(count: int, mean: float, median: float, p90: float, low: float, high: float) -> dict:
    """A stats object in seconds, given minutes (null statistics under 5 persons)."""
    if count < 5:
        return {"count": people(count), "mean": None, "median": None, "p90": None, "min": None, "max": None}
    values = (mean, median, p90, low, high)
    return {
        "count": count,
        **{k: round(v * 60, 1) for k, v in zip(("mean", "median", "p90", "min", "max"), values, strict=True)},
    }


OVERALL_MEDIAN_MINUTES = 27.3
REFUSED = 41
NO_SHOW_CROSSINGS = 118

# Timed (released within 12 h) crossings per histogram band, minutes.
HISTOGRAM = (
    (0, 15, 4912),
    (15, 30, 9387),
    (30, 45, 5480),
    (45, 60, 2711),
    (60, 90, 1624),
    (90, 120, 612),
    (120, 180, 288),
    (180, 240, 97),
    (240, 360, 41),
    (360, 480, 12),
    (480, 720, 3),
)


def _release(volume_total: int) -> dict:
    timed = sum(n for _, _, n in HISTOGRAM)
    over_limit = 7
    released = timed + over_limit
    incomplete = volume_total - released - REFUSED - NO_SHOW_CROSSINGS  # still in progress when the period ended

    def within(minutes):
        return round(sum(n for _, high, n in HISTOGRAM if high <= minutes) / timed, 4)

    gate_pass = 58
    lanes = {
        ("RW-CD", "traveller"): (3251, 27.9, 23.6, 49.8, 4.1, 318.0),
        ("RW-CD", "trader"): (4519, 43.1, 36.2, 81.5, 6.8, 641.5),
        ("RW-CD", "resident"): (4214, 18.6, 15.4, 31.7, 2.9, 188.4),
        ("RW-CD", "driver"): (236, 68.4, 57.9, 127.3, 14.2, 702.3),
        ("CD-RW", "traveller"): (3022, 29.3, 24.8, 52.6, 4.4, 402.2),
        ("CD-RW", "trader"): (5164, 45.2, 38.7, 86.0, 7.3, 695.0),
        ("CD-RW", "resident"): (4757, 19.4, 16.1, 33.0, 3.0, 211.7),
        ("CD-RW", "driver"): (4, 0, 0, 0, 0, 0),
    }
    # The lanes' counts are those of the timed crossings: the last lane is a small cell, so they may not add up.
    return {
        "started": volume_total,
        "released": released,
        "excluded": {"incomplete": incomplete, "over_limit": over_limit},
        "clock_end": {"gate_out": released - gate_pass, "gate_pass": gate_pass},
        "overall": stats(timed, 33.5, OVERALL_MEDIAN_MINUTES, 62.4, 2.9, 702.3),
        "by_lane": [{"direction": d, "category": c, **stats(*lanes[(d, c)])} for d in DIRECTIONS for c in CATEGORIES],
        "within_target": within(30),
        "cumulative": [{"minutes": m, "share": within(m)} for m in (15, 30, 60, 120)],
        "histogram": [{"from_minutes": lo, "to_minutes": hi, "count": people(n)} for lo, hi, n in HISTOGRAM],
    }


AGENCIES = [
    ("RW", "immigration"),
    ("RW", "customs"),
    ("RW", "health"),
    ("CD", "immigration"),
    ("CD", "customs"),
    ("CD", "health"),
]

# (country, agency, stage) → (waiting: count, mean, median, p90, min, max), (processing: same), minutes
STAGE_FIGURES = {
    ("RW", "immigration", "primary"): ((24930, 5.9, 4.2, 12.8, 0.1, 96.4), (26890, 1.7, 1.4, 3.1, 0.2, 22.5)),
    ("RW", "immigration", "secondary"): ((96, 8.4, 6.9, 17.2, 0.5, 51.0), (96, 15.8, 14.0, 29.5, 3.2, 71.2)),
    ("RW", "customs", "primary"): ((9620, 6.7, 5.1, 14.9, 0.1, 104.8), (10610, 3.9, 3.2, 7.6, 0.4, 48.1)),
    ("RW", "customs", "secondary"): ((38, 12.1, 10.3, 24.4, 1.1, 62.0), (38, 26.4, 22.8, 47.6, 6.0, 118.3)),
    ("RW", "health", "primary"): ((11050, 2.8, 1.9, 6.3, 0.1, 40.2), (11050, 0.9, 0.7, 1.6, 0.1, 9.8)),
    ("RW", "health", "secondary"): ((0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0)),
    ("CD", "immigration", "primary"): ((2210, 6.8, 5.0, 14.6, 0.1, 88.0), (26890, 2.3, 1.9, 4.4, 0.3, 31.6)),
    ("CD", "immigration", "secondary"): ((142, 9.6, 7.8, 19.9, 0.6, 58.7), (142, 18.2, 16.1, 34.0, 4.0, 90.4)),
    ("CD", "customs", "primary"): ((10490, 11.9, 9.6, 26.3, 0.2, 151.9), (10610, 5.2, 4.3, 10.1, 0.5, 63.0)),
    ("CD", "customs", "secondary"): ((61, 14.7, 12.5, 29.8, 1.4, 74.6), (61, 31.8, 27.4, 58.0, 8.1, 140.2)),
    ("CD", "health", "primary"): ((11890, 3.4, 2.4, 7.5, 0.1, 44.8), (11890, 1.1, 0.9, 2.0, 0.1, 12.3)),
    ("CD", "health", "secondary"): ((3, 0, 0, 0, 0, 0), (3, 0, 0, 0, 0, 0)),
}


def _stages() -> dict:
    rows = []
    for (country, agency, stage), (waiting, processing) in STAGE_FIGURES.items():
        wait, work = stats(*waiting), stats(*processing)
        share = None
        if work["median"] is not None:
            share = round(((wait["median"] or 0) + work["median"]) / round(OVERALL_MEDIAN_MINUTES * 60, 1), 4)
        rows.append(
            {
                "country": country,
                "agency": agency,
                "stage": stage,
                "waiting": wait,
                "processing": work,
                "share_of_median_total": share,
            }
        )
    best = max((r for r in rows if r["share_of_median_total"] is not None), key=lambda r: r["share_of_median_total"])
    return {"rows": rows, "bottleneck": {k: best[k] for k in ("country", "agency", "stage")}}


def _pattern() -> dict:
    cells = []
    for weekday in range(7):
        for hour in range(5, 23):
            weight = HOUR_WEIGHTS[hour]
            count = round(weight * 4.1 * WEEKDAY_FACTOR[weekday])
            if count == 0:
                continue
            # Waits grow with the crowd: morning and late-afternoon peaks, longest on market days.
            minutes = 3.5 + weight * 0.21 * WEEKDAY_FACTOR[weekday] ** 2 + ((weekday * 7 + hour * 3) % 5) * 0.4
            cells.append(
                {
                    "weekday": weekday,
                    "hour": hour,
                    "count": people(count),
                    "median": round(minutes * 60, 1) if count >= 5 else None,
                }
            )
    return {
        "median_wait": cells,
        "wait_target": {"minutes": 30, "open_hours": 527, "compliant_hours": 468, "share": round(468 / 527, 4)},
    }


def _outcomes() -> dict:
    referrals = [
        ("RW", "immigration", 13484, 96, 14.0),
        ("RW", "customs", 5297, 38, 22.8),
        ("RW", "health", 13406, 0, None),
        ("CD", "immigration", 13417, 142, 16.1),
        ("CD", "customs", 5321, 61, 27.4),
        ("CD", "health", 13484, 3, None),
    ]
    return {
        "referrals": [
            {
                "country": c,
                "agency": a,
                "decided": people(decided),
                "referred": people(referred),
                # A rate from fewer than 5 referrals is null: with the count of decisions it would give the count.
                "rate": round(referred / decided, 4) if decided >= 5 and not 0 < referred < 5 else None,
                "median_secondary": None if median is None else round(median * 60, 1),
            }
            for c, a, decided, referred, median in referrals
        ],
        "refusals": [
            {"country": "CD", "agency": "immigration", "reason": "Document de voyage expiré", "count": 17},
            {"country": "CD", "agency": "immigration", "reason": "Interdiction d'entrée", "count": 6},
            {"country": "CD", "agency": "immigration", "reason": None, "count": "< 5"},
            {"country": "CD", "agency": "customs", "reason": "Marchandises prohibées", "count": 5},
            {"country": "RW", "agency": "customs", "reason": None, "count": "< 5"},
            {"country": "RW", "agency": "immigration", "reason": "Travel document not valid", "count": 9},
        ],
        "refused": REFUSED,
        "readmissions": 39,
        "no_show_crossings": NO_SHOW_CROSSINGS,
        "no_show_calls": 305,
    }


def _comparison(release: dict, volume_total: int) -> dict:
    return {
        "current": {
            "crossings": volume_total,
            "released": release["released"],
            "median": release["overall"]["median"],
            "p90": release["overall"]["p90"],
            "within_target": release["within_target"],
            "referral_rate": 0.0053,
        },
        "previous": {
            "crossings": 26184,
            "released": 25911,
            "median": 1702.0,
            "p90": 4125.6,
            "within_target": 0.5418,
            "referral_rate": 0.0061,
        },
        "previous_period": {"from": "2026-10-02", "to": "2026-10-31"},
        "baseline": {"hours": 3.38, "date": "2016", "source": "Sample baseline for tests (not a real study)"},
    }


def _staffing() -> dict:
    stations = [
        ("C1", "Counter 1", "primary", 538.5),
        ("C2", "Counter 2", "primary", 512.0),
        ("C3", "Counter 3", "primary", 533.2),
        ("C4", "Counter 4", "primary", 529.8),
        ("C5", "Counter 5", "primary", 301.4),
        ("S1", "Immigration secondary inspection", "secondary", 96.5),
        ("S2", "Health holding room", "secondary", 12.0),
        ("S3", "Customs inspection bay", "secondary", 88.3),
    ]
    agencies = [
        ("RW", "immigration", 1102.5, 741.7, 0.6727),
        ("RW", "customs", 860.0, 705.2, 0.82),
        ("RW", "health", 540.0, 128.9, 0.2387),
        ("CD", "immigration", 1088.0, 884.1, 0.8126),
        ("CD", "customs", 871.5, 748.6, 0.859),
        ("CD", "health", 552.3, 178.4, 0.323),
    ]
    return {
        "stations": [{"code": c, "name": n, "stage": s, "staffed_hours": h} for c, n, s, h in stations],
        "agencies": [
            {"country": c, "agency": a, "staffed_hours": s, "serving_hours": v, "occupancy": o}
            for c, a, s, v, o in agencies
        ],
    }


def _build(days: int = DAYS) -> dict:
    daily = _daily_counts(days)
    volume = _volume(daily)
    release = _release(volume["total"])
    return {
        "format": "osbp-trs-1",
        "post": {
            "code": "RUSIZI-II",
            "name_a": "Rusizi II",
            "name_b": "Ruzizi II",
            "country_a": "RW",
            "country_b": "CD",
            "timezone": "Africa/Kigali",
        },
        "period": {
            "from": FIRST_DAY.isoformat(),
            "to": (FIRST_DAY + timedelta(days=days - 1)).isoformat(),
            "days": days,
        },
        "rules": {
            "release_target_minutes": 30,
            "cumulative_minutes": [15, 30, 60, 120],
            "outlier_hours": 12,
            "min_cell": 5,
            "wait_target_minutes": 30,
        },
        "sections": {
            "volume": volume,
            "release": release,
            "stages": _stages(),
            "pattern": _pattern(),
            "outcomes": _outcomes(),
            "staffing": _staffing(),
            "comparison": _comparison(release, volume["total"]),
        },
    }


_SAMPLE = _build()


def sample_report(days: int = DAYS) -> dict:
    """A fresh copy of the sample (tests may change theirs); ``days`` other than 30 gives a longer period from the
    same daily pattern (the other sections stay those of the month)."""
    return copy.deepcopy(_SAMPLE) if days == DAYS else _build(days)
