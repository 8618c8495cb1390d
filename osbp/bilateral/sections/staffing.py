"""Counter staffing: the hours each station had at least one officer seated (overlapping seats counted once), and
per agency the officers' seated hours, their serving hours (the processing time of the agency's stage visits) and
occupancy = serving ÷ seated. A seat still open counts until now; seats are clipped to the period."""

from __future__ import annotations

from sqlalchemy import DateTime, case, func, literal, select

from osbp.auth.models import User
from osbp.bilateral.query import is_postgres, seconds
from osbp.extensions import db
from osbp.post.models import Agency
from osbp.queues.models import Seat, Station
from osbp.types import utcnow

KEY = "staffing"


def _at(value):
    return literal(value.replace(tzinfo=None), DateTime())


def _later(a, b):
    return func.greatest(a, b) if is_postgres() else func.max(a, b)


def _earlier(a, b):
    return func.least(a, b) if is_postgres() else func.min(a, b)


def _seats(scope, now):
    start, end = _at(scope.start), _at(min(scope.end, now))
    left = func.coalesce(Seat.left_at, _at(now))
    return (
        select(
            Seat.station_id,
            Seat.user_id,
            _later(Seat.seated_at, start).label("begins"),
            _earlier(left, end).label("ends"),
        )
        .join(Station, Station.id == Seat.station_id)
        .where(Station.post_id == scope.post_id, Seat.seated_at < end, left > start)
        .subquery("seats_in_period")
    )


def station_hours(scope, now) -> dict[int, float]:
    """Per station, the union of its seats' intervals (gaps and islands), in hours."""
    seats = _seats(scope, now)
    order = (seats.c.begins, seats.c.ends)
    reach = func.max(seats.c.ends).over(partition_by=seats.c.station_id, order_by=order, rows=(None, -1))
    marked = select(seats.c.station_id, seats.c.begins, seats.c.ends, reach.label("reach")).subquery("marked")
    starts_island = case((marked.c.reach.is_(None) | (marked.c.begins > marked.c.reach), 1), else_=0)
    island = func.sum(starts_island).over(
        partition_by=marked.c.station_id, order_by=(marked.c.begins, marked.c.ends), rows=(None, 0)
    )
    numbered = select(marked.c.station_id, marked.c.begins, marked.c.ends, island.label("island")).subquery("islands")
    spans = (
        select(
            numbered.c.station_id,
            seconds(func.max(numbered.c.ends), func.min(numbered.c.begins)).label("span"),
        )
        .group_by(numbered.c.station_id, numbered.c.island)
        .subquery("spans")
    )
    query = select(spans.c.station_id, func.sum(spans.c.span)).group_by(spans.c.station_id)
    return {station_id: float(total or 0) / 3600 for station_id, total in db.session.execute(query)}


def agency_hours(scope, now) -> dict[tuple[str, str], float]:
    """(country, agency kind) → the seated hours of its officers (two officers for an hour: two hours)."""
    seats = _seats(scope, now)
    query = (
        select(Agency.country, Agency.kind, func.sum(seconds(seats.c.ends, seats.c.begins)))
        .select_from(seats)
        .join(User, User.id == seats.c.user_id)
        .join(Agency, Agency.id == User.agency_id)
        .group_by(Agency.country, Agency.kind)
    )
    return {(c, k): float(total or 0) / 3600 for c, k, total in db.session.execute(query)}


def compute(context) -> dict:
    scope, now = context.scope, context.now or utcnow()
    by_station = station_hours(scope, now)
    seated = agency_hours(scope, now)
    serving: dict[tuple[str, str], float] = {}
    for (country, kind, _stage), figures in context.cache.get("processing_by_stage", {}).items():
        serving[(country, kind)] = serving.get((country, kind), 0.0) + float(figures["sum"] or 0) / 3600
    stations = db.session.scalars(select(Station).where(Station.post_id == scope.post_id).order_by(Station.code))
    return {
        "stations": [
            {"code": s.code, "name": s.name, "stage": s.stage, "staffed_hours": round(by_station.get(s.id, 0.0), 1)}
            for s in stations
        ],
        "agencies": [
            {
                "country": country,
                "agency": kind,
                "staffed_hours": round(seated.get((country, kind), 0.0), 1),
                "serving_hours": round(serving.get((country, kind), 0.0), 1),
                "occupancy": _ratio(serving.get((country, kind), 0.0), seated.get((country, kind), 0.0)),
            }
            for country, kind in context.agency_keys()
        ],
    }


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None
