"""In-process limits for device and public endpoints: a token bucket per client and a memory of device POSTs.

Both live in the process, on purpose: with sticky sessions a kiosk always reaches the same instance, and a restart
only forgets a minute of history. Several instances therefore allow up to N times the rate in total.
"""

from __future__ import annotations

import math
import threading
import time

from flask import current_app


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
    """Idempotency keys of device POSTs: the first request with a key does the work, repeats get its result.

    A repeat that arrives while the first is still running waits for it (a double tap on a kiosk button).
    """

    def __init__(self, ttl_seconds: float = 600.0):
        self._entries: dict[str, tuple[float, threading.Event, list]] = {}
        self._lock = threading.Lock()
        self._ttl = ttl_seconds

    def claim(self, key: str) -> tuple[bool, threading.Event, list]:
        """(first, done, result): the first caller must call ``finish`` (even on failure)."""
        now = time.monotonic()
        with self._lock:
            for old, (at, _event, _result) in list(self._entries.items()):
                if now - at > self._ttl:
                    del self._entries[old]
            entry = self._entries.get(key)
            if entry is not None:
                return False, entry[1], entry[2]
            done, result = threading.Event(), []
            self._entries[key] = (now, done, result)
            return True, done, result

    def finish(self, key: str, value) -> None:
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


def status_limiter() -> TokenBucket:
    """The app's bucket for public lookups (ticket status, device links)."""
    return current_app.extensions.setdefault("osbp_status_limiter", TokenBucket())
