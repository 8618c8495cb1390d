"""Login, logout, session revocation and API tokens. Operations never commit."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from flask_babel import format_date, format_datetime, format_time
from flask_babel import gettext as _
from sqlalchemy import select

from osbp import events
from osbp.audit import operations as audit
from osbp.auth import throttle
from osbp.auth.models import ApiToken, LoginThrottle, User
from osbp.auth.passwords import ServerBusy, hash_password, verify_password
from osbp.config import SUPPORTED_LOCALES
from osbp.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from osbp.extensions import db
from osbp.types import utcnow


class LoginThrottled(TooManyRequests):
    pass


WINDOW_SECONDS = 60  # the login limits count failures per minute
DENIAL_AUDIT_SECONDS = 60  # at most one audit row per address, action and outcome in this time (denials only)


def authenticate(username: str, password: str, address: str | None = None) -> User | None:
    """The user if the password is right and the account active; audits every attempt (docs/login.md).

    Before any hash is computed the attempt is counted, atomically, for the remote address and then for the account;
    over either limit it is refused (LoginThrottled, 429) without touching the password. A right password forgets
    the account's failures; ServerBusy (429) when no hashing slot frees up in time (the attempt is then not counted).
    """
    config = current_app.config["OSBP"]
    username = (username or "").strip().lower()[:64]
    address_key = throttle.ADDRESS + (address or "-")
    account_key = throttle.ACCOUNT + username
    by_address = throttle.take(
        address_key,
        config.login_attempts_per_address_per_minute,
        window_seconds=WINDOW_SECONDS,
        lock_seconds=WINDOW_SECONDS,
        lock_at=config.login_attempts_per_address_per_minute + 1,
    )
    if not by_address.allowed:
        audit_denial("auth.login", "throttled", username=username, limit="address")
        raise _throttled(
            by_address, lambda time: _("Too many failed logins from this address. Try again after %(time)s.", time=time)
        )
    by_account = throttle.take(
        account_key,
        config.login_attempts_per_minute,
        window_seconds=WINDOW_SECONDS,
        lock_seconds=config.login_lockout_minutes * 60,
    )
    if not by_account.allowed:
        audit_denial("auth.login", "throttled", username=username, limit="account")
        raise _throttled(by_account, lambda time: _("Too many failed attempts. Try again after %(time)s.", time=time))
    user = db.session.scalar(select(User).where(User.username == username))
    try:
        ok = verify_password(user.password_hash if user else None, password or "")
    except ServerBusy:
        throttle.refund(address_key)
        throttle.refund(account_key)
        audit_denial("auth.login", "busy", username=username)
        raise
    if not ok or not user.active:
        # a known account's failures show on its post's audit page; an unknown username (maybe a password typed in
        # the wrong field) only on the admins'
        audit.record(
            "auth.login", "failed", username=username, user=user if ok else None, post=user.post if user else None
        )
        return None
    throttle.refund(address_key)
    throttle.forget(account_key)
    audit.record("auth.login", user=user)
    return user


def _throttled(count: throttle.Count, message) -> LoginThrottled:
    """The refusal, saying in the user's language and time zone when to try again."""
    now = utcnow()
    until = count.locked_until or now + timedelta(seconds=WINDOW_SECONDS)
    local_day = format_date(until) == format_date(now)
    time = format_time(until, "short") if local_day else format_datetime(until, "short")
    retry_after = max(1, math.ceil((until - now).total_seconds()))
    return LoginThrottled(message(time), retry_after=retry_after, locked_until=until)


def audit_denial(action: str, outcome: str = "denied", *, username: str | None = None, **detail) -> bool:
    """Audit a refused request at most once per remote address, action and outcome a minute (counted atomically,
    like the login limits): a flood of bad requests cannot flood the log. Whether a row was written."""
    address = request.remote_addr if has_request_context() else None
    key = f"{throttle.AUDIT}{action}.{outcome}:{address or '-'}"
    if not throttle.take(key, 1, window_seconds=DENIAL_AUDIT_SECONDS, lock_seconds=0).allowed:
        return False
    audit.record(action, outcome, username=username, **detail)
    return True


@dataclass(frozen=True)
class Lockout:
    user: User
    locked_until: datetime
    failures: int


def may_unlock(viewer: User, user: User) -> bool:
    """Admins unlock anyone; supervisors the accounts of their own post, admins' excepted."""
    if viewer.role == "admin":
        return True
    return viewer.role == "supervisor" and user.post_id == viewer.post_id and user.role != "admin"


def locked_accounts(viewer: User) -> list[Lockout]:
    """The accounts locked now that ``viewer`` may unlock, soonest unlocked first (unknown usernames left out)."""
    rows = throttle.locked(throttle.ACCOUNT)
    names = [row.key.removeprefix(throttle.ACCOUNT) for row in rows]
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))} if names else {}
    lockouts = []
    for name, row in zip(names, rows, strict=True):
        user = users.get(name)
        if user is not None and may_unlock(viewer, user):
            lockouts.append(Lockout(user, row.locked_until, row.failures))
    return lockouts


def unlock(viewer: User, username: str) -> User:
    """End the lock on ``username`` now (audited: who unlocked whom)."""
    username = (username or "").strip().lower()[:64]
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(_("No user %(username)s.", username=username), code="user_not_found")
    if not may_unlock(viewer, user):
        raise Forbidden(_("You cannot unlock this account."), code="not_your_account")
    key = throttle.ACCOUNT + username
    row = db.session.get(LoginThrottle, key)
    if row is None or row.locked_until is None or row.locked_until <= utcnow():
        raise Conflict(_("%(username)s is not locked.", username=username), code="not_locked")
    throttle.clear(key)
    audit.record(
        "auth.unlocked", user=viewer, obj=user, unlocked=user.username, locked_until=row.locked_until.isoformat()
    )
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
    key = f"{throttle.PASSWORD_CHANGE}{user.id}"
    count = throttle.take(
        key, current_app.config["OSBP"].login_attempts_per_minute, window_seconds=WINDOW_SECONDS, lock_seconds=0
    )
    if not count.allowed:  # counted atomically before the hash, like logins
        audit.record("auth.password_changed", "throttled", user=user)
        raise LoginThrottled(_("Too many failed attempts. Wait a minute and try again."))
    if not verify_password(user.password_hash, current or ""):
        audit.record("auth.password_changed", "failed", user=user)
        raise Invalid(_("Your current password is wrong."), code="wrong_current_password")
    throttle.refund(key)
    if (new or "") != (confirm or ""):
        raise Invalid(_("The new password and its confirmation differ."), code="password_mismatch")
    if new == current:
        raise Invalid(_("Choose a new password, not the current one."), code="password_unchanged")
    change_password(user, new)


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
