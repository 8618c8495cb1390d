"""The ticket's QR code: it encodes ONLY the ticket code (e.g. ``T-042``), never a name or a document number.

Rendered with segno as an SVG ``data:`` URI, which the Content-Security-Policy allows for images (``img-src data:``),
so the desk and the kiosk show it without a second request and without inline script.
"""

from __future__ import annotations

import re

import segno

TICKET_CODE = re.compile(r"[A-Z]-\d{3,5}")


def ticket_qr(code: str) -> segno.QRCode:
    """The QR code of a ticket code. Anything that is not a ticket code is refused (ValueError)."""
    if not isinstance(code, str) or not TICKET_CODE.fullmatch(code):
        raise ValueError("a QR code carries a ticket code such as T-042, nothing else")
    # A full QR code (not Micro QR: phone scanners often miss those), error correction raised as far as it fits.
    return segno.make(code, micro=False, error="m", boost_error=True)


def ticket_qr_data_uri(code: str, *, scale: int = 6) -> str:
    """``data:image/svg+xml,…`` for an ``<img src>``: dark modules on a light background, a 4-module quiet zone."""
    return ticket_qr(code).svg_data_uri(scale=scale, border=4, dark="#000", light="#fff", title=None)
