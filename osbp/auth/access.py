"""Where each role lands: the start page of a role that does not work in the hall (``roles.HOME_ENDPOINTS``).

Who may reach what is the role matrix (osbp/roles.py), enforced in osbp/web.py; a person with a step to take first
(a reset password to change, a second factor to set up) reaches only that step (``required_step``).
"""

from __future__ import annotations

from flask import redirect, url_for

from osbp.roles import HOME_ENDPOINTS

# While a person has a step to take (a password an admin reset, a second factor the policy requires), their session
# reaches that step's page, logging out and the language switch, and nothing else (osbp/web.py).
STEP_COMMON_ENDPOINTS = frozenset({"auth.logout", "auth.set_language"})


def home_url(user) -> str:
    """The role's own start page: the gate page, the committee's reports, a device's page."""
    return url_for(HOME_ENDPOINTS[user.role])


def home_response(user):
    """``/`` for such a role: their own page."""
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
