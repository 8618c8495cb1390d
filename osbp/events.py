"""Real-time events: queued during the request, emitted only after a successful commit.

Messages are small ``{"type", "data"}`` dicts sent to rooms (post, station, ticket, agency).
Public rooms (boards, kiosks) must only ever receive ticket codes and station names.
"""

from __future__ import annotations

from flask import g

from osbp.extensions import socketio


def publish(event_type: str, data: dict, *rooms: str) -> None:
    """Queue an event; nothing leaves the process unless the request commits."""
    g.setdefault("osbp_pending_events", []).append((event_type, data, rooms))


def discard() -> None:
    g.pop("osbp_pending_events", None)
    g.pop("osbp_pending_disconnects", None)


def disconnect_user(user_id: int) -> None:
    """After commit, close every socket of this user (logout, password change, disabled account)."""
    publish("session.revoked", {}, user_room(user_id))
    g.setdefault("osbp_pending_disconnects", []).append(user_id)


def flush() -> list[tuple[str, dict, tuple[str, ...]]]:
    """Emit queued events. Called by the request/CLI after commit."""
    pending = g.pop("osbp_pending_events", [])
    for event_type, data, rooms in pending:
        for room in rooms:
            socketio.emit("event", {"type": event_type, "data": data}, to=room)
    for user_id in g.pop("osbp_pending_disconnects", []):
        room = user_room(user_id)
        for sid, _eio_sid in list(socketio.server.manager.get_participants("/", room)):
            socketio.server.disconnect(sid, namespace="/")
    return pending


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def post_room(post_id: int) -> str:
    return f"post:{post_id}"


def station_room(station_id: int) -> str:
    return f"station:{station_id}"


def agency_room(agency_id: int) -> str:
    return f"agency:{agency_id}"
