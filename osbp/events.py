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


def flush() -> list[tuple[str, dict, tuple[str, ...]]]:
    """Emit queued events. Called by the request/CLI after commit."""
    pending = g.pop("osbp_pending_events", [])
    for event_type, data, rooms in pending:
        for room in rooms:
            socketio.emit("event", {"type": event_type, "data": data}, to=room)
    return pending


def post_room(post_id: int) -> str:
    return f"post:{post_id}"


def station_room(station_id: int) -> str:
    return f"station:{station_id}"


def agency_room(agency_id: int) -> str:
    return f"agency:{agency_id}"
