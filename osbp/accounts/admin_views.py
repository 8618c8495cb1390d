"""The admin's pages: the post's accounts (disable, enable, reset a password or a second factor) and its devices
(revoke). Admins only; a supervisor gets 403 (audited) — supervisors run the hall, admins manage accounts."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from osbp.accounts import operations
from osbp.accounts.blueprint import bp
from osbp.auth import totp
from osbp.permissions import ensure_admin
from osbp.web import form_action


def _admin():
    admin = current_user._get_current_object()
    ensure_admin(admin)  # Forbidden → 403, audited (osbp/web.py)
    return admin


def role_labels() -> dict[str, str]:
    return {
        "admin": _("Admin"),
        "supervisor": _("Supervisor"),
        "officer": _("Officer"),
        "gate": _("Gate officer"),
        "committee": _("Committee member"),
    }


@bp.route("/admin/accounts")
def admin_accounts():
    admin = _admin()
    return render_template(
        "accounts/admin_accounts.html",
        people=operations.accounts(admin),
        required_roles=totp.REQUIRED_ROLES,
        role_labels=role_labels(),
    )


def _account_action(action, done_message):
    admin = _admin()
    back = url_for("accounts.admin_accounts")

    def run():
        user = action(admin)
        flash(done_message(user), "success")
        return redirect(back)

    return form_action(run, back)


@bp.route("/admin/accounts/<int:user_id>/disable", methods=["POST"])
def disable(user_id: int):
    return _account_action(
        lambda admin: operations.disable(admin, user_id),
        lambda user: _("%(name)s is disabled; their sessions and API tokens have ended.", name=user.username),
    )


@bp.route("/admin/accounts/<int:user_id>/enable", methods=["POST"])
def enable(user_id: int):
    return _account_action(
        lambda admin: operations.enable(admin, user_id),
        lambda user: _("%(name)s can log in again.", name=user.username),
    )


@bp.route("/admin/accounts/<int:user_id>/reset-second-factor", methods=["POST"])
def reset_second_factor(user_id: int):
    return _account_action(
        lambda admin: operations.reset_second_factor(admin, user_id),
        lambda user: _("%(name)s sets up a second factor again at their next login.", name=user.username),
    )


@bp.route("/admin/accounts/<int:user_id>/reset-password", methods=["POST"])
def reset_password(user_id: int):
    """The temporary password is shown on this response only (not flashed, never stored in clear)."""
    admin = _admin()
    typed = request.form.get("password", "") or None

    def run():
        user, password = operations.reset_password(admin, user_id, typed)
        return render_template("accounts/password_reset.html", account=user, password=password)

    return form_action(run, url_for("accounts.admin_accounts"))


@bp.route("/admin/devices")
def devices():
    admin = _admin()
    return render_template("accounts/devices.html", devices=operations.device_list(admin))


@bp.route("/admin/devices/<int:user_id>/revoke", methods=["POST"])
def revoke_device(user_id: int):
    admin = _admin()
    back = url_for("accounts.devices")

    def run():
        device = operations.revoke_device(admin, user_id)
        flash(_("%(name)s is revoked; set it up again with a new link.", name=device.username), "success")
        return redirect(back)

    return form_action(run, back)
