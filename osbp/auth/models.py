"""User and API token models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from osbp.extensions import db
from osbp.post.models import Agency, Post
from osbp.types import UTCDateTime, utcnow

# Device accounts (display boards, kiosks) have no usable password: they log in with a device token
# (flask --app osbp create-device) and reach only their own live page (deny by default, osbp/web.py).
DEVICE_ROLES = ("board", "kiosk")
# Gate officers scan gate passes at the exit gate; committee members (Joint Border Committee) read the bilateral
# reports and nothing personal. Both belong to one country (``User.country``) and reach only their own pages.
COUNTRY_ROLES = ("gate", "committee")
ROLES = ("officer", "supervisor", "admin", *COUNTRY_ROLES, *DEVICE_ROLES)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    # For gate officers and committee members: the country they serve (ISO 3166 alpha-2).
    country: Mapped[str | None] = mapped_column(String(2))
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on logout, password change or disable: every session minted before is dead.
    session_version: Mapped[int] = mapped_column(default=1)
    # Set when an admin resets the password: the next login leads to the password change page and nowhere else.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    post: Mapped[Post] = relationship()
    agency: Mapped[Agency | None] = relationship(lazy="joined")

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_officer(self) -> bool:
        return self.role == "officer" and self.agency_id is not None

    @property
    def is_device(self) -> bool:
        return self.role in DEVICE_ROLES

    @property
    def is_supervisor(self) -> bool:
        """Runs the hall. Admins do not (they manage accounts, devices, fees and settings): osbp/roles.py."""
        return self.role == "supervisor"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class ApiToken(db.Model):
    """A bearer token for API clients. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """A failure counter: one row per key (``account:<username>``, ``address:<ip>``, ``audit:<action>:<ip>``).

    Written only by osbp/auth/throttle.py, in one INSERT … ON CONFLICT DO UPDATE … RETURNING that counts and answers
    in the same statement, on its own connection (committed at once, outside the request's transaction).
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class TotpCredential(db.Model):
    """A user's TOTP second factor (RFC 6238, 30 s steps). The secret is stored encrypted (osbp/auth/totp.py) and
    shown only while enrolling. ``last_step`` is the time-step of the last code accepted: a code is good once.
    ``attempts`` counts the codes tried since ``window_at`` (one minute), so wrong codes meet a limit."""

    __tablename__ = "totp_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(default=0)
    window_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
