"""Real-time events: queued during the request, emitted only after a successful commit.

Messages are small ``{"type", "data"}`` dicts sent to rooms:

- ``user:<id>``: one account's sockets (session revoked);
- ``post:<id>``: the post's officers and supervisors;
- ``station:<id>``, ``agency:<id>``: one counter, one agency;
- ``supervisor:<post_id>``: supervisors' live view (queue changes, station changes);
- ``board:<post_id>`` (**public**): the display boards of a post;
- ``ticket:<post_id>:<code>`` (**public**): a kiosk showing one ticket's status.

Public rooms never receive personal data: before a message reaches a public room its ``data`` is cut down to
``PUBLIC_KEYS`` (ticket codes, station ids and names, statuses, counts, waits). Publish ticket events with
``post_rooms(post_id)`` (post and board) and ``ticket_room(post_id, code)`` so boards and kiosks get them.

**Sequence** (``osbp/sequence.py``, docs/live.md "Snapshots, sequence and resync"): before the commit, ``stamp``
gives every post the request published events for its next number; each message then carries it,
``{"type", "data", "seq"}``. So that a live page sees every number of its post and can tell a missed event (a gap)
from one it was not meant to see, the post's staff room and its board room each get ``{"type": "sync", "seq"}`` when
none of the request's events reached them. Events of no post (``session.revoked``) carry no number.
"""

from __future__ import annotations

import re

from flask import g

from osbp.extensions import socketio

PUBLIC_ROOM_PREFIXES = ("board:", "ticket:")
# The only keys a public room (board, kiosk) ever receives.
PUBLIC_KEYS = frozenset(
    {"code", "station", "station_id", "station_code", "status", "stage", "recall", "recalls", "waiting", "wait_minutes"}
)


# Rooms that name their post: post:<id>, board:<id>, supervisor:<id>, ticket:<id>:<code>.
_POST_ROOM = re.compile(r"^(?:post|board|supervisor|ticket):(\d+)(?::|$)")


def publish(event_type: str, data: dict, *rooms: str, post_id: int | None = None) -> None:
    """Queue an event; nothing leaves the process unless the request commits.

    ``post_id``: the post the event is about, when none of the rooms names it (``station:``, ``agency:`` only).
    """
    g.setdefault("osbp_pending_events", []).append((event_type, data, rooms))
    posts = g.setdefault("osbp_pending_posts", set())
    if post_id is not None:
        posts.add(post_id)
    posts.update(post for post in map(room_post, rooms) if post is not None)


def room_post(room: str) -> int | None:
    """The post a room belongs to, when its name says it."""
    match = _POST_ROOM.match(room)
    return int(match[1]) if match else None


def stamp() -> dict[int, int]:
    """Before the commit: the next live number of every post this request published events for (post id → seq).

    The request's last statement (osbp/web.py), so the sequence row's lock is held only for the commit.
    """
    from osbp import sequence

    posts = g.get("osbp_pending_posts")
    numbers = sequence.advance(posts) if posts and g.get("osbp_pending_events") else {}
    g.osbp_event_seqs = numbers
    return numbers


def discard() -> None:
    g.pop("osbp_pending_events", None)
    g.pop("osbp_pending_disconnects", None)
    g.pop("osbp_pending_posts", None)
    g.pop("osbp_event_seqs", None)


def disconnect_user(user_id: int) -> None:
    """After commit, close every socket of this user (logout, password change, disabled account)."""
    publish("session.revoked", {}, user_room(user_id))
    g.setdefault("osbp_pending_disconnects", []).append(user_id)


def public_data(data: dict) -> dict:
    """The part of ``data`` a public room may see."""
    return {key: value for key, value in data.items() if key in PUBLIC_KEYS}


def is_public_room(room: str) -> bool:
    return room.startswith(PUBLIC_ROOM_PREFIXES)


def flush() -> list[tuple[str, dict, tuple[str, ...]]]:
    """Emit queued events. Called by the request/CLI after commit."""
    pending = g.pop("osbp_pending_events", [])
    g.pop("osbp_pending_posts", None)
    numbers = g.pop("osbp_event_seqs", None) or {}
    reached = set()
    for event_type, data, rooms in pending:
        # One emit per audience: a socket in several of the rooms gets the message once (a supervisor is in the
        # post room and the supervisor room), and a message queue carries two messages, not one per room.
        rooms = list(dict.fromkeys(rooms))
        reached.update(rooms)
        seq = _seq_of(rooms, numbers)
        extra = {} if seq is None else {"seq": seq}
        staff = [room for room in rooms if not is_public_room(room)]
        public = [room for room in rooms if is_public_room(room)]
        if staff:
            socketio.emit("event", {"type": event_type, "data": data, **extra}, to=staff)
        if public:
            socketio.emit("event", {"type": event_type, "data": public_data(data), **extra}, to=public)
    for post_id, seq in sorted(numbers.items()):
        missed = [room for room in (post_room(post_id), board_room(post_id)) if room not in reached]
        if missed:
            socketio.emit("event", {"type": "sync", "data": {}, "seq": seq}, to=missed)
    for user_id in g.pop("osbp_pending_disconnects", []):
        room = user_room(user_id)
        for sid, _eio_sid in list(socketio.server.manager.get_participants("/", room)):
            socketio.server.disconnect(sid, namespace="/")
    return pending


def _seq_of(rooms: list[str], numbers: dict[int, int]) -> int | None:
    """The number an event carries: its post's (an event names one post; with none named, the request's only one)."""
    for room in rooms:
        post = room_post(room)
        if post is not None:
            return numbers.get(post)
    return next(iter(numbers.values())) if len(numbers) == 1 else None


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def post_room(post_id: int) -> str:
    return f"post:{post_id}"


def board_room(post_id: int) -> str:
    """Public: the post's display boards."""
    return f"board:{post_id}"


def supervisor_room(post_id: int) -> str:
    return f"supervisor:{post_id}"


def ticket_room(post_id: int, code: str) -> str:
    """Public: kiosks (and later phones) following one ticket. Codes restart every day and per post."""
    return f"ticket:{post_id}:{code}"


def post_rooms(post_id: int) -> tuple[str, str]:
    """The post's staff and its display boards: where ticket events (issued, called, recalled …) go."""
    return (post_room(post_id), board_room(post_id))


def station_room(station_id: int) -> str:
    return f"station:{station_id}"


def agency_room(agency_id: int) -> str:
    return f"agency:{agency_id}"
