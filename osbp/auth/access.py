"""Deny by default for the country roles (``COUNTRY_ROLES``): gate officers and Joint Border Committee members.

A gate officer reaches the gate page, its form and the gate API; a committee member reaches the bilateral reports
(every endpoint of the ``bilateral`` blueprint); both may log out, switch language, change their password and set up
a second factor. Everything else is 403
(osbp/web.py, audited there). The start page ``/`` sends each of them to their own page. Sockets: own user room only
(osbp/sockets.py).
"""

from __future__ import annotations

from flask import redirect, url_for

COMMON_ENDPOINTS = frozenset({"auth.logout", "auth.set_language", "accounts.password", "accounts.totp"})
# While a person has a step to take (a password an admin reset, a second factor the policy requires), their session
# reaches that step's page, logging out and the language switch, and nothing else (osbp/web.py).
STEP_COMMON_ENDPOINTS = frozenset({"auth.logout", "auth.set_language"})
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


def required_step(user) -> str | None:
    """The page a logged-in person must pass before anything else: the password change after an admin's reset, then
    the second-factor enrolment when the policy requires one for their role. None when there is none."""
    from osbp.auth import totp

    if user.is_device:
        return None
    if user.must_change_password:
        return "accounts.password"
    if totp.must_enrol(user):
        return "accounts.totp"
    return None


def required_step_response(user, endpoint: str | None):
    """None when ``endpoint`` may be served; else the way to the required step (a redirect, or 403 JSON for the API)."""
    from flask_babel import gettext as _

    from osbp.web import error_response, wants_json

    step = required_step(user)
    if step is None or endpoint == step or endpoint in STEP_COMMON_ENDPOINTS:
        return None
    if wants_json():
        if step == "accounts.password":
            message = _("Change your password at /account/password before you go on.")
        else:
            message = _("Set up your second factor at /account/totp before you go on.")
        return error_response(403, "account_step_required", message)
    return redirect(url_for(step))
