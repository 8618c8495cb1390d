"""argon2id password hashing and the password policy.

Each hash takes 46 MiB for its length: at most ``OSBP_PASSWORD_HASH_SLOTS`` are computed at once in a process (a
semaphore, ``HashSlots``); a request that cannot get a slot within ``OSBP_PASSWORD_HASH_WAIT_SECONDS`` gets 429 with
Retry-After (``ServerBusy``) instead of the memory.

Policy: length 8–128, no composition rules; refused: a common password (zxcvbn's list of the 30,000 most common leaked
passwords, pinned in requirements.txt, plus a few local ones in common_passwords.txt), and a password equal to or
containing the account's username or the post's name or code (case, spaces and punctuation ignored).
"""

from __future__ import annotations

import functools
import math
import re
import threading
from contextlib import contextmanager
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _

from osbp.errors import Invalid, TooManyRequests

# 46 MiB, one pass, one lane: the OWASP argon2id minimum.
HASHER = PasswordHasher(time_cost=1, memory_cost=47104, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)
MIN_LENGTH, MAX_LENGTH = 8, 128
# Names shorter than this (after dropping spaces and punctuation) are not searched for inside a password.
MIN_NAME_LENGTH = 3
_LOCAL_LIST = Path(__file__).with_name("common_passwords.txt")
# Verifying against this keeps a failed login for an unknown user as slow as for a known one.
_DUMMY_HASH = HASHER.hash("osbp-dummy-password-for-timing")


class ServerBusy(TooManyRequests):
    """Every password-hashing slot stayed taken for the whole wait."""

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


@functools.cache
def common_passwords() -> frozenset[str]:
    """The refused passwords, lowercased: zxcvbn's "passwords" frequency list and the local additions."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    local = (line.strip() for line in _LOCAL_LIST.read_text(encoding="utf-8").splitlines())
    words = [*FREQUENCY_LISTS["passwords"], *(line for line in local if line and not line.startswith("#"))]
    return frozenset(word.lower() for word in words)


def _folded(text: str) -> str:
    """Lowercase letters and digits only: "Rusizi II" and "rusizi-ii!" both become "rusiziii"."""
    return re.sub(r"[\W_]+", "", (text or "").casefold())


def check_policy(password: str, *, username: str | None = None, post=None) -> None:
    """Raise Invalid (422) naming the rule the password breaks. ``username`` and ``post`` (a Post) are the account's,
    when known."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise Invalid(_("A password has 8 to 128 characters."), code="password_length")
    if password.lower() in common_passwords():
        raise Invalid(_("This password is too common. Choose another."), code="password_common")
    folded = _folded(password)
    name = _folded(username or "")
    if len(name) >= MIN_NAME_LENGTH and name in folded:
        raise Invalid(_("A password must not contain the username."), code="password_has_username")
    if post is not None:
        for part in (post.name_a, post.name_b, post.code):
            name = _folded(part)
            if len(name) >= MIN_NAME_LENGTH and name in folded:
                raise Invalid(
                    _("A password must not contain the post's name or code (%(name)s).", name=part),
                    code="password_has_post_name",
                )


def hash_password(password: str, *, username: str | None = None, post=None) -> str:
    check_policy(password, username=username, post=post)
    with _hashing():
        return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; an unknown user (None) costs a hash too. ServerBusy when no slot is free."""
    with _hashing():
        try:
            return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False
