"""TOTP second factor (RFC 6238, pyotp): enrolment, the login code, replay and guess limits. Operations never commit.

The secret is encrypted with a key derived from the app's secret key (Fernet, AES-128-CBC + HMAC-SHA256): a copy of
the database alone does not give the codes, and changing OSBP_SECRET_KEY means every enrolled user enrols again (an
admin resets their second factor). The secret offered while enrolling is derived from the secret key and the account's
state, so showing the enrolment page stores nothing; it is stored only once a code from it is confirmed. The secret
never goes to a log or the audit trail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import timedelta

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, or_, update

from osbp.audit import operations as audit
from osbp.auth.models import TotpCredential, User
from osbp.errors import Conflict, DomainError, Invalid, TooManyRequests
from osbp.extensions import db
from osbp.types import utcnow

STEP_SECONDS = 30
CODE = re.compile(r"^[0-9]{6}$")
# Roles that must have a second factor when OSBP_TOTP_REQUIRED is on (the default). Any other person may enrol.
REQUIRED_ROLES = ("supervisor", "admin")


class WrongCode(DomainError):
    status = 401
    code = "wrong_code"


class CodeThrottled(TooManyRequests):
    pass


def _fernet() -> Fernet:
    key = hashlib.sha256(b"osbp totp secret v1\0" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str | None:
    """The secret, or None when it was encrypted under another secret key."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def enrolled(user: User) -> bool:
    return db.session.get(TotpCredential, user.id) is not None


def must_enrol(user: User) -> bool:
    """A supervisor or admin without a second factor while the policy requires one."""
    required = current_app.config["OSBP"].totp_required
    return required and user.role in REQUIRED_ROLES and not enrolled(user)


def enrolment_secret(user: User) -> str:
    """The secret the enrolment page offers: the same on every reload, new after any password change, session
    revocation or reset (it depends on the password hash and the session version)."""
    material = f"osbp-totp-enrol|{user.id}|{user.session_version}|{user.password_hash}".encode()
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), material, hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=f"osbp {user.post.code}")


def qr_data_uri(uri: str) -> str:
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def current_step() -> int:
    return int(utcnow().timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str) -> int | None:
    """The time-step (now, or one either side for clock drift) whose code is ``code``."""
    code = re.sub(r"\s+", "", code or "")
    if not CODE.match(code):
        return None
    totp, now = pyotp.TOTP(secret), current_step()
    for step in (now, now - 1, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enrol(user: User, code: str) -> None:
    """Store the enrolment secret once ``code`` proves the user's app holds it; every other session of the user ends
    (the caller starts a fresh one)."""
    from osbp.auth.operations import revoke_sessions

    if enrolled(user):
        raise Conflict(_("Your second factor is already set up."), code="totp_enrolled")
    secret = enrolment_secret(user)
    step = _matching_step(secret, code)
    if step is None:
        raise Invalid(_("Wrong code. Enter the 6 digits your authenticator app shows now."), code="wrong_code")
    db.session.add(
        TotpCredential(
            user_id=user.id, secret_encrypted=encrypt_secret(secret), enabled_at=utcnow(), last_step=step, attempts=0
        )
    )
    revoke_sessions(user)
    audit.record("auth.totp_enrolled", user=user)


def verify_login_code(user: User, code: str) -> None:
    """Accept ``code`` for ``user``'s login or raise: WrongCode (401) for a wrong or already used code, CodeThrottled
    (429) past OSBP_LOGIN_ATTEMPTS_PER_MINUTE codes in a minute. Each try is counted in the same UPDATE that reads the
    count, and a code is accepted by an UPDATE that only moves ``last_step`` forward: two requests never both pass."""
    now = utcnow()
    limit = current_app.config["OSBP"].login_attempts_per_minute
    fresh = or_(TotpCredential.window_at.is_(None), TotpCredential.window_at < now - timedelta(minutes=1))
    row = db.session.execute(
        update(TotpCredential)
        .where(TotpCredential.user_id == user.id)
        .values(
            attempts=case((fresh, 1), else_=TotpCredential.attempts + 1),
            window_at=case((fresh, now), else_=TotpCredential.window_at),
        )
        .returning(TotpCredential.attempts, TotpCredential.secret_encrypted)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    wrong = _("Wrong code. Enter the 6 digits your authenticator app shows now.")
    if row is None:
        audit.record("auth.second_factor", "failed", user=user)
        raise WrongCode(wrong)
    if row.attempts > limit:
        audit.record("auth.second_factor", "throttled", user=user)
        raise CodeThrottled(_("Too many wrong codes. Wait a minute and try again."))
    secret = decrypt_secret(row.secret_encrypted)
    step = _matching_step(secret, code) if secret else None
    if step is None:
        audit.record("auth.second_factor", "failed", user=user)
        raise WrongCode(wrong)
    accepted = db.session.execute(
        update(TotpCredential)
        .where(
            TotpCredential.user_id == user.id,
            or_(TotpCredential.last_step.is_(None), TotpCredential.last_step < step),
        )
        .values(last_step=step, attempts=0, window_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if accepted != 1:
        audit.record("auth.second_factor", "replayed", user=user)
        raise WrongCode(_("This code was used already. Wait for the next code and enter it."), code="code_used")
    audit.record("auth.second_factor", user=user)


def remove(user: User) -> bool:
    """Forget the user's second factor (an admin's reset); whether there was one."""
    credential = db.session.get(TotpCredential, user.id)
    if credential is None:
        return False
    db.session.delete(credential)
    return True
