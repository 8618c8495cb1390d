"""The kiosk's one write, taking a ticket once per tap, and the ticket slip the kiosk and the desk print.

The kiosk page's form carries a one-time key (its nonce). The first request with a key issues the ticket; a repeat
(a double tap, a resubmission) gets the same ticket code, or waits for it while the first is still running. The keys
are kept in Redis when the Socket.IO message queue is a Redis (several instances then share them), else in the process.
Like the other operations, nothing here commits.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from flask_babel import get_locale

from osbp.config import Config
from osbp.i18n import CATEGORY_LABELS, COUNTRY_NAMES, station_name
from osbp.live import operations as live
from osbp.live.limits import OnceKeys, SharedOnceKeys
from osbp.live.phone import local_time
from osbp.queues import operations as queues
from osbp.queues.qr import ticket_qr_data_uri, ticket_url

REPEAT_WAIT_SECONDS = 5  # how long a repeat waits for the first request before going back to the start screen


def tap_keys_for(config: Config) -> OnceKeys | SharedOnceKeys:
    """Redis when the message queue is one (keys under the deployment's channel), else the process's memory."""
    url = config.socketio_message_queue
    if url.startswith(("redis://", "rediss://")):
        return SharedOnceKeys(url, prefix=f"{config.socketio_channel}:kiosk-tap:")
    return OnceKeys()


def tap_keys() -> OnceKeys | SharedOnceKeys:
    """The app's tap keys, made on first use."""
    keys = current_app.extensions.get("osbp_kiosk_posts")
    if keys is None:  # setdefault: two first requests at once still share one
        keys = current_app.extensions.setdefault("osbp_kiosk_posts", tap_keys_for(current_app.config["OSBP"]))
    return keys


def take_ticket(device, nonce: str, direction: str, category: str) -> str | None:
    """The code of the ticket this tap took at the kiosk ``device``.

    The first request with ``nonce`` issues a new ticket (a domain error goes up and frees the key for another try);
    a repeat returns the first one's code, or None when the first failed or did not finish in time.
    """
    keys = tap_keys()
    key = f"{device.id}:{nonce}"
    if not keys.claim(key):
        return keys.wait(key, REPEAT_WAIT_SECONDS)
    code = None
    try:
        code = queues.issue_ticket(
            device.post, direction, category, issued_by=None, channel=queues.channel_of(device)
        ).code
        return code
    finally:
        keys.finish(key, code)


def first_counters(ticket) -> list[str]:
    """Where the ticket goes first: the counter calling it, the one it was sent to, else the open counters serving its
    queue (all of them when none is open)."""
    if ticket.status == "called" and ticket.station is not None:
        return [station_name(ticket.station)]
    if ticket.target_station is not None:
        return [station_name(ticket.target_station)]
    if ticket.step_kind_id is None:
        return []
    serving = live.stations_serving(ticket.post_id, ticket.step_kind_id, ticket.stage)
    return [station_name(s) for s in ([s for s in serving if s.is_open] or serving)]


def printed_ticket(ticket) -> dict:
    """What the ticket slip carries, in the current language: the code, the QR code of its phone page, the
    direction, the first counter and when it was issued (the post's time zone). No personal data."""
    crossing = ticket.crossing
    post = crossing.post
    issued = ticket.issued_at.astimezone(ZoneInfo(post.timezone))
    return {
        "code": ticket.code,
        "post": post.name,
        "category": str(CATEGORY_LABELS[crossing.category]),
        "direction": crossing.direction,
        "origin": str(COUNTRY_NAMES.get(crossing.origin, crossing.origin)),
        "destination": str(COUNTRY_NAMES.get(crossing.destination, crossing.destination)),
        "counters": first_counters(ticket),
        "date": format_date(issued.date(), "medium", locale=get_locale()),
        "time": local_time(post, ticket.issued_at),
        "url": ticket_url(ticket.code, post_code=post.code, day=ticket.service_date),
        "qr": ticket_qr_data_uri(ticket.code, post_code=post.code, day=ticket.service_date),
    }
