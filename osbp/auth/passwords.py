"""argon2id password hashing and the password policy (length 8–128, no composition rules, common ones refused).

Each hash takes 46 MiB for its length: at most ``OSBP_PASSWORD_HASH_SLOTS`` are computed at once in a process (a
semaphore, ``HashSlots``); a request that cannot get a slot within ``OSBP_PASSWORD_HASH_WAIT_SECONDS`` gets 429 with
Retry-After (``ServerBusy``) instead of the memory.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _

from osbp.errors import DomainError, Invalid

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


class ServerBusy(DomainError):
    """Every password-hashing slot stayed taken for the whole wait."""

    status = 429
    code = "server_busy"


class HashSlots:
    """A process-wide cap on concurrent password hashes: ``size`` slots, each waited for at most ``wait_seconds``."""

    def __init__(self, size: int, wait_seconds: float):
        self.size = size
        self.wait_seconds = wait_seconds
        self._semaphore = threading.BoundedSemaphore(size)

    @contextmanager
    def slot(self):
        if not self._semaphore.acquire(timeout=self.wait_seconds):
            raise ServerBusy(
                _("The server is busy. Try again in a few seconds."),
                retry_after=max(1, math.ceil(self.wait_seconds)),
            )
        try:
            yield
        finally:
            self._semaphore.release()


def hash_slots() -> HashSlots:
    """The app's slots (one app per server process), made on first use from its configuration."""
    slots = current_app.extensions.get("osbp_hash_slots")
    if slots is None:
        config = current_app.config["OSBP"]
        slots = current_app.extensions.setdefault(
            "osbp_hash_slots", HashSlots(config.password_hash_slots, config.password_hash_wait_seconds)
        )
    return slots


@contextmanager
def _hashing():
    """A slot when an app is there (requests, CLI); none otherwise (module import: the dummy hash)."""
    if not has_app_context():
        yield
        return
    with hash_slots().slot():
        yield


def check_policy(password: str) -> None:
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise Invalid(_("A password has 8 to 128 characters."), code="password_length")
    if password.lower() in _COMMON:
        raise Invalid(_("This password is too common. Choose another."), code="password_common")


def hash_password(password: str) -> str:
    check_policy(password)
    with _hashing():
        return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; an unknown user (None) costs a hash too. ServerBusy when no slot is free."""
    with _hashing():
        try:
            return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False
