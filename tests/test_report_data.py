"""The bilateral report's figures for a scripted day equal the figures computed from the script itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from osbp.bilateral.report import build_report, data_sha256
from osbp.extensions import db
from osbp.post.models import Post
from tests.bilateral_day import DAY, local, percentile, run_day, summary


@pytest.fixture
def day_report(app, monkeypatch):
    expected = run_day(app, monkeypatch)
    with app.app_context():
        post = db.session.scalar(select(Post))
        data = build_report(post, DAY, DAY, now=local(20, 0))
        db.session.remove()
    return expected, data


def test_volume_counts_lanes_and_the_peak_hour(day_report):
    expected, data = day_report
    volume = data["sections"]["volume"]
    assert volume["total"] == 20
    lanes = {(row["direction"], row["category"]): row["count"] for row in volume["by_lane"]}
    assert lanes[("RW-CD", "traveller")] == 13
    assert lanes[("CD-RW", "trader")] == 5
    assert lanes[("RW-CD", "resident")] == "< 5"  # one person: a small cell
    assert lanes[("CD-RW", "driver")] == 0
    assert volume["by_day"] == [
        {
            "date": "2026-11-10",
            "total": 20,
            "lanes": {
                "RW-CD": {"traveller": 13, "trader": 0, "resident": "< 5", "driver": 0},
                "CD-RW": {"traveller": "< 5", "trader": 5, "resident": 0, "driver": 0},
            },
        }
    ]
    # 07:00, 07:10, 07:20, 07:30 local: the busiest hour
    assert volume["peak_hour"] == {"date": "2026-11-10", "hour": 7, "persons": "< 5"}
    hours = {row["hour"]: row["persons"] for row in volume["by_hour"]}
    assert hours[7] == "< 5" and hours[8] == "< 5" and hours[3] == 0
    tuesday = volume["by_weekday"][1]
    assert tuesday == {"weekday": 1, "persons": 20, "days": 1, "mean_per_day": 20.0}


def test_time_in_facility_from_ticket_to_gate_out(day_report):
    expected, data = day_report
    release = data["sections"]["release"]
    everyone = [s for values in expected.totals.values() for s in values]
    assert release["started"] == 20
    assert release["released"] == len(everyone) == 18
    assert release["excluded"] == {"incomplete": "< 5", "over_limit": 0}
    assert release["clock_end"] == {"gate_out": 17, "gate_pass": "< 5"}
    assert release["overall"] == summary(everyone)
    lanes = {(r["direction"], r["category"]): r for r in release["by_lane"]}
    travellers = expected.totals[("RW-CD", "traveller")]
    assert {k: lanes[("RW-CD", "traveller")][k] for k in ("count", "median", "p90")} == {
        "count": len(travellers),
        "median": round(percentile(travellers, 0.5), 1),
        "p90": round(percentile(travellers, 0.9), 1),
    }
    # a lane of one person shows no statistics
    assert lanes[("RW-CD", "resident")]["median"] is None
    target = data["rules"]["release_target_minutes"] * 60
    assert release["within_target"] == round(sum(s <= target for s in everyone) / len(everyone), 4)
    cumulative = {row["minutes"]: row["share"] for row in release["cumulative"]}
    assert cumulative[60] == round(sum(s <= 3600 for s in everyone) / len(everyone), 4)
    assert sum(row["count"] for row in release["histogram"] if isinstance(row["count"], int)) <= len(everyone)


def test_stages_wait_and_processing_per_agency_and_stage(day_report):
    expected, data = day_report
    rows = {(r["country"], r["agency"], r["stage"]): r for r in data["sections"]["stages"]["rows"]}
    rw_exit = rows[("RW", "immigration", "primary")]
    assert rw_exit["waiting"] == summary(expected.stage_waits[("RW", "immigration", "primary")])
    assert rw_exit["processing"] == summary(expected.stage_work[("RW", "immigration", "primary")])
    # CD immigration waits only where it called the person first (the CD exit of CD→RW traders, the entry after a
    # referral); after the RW exit at the joint counter the person waited once, for both
    cd = rows[("CD", "immigration", "primary")]
    assert cd["waiting"] == summary(expected.stage_waits[("CD", "immigration", "primary")])
    assert cd["waiting"]["count"] == 6 and cd["processing"]["count"] == 19
    assert cd["processing"] == summary(expected.stage_work[("CD", "immigration", "primary")])
    # one referral: secondary inspection is a small cell
    assert rows[("RW", "immigration", "secondary")]["processing"]["count"] == "< 5"
    total_median = data["sections"]["release"]["overall"]["median"]
    share = (rw_exit["waiting"]["median"] + rw_exit["processing"]["median"]) / total_median
    assert rw_exit["share_of_median_total"] == round(share, 4)
    bottleneck = data["sections"]["stages"]["bottleneck"]
    counters = [r for r in rows.values() if r["share_of_median_total"] is not None and r["stage"] == "primary"]
    best = max(counters, key=lambda r: r["share_of_median_total"])
    assert bottleneck == {"country": best["country"], "agency": best["agency"], "stage": best["stage"]}


def test_outcomes_referrals_refusals_readmission_no_show(day_report):
    expected, data = day_report
    outcomes = data["sections"]["outcomes"]
    referrals = {(r["country"], r["agency"]): r for r in outcomes["referrals"]}
    rw = referrals[("RW", "immigration")]
    assert rw["decided"] == expected.decided[("RW", "immigration")]
    assert rw["referred"] == "< 5"
    assert rw["rate"] is None  # one referral: a rate would give the small count back
    assert outcomes["refusals"] == [{"country": "CD", "agency": "immigration", "reason": None, "count": "< 5"}]
    assert outcomes["refused"] == "< 5"
    assert expected.readmissions == 1 and outcomes["readmissions"] == "< 5"
    assert expected.no_show_calls == 1 and outcomes["no_show_calls"] == "< 5"
    assert outcomes["no_show_crossings"] == 0


def test_staffing_hours_and_occupancy(day_report):
    expected, data = day_report
    staffing = data["sections"]["staffing"]
    stations = {s["code"]: s["staffed_hours"] for s in staffing["stations"]}
    # two officers seated 06:00–18:00 at C1: twelve hours staffed, not twenty-four
    assert stations["C1"] == 12.0 and stations["C2"] == 0.0
    agencies = {(a["country"], a["agency"]): a for a in staffing["agencies"]}
    rw_imm = agencies[("RW", "immigration")]
    assert rw_imm["staffed_hours"] == 24.0  # rw-immigration-1 at C1 and rw-immigration-2 at S1
    work = sum(
        sum(values)
        for (country, kind, _stage), values in expected.stage_work.items()
        if (country, kind) == ("RW", "immigration")
    )
    assert rw_imm["serving_hours"] == round(work / 3600, 1)
    assert rw_imm["occupancy"] == round(work / 3600 / 24, 4)


def test_comparison_with_previous_period_and_baseline(day_report):
    expected, data = day_report
    comparison = data["sections"]["comparison"]
    assert comparison["previous_period"] == {"from": "2026-11-09", "to": "2026-11-09"}
    assert comparison["previous"]["crossings"] == 0 and comparison["previous"]["median"] is None
    assert comparison["current"]["crossings"] == 20
    assert comparison["current"]["median"] == data["sections"]["release"]["overall"]["median"]
    assert comparison["baseline"] == {"hours": 3.38, "date": "2016", "source": comparison["baseline"]["source"]}


def test_the_next_day_is_empty_and_the_hash_changes_with_the_data(app, day_report):
    _expected, data = day_report
    with app.app_context():
        post = db.session.scalar(select(Post))
        empty = build_report(post, DAY + timedelta(days=1), DAY + timedelta(days=1), now=local(20, 0))
    assert empty["sections"]["volume"]["total"] == 0
    assert empty["sections"]["release"]["overall"]["median"] is None
    assert data_sha256(empty) != data_sha256(data)
    assert data_sha256(data) == data_sha256(dict(reversed(list(data.items()))))  # key order does not matter


def test_stored_day_facts_give_the_same_report_as_live_ones(app, day_report):
    """Once the day is final its facts are stored on first use; the report from them equals the live one."""
    from osbp.bilateral.models import ReportDay, ReportDayFact

    _expected, live = day_report
    later = local(20, 0) + timedelta(days=10)
    with app.app_context():
        post = db.session.scalar(select(Post))
        first = build_report(post, DAY, DAY, now=later)
        db.session.commit()
        days = set(db.session.scalars(select(ReportDay.day)))
        assert days == {DAY, DAY - timedelta(days=1)}  # the day, and the day before for the comparison
        stored_rows = db.session.scalar(select(db.func.count()).select_from(ReportDayFact))
        again = build_report(post, DAY, DAY, now=later)  # read from the stored facts only
        db.session.remove()
    assert stored_rows > 0
    # The audit chain's head of a day exists once the day is over (osbp/bilateral/sections/audit.py): "live" was
    # built during the day, the two others ten days later. Everything else is the same.
    assert live["sections"]["audit"]["heads"][0]["seq"] is None
    assert first["sections"]["audit"] == again["sections"]["audit"]
    assert first["sections"]["audit"]["heads"][0]["seq"] is not None
    for data in (first, again, live):
        del data["sections"]["audit"]
    assert first == live and again == live
