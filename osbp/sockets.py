"""Socket.IO connection rules: authenticated at connect, deny by default.

Officers and supervisors join their post's room (and their agency's); nothing else is reachable yet.
Board and kiosk sockets (device tokens, public rooms without personal data) come with the live queues issue.
"""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import join_room

from osbp import events
from osbp.extensions import socketio
from osbp.web import session_expired


@socketio.on("connect")
def connect(auth=None):
    if not current_user.is_authenticated or not current_user.is_active or session_expired():
        return False  # refused: no anonymous or expired sessions
    join_room(events.user_room(current_user.id))
    join_room(events.post_room(current_user.post_id))
    if current_user.agency_id:
        join_room(events.agency_room(current_user.agency_id))
    return True
