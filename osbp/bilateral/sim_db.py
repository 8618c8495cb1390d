"""The traffic simulator's side of the database: what it reads about the post (``load_context``) and how it writes
a day of rows in bulk (``Writer``).

Ids are never assumed small or dense: each table's block of ids is taken from its own sequence after whatever rows
exist. On PostgreSQL a short transaction of its own locks the table against inserts (SHARE ROW EXCLUSIVE: readers
go on), moves the sequence past the block with ``setval`` and commits at once; the rows then go in with COPY FROM
STDIN (text format) in the caller's transaction, one statement per table fed from a thread while the next lines
are formatted. When the role may (a superuser), the COPY runs without the per-row foreign-key triggers, which are
most of its cost, and the references of the new rows are checked in bulk before the commit
(``Writer._check_references``). On SQLite the caller's transaction already holds the database's write lock (the
ticket counters are written first) and the block starts after ``MAX(id)``; rows go in with ``executemany`` through
SQLAlchemy Core.

Measured with ``flask simulate`` on PostgreSQL 15 on the same 2-core machine, other jobs running: 2 days × 50,000
crossings (1.92 M rows) in 39 s, ≈ 49,000 rows/s, 420 MB at most; 5 days (4.5 M rows) in 99 s, ≈ 45,600 rows/s; the
same 2 days with the foreign-key triggers on and no overlap of days took 146 s.
"""

from __future__ import annotations

import json
import queue
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError

from osbp.auth.models import User
from osbp.extensions import db
from osbp.post.models import Agency
from osbp.queues.models import Seat, Station, Ticket, TicketCounter
from osbp.workflow.models import Crossing, Route, Step, StepEvent, StepKind
from osbp.workflow.operations import _GATE_PASS_ALPHABET

from . import sim_model as model

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class WriteError(RuntimeError):
    """The rows written do not hold together (a reference to no row, a block of ids not filled): roll back."""


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


# Gate pass codes: the crossing id through a fixed bijection of [0, 31**8), so two simulated crossings never share
# a code (whatever the seed, whichever run); a clash with a code made otherwise is checked and redrawn.
_CODE_SPACE = 31**8
_CODE_FACTOR = 0x2545F4914F6CDD1D % _CODE_SPACE
_CODE_OFFSET = 0x9E3779B97F4A7C15 % _CODE_SPACE
assert _CODE_FACTOR % 31  # coprime with 31**8: a bijection  # noqa: S101


def gate_pass_code(crossing_id: int) -> str:
    value = (_CODE_FACTOR * crossing_id + _CODE_OFFSET) % _CODE_SPACE
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 31)
        chars.append(_GATE_PASS_ALPHABET[digit])
    return "GP-" + "".join(chars)


def to_datetime(at: float | None) -> datetime | None:
    if at is None:
        return None
    return EPOCH + timedelta(microseconds=round(at * 1_000_000))


_CLOCK = [f"{h:02d}:{m:02d}:{s:02d}." for h in range(24) for m in range(60) for s in range(60)]  # second of day


class _Numbers(dict):
    """Ids as COPY text, each made once (None: NULL)."""

    def __missing__(self, key) -> str:
        value = self[key] = "\\N" if key is None else str(key)
        return value


