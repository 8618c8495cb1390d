"""Where each role lands: the start page of a role that does not work in the hall (``roles.HOME_ENDPOINTS``).

Who may reach what is the role matrix (osbp/roles.py), enforced in osbp/web.py.
"""

from __future__ import annotations

from flask import redirect, url_for

from osbp.roles import HOME_ENDPOINTS


def home_url(user) -> str:
    """The role's own start page: the gate page, the committee's reports, a device's page."""
    return url_for(HOME_ENDPOINTS[user.role])


def home_response(user):
    """``/`` for such a role: their own page."""
    return redirect(home_url(user))
