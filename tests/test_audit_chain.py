"""The tamper-evident audit log: every row is chained by SHA-256 (osbp/audit/chain.py), `flask audit verify` names the
first altered, removed or reordered row, the database refuses UPDATE/DELETE/TRUNCATE (osbp/audit/guard.py), and the
daily chain heads can be exported. Runs on SQLite and on PostgreSQL (OSBP_TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import threading
import traceback
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from osbp.audit import chain, guard
from osbp.audit import operations as audit
from osbp.audit.models import AuditChainHead, AuditEvent
from osbp.auth.models import User
from osbp.extensions import db
from tests.conftest import is_postgres

THREADS = 6
TRANSACTIONS = 12


def _record_some(app, count: int) -> list[int]:
    """``count`` audit rows, one transaction each; their ids in order."""
    ids = []
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "rw-immigration-1"))
        for n in range(count):
            event = audit.record("test.event", user=officer, n=n, note="é ü ✓", nested={"b": [1, 2.5], "a": None})
            db.session.commit()
            ids.append(event.id)
        db.session.remove()
    return ids


def _chain(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.row_hash).order_by(AuditEvent.seq)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def _verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def _tamper(app, *statements) -> None:
    """Run statements against the audit tables with the append-only triggers lifted (as a database owner could)."""
    with app.app_context(), db.engine.begin() as connection, guard.suspended(connection):
        for statement in statements:
            connection.execute(statement)


def _row(app, seq: int) -> AuditEvent:
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == seq))
        db.session.expunge_all()
        db.session.remove()
    return row


# -- the chain ---------------------------------------------------------------------------------------------------


def test_every_row_is_chained_to_the_one_before_and_the_chain_verifies(app, client):
    # Rows made by requests (a failed and a good login) and by code, on both databases.
    client.post("/login", data={"username": "rw-immigration-1", "password": "wrong-password"})
    _record_some(app, 4)
    rows = _chain(app)
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))
    assert rows[0][1] == chain.GENESIS
    for (_, _, before), (_, prev, _) in zip(rows, rows[1:], strict=False):
        assert prev == before
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            assert event.row_hash == chain.row_hash(event)  # the stored content gives the stored hash
        head = db.session.get(AuditChainHead, chain.HEAD_ID)
        assert (head.seq, head.hash) == (rows[-1][0], rows[-1][2])
        db.session.remove()
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert f"rows 1 to {len(rows)} verified ({len(rows)} rows)" in result.output


def test_the_canonical_content_is_sorted_json_with_utc_time(app):
    (event_id,) = _record_some(app, 1)
    with app.app_context():
        event = db.session.get(AuditEvent, event_id)
        content = json.loads(chain.canonical(event))
        db.session.remove()
    assert list(content) == sorted(content)
    assert content["at"].endswith("+00:00") and len(content["at"]) == len("2026-12-01T06:00:00.000000+00:00")
    assert content["detail"] == {"n": 0, "note": "é ü ✓", "nested": {"a": None, "b": [1, 2.5]}}
    assert content["seq"] == 1 and content["prev"] == chain.GENESIS and content["action"] == "test.event"


def test_rows_recorded_together_are_chained_in_recording_order_and_a_rollback_leaves_no_gap(app):
    with app.app_context():
        for n in range(3):
            audit.record("test.together", n=n)
        db.session.commit()
        audit.record("test.rolled_back")
        db.session.flush()  # sealed (seq 4), then undone with the head
        db.session.rollback()
        audit.record("test.after")
        db.session.commit()
        rows = db.session.execute(select(AuditEvent.seq, AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.seq))
        assert [tuple(r) for r in rows] == [
            (1, "test.together", {"n": 0}),
            (2, "test.together", {"n": 1}),
            (3, "test.together", {"n": 2}),
            (4, "test.after", None),
        ]
        db.session.remove()
    assert _verify(app).exit_code == 0


def test_the_chain_verifies_after_concurrent_writers(app):
    """Real threads, each with its own connection, committing audit rows (some with a rollback between) at once."""
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []

    def writer(number: int):
        with app.app_context():
            try:
                barrier.wait()
                for n in range(TRANSACTIONS):
                    audit.record("test.race", thread=number, n=n)
                    if n % 4 == 3:
                        db.session.flush()
                        db.session.rollback()  # takes its sequence numbers back
                        continue
                    if n % 3 == 0:
                        audit.record("test.race.second", thread=number, n=n)
                    db.session.commit()
            except Exception:  # noqa: BLE001  (reported below, with the traceback)
                errors.append(traceback.format_exc())
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,), name=f"writer-{n}") for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert not errors, "\n".join(errors)
    committed = THREADS * sum(1 + (n % 3 == 0) for n in range(TRANSACTIONS) if n % 4 != 3)
    rows = _chain(app)
    assert [seq for seq, _, _ in rows] == list(range(1, committed + 1))
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert f"({committed} rows)" in result.output
    with app.app_context():
        # Each thread's rows are in its own order in the chain.
        for number in range(THREADS):
            mine = db.session.execute(
                select(AuditEvent.detail).where(AuditEvent.action == "test.race").order_by(AuditEvent.seq)
            ).scalars()
            ns = [d["n"] for d in mine if d["thread"] == number]
            assert ns == sorted(ns) and len(ns) == sum(1 for n in range(TRANSACTIONS) if n % 4 != 3)
        db.session.remove()


# -- the database refuses changes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(detail={"n": 99}),
        update(AuditEvent).where(AuditEvent.seq == 2).values(outcome="ok"),
        delete(AuditEvent).where(AuditEvent.seq == 3),
        delete(AuditEvent),
        delete(AuditChainHead),
        update(AuditChainHead).values(seq=1),
    ],
    ids=["update-all", "update-one", "delete-one", "delete-all", "delete-head", "head-backwards"],
)
def test_the_database_refuses_to_change_or_remove_audit_rows(app, statement):
    _record_some(app, 3)
    with (
        app.app_context(),
        pytest.raises(DBAPIError, match="append-only|only moves forward"),
        db.engine.begin() as connection,
    ):
        connection.execute(statement)
    assert len(_chain(app)) == 3
    assert _verify(app).exit_code == 0


def test_emptying_the_tables_at_once_is_refused(app):
    """TRUNCATE on PostgreSQL; on SQLite a DELETE without WHERE (its truncate optimisation, which skips row triggers
    unless there are some)."""
    _record_some(app, 2)
    for table in ("audit_events", "audit_chain_head"):
        statement = f"TRUNCATE {table} CASCADE" if is_postgres() else f"DELETE FROM {table}"
        with app.app_context(), pytest.raises(DBAPIError, match="refused"), db.engine.begin() as connection:
            connection.execute(text(statement))
    assert len(_chain(app)) == 2
    assert _verify(app).exit_code == 0


def test_the_head_moves_forward_and_the_triggers_are_in_place(app):
    _record_some(app, 2)
    with app.app_context():
        with db.engine.begin() as connection:
            assert guard.missing(connection) == set()
            connection.execute(update(AuditChainHead).values(seq=AuditChainHead.seq))  # not lowered: allowed
        db.session.remove()


# -- verify names the first bad row -----------------------------------------------------------------------------------


def test_verify_names_an_altered_row(app):
    _record_some(app, 5)
    _tamper(app, update(AuditEvent).where(AuditEvent.seq == 3).values(detail={"n": 99}))
    row = _row(app, 3)
    result = _verify(app)
    assert result.exit_code == 1
    assert f"row 3 (id {row.id}) was altered" in result.output


def test_verify_names_an_altered_row_even_with_its_hash_recomputed(app):
    _record_some(app, 5)
    forged = _row(app, 2)
    forged.outcome = "failed"
    _tamper(
        app, update(AuditEvent).where(AuditEvent.seq == 2).values(outcome="failed", row_hash=chain.row_hash(forged))
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"row 3 (id {_row(app, 3).id}) does not follow row 2" in result.output


def test_verify_names_a_removed_row(app):
    _record_some(app, 5)
    _tamper(app, delete(AuditEvent).where(AuditEvent.seq == 4))
    result = _verify(app)
    assert result.exit_code == 1
    assert "row 4 is missing" in result.output


def test_verify_names_two_rows_whose_content_was_swapped(app):
    _record_some(app, 5)
    two, four = _row(app, 2), _row(app, 4)
    _tamper(
        app,
        update(AuditEvent).where(AuditEvent.seq == 2).values(detail=four.detail, at=four.at),
        update(AuditEvent).where(AuditEvent.seq == 4).values(detail=two.detail, at=two.at),
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"row 2 (id {two.id}) was altered" in result.output


def test_verify_names_reordered_rows(app):
    _record_some(app, 5)
    _tamper(
        app,
        update(AuditEvent).where(AuditEvent.seq == 2).values(seq=-2),
        update(AuditEvent).where(AuditEvent.seq == 3).values(seq=2),
        update(AuditEvent).where(AuditEvent.seq == -2).values(seq=3),
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert "does not follow row 1" in result.output and "row 2 (id" in result.output


def test_verify_names_a_cut_off_tail(app):
    _record_some(app, 6)
    _tamper(app, delete(AuditEvent).where(AuditEvent.seq >= 5))
    result = _verify(app)
    assert result.exit_code == 1
    assert "rows 5 to 6 are missing: the chain head is at row 6" in result.output


def test_verify_names_a_replaced_head(app):
    _record_some(app, 3)
    _tamper(app, update(AuditChainHead).values(hash="f" * 64))
    result = _verify(app)
    assert result.exit_code == 1
    assert "the chain head does not match row 3" in result.output


def test_verify_on_an_empty_log(app):
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "no rows yet" in result.output


def test_requests_chain_their_rows_in_their_own_transaction(app, login):
    """The request path: record() inside the request's one transaction (logins, a denied page, a logout)."""
    officer = login("rw-immigration-1")
    assert officer.get("/live/supervisor").status_code == 403  # audited as authorization.denied
    assert officer.post("/logout", data={"csrf_token": officer.csrf}).status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
        db.session.remove()
    assert actions[0] == "auth.login" and actions[-1] == "auth.logout"
    result = _verify(app)
    assert result.exit_code == 0, result.output


