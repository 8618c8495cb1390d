"""The audit hash chain (docs/audit.md).

Every audit row carries ``seq`` (1, 2, 3 … without gaps), ``prev_hash`` (the previous row's ``row_hash``; 64 zeros
for row 1) and ``row_hash`` = SHA-256 of the row's canonical content, which includes ``prev_hash``. Altering,
removing or reordering a row breaks the chain at that row; cutting off the tail leaves rows behind the chain head
(``audit_chain_head``), and the daily heads exported outside the post (``flask audit heads``, the JBC report's annex)
pin the chain so that even a chain rebuilt from the first altered row onwards is caught.

Rows are sealed by the commit's flush (``seal``, a ``before_flush`` listener; earlier flushes keep them aside): one
``UPDATE audit_chain_head … RETURNING`` takes the head's row lock (PostgreSQL) or the database's write lock (SQLite) and hands out the sequence
numbers, and one more ``UPDATE`` stores the new head, so writers are serialised only from their final flush to their
commit.
A rollback undoes the rows and the head together: no gap.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from osbp.audit.models import AuditChainHead, AuditEvent
from osbp.types import utcnow

GENESIS = "0" * 64
VERSION = 1
HEAD_ID = 1
_head = AuditChainHead.__table__
_events = AuditEvent.__table__


def canonical(row) -> bytes:
    """The canonical content of an audit row (an AuditEvent or a result row with the same names): a JSON object with
    sorted keys, no blanks, UTF-8; ``at`` in UTC ISO 8601 with microseconds; ``detail`` as stored (JSON)."""
    content = {
        "v": VERSION,
        "seq": row.seq,
        "prev": row.prev_hash,
        "at": iso_utc(row.at),
        "action": row.action,
        "outcome": row.outcome,
        "user_id": row.user_id,
        "username": row.username,
        "post_id": row.post_id,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "remote_addr": row.remote_addr,
        "detail": row.detail,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(row) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


PENDING = "osbp_audit_pending"
SEALING = "osbp_audit_sealing"


@event.listens_for(Session, "before_flush")
def seal(session: Session, _flush_context, _instances) -> None:
    """Give the audit rows about to be inserted their place in the chain (in the order they were recorded).

    Before the commit, a flush (an autoflush before a query, an explicit ``flush()``) leaves the audit rows out and
    keeps them aside: the head's lock is taken only by the commit's own flush, so a writer holds it for the shortest
    time and never waits for another row lock while holding it (no deadlock). A consequence: until the commit, the
    transaction's own queries do not see its audit rows, and an audit row recorded inside a SAVEPOINT that is rolled
    back is kept (nothing records inside one).
    """
    new = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.seq is None]
    if not new:
        return
    if not session.info.get(SEALING):
        for obj in new:
            session.expunge(obj)
        session.info.setdefault(PENDING, []).extend(new)
        return
    new.sort(key=lambda obj: obj.__dict__.get("_audit_order", 0))
    connection = session.connection()
    seq, prev = _advance_head(connection, len(new))
    seq -= len(new)
    for obj in new:
        seq += 1
        if obj.at is None:
            obj.at = utcnow()
        obj.seq = seq
        obj.prev_hash = prev
        obj.row_hash = prev = row_hash(obj)
    connection.exec_driver_sql(_sql(connection, _STORE), (prev,))


# The two statements of the hot path, as driver SQL: building and compiling Core statements cost more than running
# them (bench/audit_record.py). The placeholders differ per driver (sqlite3: qmark; psycopg2: format).
_ADVANCE = "UPDATE audit_chain_head SET seq = seq + {p} WHERE id = 1 RETURNING seq, hash"
_STORE = "UPDATE audit_chain_head SET hash = {p} WHERE id = 1"


def _sql(connection, template: str) -> str:
    return template.format(p="?" if connection.dialect.paramstyle == "qmark" else "%s")


@event.listens_for(Session, "before_commit")
def _seal_at_commit(session: Session) -> None:
    """The outermost commit: put the kept audit rows back; the commit's flush seals them."""
    if session.in_nested_transaction():
        return
    session.info[SEALING] = True
    pending = session.info.pop(PENDING, [])
    unflushed = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.seq is None]
    if not pending and not unflushed:
        return
    for obj in unflushed:
        session.expunge(obj)
    # Added again in recording order: the ORM inserts in the order of adding, so the ids follow the sequence too.
    session.add_all(sorted(pending + unflushed, key=lambda obj: obj.__dict__.get("_audit_order", 0)))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    """The outermost transaction ended (committed, or rolled back: its kept audit rows go with it)."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(SEALING, None)


def _advance_head(connection, count: int) -> tuple[int, str]:
    """Lock the head and move its sequence on by ``count``; (the new last seq, the hash before) — one round trip."""
    statement = _sql(connection, _ADVANCE)
    row = connection.exec_driver_sql(statement, (count,)).first()
    if row is None:  # a new (or reset) database: start the head at the chain's last row
        _create_head(connection)
        row = connection.exec_driver_sql(statement, (count,)).first()
    return row[0], row[1]


def _create_head(connection) -> None:
    last = connection.execute(select(_events.c.seq, _events.c.row_hash).order_by(_events.c.seq.desc()).limit(1)).first()
    values = {"id": HEAD_ID, "seq": last.seq if last else 0, "hash": last.row_hash if last else GENESIS}
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    connection.execute(dialect_insert(_head).values(**values).on_conflict_do_nothing(index_elements=["id"]))


# -- verification ---------------------------------------------------------------------------------------------------

CHAIN_COLUMNS = (
    "id",
    "seq",
    "prev_hash",
    "row_hash",
    "at",
    "action",
    "outcome",
    "user_id",
    "username",
    "post_id",
    "object_type",
    "object_id",
    "remote_addr",
    "detail",
)


@dataclass(frozen=True)
class Verification:
    """The result of checking the chain. ``problem`` is None when intact; else one of ``altered`` (the row's content
    does not give its hash), ``missing`` (a sequence number is absent: a row was removed), ``broken_link`` (the row
    does not follow the one before: reordered, or a row before it replaced), ``tail_missing`` (the head is further
    on than the last row), ``head_mismatch`` (the last row is not the head's), and ``seq``/``row_id`` name the row."""

    checked: int
    first_seq: int | None
    last_seq: int
    head_seq: int | None
    problem: str | None = None
    seq: int | None = None
    row_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(connection, *, from_seq: int | None = None, batch: int = 2000) -> Verification:
    """Check the chain from row 1 (or from ``from_seq``, trusting that row's link to the one before) to the head."""
    head = connection.execute(select(_head.c.seq, _head.c.hash).where(_head.c.id == HEAD_ID)).first()
    query = select(*(_events.c[name] for name in CHAIN_COLUMNS)).order_by(_events.c.seq)
    expected_seq, prev = 1, GENESIS
    if from_seq is not None and from_seq > 1:
        start = connection.execute(select(_events.c.prev_hash).where(_events.c.seq == from_seq)).first()
        if start is not None:
            expected_seq, prev = from_seq, start.prev_hash
            query = query.where(_events.c.seq >= from_seq)
    first_seq, checked, last_seq = None, 0, expected_seq - 1
    head_seq = head.seq if head else None

    def result(problem=None, seq=None, row_id=None):
        return Verification(checked, first_seq, last_seq, head_seq, problem, seq, row_id)

    # Rows are typed by the column types (``at`` aware UTC, ``detail`` parsed JSON) on both databases.
    for row in connection.execute(query.execution_options(yield_per=batch)):
        if first_seq is None:
            first_seq = row.seq
        if row.seq != expected_seq:
            return result("missing", expected_seq, None)
        if row.prev_hash != prev:
            return result("broken_link", row.seq, row.id)
        if row_hash(row) != row.row_hash:
            return result("altered", row.seq, row.id)
        checked += 1
        last_seq, prev, expected_seq = row.seq, row.row_hash, row.seq + 1
    if head is None:
        return result("head_mismatch", last_seq, None) if last_seq else result()
    if head.seq > last_seq:
        return result("tail_missing", last_seq + 1, None)
    if head.seq != last_seq or head.hash != prev:
        return result("head_mismatch", last_seq, None)
    return result()


def count_rows(connection) -> int:
    return connection.execute(select(func.count()).select_from(_events)).scalar_one()
