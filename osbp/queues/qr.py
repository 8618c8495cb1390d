"""The ticket's QR code: the address of the ticket's public status page, nothing else.

It encodes ``https://<this server>/t/T-042?post=RUSIZI-II&day=2026-11-01``: the ticket code, the post's code and the
service day (ticket numbers start again every day: the day keeps an old ticket from opening today's T-042). Never a
name or a document number. The address is the one the desk's or kiosk's browser used to reach the server, so open
those by the address phones reach (docs/live.md). A QR scanner on the kiosk reads the code out of the address.

Rendered with segno as an SVG ``data:`` URI, which the Content-Security-Policy allows for images (``img-src data:``),
so the desk and the kiosk show it without a second request and without inline script.
"""

from __future__ import annotations

import re
from datetime import date

import segno
from flask import url_for

TICKET_CODE = re.compile(r"[A-Z]-\d{3,5}")
POST_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


def ticket_url(code: str, *, post_code: str | None = None, day: date | None = None) -> str:
    """The absolute address of the ticket's phone page (``live.phone``). Anything but a ticket code is refused."""
    if not isinstance(code, str) or not TICKET_CODE.fullmatch(code):
        raise ValueError("a QR code carries a ticket code such as T-042, nothing else")
    params = {}
    if post_code is not None:
        if not isinstance(post_code, str) or not POST_CODE.fullmatch(post_code):
            raise ValueError("a post code is letters, digits and hyphens")
        params["post"] = post_code
    if day is not None:
        if not isinstance(day, date):
            raise ValueError("the day is a date")
        params["day"] = day.isoformat()
    return url_for("live.phone", code=code, _external=True, **params)


def ticket_qr(code: str, *, post_code: str | None = None, day: date | None = None) -> segno.QRCode:
    """The QR code of a ticket's phone page (see ``ticket_url``)."""
    # A full QR code (not Micro QR: phone scanners often miss those), error correction raised as far as it fits.
    return segno.make(ticket_url(code, post_code=post_code, day=day), micro=False, error="m", boost_error=True)


def ticket_qr_data_uri(code: str, *, post_code: str | None = None, day: date | None = None, scale: int = 6) -> str:
    """``data:image/svg+xml,…`` for an ``<img src>``: dark modules on a light background, a 4-module quiet zone."""
    qr = ticket_qr(code, post_code=post_code, day=day)
    return qr.svg_data_uri(scale=scale, border=4, dark="#000", light="#fff", title=None)
