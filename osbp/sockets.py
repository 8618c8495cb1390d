"""Socket.IO connection rules: authenticated at connect, deny by default (the role matrix, osbp/roles.py:
``SOCKET_EVENTS`` says who may send which event, ``POST_ROOM_ROLES`` and ``SUPERVISOR_ROOM_ROLES`` who joins which room).

- Everyone joins their own room (so that a revocation closes the socket).
- Officers and supervisors (the hall) join their post's room and their agency's; supervisors also the post's
  supervisor room. Admins do not run the hall: their own room only.
- A station's room (``station:<id>``: the joint counter's two officers see each other's calls and decisions) is joined
  by the officers seated at that station when the socket connects, and by a supervisor of the station's post
  who asks for it (``io({auth: {station: <id>}})``). Nobody else: an officer who asks for another station, a gate
  officer, a committee member or a device is not put in it. An officer who leaves the seat keeps the room until the
  counter page notices (its next refresh is refused and it reloads, which closes the socket).
- Board devices join their own room and the post's public board room, nothing else.
- Gate officers, committee members and admins join their own room only.
- Kiosk devices join their own room; after a status lookup they ``watch`` one ticket's public room.
- Sockets never send anything that changes state; the only client event is ``watch`` (kiosks).
"""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import join_room, leave_room, rooms

from osbp import events, roles
from osbp.extensions import socketio
from osbp.web import session_expired


def _allowed(event: str) -> bool:
    """Authenticated, active, not expired, and the role matrix lets this role send ``event``."""
    return (
        current_user.is_authenticated
        and current_user.is_active
        and not session_expired()
        and roles.may_send(current_user, event)
    )


@socketio.on("connect")
def connect(auth=None):
    if not _allowed("connect"):
        return False  # refused: no anonymous or expired sessions
    join_room(events.user_room(current_user.id))  # so that a revocation closes this socket
    from osbp.auth.access import required_step

    if required_step(current_user) is not None:
        return True  # a reset password to change or a second factor to set up first: their own room only
    if current_user.role == roles.BOARD:
        join_room(events.board_room(current_user.post_id))
    if current_user.role not in roles.POST_ROOM_ROLES:
        return True  # devices, gate officers, committee members, admins: no post room
    join_room(events.post_room(current_user.post_id))
    if current_user.agency_id:
        join_room(events.agency_room(current_user.agency_id))
    if current_user.role in roles.SUPERVISOR_ROOM_ROLES:
        join_room(events.supervisor_room(current_user.post_id))
    station_id = station_to_follow(current_user, auth)
    if station_id is not None:
        join_room(events.station_room(station_id))
    return True


def station_to_follow(user, auth) -> int | None:
    """The station whose room this socket joins: an officer's own seat; the station a supervisor of its post asks for."""
    from osbp import permissions
    from osbp.extensions import db
    from osbp.queues.models import Station

    if user.is_officer:
        return permissions.seated_station_id(user)
    asked = auth.get("station") if isinstance(auth, dict) else None
    if not user.is_supervisor or isinstance(asked, bool) or not isinstance(asked, int):
        return None
    station = db.session.get(Station, asked)
    return station.id if station is not None and station.post_id == user.post_id else None


@socketio.on("watch")
def watch(data=None):
    """A kiosk follows one ticket (its public room: codes and station names only), leaving the one before."""
    from osbp.live.operations import normalise_code

    if not _allowed("watch"):
        return {"ok": False}
    code = normalise_code(data.get("code")) if isinstance(data, dict) else None
    for room in rooms():
        if room.startswith("ticket:"):
            leave_room(room)
    if code is None:
        return {"ok": False}
    join_room(events.ticket_room(current_user.post_id, code))
    return {"ok": True, "code": code}
