"""Checks on free text that several domains accept: the reasons officers give."""

from __future__ import annotations

from flask_babel import gettext as _

from osbp.errors import Invalid

MAX_REASON = 500


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
