"""The admin's account management: list, disable, enable, reset a password or a second factor, revoke a device.

Every action is for admins of the same post (osbp.permissions.ensure_admin), kills the account's sessions, sockets
and API tokens where it takes a power away, and is audited with who did it (``by``). Operations never commit.
"""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from osbp.audit import operations as audit
from osbp.auth import operations as auth
from osbp.auth import totp
from osbp.auth.models import DEVICE_ROLES, ApiToken, TotpCredential, User
from osbp.auth.passwords import check_policy, hash_password
from osbp.errors import Conflict, DomainError, NotFound
from osbp.extensions import db
from osbp.live import devices
from osbp.permissions import ensure_admin

ROLE_ORDER = ("admin", "supervisor", "officer", "gate", "committee")
# Temporary passwords: no look-alike characters (0/o, 1/l/i), read aloud or copied by hand; 16 of 31 ≈ 79 bits.
_PLAIN = "abcdefghjkmnpqrstuvwxyz23456789"


def accounts(admin: User) -> list[tuple[User, bool]]:
    """The post's people (devices apart), each with whether a second factor is set up."""
    ensure_admin(admin)
    enrolled = set(db.session.scalars(select(TotpCredential.user_id)))
    people = db.session.scalars(
        select(User).where(User.post_id == admin.post_id, User.role.not_in(DEVICE_ROLES)).order_by(User.username)
    )
    ranked = sorted(people, key=lambda u: (ROLE_ORDER.index(u.role) if u.role in ROLE_ORDER else 99, u.username))
    return [(user, user.id in enrolled) for user in ranked]


def device_list(admin: User) -> list[tuple[User, bool]]:
    """The post's boards and kiosks, each with whether it holds a live (unrevoked) token."""
    ensure_admin(admin)
    live = set(db.session.scalars(select(ApiToken.user_id).where(ApiToken.revoked_at.is_(None))))
    rows = db.session.scalars(
        select(User).where(User.post_id == admin.post_id, User.role.in_(DEVICE_ROLES)).order_by(User.username)
    )
    return [(device, device.id in live) for device in rows]


def account(admin: User, user_id: int, *, device: bool = False) -> User:
    """A person's (or, with ``device``, a device's) account at the admin's post; 404 for anything else."""
    ensure_admin(admin)
    user = db.session.get(User, user_id)
    if user is None or user.post_id != admin.post_id or user.is_device != device:
        raise NotFound(_("No such account at this post."), code="user_not_found")
    return user


def _not_self(admin: User, user: User) -> None:
    if user.id == admin.id:
        raise Conflict(_("You cannot do this to your own account; ask another admin."), code="own_account")


def disable(admin: User, user_id: int) -> User:
    user = account(admin, user_id)
    _not_self(admin, user)
    auth.disable_user(user, by=admin)
    return user


def enable(admin: User, user_id: int) -> User:
    user = account(admin, user_id)
    auth.enable_user(user, by=admin)
    return user


def new_temporary_password(user: User) -> str:
    """A random password that passes the policy (shown once to the admin)."""
    while True:
        password = "-".join("".join(secrets.choice(_PLAIN) for _ in range(4)) for _group in range(4))
        try:
            check_policy(password, username=user.username, post=user.post)
        except DomainError:
            continue
        return password


def reset_password(admin: User, user_id: int, typed: str | None = None) -> tuple[User, str]:
    """Set a temporary password (the admin's, or a random one) that the person must change at their next login;
    every session, socket and API token of theirs dies. The password is returned to be shown once, never stored."""
    user = account(admin, user_id)
    _not_self(admin, user)
    password = typed if typed else new_temporary_password(user)
    user.password_hash = hash_password(password, username=user.username, post=user.post)
    user.must_change_password = True
    auth.revoke_sessions(user)
    auth.revoke_tokens(user)
    audit.record("auth.password_reset", user=user, by=admin.username, by_id=admin.id, typed=bool(typed))
    return user, password


def reset_second_factor(admin: User, user_id: int) -> User:
    """Forget the person's TOTP second factor (a lost phone): they enrol again at their next login."""
    user = account(admin, user_id)
    _not_self(admin, user)
    if not totp.remove(user):
        raise Conflict(_("%(name)s has no second factor to reset.", name=user.username), code="no_second_factor")
    auth.revoke_sessions(user)
    auth.revoke_tokens(user)
    audit.record("auth.totp_reset", user=user, by=admin.username, by_id=admin.id)
    return user


def revoke_device(admin: User, user_id: int) -> User:
    device = account(admin, user_id, device=True)
    devices.revoke_device(device, by=admin)
    return device
