"""SQL building blocks for the bilateral report, the same numbers on PostgreSQL and SQLite.

- ``Scope``: a post and a period of local calendar days, as the UTC range its rows are read in.
- Durations in seconds between two timestamp columns (``seconds``), the post's local clock (``local_*``).
- ``summarise``: count, mean, median, 90th percentile, min, max and sum of durations given as counts per whole second
  (the day facts, osbp/bilateral/facts.py): the percentiles are read off the cumulative counts exactly as
  ``percentile_cont`` interpolates, without sorting every row (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, case, cast, func, text
from sqlalchemy.sql import ColumnElement

from osbp.extensions import db

PERCENTILES = {"median": 0.5, "p90": 0.9}
MIN_CELL = 5


@dataclass(frozen=True)
class Scope:
    """A post and an inclusive range of the post's local dates."""

    post_id: int
    timezone: str
    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def start(self) -> datetime:
        """The first instant of the period (local midnight of the first day), in UTC."""
        return _local_midnight(self.first_day, self.timezone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (local midnight after the last day), in UTC."""
        return _local_midnight(self.last_day + timedelta(days=1), self.timezone)

    def previous(self) -> Scope:
        """The period of the same length just before this one."""
        return Scope(
            self.post_id,
            self.timezone,
            self.first_day - timedelta(days=self.days),
            self.first_day - timedelta(days=1),
        )

    def dates(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.days)]


def _local_midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def seconds(later, earlier) -> ColumnElement:
    """``later - earlier`` in whole seconds (rounded half up), the same integer on both databases. SQLite's
    julianday is a day count in a double: exact to about 10 µs, well inside the rounding."""
    if is_postgres():
        return cast(func.floor(func.date_part("epoch", later - earlier) + 0.5), Integer)
    return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0 + 0.5, Integer)


def _offsets(scope: Scope) -> list[tuple[datetime | None, int]]:
    """The post's UTC offsets (minutes) over the period: [(from UTC instant or None, offset), …]."""
    zone = ZoneInfo(scope.timezone)
    start, end = scope.start - timedelta(days=2), scope.end + timedelta(days=2)
    segments: list[tuple[datetime | None, int]] = []
    moment = start
    while moment <= end:
        offset = int(moment.astimezone(zone).utcoffset().total_seconds() // 60)
        if not segments or segments[-1][1] != offset:
            segments.append((None if not segments else moment, offset))
        moment += timedelta(minutes=30)
    return segments


def _shift(column, minutes: int):
    if is_postgres():
        return column + text(f"interval '{int(minutes)} minutes'")
    return func.strftime("%Y-%m-%d %H:%M:%f", column, f"{int(minutes):+d} minutes")


def local(column, scope: Scope):
    """The post's local wall-clock time of a UTC timestamp column (a naive timestamp)."""
    segments = _offsets(scope)
    if len(segments) == 1:
        return _shift(column, segments[0][1])
    whens = [(column < segments[i + 1][0], _shift(column, segments[i][1])) for i in range(len(segments) - 1)]
    return case(*whens, else_=_shift(column, segments[-1][1]))


def local_hour(column, scope: Scope):
    value = local(column, scope)
    if is_postgres():
        return cast(func.date_part("hour", value), Integer)
    return cast(func.strftime("%H", value), Integer)


def local_date(column, scope: Scope):
    """The local calendar date (a DATE on PostgreSQL, ``YYYY-MM-DD`` text on SQLite, which stores dates so)."""
    value = local(column, scope)
    if is_postgres():
        return cast(value, Date)
    return func.date(value)


def in_period(column, scope: Scope):
    return column.between(scope.start, scope.end - timedelta(microseconds=1))


def summarise(pairs: list[tuple[int, int]]) -> dict:
    """count, mean, min, max, sum and percentiles of the values given as sorted (value, how many) pairs."""
    count = sum(n for _, n in pairs)
    total = sum(v * n for v, n in pairs)
    figures = {"count": count, "sum": total, "mean": total / count, "min": pairs[0][0], "max": pairs[-1][0]}
    for name, fraction in PERCENTILES.items():
        position = fraction * (count - 1)  # 0-based rank, as percentile_cont
        lower = int(position)
        low, high = _value_at(pairs, lower), _value_at(pairs, min(lower + 1, count - 1))
        figures[name] = low + (position - lower) * (high - low)
    return figures


def _value_at(pairs: list[tuple[int, int]], rank: int) -> int:
    seen = 0
    for value, n in pairs:
        seen += n
        if rank < seen:
            return value
    return pairs[-1][0]


# What a report shows -------------------------------------------------------------------------------------------


def people(count: int | None) -> int | str:
    """A count of people as the report shows it: 1–4 become "< 5" (no cell can point at a person)."""
    count = int(count or 0)
    return "< 5" if 0 < count < MIN_CELL else count


def shown_stats(figures: dict | None) -> dict:
    """A stats object for the report: rounded seconds, or nulls for a group of fewer than 5 people."""
    count = int((figures or {}).get("count") or 0)
    if count < MIN_CELL:
        return {"count": people(count), "mean": None, "median": None, "p90": None, "min": None, "max": None}
    return {
        "count": count,
        **{key: round1(figures[key]) for key in ("mean", "median", "p90", "min", "max")},
    }


def round1(value) -> float | None:
    return None if value is None else round(float(value), 1)


def share(part, whole) -> float | None:
    """A fraction 0–1 rounded to 4 decimals; None when the whole is below the small-cell limit."""
    whole = int(whole or 0)
    if whole < MIN_CELL:
        return None
    return round(int(part or 0) / whole, 4)
