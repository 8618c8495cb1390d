"""Login (password, then the TOTP code for users with a second factor), logout, the language switch and the locked
accounts page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from osbp.audit import operations as audit
from osbp.auth import operations, sessions, totp
from osbp.auth.blueprint import bp
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
        return page, error.status, error.headers()
    if user is None:
        error = _("Wrong username or password.")
        return render_template("auth/login.html", error=error, username=username), 401
    locale, next_target = session.get("locale"), request.form.get("next")
    if totp.enrolled(user):  # the password is not enough: the code from the user's authenticator app next
        sessions.await_second_factor(user, next_target, locale)
        return redirect(url_for("auth.login_code"))
    return redirect(sessions.start(user, next_target, locale))


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of a login for a user with a TOTP second factor."""
    pending = sessions.awaiting_second_factor()
    if pending is None:
        session.pop(sessions.SECOND_FACTOR_KEY, None)
        flash(_("Log in again: the first step expired or was not done."), "error")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/login_code.html")
    user, next_target = pending
    try:
        totp.verify_login_code(user, request.form.get("code", ""))
    except DomainError as error:  # rendered, not raised: the counted try and its audit row are committed
        return render_template("auth/login_code.html", error=error.message), error.status, error.headers()
    return redirect(sessions.start(user, next_target, session.get("locale")))


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
