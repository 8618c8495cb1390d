"""Device accounts: display boards and kiosks.

A device is a ``User`` with role ``board`` or ``kiosk`` and an unusable password. It is set up once by opening
``/live/device#<token>`` (the link comes from ``flask --app osbp create-device``): the page posts the token (the part
after ``#`` never reaches the server in a URL, so never its access logs), which logs the browser in with a session
marked as a device session and redirects to the device's page.
Device sessions have no idle or absolute timeout (a board runs for weeks), but they die when the device's token is
revoked or its sessions are (``revoke_device``). Devices reach only their own pages and sockets (the role matrix, osbp/roles.py).
A kiosk whose set-up page is opened with ``?print=1`` prints every ticket it issues (``prints_tickets``; docs/live.md).
"""

from __future__ import annotations

import re
import secrets
import time

from flask import session
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select

from osbp.audit import operations as audit
from osbp.auth.models import DEVICE_ROLES, ApiToken, User
from osbp.auth.operations import _digest, create_token, revoke_sessions, revoke_tokens
from osbp.errors import Conflict, Invalid
from osbp.extensions import db

DEVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
SESSION_KEY = "device_token_id"
PRINT_KEY = "device_prints"  # a kiosk set up for silent printing (Chromium --kiosk --kiosk-printing)


def unusable_password_hash() -> str:
    """Not an argon2 hash, so no password ever verifies against it."""
    return "!device-" + secrets.token_hex(16)


def create_device(post, role: str, name: str) -> tuple[User, str]:
    """A new board or kiosk account at ``post`` and its device token (shown once; only its hash is stored)."""
    if role not in DEVICE_ROLES:
        raise Invalid(_("A device is a board or a kiosk."), code="invalid_device_role")
    name = (name or "").strip().lower()
    if not DEVICE_NAME.match(name):
        raise Invalid(
            _("A device name has 3 to 64 lowercase letters, digits or hyphens, e.g. board-hall-1."),
            code="invalid_device_name",
        )
    if db.session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(_("The name %(name)s is taken.", name=name), code="device_name_taken")
    user = User(
        post_id=post.id, username=name, full_name=name, role=role, password_hash=unusable_password_hash(), active=True
    )
    db.session.add(user)
    db.session.flush()
    token = create_token(name)
    audit.record("device.created", user=user, role=role)
    return user, token


def revoke_device(user: User, *, by: User | None = None) -> None:
    """The device's token, sessions and sockets stop working; set it up again with a new token. ``by`` is the admin
    who did it from the devices page (None from the command line)."""
    if not user.is_device:
        raise Invalid(_("%(name)s is not a device.", name=user.username), code="not_a_device")
    revoke_tokens(user)
    revoke_sessions(user)
    audit.record("device.revoked", user=user, **({"by": by.username, "by_id": by.id} if by else {}))


def device_for_token(token: str) -> tuple[User, ApiToken] | None:
    """The active device account holding this unrevoked token; officers' API tokens are not device tokens."""
    if not isinstance(token, str) or not 20 <= len(token) <= 128:
        return None
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active or not row.user.is_device:
        return None
    return row.user, row


def start_device_session(user: User, token: ApiToken, *, prints: bool = False) -> None:
    """A fresh session for the device, remembering which token opened it and whether a kiosk prints its tickets."""
    session.clear()
    login_user(user, remember=False)
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now
    session[SESSION_KEY] = token.id
    if prints and user.role == "kiosk":
        session[PRINT_KEY] = True
        audit.record("device.login", user=user, prints=True)
    else:
        audit.record("device.login", user=user)


def prints_tickets() -> bool:
    """This kiosk was set up for silent printing: its link was opened with ``?print=1``."""
    return session.get(PRINT_KEY) is True and is_device_session()


def is_device_session() -> bool:
    return SESSION_KEY in session


def device_session_valid() -> bool:
    """A device session lives as long as its token is not revoked and the account is still a device."""
    token_id = session.get(SESSION_KEY)
    if not isinstance(token_id, int) or not getattr(current_user, "is_device", False):
        return False
    row = db.session.get(ApiToken, token_id)
    return row is not None and row.user_id == current_user.id and row.revoked_at is None
