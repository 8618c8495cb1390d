"""Benchmark: the bilateral report of a month (and a quarter) at the busiest Great Lakes post's volume.

    .venv/bin/python bench/report.py --database-url postgresql://postgres@127.0.0.1:5432/osbp_bench \\
        --days 30 --per-day 50000            # fill (flask simulate) then measure; --reuse measures what is there

Each measurement runs in a fresh child process, so its peak RSS is its own: first the day facts of every day of the
period computed and stored (``rollup``: the cold cost, paid once — by a nightly ``flask report rollup`` or by the first
report), then one day's facts again (the nightly work), then the report from the stored facts: the SQL aggregates
alone (``build_report``), the whole PDF (aggregates + WeasyPrint), the CSV zip. Prints seconds and peak RSS (MB)
beside the targets (monthly PDF < 10 s and < 400 MB; quarter < 30 s). Bounded: it talks to the given database only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _app(database_url: str):
    from osbp import create_app

    return create_app({"env": "development", "database_url": database_url, "secret_key": "b" * 40})


def fill(database_url: str, days: int, per_day: int, start: str, seed: int) -> None:
    """A fresh schema, the demo post, then ``flask simulate`` (its own process: it prints its progress)."""
    from sqlalchemy import text

    from osbp.extensions import db

    app = _app(database_url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        db.engine.dispose()
    env = {**os.environ, "OSBP_DATABASE_URL": database_url, "OSBP_ENV": "development"}
    flask = [sys.executable, "-m", "flask", "--app", "osbp"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(flask + command, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    started = time.perf_counter()
    args = ["simulate", "--days", str(days), "--per-day", str(per_day), "--seed", str(seed), "--start", start]
    subprocess.run(flask + args, cwd=ROOT, env=env, check=True)  # noqa: S603
    print(f"filled in {time.perf_counter() - started:.0f} s")


# Tables copied forward by --copy-to, and the foreign keys among them that move with the copy.
COPIED = ("crossings", "tickets", "steps", "step_events", "seats", "ticket_counters")
MOVING_KEYS = {"crossing_id": "crossings", "step_id": "steps"}
# Only what had ended is copied: the crossings the simulation left in the hall (its last afternoon) and the seats
# still open would collide with their copies (one called ticket per station, one open seat per officer).
_ENDED = "SELECT id FROM crossings WHERE id <= {top} AND status <> 'in_progress'"
COPY_WHERE = {
    "crossings": "id <= {top} AND status <> 'in_progress'",
    "tickets": "id <= {top} AND crossing_id IN (" + _ENDED.replace("{top}", "{top_c}") + ")",
    "steps": "id <= {top} AND crossing_id IN (" + _ENDED.replace("{top}", "{top_c}") + ")",
    "step_events": "id <= {top} AND step_id IN (SELECT id FROM steps WHERE crossing_id IN ("
    + _ENDED.replace("{top}", "{top_c}")
    + "))",
    "seats": "id <= {top} AND left_at IS NOT NULL",
    "ticket_counters": "id <= {top}",
}


def copy_forward(database_url: str, simulated_days: int, total_days: int) -> None:
    """Fill ``total_days`` from the first ``simulated_days`` simulated ones by copying their rows forward by whole
    multiples of ``simulated_days`` (ids offset, every timestamp and date shifted, gate pass codes made unique): a month
    at 50,000 crossings a day in minutes instead of the simulator's hour, with the simulator's row shapes. PostgreSQL."""
    from sqlalchemy import text

    from osbp.extensions import db

    app = _app(database_url)
    with app.app_context(), db.engine.connect() as connection:
        top = {t: connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar() for t in COPIED}  # noqa: S608
        columns = {
            t: connection.execute(
                text("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = :t"), {"t": t}
            ).all()
            for t in COPIED
        }
        copies = -(-total_days // simulated_days) - 1
        for k in range(1, copies + 1):
            days = k * simulated_days
            for table in COPIED:
                names, values = [], []
                for name, kind in columns[table]:
                    names.append(name)
                    if name == "id":
                        values.append(f"id + {k * top[table]}")
                    elif name in MOVING_KEYS:
                        values.append(f"{name} + {k * top[MOVING_KEYS[name]]}")
                    elif kind.startswith("timestamp"):
                        values.append(f"{name} + interval '{days} days'")
                    elif kind == "date":
                        values.append(f"{name} + {days}")
                    elif name == "gate_pass_code":
                        values.append(f"'G' || chr(64 + {k}) || substr({name}, 3)")
                    else:
                        values.append(name)
                started = time.perf_counter()
                connection.execute(
                    text(
                        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {table} "  # noqa: S608
                        f"WHERE {COPY_WHERE[table].format(top=top[table], top_c=top['crossings'])}"
                    )
                )
                print(f"copy {k}/{copies} {table}: {time.perf_counter() - started:.1f} s", flush=True)
            connection.commit()  # one copy at a time: an interrupted fill keeps the copies made
        for table in COPIED:
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
        connection.commit()
    with app.app_context(), db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def copy_facts_forward(database_url: str, first: date, days: int, copies: int) -> None:
    """A quarter's stored facts from a month's: the month's day facts copied to the following months (the cold work
    of a quarter is three months' rollups; this measures a quarter's report from its stored facts)."""
    from sqlalchemy import text

    from osbp.extensions import db

    app = _app(database_url)
    last = first + timedelta(days=days - 1)
    with app.app_context(), db.engine.begin() as connection:
        for table in ("report_day_facts", "report_days"):
            connection.execute(text(f"DELETE FROM {table} WHERE day > :last"), {"last": last})
        for k in range(1, copies + 1):
            shift = k * days
            connection.execute(
                text(
                    "INSERT INTO report_day_facts (post_id, day, fact, k1, k2, k3, value, count) "
                    "SELECT post_id, day + :shift, fact, k1, k2, k3, value, count FROM report_day_facts "
                    "WHERE day BETWEEN :first AND :last"
                ),
                {"shift": shift, "first": first, "last": last},
            )
            connection.execute(
                text(
                    "INSERT INTO report_days (post_id, day, computed_at) SELECT post_id, day + :shift, computed_at "
                    "FROM report_days WHERE day BETWEEN :first AND :last"
                ),
                {"shift": shift, "first": first, "last": last},
            )
    with app.app_context(), db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE report_day_facts"))


def measure(database_url: str, first: str, last: str, what: str) -> dict:
    """Run in a child process: time one kind of work, report the process's peak RSS."""
    from osbp.bilateral import operations
    from osbp.bilateral.report import build_report
    from osbp.extensions import db
    from osbp.post.models import Post

    app = _app(database_url)
    with app.app_context():
        post = db.session.scalar(db.select(Post))
        first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        if what in ("rollup", "rollup-day"):
            from osbp.bilateral.facts import rollup

            days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
            size = rollup(post, days if what == "rollup" else days[-1:])  # fact rows written
            db.session.commit()
        elif what == "aggregates":
            data = build_report(post, first_day, last_day)
            size = len(json.dumps(data))
        else:

            class Bench:
                id = None
                username = "bench"
                role = "admin"

            report = operations.generate(post, first_day, last_day, "fr,en", what, Bench())
            size = len(report.content)
            db.session.rollback()  # measure only: nothing archived
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "what": what,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak),
        "start_rss_mb": round(baseline),
        "bytes": size,
    }


