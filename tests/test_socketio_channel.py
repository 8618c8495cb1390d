"""OSBP_SOCKETIO_CHANNEL: the message queue's pub/sub channel, one per deployment sharing a Redis server."""

from __future__ import annotations

from osbp import create_app
from osbp.config import Config
from osbp.extensions import socketio
from osbp.message_queue import ResyncingRedisManager


def test_channel_defaults_to_osbp_and_follows_the_environment(tmp_path):
    assert Config.from_env(str(tmp_path), {}).socketio_channel == "osbp"
    assert Config.from_env(str(tmp_path), {"OSBP_SOCKETIO_CHANNEL": ""}).socketio_channel == "osbp"
    assert Config.from_env(str(tmp_path), {"OSBP_SOCKETIO_CHANNEL": "osbp-rusizi"}).socketio_channel == "osbp-rusizi"


def _init_app_options(monkeypatch, tmp_path, **config) -> dict:
    seen = {}
    monkeypatch.setattr(socketio, "init_app", lambda app, **options: seen.update(options))
    create_app(
        {"env": "testing", "database_url": f"sqlite:///{tmp_path / 'c.sqlite3'}", "secret_key": "t" * 40, **config}
    )
    return seen


def test_channel_is_given_to_the_message_queue(monkeypatch, tmp_path):
    options = _init_app_options(
        monkeypatch, tmp_path, socketio_message_queue="redis://127.0.0.1:6379/0", socketio_channel="osbp-rusizi"
    )
    assert options["message_queue"] == "redis://127.0.0.1:6379/0"
    # Redis goes through osbp/message_queue.py's manager (bounded reconnects, resync), on the configured channel.
    assert isinstance(options["client_manager"], ResyncingRedisManager)
    assert options["client_manager"].channel == "osbp-rusizi"
    options = _init_app_options(monkeypatch, tmp_path, socketio_message_queue="redis://127.0.0.1:6379/0")
    assert options["client_manager"].channel == "osbp"


def test_no_message_queue_no_channel(monkeypatch, tmp_path):
    options = _init_app_options(monkeypatch, tmp_path)
    assert options["message_queue"] is None
    assert "channel" not in options
    assert options["client_manager"] is None  # not a manager left by an earlier app in the process
