"""Report periods: a day, an ISO week, a month, a quarter, or any range of local dates (inclusive)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask_babel import gettext as _

from osbp.errors import BadRequest

PERIOD_KINDS = ("day", "week", "month", "quarter", "custom")
MAX_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def _invalid(message: str) -> BadRequest:
    return BadRequest(message, code="invalid_period")


def parse_date(value, field: str) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise _invalid(_("Give %(field)s as a date YYYY-MM-DD.", field=field))
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _invalid(_("%(value)s is not a date in the calendar.", value=value.strip())) from None


def date_range(first_value, last_value) -> tuple[date, date]:
    """``from`` and ``to`` (inclusive) checked: in order, and at most a year long."""
    first, last = parse_date(first_value, "from"), parse_date(last_value, "to")
    if last < first:
        raise _invalid(_("The period ends before it starts."))
    if (last - first).days + 1 > MAX_DAYS:
        raise _invalid(_("A report covers at most %(days)s days.", days=MAX_DAYS))
    return first, last


def period(kind: str, value: str, last_value: str | None = None) -> tuple[date, date]:
    """The first and last day of a period given as a kind and a value: ``day`` 2026-11-30, ``week`` (the ISO week of)
    2026-11-30, ``month`` 2026-11, ``quarter`` 2026-Q4, ``custom`` 2026-11-01 to 2026-11-15."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if kind == "day":
        day = parse_date(value, "from")
        return day, day
    if kind == "week":
        day = parse_date(value, "from")
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if kind == "month":
        match = _MONTH.match(value)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise _invalid(_("Give the month as YYYY-MM."))
        first = date(int(match.group(1)), int(match.group(2)), 1)
        return first, _next_month(first) - timedelta(days=1)
    if kind == "quarter":
        match = _QUARTER.match(value.upper())
        if not match:
            raise _invalid(_("Give the quarter as YYYY-Q1 to YYYY-Q4."))
        first = date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1)
        return first, _next_month(_next_month(_next_month(first))) - timedelta(days=1)
    if kind == "custom":
        return date_range(value, last_value)
    raise _invalid(_("Unknown period %(kind)s. Use one of: %(choices)s.", kind=kind, choices=", ".join(PERIOD_KINDS)))


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)
