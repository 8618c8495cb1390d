"""A ticket's public page on a phone, ``/t/<code>``: the QR code on the ticket opens it. No login, no personal data.

Ticket codes start again every day. The QR names the service day (``?day=2026-11-01``): the page shows that day's
ticket while the day is today or yesterday (a crossing may run past midnight), and nothing for an older one. Without a
day (a code typed by hand) it shows today's ticket only. The post comes from ``?post=`` or is the server's only one.
What the page says (``phone_view``) is built on the server in the page's language, for the page and its polling.
Read only, like the rest of the live views.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from osbp.extensions import db
from osbp.post.models import Post
from osbp.queues import operations as queues
from osbp.queues.models import Ticket
from osbp.types import utcnow


def post_for(code: str | None) -> Post | None:
    """The post named by ``?post=``, else the server's only post; None when unknown or ambiguous."""
    if code:
        return db.session.scalar(select(Post).where(Post.code == code[:32]))
    posts = list(db.session.scalars(select(Post).limit(2)))
    return posts[0] if len(posts) == 1 else None


def parse_day(raw: str | None) -> date | None | bool:
    """The QR's service day; None when the address has none; False when it is not a date."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10]) if len(raw) == 10 else False
    except ValueError:
        return False


def find_ticket(post: Post, code: str, day: date | None) -> Ticket | None:
    """The ticket with ``code`` of ``day`` (today or yesterday only), or of today when no day is given."""
    today = queues.service_date(post)
    day = day or today
    if day not in (today, today - timedelta(days=1)):
        return None
    return db.session.scalar(
        select(Ticket).where(Ticket.post_id == post.id, Ticket.code == code, Ticket.service_date == day).limit(1)
    )


def local_time(post: Post, when: datetime | None = None) -> str:
    """A time of day at the post (its own time zone), in the current language: 09:14."""
    when = when or utcnow()
    return format_time(when, "short", tzinfo=ZoneInfo(post.timezone), locale=get_locale())


def wait_text(status: dict) -> str | None:
    """How long, or why it is not known: no officer at the counter yet, or about N minutes."""
    unstaffed = status.get("unstaffed")
    if unstaffed:
        return status.get("unstaffed_message") or None
    minutes = status.get("estimated_wait_minutes")
    if minutes is None:
        return None
    return ngettext("about %(minutes)s min", "about %(minutes)s min", minutes, minutes=minutes)


def phone_view(status: dict, post: Post) -> dict:
    """The sentences of the phone page for a public ticket status (``live.operations.ticket_status``).

    ``headline``: the one thing to read (3 places before you / Go to Counter 2 now. / done / closed); ``detail``: the
    wait; ``message``: the status's own sentence when the headline is not it; ``tone``: waiting, called, done, closed.
    """
    state = status["status"]
    headline, detail, message = status["message"], None, None
    if state == "waiting":
        position = status.get("position")
        if position == 1:
            headline = _("You are next.")
        elif position:
            ahead = position - 1
            headline = ngettext("%(num)s place before you", "%(num)s places before you", ahead)
        detail = wait_text(status)
        message = status["message"] if headline != status["message"] else None
    tone = {"waiting": "waiting", "called": "called", "cleared": "done"}.get(state, "closed")
    return {
        "tone": tone,
        "headline": headline,
        "detail": detail,
        "message": message,
        "updated": _("Updated at %(time)s", time=local_time(post)),
    }
