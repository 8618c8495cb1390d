"""Stack ceiling: what the fixed stack itself serves on this machine, with no osbp code in the way.

    .venv/bin/python bench/stack_ceiling.py --database-url postgresql://postgres@127.0.0.1:5432/osbp_h4

The busy-hall benchmark (bench/busy_hall.py) measures osbp's actions per second. This one measures the floor under
them: the same servers (gunicorn gthread, Flask, Flask-SQLAlchemy, psycopg2, PostgreSQL) answering

- ``GET /hello``: a JSON answer, no database;
- ``POST /claim``: the smallest honest "call next": find the officer by bearer token (one SELECT), claim the oldest
  waiting ticket (``UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``), record one event (INSERT),
  commit, answer JSON. Three statements and a commit, through SQLAlchemy Core (no ORM objects).

with one and with two worker processes, driven by ``--clients`` keep-alive client threads for ``--duration``
seconds each. It prints requests per second, p50/p99 latency and the servers' CPU per request, so that a target in
actions per second can be read against what the stack can do at all on the same cores (docs/performance.md).
It works in its own schema ``stack_ceiling`` of the given PostgreSQL database and drops it at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.busy_hall import Http, cpu_seconds, percentile  # noqa: E402 (the bench's own helpers)
from bench.gunicorn_process import GunicornProcess  # noqa: E402

SCHEMA = "stack_ceiling"
TOKEN = "stack-ceiling-bench-token"  # noqa: S105 (a throw-away schema)


# ------------------------------------------------------------------------------------- the app under test


def make_app():
    """The WSGI app gunicorn serves (``bench.stack_ceiling:make_app()``); the database URL comes from the environment."""
    from flask import Flask, jsonify, request
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import text

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["STACK_CEILING_DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_size": 20,
        "connect_args": {"options": f"-c search_path={SCHEMA}"},
    }
    db = SQLAlchemy(app)

    @app.get("/hello")
    def hello():
        return jsonify({"ok": True})

    @app.post("/claim")
    def claim():
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        officer = db.session.execute(text("SELECT id FROM officers WHERE token = :t"), {"t": token}).scalar()
        if officer is None:
            return jsonify({"error": {"code": "unauthorized", "message": "bad token"}}), 401
        ticket = db.session.execute(
            text(
                "UPDATE tickets SET status = 'called', called_by = :o WHERE id = ("
                " SELECT id FROM tickets WHERE status = 'waiting' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                " RETURNING id"
            ),
            {"o": officer},
        ).scalar()
        db.session.execute(
            text("INSERT INTO events (ticket_id, officer_id) VALUES (:t, :o)"), {"t": ticket, "o": officer}
        )
        db.session.commit()
        return jsonify({"ticket": ticket, "officer": officer})

    return app


# ------------------------------------------------------------------------------------------------ harness


def run_sql(url: str, *statements: tuple) -> None:
    import psycopg2

    connection = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(*statement)
    finally:
        connection.close()


def prepare(url: str, tickets: int) -> None:
    run_sql(
        url,
        (f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}; SET search_path = {SCHEMA}",),
        ("CREATE TABLE officers (id serial PRIMARY KEY, token text UNIQUE NOT NULL)",),
        ("INSERT INTO officers (token) VALUES (%s)", (TOKEN,)),
        ("CREATE TABLE tickets (id serial PRIMARY KEY, status text NOT NULL, called_by int)",),
        ("CREATE INDEX ix_waiting ON tickets (id) WHERE status = 'waiting'",),
        ("INSERT INTO tickets (status) SELECT 'waiting' FROM generate_series(1, %s)", (tickets,)),
        ("CREATE TABLE events (id serial PRIMARY KEY, ticket_id int, officer_id int, at timestamptz DEFAULT now())",),
        ("ANALYZE",),
    )


def drop(url: str) -> None:
    run_sql(url, (f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE",))


def start_server(url: str, workers: int, threads: int) -> GunicornProcess:
    server = GunicornProcess(
        "bench.stack_ceiling:make_app()",
        cwd=ROOT,
        env=dict(os.environ, STACK_CEILING_DATABASE_URL=url, PYTHONPATH=str(ROOT)),
        log_path=Path(tempfile.gettempdir()) / f"osbp-stack-ceiling-{os.getpid()}-{workers}.log",
        workers=workers,
        threads=threads,
        options=("--keep-alive", "75"),
    )
    try:
        server.wait_ready("/hello", timeout=30)
    except RuntimeError:
        server.stop()
        raise
    return server


def load(port: int, method: str, path: str, clients: int, duration: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client():
        http = Http(port)
        mine, seen = [], {}
        while not stop.is_set():
            started = time.perf_counter()
            status, _body = http.call(
                method, path, TOKEN if method == "POST" else None, {} if method == "POST" else None
            )
            mine.append(time.perf_counter() - started)
            seen[status] = seen.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "elapsed": elapsed, "latencies": latencies, "statuses": statuses}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL; the bench uses its own schema only")
    parser.add_argument("--clients", type=int, default=16, help="keep-alive client threads")
    parser.add_argument("--threads", type=int, default=16, help="gunicorn --threads per worker")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--workers", default="1,2", help="worker process counts to measure")
    args = parser.parse_args(argv)

    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}")
    rows = []
    try:
        for workers in (int(w) for w in args.workers.split(",")):
            for method, path in (("GET", "/hello"), ("POST", "/claim")):
                prepare(args.database_url, tickets=200_000)
                server = start_server(args.database_url, workers, args.threads)
                try:
                    pids = server.worker_pids()
                    cpu_before = sum(cpu_seconds(pid) for pid in pids)
                    result = load(server.port, method, path, args.clients, args.duration)
                    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
                finally:
                    server.stop()
                n = result["requests"]
                rows.append(
                    {
                        "workers": workers,
                        "endpoint": f"{method} {path}",
                        "requests_per_second": round(n / result["elapsed"]),
                        "p50_ms": round(percentile(result["latencies"], 50) * 1000, 1),
                        "p99_ms": round(percentile(result["latencies"], 99) * 1000, 1),
                        "server_cpu_ms_per_request": round(cpu / max(n, 1) * 1000, 2),
                        "statuses": result["statuses"],
                    }
                )
                print(json.dumps(rows[-1]))
    finally:
        drop(args.database_url)
    print()
    print(f"{'workers':>7}  {'endpoint':<12} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'server CPU ms/req':>18}")
    for row in rows:
        print(
            f"{row['workers']:>7}  {row['endpoint']:<12} {row['requests_per_second']:>7} {row['p50_ms']:>7}"
            f" {row['p99_ms']:>7} {row['server_cpu_ms_per_request']:>18}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