class _Text:
    """COPY text-format fields: ``\\N`` for NULL, backslash escapes, naive UTC timestamps."""

    NULL = "\\N"

    def __init__(self):
        self._days: dict[int, str] = {}
        self._json: dict[int, tuple[dict, str]] = {}

    def ts(self, at: float | None) -> str:
        if at is None:
            return self.NULL
        micro = round(at * 1_000_000)
        seconds, micro = divmod(micro, 1_000_000)
        day, second = divmod(seconds, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat() + " "
        return f"{prefix}{_CLOCK[second]}{micro:06d}"

    @staticmethod
    def num(value) -> str:
        return "\\N" if value is None else str(value)

    @staticmethod
    def txt(value) -> str:
        if value is None:
            return "\\N"
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")

    def detail(self, detail: dict | None) -> str:
        if detail is None:
            return self.NULL
        known = self._json.get(id(detail))
        if known is None:  # the details are shared constants: each is serialised once (kept alive with it)
            known = self._json[id(detail)] = (detail, self.txt(json.dumps(detail)))
        return known[1]


_TABLES = {
    "crossings": Crossing.__table__,
    "tickets": Ticket.__table__,
    "steps": Step.__table__,
    "step_events": StepEvent.__table__,
    "seats": Seat.__table__,
}
_COLUMNS = {
    "crossings": [
        "id",
        "post_id",
        "route_id",
        "direction",
        "category",
        "status",
        "created_at",
        "created_by_id",
        "ended_at",
        "refusal_reason",
        "gate_pass_code",
        "gate_pass_issued_at",
        "gate_out_at",
        "gate_out_by_id",
        "holder_name",
        "nationality",
        "document_type",
        "document_number",
        "birth_date",
    ],
    "tickets": [
        "id",
        "post_id",
        "crossing_id",
        "code",
        "service_date",
        "status",
        "step_kind_id",
        "stage",
        "queued_at",
        "rank_at",
        "target_station_id",
        "station_id",
        "called_at",
        "called_by_id",
        "recalls",
        "priority",
        "channel",
        "issued_at",
        "issued_by_id",
    ],
    "steps": [
        "id",
        "crossing_id",
        "position",
        "step_kind_id",
        "agency_id",
        "status",
        "outcome",
        "reason",
        "referral_reason",
        "station_id",
        "queued_at",
        "called_at",
        "started_at",
        "started_by_id",
        "decided_at",
        "decided_by_id",
    ],
    "step_events": ["id", "step_id", "kind", "at", "user_id", "station_id", "detail"],
    "seats": ["id", "user_id", "station_id", "seated_at", "left_at"],
}
TABLE_ORDER = ("crossings", "tickets", "steps", "step_events", "seats")  # referred to before referring
_CHUNK = 50_000  # rows per COPY statement / executemany batch


class Writer:
    """Writes simulated crossings (with their tickets, steps and step events) and seats in the caller's
    transaction. ``reserve_outside``: take the id blocks in short transactions of their own (PostgreSQL; the caller
    must not have written to those tables in its open transaction), else in the caller's transaction."""

    bulk_references = True  # see _without_reference_triggers

    def __init__(self, ctx: Context, *, reserve_outside: bool = True):
        self.ctx = ctx
        self.postgres = db.engine.dialect.name == "postgresql"
        self.reserve_outside = reserve_outside and self.postgres
        self._next_sqlite: dict[str, int] = {}

    # -- ids ---------------------------------------------------------------------------------------------------------

    def reserve(self, table: str, count: int) -> int:
        """The first id of a block of ``count`` ids of ``table`` nobody else will use."""
        if table not in _TABLES:
            raise ValueError(table)
        if count <= 0:
            return 0
        if not self.postgres:
            highest = db.session.connection().execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar()  # noqa: S608 (fixed names)
            first = max(highest + 1, self._next_sqlite.get(table, 0))
            self._next_sqlite[table] = first + count
            return first
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        statement = text(
            f"SELECT setval({sequence}, GREATEST(nextval({sequence}), "  # noqa: S608 (fixed names)
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table})) + :n - 1)"
        )
        lock = text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        if self.reserve_outside:
            with db.engine.connect() as connection, connection.begin():
                connection.execute(lock)
                last = connection.execute(statement, {"n": count}).scalar()
        else:
            connection = db.session.connection()
            connection.execute(lock)
            last = connection.execute(statement, {"n": count}).scalar()
        return last - count + 1

    # -- ticket numbers and gate passes -------------------------------------------------------------------------------

    def _ticket_numbers(self, crossings) -> list[tuple[date, str]]:
        """(service date, code) per crossing, numbered after the day's counters, which are moved on."""
        zone = self.ctx.zone
        groups: dict[tuple[date, str], list[int]] = {}
        days = []
        for index, crossing in enumerate(crossings):
            day = datetime.fromtimestamp(crossing.created_at, zone).date()
            days.append(day)
            groups.setdefault((day, crossing.letter), []).append(index)
        codes: list = [None] * len(crossings)
        connection = db.session.connection()
        for (day, letter), members in sorted(groups.items()):
            count = len(members)
            last = connection.execute(
                update(TicketCounter)
                .where(
                    TicketCounter.post_id == self.ctx.post_id,
                    TicketCounter.service_date == day,
                    TicketCounter.letter == letter,
                )
                .values(last_number=TicketCounter.last_number + count)
                .returning(TicketCounter.last_number)
            ).scalar()
            if last is None:
                connection.execute(
                    insert(TicketCounter).values(
                        post_id=self.ctx.post_id, service_date=day, letter=letter, last_number=count
                    )
                )
                last = count
            for offset, index in enumerate(members):
                codes[index] = (day, f"{letter}-{last - count + 1 + offset:03d}")
        return codes

    def _gate_codes(self, crossings, first_id: int) -> dict[int, str]:
        wanted = {
            first_id + i: gate_pass_code(first_id + i)
            for i, c in enumerate(crossings)
            if c.gate_pass_code == model.GATE_PASS_PENDING
        }
        codes = list(wanted.values())
        connection = db.session.connection()
        if self.postgres:
            found = connection.execute(
                text("SELECT gate_pass_code FROM crossings WHERE gate_pass_code = ANY(:codes)"), {"codes": codes}
            )
            taken = set(found.scalars())
        else:
            taken = set()
            for start in range(0, len(codes), 500):
                chunk = codes[start : start + 500]
                found = connection.execute(select(Crossing.gate_pass_code).where(Crossing.gate_pass_code.in_(chunk)))
                taken.update(found.scalars())
        if taken:
            draw = random.Random(first_id)  # noqa: S311 (simulated data)
            used = set(codes)
            for crossing_id, code in wanted.items():
                while code in taken:
                    code = "GP-" + "".join(draw.choice(_GATE_PASS_ALPHABET) for _ in range(8))
                    if (
                        code in used
                        or connection.execute(select(Crossing.id).where(Crossing.gate_pass_code == code)).first()
                    ):
                        taken.add(code)
                used.add(code)
                wanted[crossing_id] = code
        return wanted

    # -- writing ------------------------------------------------------------------------------------------------------

    def write(self, crossings: list, seats: list) -> dict[str, int]:
        """Insert the crossings (in their arrival order) and the seats [(user, station, seated_at, left_at)].
        Returns the number of rows per table."""
        crossings = sorted(crossings, key=lambda c: c.order)
        n_steps = sum(len(c.steps) for c in crossings)
        n_events = sum(len(s.events) for c in crossings for s in c.steps)
        counts = {
            "crossings": len(crossings),
            "tickets": len(crossings),
            "steps": n_steps,
            "step_events": n_events,
            "seats": len(seats),
        }
        if self.postgres:  # ids first, in transactions of their own; then the counters in ours
            first = {table: self.reserve(table, count) for table, count in counts.items()}
            numbers = self._ticket_numbers(crossings)
        else:  # the counters first: the transaction then holds SQLite's write lock while MAX(id) is read
            numbers = self._ticket_numbers(crossings)
            first = {table: self.reserve(table, count) for table, count in counts.items()}
        self.crossing_ids = [first["crossings"] + i for i in range(len(crossings))]
        gate_codes = self._gate_codes(crossings, first["crossings"])
        rows = self._rows(crossings, seats, first, numbers, gate_codes)
        bulk_check = self.postgres and self.bulk_references and self._without_reference_triggers()
        for table in TABLE_ORDER:
            inserted = self._insert(table, rows[table])
            if inserted != counts[table]:  # the blocks of ids are exactly the rows written
                raise WriteError(f"{table}: {inserted} rows written, {counts[table]} expected")
        if bulk_check:
            db.session.connection().execute(text("SET LOCAL session_replication_role = origin"))
            self._check_references(first, counts)
        return counts

    def _without_reference_triggers(self) -> bool:
        """COPY without the per-row foreign-key triggers, when this role may (a superuser, or one granted SET on
        session_replication_role): they are most of the cost of the COPY (each event row looks up and locks its
        step, user and station). ``_check_references`` then checks every reference of the new rows in bulk before
        the transaction commits. False (the triggers stay) when the role may not."""
        connection = db.session.connection()
        try:
            with connection.begin_nested():
                connection.execute(text("SET LOCAL session_replication_role = replica"))
        except DBAPIError:
            return False
        return True

    def _check_references(self, first: dict, counts: dict) -> None:
        """What the foreign-key triggers would have checked, in one scan of each table's block of new rows: a
        reference to a table written here falls in that table's new block; the rows of other tables referred to
        exist, and are locked (FOR KEY SHARE) until the commit as the triggers lock them. Raises WriteError."""
        connection = db.session.connection()
        outside: dict[str, set] = {}
        for table in TABLE_ORDER:
            if not counts[table]:
                continue
            keys = sorted(_TABLES[table].foreign_keys, key=lambda k: k.parent.name)
            columns = []
            for key in keys:
                column, target = key.parent.name, key.column.table.name
                if target in _TABLES:
                    low, high = first[target], first[target] + counts[target] - 1
                    columns.append(f"count(*) FILTER (WHERE {column} NOT BETWEEN {low} AND {high})")
                else:
                    columns.append(f"array_agg(DISTINCT {column}) FILTER (WHERE {column} IS NOT NULL)")
            found = connection.execute(
                text(f"SELECT {', '.join(columns)} FROM {table} WHERE id BETWEEN :low AND :high"),  # noqa: S608
                {"low": first[table], "high": first[table] + counts[table] - 1},
            ).one()
            for key, value in zip(keys, found, strict=True):
                target = key.column.table.name
                if target in _TABLES:
                    if value:
                        raise WriteError(f"{table}.{key.parent.name}: {value} outside the new {target}")
                else:
                    outside.setdefault(target, set()).update(value or ())
        for target, ids in sorted(outside.items()):
            present = connection.execute(
                text(f"SELECT id FROM {target} WHERE id = ANY(:ids) FOR KEY SHARE"),  # noqa: S608
                {"ids": sorted(ids)},
            ).scalars()
            missing = ids - set(present)
            if missing:
                raise WriteError(f"no {target} row with id {sorted(missing)[:5]}")

    def _rows(self, crossings, seats, first, numbers, gate_codes) -> dict:
        """Per table, an iterable of rows: COPY text lines (PostgreSQL) or dicts of Python values (SQLite)."""
        post = self.ctx.post_id
        if self.postgres:
            f = _Text()
            ts, num, txt = f.ts, f.num, f.txt

            def crossing_row(cid, c, _codes):
                holder = c.identity or (None, None, None, None, None)
                born = holder[4].isoformat() if holder[4] else "\\N"
                return (
                    f"{cid}\t{post}\t{c.route}\t{c.direction}\t{c.category}\t{c.status}\t{ts(c.created_at)}\t"
                    f"{num(c.created_by)}\t{ts(c.ended_at)}\t{txt(c.refusal_reason)}\t{txt(gate_codes.get(cid))}\t"
                    f"{ts(c.gate_pass_issued_at)}\t{ts(c.gate_out_at)}\t{num(c.gate_out_by)}\t{txt(holder[0])}\t"
                    f"{txt(holder[1])}\t{txt(holder[2])}\t{txt(holder[3])}\t{born}\n"
                )

            def ticket_row(tid, cid, c, number):
                day, code = number
                return (
                    f"{tid}\t{post}\t{cid}\t{code}\t{day.isoformat()}\t{c.t_status}\t{num(c.t_kind)}\t{c.t_stage}\t"
                    f"{ts(c.t_queued_at)}\t{ts(c.t_rank_at)}\t{num(c.t_target)}\t{num(c.t_station)}\t"
                    f"{ts(c.t_called_at)}\t{num(c.t_called_by)}\t{c.t_recalls}\t{txt(c.priority)}\t{c.channel}\t"
                    f"{ts(c.created_at)}\t{num(c.created_by)}\n"
                )

            def step_row(sid, cid, s):
                return (
                    f"{sid}\t{cid}\t{s.position}\t{s.kind}\t{s.agency}\t{s.status}\t{txt(s.outcome)}\t{txt(s.reason)}\t"
                    f"{txt(s.referral_reason)}\t{num(s.station)}\t{ts(s.queued_at)}\t{ts(s.called_at)}\t"
                    f"{ts(s.started_at)}\t{num(s.started_by)}\t{ts(s.decided_at)}\t{num(s.decided_by)}\n"
                )

            refs, detail_text = _Numbers(), f.detail

            def event_row(eid, sid, e):
                kind, at, user, station, detail = e
                return f"{eid}\t{sid}\t{kind}\t{ts(at)}\t{refs[user]}\t{refs[station]}\t{detail_text(detail)}\n"

            def seat_row(seat_id, seat):
                user, station, seated_at, left_at = seat
                return f"{seat_id}\t{user}\t{station}\t{ts(seated_at)}\t{ts(left_at)}\n"

        else:
            dt = to_datetime

            def crossing_row(cid, c, _codes):
                holder = c.identity or (None, None, None, None, None)
                return {
                    "id": cid,
                    "post_id": post,
                    "route_id": c.route,
                    "direction": c.direction,
                    "category": c.category,
                    "status": c.status,
                    "created_at": dt(c.created_at),
                    "created_by_id": c.created_by,
                    "ended_at": dt(c.ended_at),
                    "refusal_reason": c.refusal_reason,
                    "gate_pass_code": gate_codes.get(cid),
                    "gate_pass_issued_at": dt(c.gate_pass_issued_at),
                    "gate_out_at": dt(c.gate_out_at),
                    "gate_out_by_id": c.gate_out_by,
                    "holder_name": holder[0],
                    "nationality": holder[1],
                    "document_type": holder[2],
                    "document_number": holder[3],
                    "birth_date": holder[4],
                }

            def ticket_row(tid, cid, c, number):
                day, code = number
                return {
                    "id": tid,
                    "post_id": post,
                    "crossing_id": cid,
                    "code": code,
                    "service_date": day,
                    "status": c.t_status,
                    "step_kind_id": c.t_kind,
                    "stage": c.t_stage,
                    "queued_at": dt(c.t_queued_at),
                    "rank_at": dt(c.t_rank_at),
                    "target_station_id": c.t_target,
                    "station_id": c.t_station,
                    "called_at": dt(c.t_called_at),
                    "called_by_id": c.t_called_by,
                    "recalls": c.t_recalls,
                    "priority": c.priority,
                    "channel": c.channel,
                    "issued_at": dt(c.created_at),
                    "issued_by_id": c.created_by,
                }

            def step_row(sid, cid, s):
                return {
                    "id": sid,
                    "crossing_id": cid,
                    "position": s.position,
                    "step_kind_id": s.kind,
                    "agency_id": s.agency,
                    "status": s.status,
                    "outcome": s.outcome,
                    "reason": s.reason,
                    "referral_reason": s.referral_reason,
                    "station_id": s.station,
                    "queued_at": dt(s.queued_at),
                    "called_at": dt(s.called_at),
                    "started_at": dt(s.started_at),
                    "started_by_id": s.started_by,
                    "decided_at": dt(s.decided_at),
                    "decided_by_id": s.decided_by,
                }

            def event_row(eid, sid, e):
                kind, at, user, station, detail = e
                return {
                    "id": eid,
                    "step_id": sid,
                    "kind": kind,
                    "at": dt(at),
                    "user_id": user,
                    "station_id": station,
                    "detail": detail,
                }

            def seat_row(seat_id, seat):
                user, station, seated_at, left_at = seat
                return {
                    "id": seat_id,
                    "user_id": user,
                    "station_id": station,
                    "seated_at": dt(seated_at),
                    "left_at": dt(left_at),
                }

        def crossing_rows():
            for i, c in enumerate(crossings):
                yield crossing_row(first["crossings"] + i, c, gate_codes)

        def ticket_rows():
            for i, c in enumerate(crossings):
                yield ticket_row(first["tickets"] + i, first["crossings"] + i, c, numbers[i])

        def step_rows():
            sid = first["steps"]
            for i, c in enumerate(crossings):
                cid = first["crossings"] + i
                for s in c.steps:
                    yield step_row(sid, cid, s)
                    sid += 1

        def event_rows():  # the last rows written: each step's events are let go once made (memory)
            sid, eid = first["steps"], first["step_events"]
            for c in crossings:
                for s in c.steps:
                    for e in s.events:
                        yield event_row(eid, sid, e)
                        eid += 1
                    s.events = ()
                    sid += 1

        def seat_rows():
            for i, seat in enumerate(seats):
                yield seat_row(first["seats"] + i, seat)

        return {
            "crossings": crossing_rows(),
            "tickets": ticket_rows(),
            "steps": step_rows(),
            "step_events": event_rows(),
            "seats": seat_rows(),
        }

    def _insert(self, table: str, rows) -> int:
        """Insert the rows; returns how many went in."""
        connection = db.session.connection()
        if not self.postgres:
            batch, inserted = [], 0
            for row in rows:
                batch.append(row)
                if len(batch) >= _CHUNK:
                    connection.execute(insert(_TABLES[table]), batch)
                    inserted, batch = inserted + len(batch), []
            if batch:
                connection.execute(insert(_TABLES[table]), batch)
            return inserted + len(batch)
        return _copy(connection.connection.driver_connection, table, rows)


