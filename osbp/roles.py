"""The role matrix: which role may reach which endpoint and which Socket.IO event. Deny by default.

One line per endpoint: ``"blueprint.view": roles allowed``. An endpoint missing here is refused to everyone (403,
audited) and tests/test_role_matrix.py fails naming it. osbp/web.py enforces the matrix before any view runs (one
place); osbp/sockets.py before any socket handler. The finer checks — agency, post, seat, the ticket called at one's
own counter — stay in osbp/permissions.py and the operations. The same matrix, as a table, is in docs/security.md.

- officer: the counters of their agency, the desk, tickets and stations of the hall, re-admissions of their agency;
- supervisor: runs the hall — live view, station controls, ticket actions, the desk, reports;
- admin: manages accounts, devices, fees and settings, reads reports (and the audit page); does NOT run the hall;
- gate: the exit gate; committee: the bilateral reports; board, kiosk: their own page (devices).
"""

from __future__ import annotations

from osbp.auth.models import ROLES

ANONYMOUS = "anonymous"  # nobody logged in
OFFICER, SUPERVISOR, ADMIN, GATE, COMMITTEE, BOARD, KIOSK = (
    "officer",
    "supervisor",
    "admin",
    "gate",
    "committee",
    "board",
    "kiosk",
)
assert set(ROLES) == {OFFICER, SUPERVISOR, ADMIN, GATE, COMMITTEE, BOARD, KIOSK}  # noqa: S101 (a new role needs a row)

PUBLIC = frozenset({ANONYMOUS, *ROLES})  # anyone, logged in or not
LOGGED_IN = frozenset(ROLES)  # every account
PEOPLE = frozenset({OFFICER, SUPERVISOR, ADMIN, GATE, COMMITTEE})  # accounts of persons (not devices)
HALL = frozenset({OFFICER, SUPERVISOR})  # the hall's staff
OFFICERS = frozenset({OFFICER})
SUPERVISORS = frozenset({SUPERVISOR})
ADMINS = frozenset({ADMIN})
REPORT_READERS = frozenset({COMMITTEE, SUPERVISOR, ADMIN})

