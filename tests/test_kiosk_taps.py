"""The kiosk's double-tap protection across instances: with Redis configured, a tap claimed on one instance is seen by
every other (``SharedOnceKeys``, one ``SET NX EX`` per key); without, each process keeps its own (``OnceKeys``).

Redis: OSBP_TEST_REDIS_URL (default ``redis://127.0.0.1:6379/14``). Under CI (env ``CI`` set), or when
OSBP_TEST_REDIS_URL names a Redis (.ci/run does), an unreachable Redis fails these tests; otherwise they skip.
"""

from __future__ import annotations

import secrets
import threading

import pytest

from osbp.live.kiosk import tap_keys_for
from osbp.live.limits import OnceKeys, SharedOnceKeys
from tests.conftest import REDIS_URL, require_redis
from tests.test_kiosk import _form, _tickets
from tests.test_live import _fresh_limits, device_client  # noqa: F401  (autouse fixture)


@pytest.fixture
def shared_prefix():
    """A key prefix of this test's own on a reachable Redis; its keys are deleted afterwards."""
    require_redis("shared kiosk taps")
    prefix = f"osbp-test-{secrets.token_hex(4)}:kiosk-tap:"
    yield prefix
    SharedOnceKeys(REDIS_URL, prefix).reset()


def _wait_in_thread(keys, key: str) -> tuple[threading.Thread, list]:
    seen: list = []
    thread = threading.Thread(target=lambda: seen.append(keys.wait(key, 5)))
    thread.start()
    return thread, seen


def test_two_instances_sharing_redis_see_each_others_tap(shared_prefix):
    one, other = SharedOnceKeys(REDIS_URL, shared_prefix), SharedOnceKeys(REDIS_URL, shared_prefix)
    assert one.claim("7:nonce-a") is True
    assert other.claim("7:nonce-a") is False  # the double tap reached the other instance
    thread, seen = _wait_in_thread(other, "7:nonce-a")
    thread.join(0.3)
    assert thread.is_alive()  # it waits for the first request ...
    one.finish("7:nonce-a", "T-007")
    thread.join(5)
    assert seen == ["T-007"]  # ... and gets its ticket
    assert other.claim("7:nonce-a") is False and other.wait("7:nonce-a", 1) == "T-007"
    assert other.claim("7:nonce-b") is True  # another key is another tap


def test_a_failed_first_request_frees_the_key_on_every_instance(shared_prefix):
    one, other = SharedOnceKeys(REDIS_URL, shared_prefix), SharedOnceKeys(REDIS_URL, shared_prefix)
    assert one.claim("7:nonce")
    thread, seen = _wait_in_thread(other, "7:nonce")
    one.finish("7:nonce", None)
    thread.join(5)
    assert seen == [None]  # the repeat goes back to the start screen
    assert other.claim("7:nonce") is True  # and the same key may be used again


def test_the_kiosk_issues_one_ticket_when_the_repeat_reaches_another_instance(app, shared_prefix):
    kiosk = device_client(app, "kiosk")
    body = _form(kiosk.get("/live/kiosk")) | {"direction": "RW-CD", "category": "trader", "lang": "en"}
    app.extensions["osbp_kiosk_posts"] = SharedOnceKeys(REDIS_URL, shared_prefix)
    first = kiosk.post("/live/kiosk/tickets", data=body)
    app.extensions["osbp_kiosk_posts"] = SharedOnceKeys(REDIS_URL, shared_prefix)  # another process: no memory
    try:
        again = kiosk.post("/live/kiosk/tickets", data=body)
    finally:
        del app.extensions["osbp_kiosk_posts"]
    assert first.location == again.location == "/live/kiosk?lang=en&ticket=T-001&issued=1"
    assert [t.code for t in _tickets(app)] == ["T-001"]


def test_redis_is_used_when_the_message_queue_is_a_redis(app):
    config = app.config["OSBP"]
    assert isinstance(tap_keys_for(config), OnceKeys)
    shared = tap_keys_for(config.replace(socketio_message_queue=REDIS_URL, socketio_channel="osbp-rusizi"))
    assert isinstance(shared, SharedOnceKeys) and shared._prefix == "osbp-rusizi:kiosk-tap:"


def test_in_the_process_a_repeat_waits_for_the_first_request():
    keys = OnceKeys()
    assert keys.claim("7:nonce") is True and keys.claim("7:nonce") is False
    thread, seen = _wait_in_thread(keys, "7:nonce")
    thread.join(0.2)
    assert thread.is_alive()
    keys.finish("7:nonce", "P-003")
    thread.join(5)
    assert seen == ["P-003"]


def test_without_redis_taps_go_on_unprotected():
    """A Redis outage must not stop the kiosk: every tap counts as a first one, nothing is recorded."""
    keys = SharedOnceKeys("redis://127.0.0.1:1/0", "osbp-test:kiosk-tap:")
    assert keys.claim("7:nonce") is True and keys.claim("7:nonce") is True
    keys.finish("7:nonce", "T-001")
    assert keys.wait("7:nonce", 1) is None