class _Lines:
    """A file for ``copy_expert`` that reads the chunks another thread puts in a queue (None: the end)."""

    def __init__(self):
        self.chunks: queue.Queue = queue.Queue(maxsize=4)
        self.ended = False
        self._rest = ""

    def read(self, size: int = -1) -> str:
        while not self._rest:
            if self.ended:
                return ""
            chunk = self.chunks.get()
            if chunk is None:
                self.ended = True
                return ""
            self._rest = chunk
        if size < 0 or size >= len(self._rest):
            data, self._rest = self._rest, ""
        else:
            data, self._rest = self._rest[:size], self._rest[size:]
        return data


def _copy(connection, table: str, lines) -> int:
    """COPY the lines into the table: one statement, fed as the lines are made. The COPY runs in a thread of its
    own (it waits on the server without the GIL) while this one formats the next lines, so that the server's work
    and Python's overlap. Returns the number of rows copied."""
    source = _Lines()
    outcome: dict = {}

    def run() -> None:
        cursor = connection.cursor()
        try:
            cursor.copy_expert(f"COPY {table} ({', '.join(_COLUMNS[table])}) FROM STDIN", source, size=1 << 16)
            outcome["rows"] = cursor.rowcount
        except BaseException as error:  # noqa: BLE001 (handed to the caller's thread)
            outcome["error"] = error
            while not source.ended:  # let the producer finish
                source.ended = source.chunks.get() is None
        finally:
            cursor.close()

    worker = threading.Thread(target=run, name=f"copy-{table}", daemon=True)
    worker.start()
    try:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) == 2000:
                if "error" in outcome:
                    break
                source.chunks.put("".join(buffer))
                buffer = []
        if buffer and "error" not in outcome:
            source.chunks.put("".join(buffer))
    finally:
        source.chunks.put(None)
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["rows"]
