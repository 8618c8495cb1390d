"""Login, logout, session revocation and API tokens. Operations never commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from osbp import events
from osbp.audit import operations as audit
from osbp.audit.models import AuditEvent
from osbp.auth.models import ApiToken, User
from osbp.auth.passwords import hash_password, verify_password
from osbp.config import SUPPORTED_LOCALES
from osbp.errors import Conflict, Invalid, NotFound
from osbp.extensions import db
from osbp.types import utcnow


class LoginThrottled(Conflict):
    status = 429
    code = "too_many_attempts"


def recent_failures(username: str) -> int:
    since = utcnow() - timedelta(minutes=1)
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "auth.login",
            AuditEvent.outcome == "failed",
            AuditEvent.username == username,
            AuditEvent.at >= since,
        )
    )


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right, the account active and not throttled; audits every attempt."""
    username = (username or "").strip().lower()[:64]
    limit = current_app.config["OSBP"].login_attempts_per_minute
    if recent_failures(username) >= limit:
        audit.record("auth.login", "throttled", username=username)
        raise LoginThrottled(_("Too many failed attempts. Wait a minute and try again."))
    user = db.session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or not user.active:
        audit.record("auth.login", "failed", username=username, user=user if ok else None)
        return None
    audit.record("auth.login", user=user)
    return user


def revoke_sessions(user: User) -> None:
    """Every session and socket minted before now is dead."""
    user.session_version += 1
    events.disconnect_user(user.id)


def change_password(user: User, new_password: str) -> None:
    """New hash; every session, socket and API token of the user stops working."""
    user.password_hash = hash_password(new_password, username=user.username, post=user.post)
    user.must_change_password = False
    revoke_sessions(user)
    revoke_tokens(user)
    audit.record("auth.password_changed", user=user)


def change_own_password(user: User, current: str, new: str, confirm: str) -> None:
    """The user's own change (/account/password): the current password first, then the new one twice. Wrong current
    passwords are audited and limited like logins; the caller starts a fresh session afterwards."""
    if _recent_change_failures(user) >= current_app.config["OSBP"].login_attempts_per_minute:
        audit.record("auth.password_changed", "throttled", user=user)
        raise LoginThrottled(_("Too many failed attempts. Wait a minute and try again."))
    if not verify_password(user.password_hash, current or ""):
        audit.record("auth.password_changed", "failed", user=user)
        raise Invalid(_("Your current password is wrong."), code="wrong_current_password")
    if (new or "") != (confirm or ""):
        raise Invalid(_("The new password and its confirmation differ."), code="password_mismatch")
    if new == current:
        raise Invalid(_("Choose a new password, not the current one."), code="password_unchanged")
    change_password(user, new)


def _recent_change_failures(user: User) -> int:
    since = utcnow() - timedelta(minutes=1)
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "auth.password_changed",
            AuditEvent.outcome == "failed",
            AuditEvent.user_id == user.id,
            AuditEvent.at >= since,
        )
    )


def revoke_tokens(user: User) -> None:
    now = utcnow()
    for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now


def disable_user(user: User, *, by: User | None = None) -> None:
    """The account can no longer log in; its sessions, sockets and API tokens stop working (for good: enabling it
    again does not bring the tokens back). ``by`` is the admin who did it, when not the command line."""
    user.active = False
    revoke_sessions(user)
    revoke_tokens(user)
    audit.record("auth.user_disabled", user=user, **_by(by))


def enable_user(user: User, *, by: User | None = None) -> None:
    user.active = True
    audit.record("auth.user_enabled", user=user, **_by(by))


def _by(admin: User | None) -> dict:
    """Audit detail naming who acted on the account (never a secret)."""
    return {"by": admin.username, "by_id": admin.id} if admin is not None else {}


def set_locale(user: User, locale: str) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise Invalid(_("Unknown language."), code="invalid_locale")
    user.locale = locale


def create_token(username: str) -> str:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(_("No user %(username)s.", username=username), code="user_not_found")
    token = "osbp_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(token)))
    audit.record("auth.token_created", user=user)
    return token


def user_for_token(token: str) -> User | None:
    """The active user holding this unrevoked token (one statement), else None."""
    return db.session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None), User.active.is_(True))
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
