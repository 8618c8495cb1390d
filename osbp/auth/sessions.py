"""Starting a person's session, the second-factor step of the login, and where a fresh session lands."""

from __future__ import annotations

import time

from flask import session, url_for
from flask_login import login_user

from osbp.auth import access
from osbp.auth.models import COUNTRY_ROLES, User
from osbp.extensions import db
from osbp.web import local_path

SECOND_FACTOR_KEY = "second_factor"  # the password was right; the TOTP code is awaited: {"user", "at", "next"}
SECOND_FACTOR_SECONDS = 300


def start(user: User, next_target: str | None, locale: str | None) -> str:
    """A fresh session for ``user`` (nothing kept from before but the language chosen); where to go now."""
    session.clear()
    login_user(user, remember=False)
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now
    if locale and not user.locale:
        session["locale"] = locale
    return landing(user, next_target)


def landing(user: User, next_target: str | None) -> str:
    """A required step first (password change, second-factor enrolment); gate officers and committee members on
    their own page whatever ``next``; everybody else on ``next`` when it is a local path."""
    step = access.required_step(user)
    if step is not None:
        return url_for(step)
    if user.role in COUNTRY_ROLES:
        return access.home_url(user)
    return local_path(next_target, url_for("queues.home"))


def await_second_factor(user: User, next_target: str | None, locale: str | None) -> None:
    """The password was right and the user has a second factor: a fresh session that is not logged in yet."""
    session.clear()
    session[SECOND_FACTOR_KEY] = {"user": user.get_id(), "at": int(time.time()), "next": next_target or ""}
    if locale:
        session["locale"] = locale


def awaiting_second_factor() -> tuple[User, str] | None:
    """The user whose code is awaited (and the page they asked for), while the password step is recent and their
    sessions were not revoked since."""
    pending = session.get(SECOND_FACTOR_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int):
        return None
    if not 0 <= int(time.time()) - pending["at"] <= SECOND_FACTOR_SECONDS:
        return None
    try:
        user_id, version = (int(part) for part in str(pending.get("user")).split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version or user.is_device:
        return None
    return user, str(pending.get("next") or "")
