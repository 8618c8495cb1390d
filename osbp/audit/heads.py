"""Daily chain heads: for each day, the last row of the chain recorded by the end of that day (its sequence number
and hash) and how many rows the day added. A party outside the post keeps these (``flask audit heads``, the JBC
report's annex) and can later check that the chain still passes through them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from osbp.audit.models import AuditEvent

# Days the export covers at most when no day is named (from the first event on).
MAX_DAYS = 3660


@dataclass(frozen=True)
class DayHead:
    day: date
    seq: int  # 0 when the chain had no row yet at the end of the day
    hash: str | None
    rows: int  # rows recorded during the day

    def as_dict(self) -> dict:
        return {"date": self.day.isoformat(), "seq": self.seq, "hash": self.hash, "rows": self.rows}


def day_bounds(day: date, timezone: str = "UTC") -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def head_at_end_of(session, day: date, timezone: str = "UTC") -> DayHead:
    """The chain's last row recorded before the day ended (the greatest seq with ``at`` before midnight)."""
    start, end = day_bounds(day, timezone)
    seq = session.scalar(select(func.max(AuditEvent.seq)).where(AuditEvent.at < end)) or 0
    rows = session.scalar(select(func.count()).where(AuditEvent.at >= start, AuditEvent.at < end))
    digest = session.scalar(select(AuditEvent.row_hash).where(AuditEvent.seq == seq)) if seq else None
    return DayHead(day, seq, digest, rows)


def daily_heads(session, first: date, last: date, timezone: str = "UTC") -> list[DayHead]:
    """One DayHead per day from ``first`` to ``last`` (inclusive)."""
    days = min((last - first).days + 1, MAX_DAYS)
    return [head_at_end_of(session, first + timedelta(days=n), timezone) for n in range(max(days, 0))]


def first_day(session, timezone: str = "UTC") -> date | None:
    first = session.scalar(select(func.min(AuditEvent.at)))
    return first.astimezone(ZoneInfo(timezone)).date() if first else None