def _child(database_url: str, first: str, last: str, what: str) -> dict:
    output = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--database-url", database_url, "--child", what, "--first", first, "--last", last],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def counts(database_url: str) -> dict:
    from sqlalchemy import text

    from osbp.extensions import db

    app = _app(database_url)
    with app.app_context():
        tables = ("crossings", "steps", "step_events", "tickets", "seats")
        found = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in tables}  # noqa: S608
        span = db.session.execute(text("SELECT min(created_at), max(created_at) FROM crossings")).one()
        db.session.remove()
    return {**found, "first": str(span[0]), "last": str(span[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=50000)
    parser.add_argument("--start", default="2026-10-01")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="measure the data already in the database")
    parser.add_argument("--copy-to", type=int, help="after simulating --days, copy them forward to this many days")
    parser.add_argument("--quarter", action="store_true", help="also measure the 90 days from --start")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--first", help=argparse.SUPPRESS)
    parser.add_argument("--last", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.database_url, args.first, args.last, args.child)))
        return
    if not args.reuse:
        fill(args.database_url, args.days, args.per_day, args.start, args.seed)
    if args.copy_to:
        copy_forward(args.database_url, args.days, args.copy_to)
        args.days = args.copy_to
    print("rows:", counts(args.database_url))
    first = date.fromisoformat(args.start)
    month = min(args.days, 30)
    periods = [("month", first, first + timedelta(days=month - 1))]
    if args.quarter:
        periods.append(("quarter", first, first + timedelta(days=3 * month - 1)))
    targets = {"month": 10, "quarter": 30}
    for name, period_first, period_last in periods:
        # cold: every day's facts computed and stored; then the one night's work; then the report from stored facts
        steps = ("rollup", "rollup-day", "aggregates", "pdf", "csv.zip")
        if name == "quarter":
            copy_facts_forward(args.database_url, first, month, 2)
            steps = steps[2:]
        for what in steps:
            result = _child(args.database_url, period_first.isoformat(), period_last.isoformat(), what)
            target = f"(target < {targets[name]} s, < 400 MB)" if what == "pdf" else ""
            print(
                f"{name:8} {what:10} {result['seconds']:7.2f} s  peak RSS {result['peak_rss_mb']:4d} MB "
                f"(start {result['start_rss_mb']} MB)  {result['bytes']:>9} {'rows' if 'rollup' in what else 'bytes'} {target}"
            )


if __name__ == "__main__":
    main()
