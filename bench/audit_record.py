"""Cost of one audit row: ``osbp.audit.operations.record()`` and the commit, per row, on SQLite and PostgreSQL.

    .venv/bin/python bench/audit_record.py --database-url sqlite:////tmp/audit-bench.sqlite3
    .venv/bin/python bench/audit_record.py --database-url postgresql://postgres@127.0.0.1:5432/osbp_h4

The schema of ``--database-url`` is DROPPED and rebuilt by the migrations. Three measures, each the median of
``--repeats`` runs of ``--rows`` rows:

- ``alone``: one transaction per row holding only the audit row (the chain's worst case: the head's two UPDATEs
  are most of the work);
- ``with a write``: one transaction per row that also updates a ticket-like row first (a decision or a call);
- ``threads``: ``--threads`` writers at once, one row per transaction (wall time per row over all of them: the
  head serialises the writers from their flush to their commit).

Run it with PYTHONPATH pointing at an older checkout of the code to measure that code (docs/audit.md records both).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from sqlalchemy import text


def build(url: str):
    from flask_migrate import upgrade

    from osbp import create_app
    from osbp.extensions import db

    app = create_app({"env": "testing", "database_url": url, "secret_key": "b" * 40})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
                connection.execute(text("DROP TABLE IF EXISTS bench_counter"))
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE bench_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
            connection.execute(text("INSERT INTO bench_counter (id, n) VALUES (1, 0)"))
    return app


def per_row(app, rows: int, *, with_write: bool) -> tuple[float, float]:
    from osbp.audit.operations import record
    from osbp.extensions import db

    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(rows):
            if with_write:
                db.session.execute(text("UPDATE bench_counter SET n = n + 1 WHERE id = 1"))
            record("bench.event", station_id=3, crossing_id=n, code="T-042")
            db.session.commit()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.remove()
    return elapsed / rows, cpu / rows


def threaded(app, rows: int, threads: int) -> float:
    from osbp.audit.operations import record
    from osbp.extensions import db

    barrier = threading.Barrier(threads + 1)

    def writer():
        with app.app_context():
            barrier.wait()
            for n in range(rows):
                record("bench.thread", crossing_id=n)
                db.session.commit()
            db.session.remove()

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return (time.perf_counter() - started) / (rows * threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    app = build(args.database_url)
    per_row(app, 50, with_write=False)  # warm up: connections, statement caches
    alone = [per_row(app, args.rows, with_write=False) for _ in range(args.repeats)]
    written = [per_row(app, args.rows, with_write=True) for _ in range(args.repeats)]
    racing = [threaded(app, args.rows // args.threads, args.threads) for _ in range(args.repeats)]
    results = {
        "alone": (statistics.median(w for w, _ in alone), statistics.median(c for _, c in alone)),
        "with a write": (statistics.median(w for w, _ in written), statistics.median(c for _, c in written)),
        f"{args.threads} threads": (statistics.median(racing), None),
    }
    with app.app_context():
        from osbp.extensions import db

        dialect = db.engine.dialect.name
        total = db.session.execute(text("SELECT count(*) FROM audit_events")).scalar()
        db.session.remove()
    print(f"{dialect}: {total} audit rows written")
    for name, (seconds, cpu) in results.items():
        cpu_text = f", {cpu * 1e6:6.0f} µs CPU in this process" if cpu is not None else ""
        print(f"  {name:<14} {seconds * 1e6:8.0f} µs per row (record + commit){cpu_text}")


if __name__ == "__main__":
    main()
