"""The tables of a bilateral report: the single source of every table, for the CSV annexes and for the data table
printed under each chart of the PDF, so the numbers are the same in every format.

Each section key has a function ``(data) -> [(name, headers, rows)]``: ``name`` is the table's file name (without
``.csv``), ``headers`` are msgids (lazy strings; :class:`~osbp.bilateral.labels.Text` or
:class:`~osbp.bilateral.labels.Joined` where a header is built from parts, a plain ``str`` where it is
language-neutral), ``rows`` are values whose kind says how they are written (``osbp.bilateral.labels``).

``csv_zip(data, langs)`` makes the annexes: one CSV per table and a README.txt. CSV files are UTF-8 with a BOM (so
Excel reads the accents), the header row in the report's languages, and they follow the first language's spreadsheet
habit: a decimal comma and ``;`` between fields for fr and rw, a decimal point and ``,`` for en. No digit grouping;
small cells stay ``< 5``; a missing figure is an empty field. The zip is the same bytes for the same data and
languages (fixed file dates), so an archived report can be made again and checked.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable
from datetime import date

from flask_babel import lazy_gettext as _l

from osbp.bilateral.labels import (
    Hour,
    Hours,
    Joined,
    Labels,
    Mean,
    Minutes,
    Share,
    StationName,
    Text,
    Weekday,
    agency_label,
    category_label,
    direction_label,
    stage_label,
)
from osbp.bilateral.report import data_sha256

Table = tuple[str, list, list[list]]

SECTION_TITLES = {
    "volume": _l("Volume of crossings"),
    "release": _l("Time to release"),
    "stages": _l("Time per stage"),
    "pattern": _l("Waiting time by weekday and hour"),
    "outcomes": _l("Referrals, refusals and no-shows"),
    "comparison": _l("Comparison with the previous period"),
    "staffing": _l("Staffing and occupancy"),
    "audit": _l("Audit log chain heads"),
}

TABLE_TITLES = {
    "volume_summary": _l("Crossings and the busiest hour"),
    "volume_by_lane": _l("Crossings by direction and category"),
    "volume_by_day": _l("Crossings per day"),
    "volume_by_hour": _l("Crossings by hour of arrival"),
    "volume_by_weekday": _l("Crossings by weekday"),
    "release_summary": _l("Time from arrival to release"),
    "release_by_lane": _l("Time to release by direction and category"),
    "release_cumulative": _l("Share released within a time"),
    "release_histogram": _l("Distribution of the time to release"),
    "stages": _l("Waiting and processing time per stage"),
    "pattern_median_wait": _l("Median wait (min) by weekday and hour of arrival in the queue"),
    "pattern_counts": _l("Persons called by weekday and hour of arrival in the queue"),
    "pattern_target": _l("Hours within the wait target"),
    "outcomes_referrals": _l("Referrals to secondary inspection"),
    "outcomes_refusals": _l("Refusals by reason"),
    "outcomes_summary": _l("Refusals, re-admissions and no-shows"),
    "comparison": _l("This period and the previous one"),
    "comparison_baseline": _l("Baseline"),
    "staffing_stations": _l("Staffed hours per station"),
    "staffing_agencies": _l("Staffed and serving hours per agency"),
    "audit_heads": _l("The audit log's last row and its hash at the end of each day"),
}

# Column headers.
FIGURE = _l("Figure")
VALUE = _l("Value")
DIRECTION = _l("Direction")
CATEGORY = _l("Category")
COUNTRY = _l("Country")
AGENCY = _l("Agency")
STAGE = _l("Stage")
DATE = _l("Date")
HOUR = _l("Hour")
WEEKDAY = _l("Weekday")
TOTAL = _l("Total")
PERSONS = _l("Persons")
DAYS = _l("Days")
MEAN_PER_DAY = _l("Mean per day")
CROSSINGS = _l("Crossings")
TIMED = _l("Crossings timed")
MEAN_MIN = _l("Mean (min)")
MEDIAN_MIN = _l("Median (min)")
P90_MIN = _l("90th percentile (min)")
MIN_MIN = _l("Shortest (min)")
MAX_MIN = _l("Longest (min)")


def _stats_cells(stats: dict | None) -> list:
    stats = stats or {}
    return [stats.get("count")] + [Minutes(stats.get(key)) for key in ("mean", "median", "p90", "min", "max")]


def volume(data: dict) -> list[Table]:
    section = data["sections"]["volume"]
    directions = _directions(data)
    categories = _categories(section["by_lane"])
    peak = section.get("peak_hour")
    summary = [
        [_l("Crossings in the period"), section["total"]],
        [_l("Busiest hour: date"), date.fromisoformat(peak["date"]) if peak else None],
        [_l("Busiest hour: hour"), Hour(peak["hour"]) if peak else None],
        [_l("Busiest hour: persons"), peak["persons"] if peak else None],
    ]
    lanes = [(d, c) for d in directions for c in categories]
    return [
        ("volume_summary", [FIGURE, VALUE], summary),
        (
            "volume_by_lane",
            [DIRECTION, CATEGORY, CROSSINGS],
            [[direction_label(r["direction"]), category_label(r["category"]), r["count"]] for r in section["by_lane"]],
        ),
        (
            "volume_by_day",
            [DATE, *(Joined(direction_label(d), category_label(c)) for d, c in lanes), TOTAL],
            [
                [date.fromisoformat(r["date"]), *(r["lanes"].get(d, {}).get(c) for d, c in lanes), r["total"]]
                for r in section["by_day"]
            ],
        ),
        (
            "volume_by_hour",
            [HOUR, PERSONS, MEAN_PER_DAY],
            [[Hour(r["hour"]), r["persons"], Mean(r["mean_per_day"])] for r in section["by_hour"]],
        ),
        (
            "volume_by_weekday",
            [WEEKDAY, PERSONS, DAYS, MEAN_PER_DAY],
            [[Weekday(r["weekday"]), r["persons"], r["days"], Mean(r["mean_per_day"])] for r in section["by_weekday"]],
        ),
    ]


def release(data: dict) -> list[Table]:
    section = data["sections"]["release"]
    rules = data["rules"]
    overall = section["overall"] or {}
    summary = [
        [_l("Crossings started"), section["started"]],
        [_l("Crossings released"), section["released"]],
        [_l("Not timed: still in progress"), section["excluded"]["incomplete"]],
        [
            Text(_l("Not timed: longer than %(hours)s h"), hours=rules["outlier_hours"]),
            section["excluded"]["over_limit"],
        ],
        [_l("Released: timed to the gate-out scan"), section["clock_end"]["gate_out"]],
        [_l("Released: timed to the gate pass"), section["clock_end"]["gate_pass"]],
        [
            Text(_l("Within the target of %(minutes)s min (%%)"), minutes=rules["release_target_minutes"]),
            Share(section["within_target"]),
        ],
        [TIMED, overall.get("count")],
        [MEAN_MIN, Minutes(overall.get("mean"))],
        [MEDIAN_MIN, Minutes(overall.get("median"))],
        [P90_MIN, Minutes(overall.get("p90"))],
        [MIN_MIN, Minutes(overall.get("min"))],
        [MAX_MIN, Minutes(overall.get("max"))],
    ]
    return [
        ("release_summary", [FIGURE, VALUE], summary),
        (
            "release_by_lane",
            [DIRECTION, CATEGORY, TIMED, MEAN_MIN, MEDIAN_MIN, P90_MIN, MIN_MIN, MAX_MIN],
            [
                [direction_label(r["direction"]), category_label(r["category"]), *_stats_cells(r)]
                for r in section["by_lane"]
            ],
        ),
        (
            "release_cumulative",
            [_l("Released within (min)"), _l("Share of the timed crossings (%)")],
            [[r["minutes"], Share(r["share"])] for r in section["cumulative"]],
        ),
        (
            "release_histogram",
            [_l("More than (min)"), _l("Up to (min)"), TIMED],
            [[r["from_minutes"], r["to_minutes"], r["count"]] for r in section["histogram"]],
        ),
    ]


def stages(data: dict) -> list[Table]:
    section = data["sections"]["stages"]
    headers = [
        COUNTRY,
        AGENCY,
        STAGE,
        _l("Waits"),
        _l("Median wait (min)"),
        _l("90th percentile wait (min)"),
        _l("Services"),
        _l("Median service (min)"),
        _l("90th percentile service (min)"),
        _l("Share of the median time to release (%)"),
    ]
    rows = []
    for r in section["rows"]:
        wait, work = r.get("waiting") or {}, r.get("processing") or {}
        rows.append(
            [
                r["country"],
                agency_label(r["agency"]),
                stage_label(r["stage"]),
                wait.get("count"),
                Minutes(wait.get("median")),
                Minutes(wait.get("p90")),
                work.get("count"),
                Minutes(work.get("median")),
                Minutes(work.get("p90")),
                Share(r.get("share_of_median_total")),
            ]
        )
    return [("stages", headers, rows)]


def pattern_hours(section: dict) -> list[int]:
    """The hours the pattern shows: from the first to the last hour with data (all 24 at a post open day and night)."""
    hours = [cell["hour"] for cell in section["median_wait"]]
    return list(range(min(hours), max(hours) + 1)) if hours else []


def pattern(data: dict) -> list[Table]:
    section = data["sections"]["pattern"]
    hours = pattern_hours(section)
    cells = {(c["weekday"], c["hour"]): c for c in section["median_wait"]}
    headers = [WEEKDAY, *(f"{h:02d}" for h in hours)]
    medians = [
        [Weekday(w), *(Minutes(cells[(w, h)]["median"]) if (w, h) in cells else None for h in hours)] for w in range(7)
    ]
    counts = [[Weekday(w), *(cells[(w, h)]["count"] if (w, h) in cells else 0 for h in hours)] for w in range(7)]
    target = section["wait_target"]
    summary = [
        [_l("Wait target (min)"), target["minutes"]],
        [_l("Open hours (a date and hour in which someone was called)"), target["open_hours"]],
        [_l("Open hours whose median wait was within the target"), target["compliant_hours"]],
        [_l("Share of open hours within the target (%)"), Share(target["share"])],
    ]
    return [
        ("pattern_median_wait", headers, medians),
        ("pattern_counts", headers, counts),
        ("pattern_target", [FIGURE, VALUE], summary),
    ]


OTHER_REASONS = _l("Other reasons (fewer than 5 each, or none given)")


def outcomes(data: dict) -> list[Table]:
    section = data["sections"]["outcomes"]
    summary = [
        [_l("Crossings refused"), section["refused"]],
        [_l("Re-admissions by the exit country"), section["readmissions"]],
        [_l("Crossings ended as no-shows"), section["no_show_crossings"]],
        [_l("Calls not answered (no-show)"), section["no_show_calls"]],
    ]
    return [
        (
            "outcomes_referrals",
            [
                COUNTRY,
                AGENCY,
                _l("Steps decided"),
                _l("Referred"),
                _l("Referral rate (%)"),
                _l("Median secondary inspection (min)"),
            ],
            [
                [
                    r["country"],
                    agency_label(r["agency"]),
                    r["decided"],
                    r["referred"],
                    Share(r["rate"]),
                    Minutes(r["median_secondary"]),
                ]
                for r in section["referrals"]
            ],
        ),
        (
            "outcomes_refusals",
            [COUNTRY, AGENCY, _l("Reason"), _l("Refusals")],
            [
                [r["country"], agency_label(r["agency"]), r["reason"] if r["reason"] else OTHER_REASONS, r["count"]]
                for r in section["refusals"]
            ],
        ),
        ("outcomes_summary", [FIGURE, VALUE], summary),
    ]


def comparison(data: dict) -> list[Table]:
    section = data["sections"]["comparison"]
    current, previous = section["current"], section["previous"]
    period, before = data["period"], section["previous_period"]
    rows = [
        [_l("First day"), date.fromisoformat(period["from"]), date.fromisoformat(before["from"])],
        [_l("Last day"), date.fromisoformat(period["to"]), date.fromisoformat(before["to"])],
        [CROSSINGS, current["crossings"], previous["crossings"]],
        [_l("Crossings released"), current["released"], previous["released"]],
        [_l("Median time to release (min)"), Minutes(current["median"]), Minutes(previous["median"])],
        [_l("90th percentile time to release (min)"), Minutes(current["p90"]), Minutes(previous["p90"])],
        [
            Text(_l("Within the target of %(minutes)s min (%%)"), minutes=data["rules"]["release_target_minutes"]),
            Share(current["within_target"]),
            Share(previous["within_target"]),
        ],
        [_l("Referral rate (%)"), Share(current["referral_rate"]), Share(previous["referral_rate"])],
    ]
    tables = [("comparison", [FIGURE, _l("This period"), _l("Previous period")], rows)]
    baseline = section.get("baseline")
    if baseline:
        tables.append(
            (
                "comparison_baseline",
                [_l("Time to release (h)"), DATE, _l("Source")],
                [[Hours(baseline.get("hours"), 2), baseline.get("date"), baseline.get("source")]],
            )
        )
    return tables


def staffing(data: dict) -> list[Table]:
    section = data["sections"]["staffing"]
    return [
        (
            "staffing_stations",
            [_l("Code"), _l("Station"), STAGE, _l("Staffed hours (h)")],
            [
                [s["code"], StationName(s["name"]), stage_label(s["stage"]), Hours(s["staffed_hours"])]
                for s in section["stations"]
            ],
        ),
        (
            "staffing_agencies",
            [COUNTRY, AGENCY, _l("Staffed hours (h)"), _l("Serving hours (h)"), _l("Occupancy (%)")],
            [
                [
                    a["country"],
                    agency_label(a["agency"]),
                    Hours(a["staffed_hours"]),
                    Hours(a["serving_hours"]),
                    Share(a["occupancy"]),
                ]
                for a in section["agencies"]
            ],
        ),
    ]


def audit(data: dict) -> list[Table]:
    section = data["sections"]["audit"]
    return [
        (
            "audit_heads",
            [DATE, _l("Last row"), _l("Rows that day"), "SHA-256"],
            [[date.fromisoformat(h["date"]), h["seq"], h["rows"], h["hash"]] for h in section["heads"]],
        )
    ]


SECTION_TABLES: dict[str, Callable[[dict], list[Table]]] = {
    "volume": volume,
    "release": release,
    "stages": stages,
    "pattern": pattern,
    "outcomes": outcomes,
    "comparison": comparison,
    "staffing": staffing,
    "audit": audit,
}


def section_keys(data: dict) -> list[str]:
    """The report's sections in the order of ``data["sections"]``. (The canonical JSON sorts its keys, so a report
    read back from the archive lists them alphabetically; the registry order of ``osbp.bilateral.sections`` comes
    first, then any other section in the order found.)"""
    from osbp.bilateral.sections import SECTIONS

    keys = list(data["sections"])
    return sorted(keys, key=lambda key: (SECTIONS.index(key) if key in SECTIONS else len(SECTIONS), keys.index(key)))


def tables(data: dict, key: str) -> list[Table]:
    """The tables of one section (none for a section with no table function)."""
    function = SECTION_TABLES.get(key)
    return function(data) if function else []


def all_tables(data: dict) -> list[tuple[str, Table]]:
    return [(key, table) for key in section_keys(data) for table in tables(data, key)]


# -- CSV annexes ------------------------------------------------------------------------------------------------------

README_TITLE = _l("Time release report of the Joint Border Committee: tables (CSV)")
README_LINES = (
    _l('Counts of 1 to 4 persons are written "< 5", and the statistics of fewer than 5 persons are left empty.'),
    _l("Durations are in minutes, shares in percent, staffed hours in hours, as each column header says."),
    _l("Dates are the post's local dates (year-month-day); hours are the post's local hours."),
    _l("The SHA-256 identifies the report's data: the same figures give the same hash in the PDF and in the archive."),
)


def csv_zip(data: dict, langs: str | Iterable[str] | None) -> bytes:
    """The CSV annexes of the report, zipped: one CSV per table and a README.txt."""
    post = data["post"]
    labels = Labels(langs, territory=post["country_a"])
    delimiter = ";" if labels.decimal_mark == "," else ","
    period_end = date.fromisoformat(data["period"]["to"])
    stamp = (period_end.year, period_end.month, period_end.day, 0, 0, 0)
    files: list[tuple[str, bytes]] = []
    index_lines: list[str] = []
    for number, (key, (name, headers, rows)) in enumerate(all_tables(data), start=1):
        filename = f"{number:02d}_{name}.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow([labels.text(header) for header in headers])
        for row in rows:
            writer.writerow([labels.csv_cell(value) for value in row])
        files.append((filename, buffer.getvalue().encode("utf-8-sig")))
        title = labels.text(TABLE_TITLES[name]) if name in TABLE_TITLES else name
        index_lines.append(f"{filename}  {labels.text(SECTION_TITLES.get(key, key))}: {title}")
    files.insert(0, ("README.txt", _readme(data, labels, delimiter, index_lines).encode("utf-8-sig")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for filename, content in files:
            info = zipfile.ZipInfo(filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return out.getvalue()


def _readme(data: dict, labels: Labels, delimiter: str, index_lines: list[str]) -> str:
    post, period = data["post"], data["period"]
    post_line = (
        f"{post['name_a']} ({' / '.join(labels.country(post['country_a']))}) – "
        f"{post['name_b']} ({' / '.join(labels.country(post['country_b']))}) [{post['code']}]"
    )
    lines = [
        labels.text(README_TITLE),
        "",
        f"{labels.text(_l('Post'))}: {post_line}",
        f"{labels.text(_l('Period'))}: {period['from']} – {period['to']}",
        f"{labels.text(_l('Languages'))}: {' / '.join(labels.language_names())}",
        f"{labels.text(_l('Data SHA-256'))}: {data_sha256(data)}",
        f"{labels.text(_l('Report format'))}: {data.get('format', '')}",
        "",
        *(labels.text(line) for line in README_LINES),
        labels.text(
            Text(
                _l("Field separator: %(separator)s  Decimal mark: %(mark)s  Encoding: UTF-8"),
                separator=delimiter,
                mark=labels.decimal_mark,
            )
        ),
        "",
        *index_lines,
        "",
    ]
    return "\r\n".join(lines)


def _directions(data: dict) -> list[str]:
    post = data["post"]
    return [f"{post['country_a']}-{post['country_b']}", f"{post['country_b']}-{post['country_a']}"]


def _categories(by_lane: list[dict]) -> list[str]:
    seen: list[str] = []
    for row in by_lane:
        if row["category"] not in seen:
            seen.append(row["category"])
    return seen
