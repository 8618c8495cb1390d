"""Failure counters shared by every instance: the login limits per account and per address, and the rate of
denial audit rows (docs/login.md).

Each ``take`` is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (PostgreSQL, SQLite ≥ 3.35): it counts the attempt
and returns the new count in the same statement, so N parallel attempts get N different counts and at most ``limit``
of them are allowed, whatever the number of threads, processes or instances. It runs on its own connection and
commits at once, outside the request's transaction: no row lock is held while a password hash is verified, and a
count survives a request that fails or rolls back.

A row counts the attempts of one window (``window_seconds`` from the first). When the count reaches ``lock_at`` the
key is locked for ``lock_seconds``: every attempt until then is refused (and counted, but the lock is not extended, so
an attacker cannot keep the real user out for ever). The lock ends by itself, or when ``clear`` deletes the row.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from osbp.auth.models import LoginThrottle
from osbp.extensions import db
from osbp.types import UTCDateTime, utcnow

logger = logging.getLogger(__name__)
TABLE = LoginThrottle.__table__
ACCOUNT, ADDRESS, AUDIT, PASSWORD_CHANGE = "account:", "address:", "audit:", "password_change:"
PRUNE_ONE_IN = 64  # about one take in this many also deletes rows whose window and lock are long over
PRUNE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Count:
    failures: int  # attempts counted in the window, this one included
    locked_until: datetime | None
    allowed: bool  # this attempt may go on (the count is within the limit)

    def retry_after(self, now: datetime) -> float:
        """Seconds until the key may be tried again (0 when it is not locked)."""
        if self.locked_until is None:
            return 0.0
        return max(0.0, (self.locked_until - now).total_seconds())


def take(key: str, limit: int, *, window_seconds: int, lock_seconds: int, lock_at: int | None = None) -> Count:
    """Count one attempt for ``key``; allowed while the window's count is at most ``limit``.

    ``lock_at`` (default ``limit``): the count that locks the key for ``lock_seconds``; no lock when that is 0.
    """
    now = utcnow()
    lock_at = (limit if lock_at is None else lock_at) if lock_seconds > 0 else None
    until = now + timedelta(seconds=lock_seconds)
    stale = now - timedelta(seconds=window_seconds)
    c = TABLE.c
    at_now, at_until = literal(now, UTCDateTime()), literal(until, UTCDateTime())
    locked = and_(c.locked_until.is_not(None), c.locked_until > now)
    fresh = or_(and_(c.locked_until.is_(None), c.window_start <= stale), c.locked_until <= now)
    count = case((fresh, 1), else_=c.failures + 1)
    new_lock = case((locked, c.locked_until), (count >= lock_at, at_until), else_=None) if lock_at else None
    with db.engine.begin() as connection:
        insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert
        statement = (
            insert(TABLE)
            .values(key=key, window_start=now, failures=1, locked_until=until if lock_at and lock_at <= 1 else None)
            .on_conflict_do_update(
                index_elements=[c.key],
                set_={
                    "window_start": case((fresh, at_now), else_=c.window_start),
                    "failures": count,
                    "locked_until": new_lock,
                },
            )
            .returning(c.failures, c.locked_until)
        )
        failures, locked_until = connection.execute(statement).one()
    if secrets.randbelow(PRUNE_ONE_IN) == 0:
        prune(now)
    return Count(failures, locked_until, failures <= limit)


def refund(key: str) -> None:
    """Take back one attempt (it was not a failure: the password was right, or it was never checked)."""
    with db.engine.begin() as connection:
        connection.execute(
            update(TABLE).where(TABLE.c.key == key, TABLE.c.failures > 0).values(failures=TABLE.c.failures - 1)
        )


def clear(key: str) -> None:
    """Forget the key's failures and lock, on the request's own connection (committed with the request)."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def forget(key: str) -> None:
    """Forget the key's failures and lock at once (a successful login), on its own connection."""
    with db.engine.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.key == key))


def locked(prefix: str) -> list[LoginThrottle]:
    """The keys starting with ``prefix`` locked now, soonest unlocked first."""
    return list(
        db.session.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.key.startswith(prefix, autoescape=True), LoginThrottle.locked_until > utcnow())
            .order_by(LoginThrottle.locked_until, LoginThrottle.key)
        )
    )


def prune(now: datetime) -> None:
    """Delete rows whose window started long ago and whose lock (if any) is over; errors are only logged."""
    try:
        with db.engine.begin() as connection:
            connection.execute(
                delete(TABLE).where(
                    TABLE.c.window_start < now - PRUNE_AFTER,
                    or_(TABLE.c.locked_until.is_(None), TABLE.c.locked_until <= now),
                )
            )
    except SQLAlchemyError as error:  # a busy database: the next prune will do
        logger.warning("login throttles not pruned: %s", error)
