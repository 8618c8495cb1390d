"""Limits for device and public endpoints: a token bucket per client and a memory of device POSTs.

The token bucket lives in the process, on purpose: with sticky sessions a kiosk always reaches the same instance, and
a restart only forgets a minute of history. Several instances therefore allow up to N times the rate in total.
The memory of device POSTs (``OnceKeys``) is in the process too, unless Redis is configured: then ``SharedOnceKeys``
keeps it in Redis, so that a repeat reaching another instance still finds the first request.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import redis
from flask import current_app

logger = logging.getLogger(__name__)
ONCE_TTL_SECONDS = 600.0  # how long a device POST's key is remembered


class TokenBucket:
    """``rate`` requests per minute per key, bursts up to ``rate``; refilled continuously."""

    def __init__(self, max_keys: int = 10_000):
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def take(self, key: str, rate: int, now: float | None = None) -> float:
        """0 when the request may go on, else the seconds to wait before the next one will be allowed."""
        now = time.monotonic() if now is None else now
        per_second = rate / 60.0
        with self._lock:
            tokens, updated = self._buckets.get(key, (float(rate), now))
            tokens = min(float(rate), tokens + (now - updated) * per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self._max_keys:
                    self._prune(now, per_second, rate)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / per_second

    def _prune(self, now: float, per_second: float, rate: int) -> None:
        """Forget clients whose bucket is full again: they are indistinguishable from new ones."""
        for key, (tokens, updated) in list(self._buckets.items()):
            if tokens + (now - updated) * per_second >= rate:
                del self._buckets[key]

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


class OnceKeys:
    """Idempotency keys of device POSTs, in the process: the first request with a key does the work, repeats get its
    result.

    A repeat that arrives while the first is still running waits for it (a double tap on a kiosk button).
    """

    def __init__(self, ttl_seconds: float = ONCE_TTL_SECONDS):
        self._entries: dict[str, tuple[float, threading.Event, list]] = {}
        self._lock = threading.Lock()
        self._ttl = ttl_seconds

    def claim(self, key: str) -> bool:
        """True for the first caller, who must then call ``finish`` (even on failure); False for a repeat."""
        now = time.monotonic()
        with self._lock:
            for old, (at, _event, _result) in list(self._entries.items()):
                if now - at > self._ttl:
                    del self._entries[old]
            if key in self._entries:
                return False
            self._entries[key] = (now, threading.Event(), [])
            return True

    def wait(self, key: str, timeout: float) -> str | None:
        """The first request's result, once it is there; None if it failed, is forgotten or takes longer than this."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        _at, done, result = entry
        done.wait(timeout)
        return result[0] if result else None

    def finish(self, key: str, value: str | None) -> None:
        """Record the result of the first request (None on failure: the key may be used again)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return
            if value is None:
                del self._entries[key]
            else:
                entry[2].append(value)
            entry[1].set()

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()


class SharedOnceKeys:
    """``OnceKeys`` kept in Redis, for several instances: one ``SET … NX EX`` claims a key for all of them.

    The value is ``PENDING`` while the first request runs, then its result; a failure deletes the key. A repeat polls
    until the value changes. If Redis does not answer, requests go on unprotected (a trader still gets a ticket; a
    double tap during the outage may give two) and the error is logged.
    """

    PENDING = "-"

    def __init__(self, url: str, prefix: str, ttl_seconds: float = ONCE_TTL_SECONDS, poll_seconds: float = 0.05):
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, decode_responses=True)
        self._prefix = prefix
        self._ttl = max(1, math.ceil(ttl_seconds))
        self._poll = poll_seconds

    def claim(self, key: str) -> bool:
        try:
            return bool(self._redis.set(self._prefix + key, self.PENDING, nx=True, ex=self._ttl))
        except redis.RedisError as error:
            logger.warning("once keys: Redis unavailable, %s goes on unprotected: %s", key, error)
            return True

    def wait(self, key: str, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        try:
            while (value := self._redis.get(self._prefix + key)) == self.PENDING and time.monotonic() < deadline:
                time.sleep(self._poll)
        except redis.RedisError as error:
            logger.warning("once keys: Redis unavailable while waiting for %s: %s", key, error)
            return None
        return None if value == self.PENDING else value

    def finish(self, key: str, value: str | None) -> None:
        try:
            if value is None:
                self._redis.delete(self._prefix + key)
            else:
                self._redis.set(self._prefix + key, value, ex=self._ttl)
        except redis.RedisError as error:
            logger.warning("once keys: Redis unavailable, %s not recorded: %s", key, error)

    def reset(self) -> None:
        """Forget this app's keys (tests)."""
        keys = list(self._redis.scan_iter(match=self._prefix + "*", count=500))
        if keys:
            self._redis.delete(*keys)


def status_limiter() -> TokenBucket:
    """The app's bucket for public lookups (ticket status, device links)."""
    return current_app.extensions.setdefault("osbp_status_limiter", TokenBucket())
