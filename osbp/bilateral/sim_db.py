"""How the traffic simulator writes a day of rows in bulk (``Writer``). What it reads about the post is in
osbp/bilateral/sim_context.py; the rows' fields are made in osbp/bilateral/sim_rows.py.

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

import queue
import random
import threading
from datetime import date, datetime

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError

from osbp.agencies.immigration.models import TravellerIdentity
from osbp.extensions import db
from osbp.queues.models import Seat, Ticket, TicketCounter
from osbp.workflow.models import Crossing, Step, StepEvent
from osbp.workflow.operations import _GATE_PASS_ALPHABET

from . import sim_model as model
from .sim_context import Context
from .sim_rows import COLUMNS, table_rows


class WriteError(RuntimeError):
    """The rows written do not hold together (a reference to no row, a block of ids not filled): roll back."""


# Gate pass codes: the crossing id through a fixed bijection of [0, 31**8), so two simulated crossings never share
# a code (whatever the seed, whichever run); a clash with a code made otherwise is checked and redrawn.
_CODE_SPACE = 31**8
_CODE_FACTOR = 0x2545F4914F6CDD1D % _CODE_SPACE
_CODE_OFFSET = 0x9E3779B97F4A7C15 % _CODE_SPACE
assert _CODE_FACTOR % 31  # coprime with 31**8: a bijection  # noqa: S101 (a constant checked at import)


def gate_pass_code(crossing_id: int) -> str:
    value = (_CODE_FACTOR * crossing_id + _CODE_OFFSET) % _CODE_SPACE
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 31)
        chars.append(_GATE_PASS_ALPHABET[digit])
    return "GP-" + "".join(chars)


_TABLES = {
    "crossings": Crossing.__table__,
    "tickets": Ticket.__table__,
    "steps": Step.__table__,
    "step_events": StepEvent.__table__,
    "immigration_identities": TravellerIdentity.__table__,
    "seats": Seat.__table__,
}
TABLE_ORDER = ("crossings", "tickets", "steps", "step_events", "immigration_identities", "seats")  # referred to first
_CHUNK = 50_000  # rows per COPY statement / executemany batch


class Writer:
    """Writes simulated crossings (with their tickets, steps, step events and immigration identities) and seats in
    the caller's transaction. ``reserve_outside``: take the id blocks in short transactions of their own
    (PostgreSQL; the caller must not have written to those tables in its open transaction), else in the caller's
    transaction."""

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
            "immigration_identities": sum(c.identity is not None for c in crossings),
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
        rows = table_rows(self.ctx.post_id, self.postgres, crossings, seats, first, numbers, gate_codes)
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
                text(f"SELECT {', '.join(columns)} FROM {table} WHERE id BETWEEN :low AND :high"),  # noqa: S608 (fixed names)
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
                text(f"SELECT id FROM {target} WHERE id = ANY(:ids) FOR KEY SHARE"),  # noqa: S608 (fixed names)
                {"ids": sorted(ids)},
            ).scalars()
            missing = ids - set(present)
            if missing:
                raise WriteError(f"no {target} row with id {sorted(missing)[:5]}")

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
            cursor.copy_expert(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN", source, size=1 << 16)
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
