"""argon2id password hashing and the password policy (length 8–128, no composition rules, common ones refused)."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from osbp.errors import Invalid

# 46 MiB, one pass, one lane: the OWASP argon2id minimum.
HASHER = PasswordHasher(time_cost=1, memory_cost=47104, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
MIN_LENGTH, MAX_LENGTH = 8, 128
_COMMON = frozenset(
    line.strip().lower()
    for line in (Path(__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
# Verifying against this keeps a failed login for an unknown user as slow as for a known one.
_DUMMY_HASH = HASHER.hash("osbp-dummy-password-for-timing")


def check_policy(password: str) -> None:
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise Invalid(_("A password has 8 to 128 characters."), code="password_length")
    if password.lower() in _COMMON:
        raise Invalid(_("This password is too common. Choose another."), code="password_common")


def hash_password(password: str) -> str:
    check_policy(password)
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
