"""The kiosk's one write: taking a ticket, once per tap.

The kiosk page's form carries a one-time key (its nonce). The first request with a key issues the ticket; a repeat
(a double tap, a resubmission) gets the same ticket code, or waits for it while the first is still running. The keys
are kept in Redis when the Socket.IO message queue is a Redis (several instances then share them), else in the process.
Like the other operations, nothing here commits.
"""

from __future__ import annotations

from flask import current_app

from osbp.config import Config
from osbp.live.limits import OnceKeys, SharedOnceKeys
from osbp.queues import operations as queues

REPEAT_WAIT_SECONDS = 5  # how long a repeat waits for the first request before going back to the start screen


def tap_keys_for(config: Config) -> OnceKeys | SharedOnceKeys:
    """Redis when the message queue is one (keys under the deployment's channel), else the process's memory."""
    url = config.socketio_message_queue
    if url.startswith(("redis://", "rediss://")):
        return SharedOnceKeys(url, prefix=f"{config.socketio_channel}:kiosk-tap:")
    return OnceKeys()


def tap_keys() -> OnceKeys | SharedOnceKeys:
    """The app's tap keys, made on first use."""
    keys = current_app.extensions.get("osbp_kiosk_posts")
    if keys is None:  # setdefault: two first requests at once still share one
        keys = current_app.extensions.setdefault("osbp_kiosk_posts", tap_keys_for(current_app.config["OSBP"]))
    return keys


def take_ticket(device, nonce: str, direction: str, category: str) -> str | None:
    """The code of the ticket this tap took at the kiosk ``device``.

    The first request with ``nonce`` issues a new ticket (a domain error goes up and frees the key for another try);
    a repeat returns the first one's code, or None when the first failed or did not finish in time.
    """
    keys = tap_keys()
    key = f"{device.id}:{nonce}"
    if not keys.claim(key):
        return keys.wait(key, REPEAT_WAIT_SECONDS)
    code = None
    try:
        code = queues.issue_ticket(device.post, direction, category, issued_by=None, channel="kiosk").code
        return code
    finally:
        keys.finish(key, code)
