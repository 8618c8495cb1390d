"""What the traffic simulator reads about the post, once: its step kinds, routes, open stations, officers by agency,
the entrance desk and gate officers, priority boosts, and who is seated or called now (``load_context``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select

from osbp.auth.models import User
from osbp.extensions import db
from osbp.post.models import Agency
from osbp.queues.models import Seat, Station, Ticket
from osbp.workflow.models import Route, StepKind


@dataclass(frozen=True)
class KindInfo:
    id: int
    agency: int
    control: str
    agency_kind: str
    country: str
    code: str


@dataclass(frozen=True)
class StationInfo:
    id: int
    code: str
    stage: str
    kinds: frozenset
    agencies: frozenset


@dataclass
class Context:
    """What the simulator needs to know about the post, read once."""

    post_id: int
    post_code: str
    zone: ZoneInfo
    countries: tuple[str, str]
    directions: tuple[str, str]
    routes: dict  # (direction, category) -> (route id, [KindInfo, ...])
    kinds: dict  # step kind id -> KindInfo
    stations: list  # [StationInfo], by id
    officers: dict  # agency id -> [user id, ...] by username
    agency_kinds: dict  # agency id -> "immigration" | "customs" | "health"
    desk_user: int | None  # who issues tickets at the entrance desk
    gate_officers: dict  # country -> user id
    boosts: dict  # priority kind -> seconds
    max_recalls: int
    open_seat_users: set = field(default_factory=set)  # officers seated now (one open seat each)
    busy_stations: set = field(default_factory=set)  # stations with a ticket called now (one at a time)

    def station(self, code: str) -> StationInfo:
        return next(s for s in self.stations if s.code == code)


def load_context(post, config) -> Context:
    agencies = {a.id: a for a in db.session.scalars(select(Agency).where(Agency.post_id == post.id))}
    kinds = {}
    for kind in db.session.scalars(select(StepKind).where(StepKind.post_id == post.id)):
        agency = agencies[kind.agency_id]
        kinds[kind.id] = KindInfo(kind.id, agency.id, kind.control, agency.kind, agency.country, kind.code)
    routes = {}
    for route in db.session.scalars(select(Route).where(Route.post_id == post.id)):
        if route.steps:
            routes[(route.direction, route.category)] = (route.id, [kinds[s.step_kind_id] for s in route.steps])
    stations = []
    for station in db.session.scalars(
        select(Station).where(Station.post_id == post.id, Station.is_open.is_(True)).order_by(Station.id)
    ):
        served = frozenset(k.id for k in station.step_kinds)
        stations.append(
            StationInfo(station.id, station.code, station.stage, served, frozenset(kinds[k].agency for k in served))
        )
    users = list(
        db.session.scalars(select(User).where(User.post_id == post.id, User.active.is_(True)).order_by(User.username))
    )
    officers: dict[int, list[int]] = {}
    for user in users:
        if user.is_officer:
            officers.setdefault(user.agency_id, []).append(user.id)
    desk = next((u.id for u in users if u.role == "supervisor"), None)
    gates: dict[str, int] = {}
    for user in users:
        if user.role == "gate" and user.country:
            gates.setdefault(user.country, user.id)
    open_seats = set(db.session.scalars(select(Seat.user_id).where(Seat.left_at.is_(None))))
    busy = set(db.session.scalars(select(Ticket.station_id).where(Ticket.status == "called")))
    return Context(
        post_id=post.id,
        post_code=post.code,
        zone=ZoneInfo(post.timezone),
        countries=post.countries,
        directions=post.directions,
        routes=routes,
        kinds=kinds,
        stations=stations,
        officers=officers,
        agency_kinds={a.id: a.kind for a in agencies.values()},
        desk_user=desk,
        gate_officers=gates,
        boosts={
            kind: 60.0 * config.priority_boost(kind) for kind in ("elderly", "pregnant", "disabled", "with_infant")
        },
        max_recalls=config.max_recalls,
        open_seat_users=open_seats,
        busy_stations=busy,
    )
