"""Login, logout, the language switch and the locked accounts page."""

from __future__ import annotations

import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from osbp.audit import operations as audit
from osbp.auth import access, operations
from osbp.auth.blueprint import bp
from osbp.auth.models import COUNTRY_ROLES
from osbp.errors import DomainError
from osbp.i18n import normalise_locale
from osbp.web import form_action, local_path


def _safe_next(target: str | None) -> str:
    return local_path(target, url_for("queues.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    try:
        user = operations.authenticate(username, request.form.get("password", ""), request.remote_addr)
    except DomainError as error:
        page = render_template("auth/login.html", error=error.message, username=username)
        headers = {"Retry-After": str(error.detail["retry_after"])} if "retry_after" in error.detail else {}
        return page, error.status, headers
    if user is None:
        error = _("Wrong username or password.")
        return render_template("auth/login.html", error=error, username=username), 401
    locale = session.get("locale")
    session.clear()  # a fresh session on every login
    login_user(user, remember=False)
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now
    if locale and not user.locale:
        session["locale"] = locale
    if user.role in COUNTRY_ROLES:  # gate officers and committee members land on their own page, whatever "next"
        return redirect(access.home_url(user))
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    user = current_user._get_current_object()
    operations.revoke_sessions(user)
    audit.record("auth.logout", user=user)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    locale = normalise_locale(request.form.get("locale"))
    back = _safe_next(request.form.get("next"))
    if locale is None:
        flash(_("Unknown language."), "error")
        return redirect(back)
    session["locale"] = locale
    if current_user.is_authenticated:
        return form_action(lambda: (operations.set_locale(current_user, locale), redirect(back))[1], back)
    return redirect(back)


@bp.get("/accounts/lockouts")
def lockouts():
    """Supervisors (their post's accounts) and admins: the accounts locked after failed logins, and when each ends."""
    return render_template("auth/lockouts.html", lockouts=operations.locked_accounts(current_user))


@bp.post("/accounts/lockouts/unlock")
def unlock():
    # Who may come here at all: the role matrix (osbp/roles.py, enforced in osbp/web.py); whom: operations.unlock.
    back = url_for("auth.lockouts")

    def action():
        user = operations.unlock(current_user, request.form.get("username", ""))
        flash(_("%(username)s can log in again.", username=user.username), "info")
        return redirect(back)

    return form_action(action, back)
