"""Deny by default for the country roles (``COUNTRY_ROLES``): gate officers and Joint Border Committee members.

A gate officer reaches the gate page, its form and the gate API; a committee member reaches the bilateral reports
(every endpoint of the ``bilateral`` blueprint); both may log out and switch language. Everything else is 403
(osbp/web.py, audited there). The start page ``/`` sends each of them to their own page. Sockets: own user room only
(osbp/sockets.py).
"""

from __future__ import annotations

from flask import redirect, url_for

COMMON_ENDPOINTS = frozenset({"auth.logout", "auth.set_language"})
ROLE_ENDPOINTS = {
    "gate": frozenset({"gate.page", "gate.scan", "gate.api_exit"}),
    "committee": frozenset(),
}
ROLE_PREFIXES = {"gate": (), "committee": ("bilateral.",)}
HOME_ENDPOINTS = {"gate": "gate.page", "committee": "bilateral.reports"}


def may_reach(user, endpoint: str | None) -> bool:
    """Whether a gate or committee user may reach ``endpoint``. Unknown roles reach nothing."""
    if endpoint is None:
        return False
    if endpoint in COMMON_ENDPOINTS or endpoint in ROLE_ENDPOINTS.get(user.role, ()):
        return True
    return any(endpoint.startswith(prefix) for prefix in ROLE_PREFIXES.get(user.role, ()))


def home_url(user) -> str:
    """The role's own start page: the gate page, or the committee's reports."""
    return url_for(HOME_ENDPOINTS[user.role])


def home_response(user):
    """``/`` for a gate or committee user: their own page."""
    return redirect(home_url(user))
