"""A person's own account: change the password, set up the TOTP second factor. Devices never reach these."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user

from osbp.accounts.blueprint import bp
from osbp.auth import operations, sessions, totp
from osbp.errors import DomainError


def _me():
    return current_user._get_current_object()


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    user = _me()
    if request.method == "GET":
        return render_template("accounts/password.html", forced=user.must_change_password)
    form = request.form
    try:
        operations.change_own_password(
            user, form.get("current_password", ""), form.get("new_password", ""), form.get("confirm_password", "")
        )
    except DomainError as error:  # rendered, not raised: a wrong current password stays audited and counted
        page = render_template("accounts/password.html", forced=user.must_change_password, error=error.message)
        return page, error.status
    flash(_("Your password is changed. Your other sessions and API tokens have ended."), "success")
    return redirect(sessions.start(user, None, session.get("locale")))


@bp.route("/account/totp", methods=["GET", "POST"], endpoint="totp")
def totp_page():
    user = _me()
    credential_on = totp.enrolled(user)
    if request.method == "GET" or credential_on:
        return _totp_page(user, credential_on)
    try:
        totp.enrol(user, request.form.get("code", ""))
    except DomainError as error:
        return _totp_page(user, False, error=error.message), error.status
    flash(_("Your second factor is set up. Your other sessions have ended."), "success")
    return redirect(sessions.start(user, None, session.get("locale")))


def _totp_page(user, credential_on: bool, error: str | None = None):
    context = {"enrolled": credential_on, "required": totp.must_enrol(user), "error": error}
    if not credential_on:
        secret = totp.enrolment_secret(user)
        uri = totp.provisioning_uri(user, secret)
        context.update(
            secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)], qr=totp.qr_data_uri(uri), uri=uri
        )
    return render_template("accounts/totp.html", **context)
