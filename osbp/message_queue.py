"""The Socket.IO message queue between instances (Redis), made to notice its own losses and to say so.

python-socketio's ``RedisManager`` is kept; this subclass changes three things:

- **Reconnect within about a second.** Its listener retried after 1, 2, 4, 8 … 60 s (a 20 s outage was noticed
  10.5 s late); here every retry waits at most ``RETRY_MAX_SECONDS`` (1 s), from ``RETRY_MIN_SECONDS``. The Redis
  clients do not retry or reconnect inside redis-py (``Retry(NoBackoff(), 0)``): a silent reconnection there would
  hide the loss.
- **Resync on return.** While the queue is down, emits reach the sockets of their own instance only (the manager
  handles them locally, then its publish gives up): every other instance misses them, and nothing replays them. So
  when the listener subscribes again after a loss, it sends ``resync`` to every socket of its instance; each live page
  then re-reads its snapshot (docs/live.md). When a publish had failed and a later one succeeds (a loss the listener
  may not have seen), ``resync`` is also published to the other instances.
- **Bounded waits.** Connecting to Redis times out after ``CONNECT_TIMEOUT_SECONDS`` and publishing after
  ``PUBLISH_TIMEOUT_SECONDS``, so a request that emits never hangs on an unreachable Redis; the listener's socket has
  TCP keep-alive.
"""

from __future__ import annotations

import logging
import threading
import time

from redis.backoff import NoBackoff
from redis.retry import Retry
from socketio import RedisManager

log = logging.getLogger(__name__)

RETRY_MIN_SECONDS = 0.1
RETRY_MAX_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 1.0
PUBLISH_TIMEOUT_SECONDS = 2.0
RESYNC_EVENT = "resync"


class ResyncingRedisManager(RedisManager):
    """``RedisManager`` with a bounded reconnect backoff and a ``resync`` to every local socket after a loss."""

    name = "redis"

    def __init__(self, url: str, channel: str = "osbp", write_only: bool = False, **kwargs):
        options = {
            "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "socket_keepalive": True,
            "retry": Retry(NoBackoff(), 0),
        }
        super().__init__(url, channel=channel, write_only=write_only, redis_options=options, **kwargs)
        self.queue_up = False  # the listener is subscribed
        self.losses = 0  # how often the listener lost the queue (for logs and tests)
        self.resyncs = 0  # how often it told its sockets to re-read
        self._publish_failed = False
        self._publish_client = None
        self._lock = threading.Lock()

    # -- publishing ----------------------------------------------------------------------------------------------

    def _publisher(self):
        """A client of its own for publishing (the listener's connection blocks on reads), reads bounded."""
        if getattr(self, "_publish_client", None) is None:
            self._publish_client = self._get_redis_module().Redis.from_url(
                self.redis_url, **self.redis_options, socket_timeout=PUBLISH_TIMEOUT_SECONDS
            )
        return self._publish_client

    def _publish(self, data):
        """Publish, one retry on a fresh connection; on failure log and give up (the emit already reached this
        instance's sockets). The first success after a failure also publishes ``resync`` to the other instances."""
        for attempt in (1, 2):
            try:
                result = self._publisher().publish(self.channel, self.json.dumps(data))
            except Exception as exc:  # noqa: BLE001 (any failure of the queue: retried once, then given up)
                self._publish_client = None
                if attempt == 2:
                    log.error("message queue: cannot publish, giving up (%s)", exc)
                    with self._lock:
                        self._publish_failed = True
                    return None
                continue
            with self._lock:
                recovered, self._publish_failed = self._publish_failed, False
            if recovered and data.get("event") != RESYNC_EVENT:
                log.warning("message queue: publishing again; asking every instance's pages to re-read")
                self._publish(self._resync_message())
            return result
        return None

    def _resync_message(self) -> dict:
        return {
            "method": "emit",
            "event": RESYNC_EVENT,
            "data": [{"reason": "message_queue"}],
            "binary": False,
            "namespace": "/",
            "room": None,
            "skip_sid": None,
            "callback": None,
            "host_id": self.host_id,
        }

    # -- listening -----------------------------------------------------------------------------------------------

    def _redis_listen_with_retries(self):
        retry = RETRY_MIN_SECONDS
        lost = False
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                self.queue_up = True
                retry = RETRY_MIN_SECONDS
                if lost:
                    lost = False
                    log.warning("message queue: back; telling this instance's pages to re-read")
                    self.resync_local()
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001 (the listener must survive any failure of the queue)
                self.queue_up = False
                if not lost:
                    lost = True
                    self.losses += 1
                    log.error("message queue: lost (%s); retrying every %.1f s at most", exc, RETRY_MAX_SECONDS)
                self._close_quietly()
                time.sleep(retry)
                retry = min(retry * 2, RETRY_MAX_SECONDS)

    def _close_quietly(self) -> None:
        for closable in (self.pubsub, self.redis):
            try:
                if closable is not None:
                    closable.close()
            except Exception:  # noqa: BLE001,S110 (already broken)
                pass

    def resync_local(self) -> None:
        """Tell every socket of this instance to re-read its page's snapshot (events may have been missed)."""
        self.resyncs += 1
        self.server.emit(RESYNC_EVENT, {"reason": "message_queue"}, namespace="/", ignore_queue=True)
