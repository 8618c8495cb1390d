"""Checks on input that several domains accept: the reasons officers give, ids typed as text."""

from __future__ import annotations

from flask_babel import gettext as _

from osbp.errors import Invalid

MAX_REASON = 500
# The largest id a request may name: ids beyond a signed 64-bit integer overflow SQLite's driver (docs/security.md).
MAX_ID = 2**63 - 1


def id_from_text(value) -> int | None:
    """A positive id written in ASCII digits (at most MAX_ID), else None: "²" and "9" * 30 are not ids."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > len(str(MAX_ID)):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def clean_reason(value, *, missing: str | None) -> str | None:
    """A reason stripped of surrounding blanks, at most MAX_REASON characters.

    ``missing``: the message when the reason is required and empty; None when it is optional (empty gives None).
    """
    reason = value.strip() if isinstance(value, str) else ""
    if not reason:
        if missing is not None:
            raise Invalid(missing, code="reason_required")
        return None
    if len(reason) > MAX_REASON:
        raise Invalid(_("The reason is too long (%(max)s characters at most).", max=MAX_REASON), code="reason_too_long")
    return reason
