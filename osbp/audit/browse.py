"""Reading the audit log for the supervisors' audit page: filters, one page of rows (newest first), the chain's status
over the latest rows, and which detail is shown.

Supervisors and admins see the events of their own post; admins also those of no post (failed logins with an unknown
user name, device links that did not work), since a user name typed there may be someone's password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import or_, select

from osbp.audit import chain
from osbp.audit.heads import day_bounds
from osbp.audit.models import AuditChainHead, AuditEvent
from osbp.errors import BadRequest
from osbp.extensions import db
from osbp.permissions import ensure_audit_reader

PAGE_SIZE = 50
# The page checks the chain over this many latest rows (a few tens of milliseconds); `flask audit verify` checks all.
VERIFY_WINDOW = 2000
OUTCOMES = ("ok", "failed", "denied", "throttled")
MAX_SEQ = 2**62
# Detail keys shown as recorded; any other key is listed as withheld (free text such as a priority reason may say
# something about a person's health).
SAFE_DETAIL_KEYS = frozenset(
    {
        "agency_id",
        "before",
        "channel",
        "code",
        "crossing_id",
        "data_sha256",
        "document_type",
        "exit_step_id",
        "filters",
        "format",
        "from_station_id",
        "gate_pass",
        "languages",
        "method",
        "noted",
        "path",
        "period_from",
        "period_to",
        "policy",
        "priority",
        "prints",
        "recalls",
        "role",
        "state",
        "station_id",
        "to",
        "via",
        "was",
    }
)
MAX_VALUE = 80
# Paths that carry a secret (a device's set-up token) are shown without it.
SECRET_PATHS = ("/live/device/",)


@dataclass(frozen=True)
class Filters:
    username: str | None = None
    action: str | None = None
    outcome: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    before: int | None = None

    def query_args(self, **changes) -> dict:
        values = {
            "user": self.username,
            "action": self.action,
            "outcome": self.outcome,
            "from": self.first_day.isoformat() if self.first_day else None,
            "to": self.last_day.isoformat() if self.last_day else None,
            "before": self.before,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "")}


def parse_filters(args) -> Filters:
    """The page's query string, checked: a bad value is a 400 with a clear message, never a 500."""
    username = _text(args.get("user"), 64)
    action = _text(args.get("action"), 48)
    outcome = _text(args.get("outcome"), 16)
    if outcome is not None and outcome not in OUTCOMES:
        raise BadRequest(_("Choose an outcome from the list."), code="bad_outcome")
    first_day, last_day = _day(args.get("from")), _day(args.get("to"))
    if first_day and last_day and first_day > last_day:
        raise BadRequest(_("The first day comes after the last day."), code="bad_period")
    before = args.get("before")
    if before not in (None, ""):
        if not before.isdigit() or len(before) > 18 or not 0 < int(before) <= MAX_SEQ:
            raise BadRequest(_("This page of the audit log does not exist."), code="bad_page")
        before = int(before)
    else:
        before = None
    return Filters(username.lower() if username else None, action, outcome, first_day, last_day, before)


def _text(value, limit: int) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > limit or not value.isprintable():
        raise BadRequest(_("A filter is too long or holds characters it cannot hold."), code="bad_filter")
    return value


def _day(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(_("Write days as year-month-day, for example 2026-12-01."), code="bad_date") from None


def visible(user):
    """The condition for the events ``user`` may read (a supervisor or admin)."""
    ensure_audit_reader(user)
    if user.role == "admin":
        return or_(AuditEvent.post_id == user.post_id, AuditEvent.post_id.is_(None))
    return AuditEvent.post_id == user.post_id


def page(user, filters: Filters) -> tuple[list[AuditEvent], int | None]:
    """One page of events, newest first, and the ``before`` cursor of the next (older) page, if any."""
    query = select(AuditEvent).where(visible(user))
    if filters.username:
        query = query.where(AuditEvent.username == filters.username)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.outcome:
        query = query.where(AuditEvent.outcome == filters.outcome)
    timezone = user.post.timezone
    if filters.first_day:
        query = query.where(AuditEvent.at >= day_bounds(filters.first_day, timezone)[0])
    if filters.last_day:
        query = query.where(AuditEvent.at < day_bounds(filters.last_day, timezone)[1])
    if filters.before:
        query = query.where(AuditEvent.seq < filters.before)
    rows = list(db.session.scalars(query.order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE + 1)))
    older = rows[PAGE_SIZE - 1].seq if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], older


def actions(user) -> list[str]:
    return list(
        db.session.scalars(select(AuditEvent.action).where(visible(user)).distinct().order_by(AuditEvent.action))
    )


def chain_status() -> chain.Verification:
    """The chain checked over its latest VERIFY_WINDOW rows, up to the head."""
    head = db.session.scalar(select(AuditChainHead.seq).where(AuditChainHead.id == chain.HEAD_ID)) or 0
    return chain.verify(db.session.connection(), from_seq=max(1, head - VERIFY_WINDOW + 1))


def shown_detail(detail: dict | None) -> list[tuple[str, str | None]]:
    """(key, value) pairs for the page; value None means withheld."""
    shown = []
    for key in sorted(detail or {}):
        if key not in SAFE_DETAIL_KEYS:
            shown.append((key, None))
            continue
        value = detail[key]
        text = value if isinstance(value, str) else str(value)
        if key == "path" and text.startswith(SECRET_PATHS):
            text = next(prefix for prefix in SECRET_PATHS if text.startswith(prefix)) + "…"
        shown.append((key, text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"))
    return shown


def local_time(user, value):
    return value.astimezone(ZoneInfo(user.post.timezone))