# -- daily heads ------------------------------------------------------------------------------------------------------


def test_heads_export_each_days_last_row_and_hash(app):
    _record_some(app, 3)
    last = _row(app, 3)
    day = last.at.date().isoformat()
    result = app.test_cli_runner().invoke(args=["audit", "heads", "--day", day, "--format", "json"])
    assert result.exit_code == 0, result.output
    heads = json.loads(result.output)
    assert heads["timezone"] == "UTC"
    assert heads["heads"] == [{"date": day, "seq": 3, "hash": last.row_hash, "rows": 3}]
    csv_result = app.test_cli_runner().invoke(args=["audit", "heads"])
    assert csv_result.exit_code == 0
    lines = csv_result.output.strip().splitlines()
    assert lines[0] == "date,seq,hash,rows"
    assert f"{day},3,{last.row_hash},3" in lines
    bad = app.test_cli_runner().invoke(args=["audit", "heads", "--day", "yesterday"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_the_jbc_report_prints_each_days_chain_head(app):
    from zoneinfo import ZoneInfo

    from osbp.bilateral.pdf import render_html
    from osbp.bilateral.report import build_report
    from osbp.post.models import Post

    _record_some(app, 3)
    last = _row(app, 3)
    with app.app_context():
        post = db.session.scalar(select(Post))
        day = last.at.astimezone(ZoneInfo(post.timezone)).date()
        during = build_report(post, day, day, now=last.at)
        data = build_report(post, day, day, now=last.at + timedelta(days=1))
        html, _labels = render_html(data, "en", data_sha256="0" * 64, generated_at=last.at + timedelta(days=1))
        db.session.remove()
    assert during["sections"]["audit"]["heads"] == [{"date": day.isoformat(), "seq": None, "hash": None, "rows": None}]
    assert data["sections"]["audit"]["heads"] == [{"date": day.isoformat(), "seq": 3, "hash": last.row_hash, "rows": 3}]
    assert "Audit log chain heads" in html and last.row_hash in html


def test_the_head_is_taken_only_by_the_commit(app):
    """An autoflush or flush before the commit leaves the audit rows aside: the head's lock is held from the commit's
    own flush to the commit only (no writer waits for another row lock while holding it)."""
    _record_some(app, 1)
    with app.app_context():
        event = audit.record("test.late")
        db.session.flush()
        db.session.execute(select(User.id)).all()  # a query: autoflush
        assert event.seq is None
        with db.engine.connect() as other:  # another connection can still move the head on at once
            assert other.execute(select(AuditChainHead.seq)).scalar() == 1
        db.session.commit()
        assert event.seq == 2
        db.session.remove()
    assert _verify(app).exit_code == 0