ENDPOINT_ROLES: dict[str, frozenset[str]] = {
    # -- public: the login, languages, the device set-up page, a ticket's public status, static files, health
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.set_language": PUBLIC,
    "auth.login_code": PUBLIC,  # the second step of a login: needs a recent right password (osbp/auth/sessions.py)
    "api.openapi": PUBLIC,
    "queues.health": PUBLIC,
    "live.device_setup": PUBLIC,
    "live.device_login": PUBLIC,
    "api.ticket_status": PUBLIC,
    "live.phone": PUBLIC,
    "live.phone_status": PUBLIC,
    # -- every account
    "queues.home": LOGGED_IN,  # each role's own start page (HOME_ENDPOINTS), the hall's otherwise
    "auth.logout": PEOPLE,
    "accounts.password": PEOPLE,  # one's own password
    "accounts.totp": PEOPLE,  # one's own second factor
    # -- the entrance desk and the hall's tickets
    "queues.desk": HALL,
    "queues.issue_ticket": HALL,
    "api.create_ticket": HALL,
    "api.get_ticket": HALL,
    "queues.set_priority": HALL,
    "api.set_priority": HALL,
    "queues.move_ticket": HALL,
    "api.transfer_ticket": HALL,
    "queues.crossing": HALL,
    "api.get_crossing": HALL,
    # -- stations: the overview and the station controls (officers only at their own seat: permissions.py)
    "queues.stations": HALL,
    "api.list_stations": HALL,
    "api.queue_waits": HALL,
    "queues.confirm_close": HALL,
    "queues.open_station": HALL,
    "queues.pause_station": HALL,
    "queues.close_station": HALL,
    "api.open_station": HALL,
    "api.pause_station": HALL,
    "api.close_station": HALL,
    "queues.transfer_called": HALL,
    "api.transfer_called": HALL,
    # -- the counter: officers seated at it
    "queues.counters": OFFICERS,
    "queues.take_seat": OFFICERS,
    "api.take_seat": OFFICERS,
    "queues.leave_seat": OFFICERS,
    "queues.counter": OFFICERS,
    "queues.counter_live": OFFICERS,
    "queues.call_next": OFFICERS,
    "api.call_next": OFFICERS,
    "queues.recall": OFFICERS,
    "api.recall": OFFICERS,
    "queues.no_show": OFFICERS,
    "api.no_show": OFFICERS,
    "queues.start_service": OFFICERS,
    "api.start_service": OFFICERS,
    "api.finish_service": OFFICERS,
    "queues.decide": OFFICERS,
    "api.decide": OFFICERS,
    "immigration.record_identity": OFFICERS,
    "immigration_api.api_record_identity": OFFICERS,
    # -- re-admissions: recorded by the exit country's officers (supervisors see them in the live view)
    "queues.readmissions_block": OFFICERS,
    "queues.record_readmission": OFFICERS,
    "api.record_readmission": OFFICERS,
    # -- the supervisors' live view and its station controls
    "live.supervisor": SUPERVISORS,
    "live.supervisor_panel": SUPERVISORS,
    "live.station_action": SUPERVISORS,
    # -- devices
    "live.board": frozenset({BOARD}),
    "api.board": frozenset({BOARD, OFFICER, SUPERVISOR}),
    "live.kiosk": frozenset({KIOSK}),
    "live.kiosk_issue": frozenset({KIOSK}),
    # -- the exit gate
    "gate.page": frozenset({GATE}),
    "gate.scan": frozenset({GATE}),
    "gate.api_exit": frozenset({GATE}),
    # -- accounts: login lockouts (supervisors of the post for its officers; admins for everyone)
    "auth.lockouts": frozenset({SUPERVISOR, ADMIN}),
    "auth.unlock": frozenset({SUPERVISOR, ADMIN}),
    # -- the audit log (read only): supervisors (their post's events) and admins
    "audit.events": frozenset({SUPERVISOR, ADMIN}),
    # -- accounts and devices: admins only
    "accounts.admin_accounts": ADMINS,
    "accounts.disable": ADMINS,
    "accounts.enable": ADMINS,
    "accounts.reset_password": ADMINS,
    "accounts.reset_second_factor": ADMINS,
    "accounts.devices": ADMINS,
    "accounts.revoke_device": ADMINS,
    # -- the bilateral reports (aggregates only)
    "bilateral.reports": REPORT_READERS,
    "bilateral.generate": REPORT_READERS,
    "bilateral.report_api": REPORT_READERS,
}

# Where "/" sends a role that does not work in the hall.
HOME_ENDPOINTS = {
    GATE: "gate.page",
    COMMITTEE: "bilateral.reports",
    ADMIN: "accounts.admin_accounts",
    BOARD: "live.board",
    KIOSK: "live.kiosk",
}

# Socket.IO events (osbp/sockets.py) and who may send them; the rooms each role joins at connect are in sockets.py.
SOCKET_EVENTS: dict[str, frozenset[str]] = {
    "connect": LOGGED_IN,  # everyone joins their own room (so that a revocation closes the socket)
    "watch": frozenset({KIOSK}),  # a kiosk follows one ticket's public room
}
POST_ROOM_ROLES = HALL  # join the post's and their agency's rooms: every ticket event, with its data
SUPERVISOR_ROOM_ROLES = SUPERVISORS  # also the post's supervisor room, and a station's room on request


def role_of(user) -> str:
    """The matrix's name for ``user``: its role, or ``anonymous``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    return user.role


def is_public(endpoint: str | None) -> bool:
    return ANONYMOUS in ENDPOINT_ROLES.get(endpoint or "", ())


def public_endpoints() -> frozenset[str]:
    return frozenset(endpoint for endpoint, roles in ENDPOINT_ROLES.items() if ANONYMOUS in roles)


def may_reach(user, endpoint: str | None) -> bool:
    """Deny by default: whether ``user`` (or nobody, when anonymous) may reach ``endpoint``."""
    return role_of(user) in ENDPOINT_ROLES.get(endpoint or "", ())


def may_send(user, event: str) -> bool:
    """Deny by default: whether ``user`` may send the Socket.IO ``event`` (connect included)."""
    return role_of(user) in SOCKET_EVENTS.get(event, ())
