"""Busy-hall benchmark: officers at many counters call and decide over HTTP while boards watch over Socket.IO.

    .venv/bin/python bench/busy_hall.py --database-url postgresql://postgres@127.0.0.1:5432/osbp_h4
    … --instances 2                      # two instances sharing a Redis message queue
    … --instances 2 --socket-instances 1 # one instance for HTTP, one for the boards' sockets
    … --call-rate 6 --kiosk-rate 2       # open loop: a busy post's peak instead of a stress test

What it does, all on 127.0.0.1, and stops by itself:

1. Setup, straight through the app's models: the schema of ``--database-url`` is DROPPED and rebuilt by the
   migrations (the bench refuses a database holding any post but the demo one), the demo post, extra counters up to
   ``--stations`` (immigration, health and customs joint counters, an RW and a CD officer seated at each), one bearer
   token per officer, board and kiosk devices (before device accounts existed: officer logins) and a day of tickets.
2. Raw rate: "take next ticket" as the app's ``UPDATE … RETURNING`` with ``FOR UPDATE SKIP LOCKED`` plus commit,
   through psycopg2 on ``--raw-connections`` connections, on a copy of the same waiting queue: the database's limit.
3. ``--instances`` servers, ``gunicorn -w 1 -k gthread --threads N osbp.wsgi:app`` (Flask-SocketIO threading mode;
   N sized so that every socket has its thread, see docs/performance.md), with Redis when there are several.
4. ``--sockets`` board sockets connect (websocket transport; by default multiplexed on a few threads of a child
   process, so that the bench's own CPU stays small and never delays the threads that time requests) and record
   every ``ticket.called``.
5. Load for ``--duration`` seconds (or until every ticket is through): one worker thread per counter presses
   Call next (flat out, or ``--call-rate`` presses per second over all counters), records the identity at
   immigration and decides every step (cleared); kiosk devices look up ticket status when the API has
   ``GET /api/v1/tickets/<code>/status``.
6. Prints one table: actions per second against the raw rate, latencies, event delivery (the worker's send time →
   each socket's receive time, one clock, one process), kiosk status, duplicates (a step called twice, seen by the
   workers or in the database), server RSS and CPU, and what PostgreSQL did per request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import math
import os
import platform
import random
import re
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gunicorn_process import GunicornProcess  # noqa: E402 (after the path is set)

USER_AGENT = "osbp-busy-hall-bench"  # Flask-Login "strong" session protection ties a session to the user agent
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
BENCH_PASSWORD = "busy-hall-bench-officer"  # noqa: S105 (bench accounts on a throw-away database)
# Share of counters per agency kind, from the requests one ticket makes at each (call, identity, decisions).
STATION_MIX = (("immigration", 0.56), ("health", 0.25), ("customs", 0.19))
TICKET_MIX = (("traveller", 0.45), ("trader", 0.35), ("resident", 0.15), ("driver", 0.05))
IDENTITY = {
    "holder_name": "Bench Traveller",
    "nationality": "RWA",
    "document_type": "passport",
    "document_number": "L898902C3",
    "birth_date": "1974-08-12",
}


# --------------------------------------------------------------------------------------------------- setup


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL database; its schema is dropped and rebuilt")
    parser.add_argument("--stations", type=int, default=32)
    parser.add_argument("--sockets", type=int, default=200, help="Socket.IO clients (boards) connected")
    parser.add_argument("--tickets", type=int, default=5000, help="tickets issued before the load (a day)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load at most (≤ 600)")
    parser.add_argument("--warmup", type=float, default=3.0, help="first seconds of load left out of the figures")
    parser.add_argument("--threads", type=int, default=0, help="gunicorn --threads (default: 100, or more if needed)")
    parser.add_argument(
        "--call-rate",
        type=float,
        default=0.0,
        help="Call next presses per second over all counters (0: every counter as fast as it can, a stress test)",
    )
    parser.add_argument(
        "--socket-client",
        choices=("process", "light", "python-socketio"),
        default="process",
        help="process: the light sockets in a process of their own, so that reading 200 sockets never delays the "
        "threads that time requests (one monotonic clock across processes); light: a few threads of this process "
        "multiplex every websocket; python-socketio: one socketio.Client each (3 threads per socket here)",
    )
    parser.add_argument("--message-queue", default="", help="OSBP_SOCKETIO_MESSAGE_QUEUE for the server (redis://…)")
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="gunicorn instances sharing the database and a Redis message queue (counters, sockets and kiosks are "
        "spread over them, as a sticky proxy would)",
    )
    parser.add_argument(
        "--socket-instances",
        type=int,
        default=0,
        help="of the instances, this many carry only the sockets (boards) and the rest only HTTP (counters, kiosks), "
        "as a proxy routing /socket.io/ apart would; 0: everything spread over every instance",
    )
    parser.add_argument("--kiosks", type=int, default=4, help="kiosk threads looking up ticket status")
    parser.add_argument("--kiosk-rate", type=float, default=20.0, help="status lookups per second, all kiosks")
    parser.add_argument(
        "--switch-interval-ms", default="", help="OSBP_SWITCH_INTERVAL_MS of the servers (default: the app's)"
    )
    parser.add_argument("--raw-connections", type=int, default=8)
    parser.add_argument("--raw-seconds", type=float, default=5.0)
    parser.add_argument("--idle-wait", type=float, default=0.1, help="a counter with nobody waiting waits this long")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (the raw rate needs FOR UPDATE SKIP LOCKED)")
    if urlsplit(args.database_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the benchmark only talks to a database on this machine (127.0.0.1)")
    args.duration = min(max(args.duration, 1.0), 600.0)
    if args.instances < 1:
        parser.error("--instances must be 1 or more")
    if not 0 <= args.socket_instances < args.instances:
        parser.error("--socket-instances must leave at least one instance for HTTP")
    if args.instances > 1 and not args.message_queue:
        args.message_queue = "redis://127.0.0.1:6379/13"
    if args.message_queue and urlsplit(args.message_queue).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the benchmark only talks to a Redis on this machine (127.0.0.1)")
    return args


def _psycopg2_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def refuse_real_post(url: str) -> None:
    """The schema is dropped: only ever on an empty database or one holding the demo post."""
    import psycopg2

    with psycopg2.connect(_psycopg2_dsn(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.posts') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("SELECT code FROM posts")
            codes = {row[0] for row in cursor.fetchall()}
            if codes - {"RUSIZI-II"}:
                sys.exit(f"refusing: {url} holds posts {sorted(codes)}; the bench drops the schema")
    connection.close()


def build_hall(args, secret_key: str) -> dict:
    """Schema, demo post, counters with seated officers, tokens, board devices and a day of tickets."""
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from osbp import create_app, events
    from osbp.auth.models import User
    from osbp.auth.operations import create_token
    from osbp.auth.passwords import hash_password
    from osbp.extensions import db
    from osbp.post.models import Agency
    from osbp.post.seed import seed_demo
    from osbp.queues import operations as queues
    from osbp.queues.models import Station
    from osbp.workflow.models import StepKind

    app = create_app(
        {
            "env": "development",
            "database_url": args.database_url,
            "secret_key": secret_key,
            "socketio_message_queue": "",
        }
    )
    rng = random.Random(args.seed)
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        post = seed_demo()
        agencies = {a.code: a for a in db.session.scalars(select(Agency).where(Agency.post_id == post.id))}
        kinds_of = defaultdict(list)
        for kind in db.session.scalars(select(StepKind).where(StepKind.post_id == post.id).order_by(StepKind.id)):
            kinds_of[kind.agency.kind].append(kind)
        demo_stations = {
            "immigration": ["C1", "C2"],
            "health": ["C3"],
            "customs": ["C4", "C5"],
        }
        counts = _station_counts(args.stations)
        officer_hash = hash_password(BENCH_PASSWORD)
        demo_users = {u.username: u for u in db.session.scalars(select(User))}
        stations, seats = [], []
        number = 0
        for agency_kind, count in counts.items():
            for index in range(count):
                number += 1
                code = demo_stations[agency_kind][index] if index < len(demo_stations[agency_kind]) else None
                if code:
                    station = db.session.scalar(select(Station).where(Station.post_id == post.id, Station.code == code))
                else:
                    code = f"B{number:02d}"
                    station = Station(
                        post_id=post.id, code=code, name=f"Bench counter {number:02d}", stage="primary", is_open=True
                    )
                    station.step_kinds = list(kinds_of[agency_kind])
                    db.session.add(station)
                stations.append((station, agency_kind))
                for country in (post.country_a, post.country_b):
                    agency = agencies[f"{country}-{agency_kind[:3].upper()}"]
                    demo_name = f"{country.lower()}-{agency_kind}-{index + 1}"
                    officer = demo_users.get(demo_name)
                    if officer is None:
                        officer = User(
                            post_id=post.id,
                            username=f"bench-{country.lower()}-{agency_kind}-{index + 1}",
                            full_name=f"Bench officer {country} {agency_kind} {index + 1}",
                            role="officer",
                            agency_id=agency.id,
                            password_hash=officer_hash,
                        )
                        db.session.add(officer)
                    seats.append((station, officer, agency.code))
        db.session.flush()
        for station, officer, _agency in seats:
            queues.take_seat(station, officer)
        db.session.commit()

        station_data = {}
        for station, agency_kind in stations:
            station_data[station.id] = {
                "code": station.code,
                "name": station.name,
                "kind": agency_kind,
                "step_kinds": [k.id for k in station.step_kinds],
                "tokens": {},
            }
        for station, officer, agency_code in seats:
            station_data[station.id]["tokens"][agency_code] = create_token(officer.username)
        desk = db.session.scalar(select(User).where(User.username == "supervisor-1"))
        db.session.commit()

        devices = _devices(app, post, boards=min(10, args.sockets), kiosks=args.kiosks)
        db.session.commit()

        started = time.perf_counter()
        codes = []
        categories = [c for c, _ in TICKET_MIX]
        weights = [w for _, w in TICKET_MIX]
        for n in range(args.tickets):
            direction = rng.choice(post.directions)
            category = rng.choices(categories, weights)[0]
            codes.append(queues.issue_ticket(post, direction, category, issued_by=desk).code)
            if n % 250 == 249:
                db.session.commit()
                events.discard()
        db.session.commit()
        events.discard()
        issue_seconds = time.perf_counter() - started
        rules = {rule.rule for rule in app.url_map.iter_rules()}
        post_id = post.id
        db.session.remove()
        db.engine.dispose()
    return {
        "post_id": post_id,
        "stations": station_data,
        "codes": codes,
        "devices": devices,
        "issue_seconds": issue_seconds,
        "kiosk_status": "/api/v1/tickets/<code>/status" in rules,
        "device_login": "/live/device" in rules,
    }


def _station_counts(total: int) -> dict[str, int]:
    counts = {kind: max(1, round(total * share)) for kind, share in STATION_MIX}
    counts["immigration"] += total - sum(counts.values())
    return counts


def _devices(app, post, boards: int, kiosks: int) -> dict[str, list[str]]:
    """Device tokens for display boards and kiosks when device accounts exist (osbp/live/devices.py)."""
    try:
        from osbp.live.devices import create_device
    except ImportError:
        return {"board": [], "kiosk": []}
    if "/live/device" not in {rule.rule for rule in app.url_map.iter_rules()}:
        return {"board": [], "kiosk": []}
    # A board session can carry many sockets: a handful of board devices is enough to spread them.
    return {
        "board": [create_device(post, "board", f"bench-board-{n + 1}")[1] for n in range(boards)],
        "kiosk": [create_device(post, "kiosk", f"bench-kiosk-{n + 1}")[1] for n in range(kiosks)],
    }


# ------------------------------------------------------------------------------------------ raw database rate


# The statement of osbp.queues.operations.call_next, on the scratch table (same partial index as ix_tickets_waiting).
RAW_CLAIM = """
UPDATE bench_take_next SET status = 'called', station_id = %(station)s, called_at = now() AT TIME ZONE 'utc',
    recalls = 0, target_station_id = NULL
WHERE id = (
    SELECT id FROM bench_take_next
    WHERE post_id = %(post)s AND status = 'waiting' AND stage = 'primary'
      AND step_kind_id IN (SELECT step_kind_id FROM station_step_kinds WHERE station_id = %(station)s)
      AND (target_station_id IS NULL OR target_station_id = %(station)s)
    ORDER BY rank_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
) AND status = 'waiting'
  AND EXISTS (SELECT 1 FROM stations WHERE id = %(station)s AND is_open AND NOT paused)
RETURNING id
"""


def raw_take_next(args, hall: dict) -> dict:
    """Claims per second of the bare statement + commit, several connections, on a scratch copy of the queue.

    The copy holds the waiting tickets exactly as the HTTP load will find them (same queue length, same kinds), so
    the two rates are measured on the same queue. Each connection claims for one counter, busiest queues first.
    """
    import psycopg2

    dsn = _psycopg2_dsn(args.database_url)
    setup = psycopg2.connect(dsn)
    setup.autocommit = True
    stations = list(hall["stations"].items())  # immigration counters first: the queue starts there
    with setup.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_take_next")
        cursor.execute(
            "CREATE TABLE bench_take_next (id serial PRIMARY KEY, post_id integer NOT NULL, step_kind_id integer,"
            " stage varchar(16) NOT NULL, status varchar(16) NOT NULL, rank_at timestamp, target_station_id integer,"
            " station_id integer, called_at timestamp, called_by_id integer, recalls integer NOT NULL DEFAULT 0)"
        )
        cursor.execute(
            "INSERT INTO bench_take_next (post_id, step_kind_id, stage, status, rank_at, target_station_id)"
            " SELECT post_id, step_kind_id, stage, status, rank_at, target_station_id FROM tickets"
            " WHERE status = 'waiting' ORDER BY id"
        )
        # The same partial index the app has on tickets (ix_tickets_waiting).
        cursor.execute(
            "CREATE INDEX ix_bench_take_next_waiting ON bench_take_next (post_id, step_kind_id, stage, rank_at)"
            " WHERE status = 'waiting'"
        )
        cursor.execute("ANALYZE bench_take_next")
        cursor.execute("SELECT count(*) FROM bench_take_next")
        queue = cursor.fetchone()[0]
    claims = [0] * args.raw_connections
    barrier = threading.Barrier(args.raw_connections + 1)
    deadline = [0.0]

    def claimer(index: int) -> None:
        station_id = stations[index % len(stations)][0]
        connection = psycopg2.connect(dsn)
        try:
            with connection.cursor() as cursor:
                barrier.wait(timeout=30)
                while time.perf_counter() < deadline[0]:
                    cursor.execute(RAW_CLAIM, {"station": station_id, "post": hall["post_id"]})
                    row = cursor.fetchone()
                    connection.commit()
                    if row is None:
                        break
                    claims[index] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(i,), daemon=True) for i in range(args.raw_connections)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + args.raw_seconds
    started = time.perf_counter()
    barrier.wait(timeout=30)
    for thread in threads:
        thread.join(args.raw_seconds + 30)
    elapsed = time.perf_counter() - started
    with setup.cursor() as cursor:
        cursor.execute("DROP TABLE bench_take_next")
    setup.close()
    total = sum(claims)
    return {"claims": total, "seconds": elapsed, "rate": total / elapsed if elapsed else 0.0, "queue": queue}


# ------------------------------------------------------------------------------------------------- server


class Server(GunicornProcess):
    """One osbp instance: ``gunicorn -w 1 -k gthread --threads N osbp.wsgi:app`` on the bench's database."""

    def __init__(self, args, secret_key: str, threads: int, log_path: Path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OSBP_")}
        env.update(
            OSBP_ENV="development",
            OSBP_DATABASE_URL=args.database_url,
            OSBP_SECRET_KEY=secret_key,
            OSBP_SOCKETIO_MESSAGE_QUEUE=args.message_queue,
            **({"OSBP_SWITCH_INTERVAL_MS": args.switch_interval_ms} if args.switch_interval_ms else {}),
            # Each kiosk device has its own bucket; let the bench's kiosks look up as often as --kiosk-rate says.
            OSBP_STATUS_RATE_PER_MINUTE=str(max(30, math.ceil(args.kiosk_rate / max(1, args.kiosks) * 60 * 2))),
            PYTHONPATH=str(ROOT),
        )
        super().__init__(
            "osbp.wsgi:app",
            cwd=ROOT,
            env=env,
            log_path=log_path,
            threads=threads,
            options=("--keep-alive", "75", "--graceful-timeout", "3"),
        )
        self.threads = threads
        self.worker_pid = None

    def wait_ready(self, timeout: float = 30.0) -> None:
        super().wait_ready("/login", timeout)
        self.worker_pid = self.worker_pids()[0]


def rss_kib(pid: int) -> int:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    with suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def postgres_cpu_seconds(database: str) -> float:
    """CPU of the PostgreSQL backends serving ``database`` (their command line names it)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if cmdline.startswith("postgres: ") and f" {database} " in cmdline and "autovacuum" not in cmdline:
                total += cpu_seconds(int(entry.name))
    return total


# ------------------------------------------------------------------------------------------------ clients


class Http:
    """One keep-alive HTTP/1.1 connection (http.client: far less client CPU than requests)."""

    def __init__(self, port: int, cookie: str | None = None):
        self.port = port
        self.cookie = cookie
        self.connection = None
        self.reconnects = 0

    def call(self, method: str, path: str, token: str | None = None, body: dict | None = None):
        headers = {"User-Agent": USER_AGENT}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                self.reconnects += 1
                if attempt:
                    raise
        raise AssertionError("unreachable")


def login_sessions(args, port: int, hall: dict) -> list[tuple[str, str]]:
    """(kind, cookie header) for the sockets: board device sessions, else officer logins."""
    import requests

    base = f"http://127.0.0.1:{port}"
    cookies = []
    if hall["devices"]["board"]:
        return [("board", device_session(port, token)) for token in hall["devices"]["board"]]
    from osbp.post.seed import DEMO_PASSWORDS, OFFICERS

    for username, _code, _name in OFFICERS:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        page = session.get(f"{base}/login", timeout=10)
        token = CSRF_INPUT.search(page.text).group(1)
        response = session.post(
            f"{base}/login",
            data={"username": username, "password": DEMO_PASSWORDS["officer"], "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login {username} failed: {response.status_code}")
        cookies.append(("officer", _cookie_header(session)))
    return cookies


def device_session(port: int, token: str) -> str:
    """Open the device link like a board or kiosk does once; the cookie header of its session."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    base = f"http://127.0.0.1:{port}/live/device"
    page = session.get(base, timeout=10)  # the set-up page: its form posts the token (never in a URL)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if csrf is None:
        raise RuntimeError(f"no set-up form at {base}: {page.status_code}")
    response = session.post(base, data={"csrf_token": csrf.group(1), "token": token}, allow_redirects=False, timeout=10)
    if response.status_code not in (302, 303):
        raise RuntimeError(f"device login failed: {response.status_code} {response.text[:200]}")
    return _cookie_header(session)


def _cookie_header(session) -> str:
    return "; ".join(f"{k}={v}" for k, v in session.cookies.get_dict().items())


class Watchers:
    """The Socket.IO clients; each keeps (receive time, code, station id) of every ticket.called."""

    def __init__(self):
        self.clients = []
        self.received: list[list[tuple[float, str, int]]] = []
        self.other_events = Counter()
        self.failures: list[str] = []

    def connect(self, ports: list[int], sessions: list[tuple[str, str]], count: int, parallel: int = 8) -> None:
        import socketio

        lock = threading.Lock()
        todo = list(range(count))

        def run():
            while True:
                with lock:
                    if not todo:
                        return
                    index = todo.pop()
                _kind, cookie = sessions[index % len(sessions)]
                mine: list[tuple[float, str, int]] = []
                client = socketio.Client(reconnection=False)

                def on_event(message, mine=mine):
                    now = time.perf_counter()
                    if message.get("type") == "ticket.called":
                        data = message.get("data", {})
                        mine.append((now, data.get("code"), data.get("station_id")))
                    else:
                        self.other_events[message.get("type")] += 1

                client.on("event", on_event)
                try:
                    client.connect(
                        f"http://127.0.0.1:{ports[index % len(ports)]}",
                        headers={"Cookie": cookie, "User-Agent": USER_AGENT},
                        transports=["websocket"],
                        wait_timeout=10,
                    )
                except Exception as error:  # noqa: BLE001 (counted and reported)
                    with lock:
                        self.failures.append(repr(error))
                    continue
                with lock:
                    self.clients.append(client)
                    self.received.append(mine)

        threads = [threading.Thread(target=run, daemon=True) for _ in range(parallel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    def disconnect(self) -> None:
        def close(client):
            with suppress(Exception):
                client.disconnect()

        threads = [threading.Thread(target=close, args=(c,), daemon=True) for c in self.clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)


class LightWatchers:
    """The same watchers, speaking Engine.IO 4 / Socket.IO 5 over websocket-client, all sockets on a few threads.

    Per socket: open packet ``0{…}``, then ``40`` (connect to ``/``) answered by ``40{sid}`` (or ``44`` refused);
    ``2`` (ping) is answered ``3``; ``42["event", {…}]`` is an event.
    """

    PER_THREAD = 100

    def __init__(self):
        self.clients = []
        self.received: list[list[tuple[float, str, int]]] = []
        self.other_events = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def connect(self, ports: list[int], sessions: list[tuple[str, str]], count: int) -> None:
        import websocket

        for index in range(count):
            _kind, cookie = sessions[index % len(sessions)]
            url = f"ws://127.0.0.1:{ports[index % len(ports)]}/socket.io/?EIO=4&transport=websocket"
            try:
                ws = websocket.create_connection(url, header=[f"User-Agent: {USER_AGENT}"], cookie=cookie, timeout=10)
                opened = ws.recv()
                if not opened.startswith("0"):
                    raise RuntimeError(f"no Engine.IO open packet: {opened[:80]!r}")
                ws.send("40")
                answer = ws.recv()
                while answer == "2":
                    ws.send("3")
                    answer = ws.recv()
                if not answer.startswith("40"):
                    ws.close()
                    raise RuntimeError(f"Socket.IO connect refused: {answer[:80]!r}")
            except Exception as error:  # noqa: BLE001 (counted and reported)
                self.failures.append(repr(error))
                continue
            self.clients.append(ws)
            self.received.append([])
        for start in range(0, len(self.clients), self.PER_THREAD):
            thread = threading.Thread(target=self._pump, args=(start,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pump(self, start: int) -> None:
        import selectors

        selector = selectors.DefaultSelector()
        for index in range(start, min(start + self.PER_THREAD, len(self.clients))):
            selector.register(self.clients[index].sock, selectors.EVENT_READ, index)
        while not self._stop.is_set():
            for key, _mask in selector.select(timeout=0.2):
                ws = self.clients[key.data]
                try:
                    message = ws.recv()
                except Exception:  # noqa: BLE001 (closed by the server)
                    selector.unregister(key.fileobj)
                    continue
                now = time.perf_counter()
                if message == "2":
                    ws.send("3")
                elif message.startswith("42"):
                    _name, payload = json.loads(message[2:])[:2]
                    if payload.get("type") == "ticket.called":
                        data = payload.get("data", {})
                        self.received[key.data].append((now, data.get("code"), data.get("station_id")))
                    else:
                        self.other_events[payload.get("type")] += 1
        selector.close()

    def disconnect(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        for ws in self.clients:
            with suppress(Exception):
                ws.close(timeout=1)


class ProcessWatchers:
    """LightWatchers in a child process (fork): their receive times come back when they disconnect.

    ``time.perf_counter()`` is CLOCK_MONOTONIC on Linux, one clock for both processes, so a delivery is still the
    worker's send time → the socket's receive time.
    """

    def __init__(self):
        self.clients: list[None] = []
        self.received: list[list[tuple[float, str, int]]] = []
        self.other_events = Counter()
        self.failures: list[str] = []
        self._process = None
        self._pipe = None
        self.pid = None

    def connect(self, ports: list[int], sessions: list[tuple[str, str]], count: int) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=self._run, args=(child, ports, sessions, count), daemon=True)
        self._process.start()
        self.pid = self._process.pid
        connected, self.failures = self._pipe.recv()
        self.clients = [None] * connected

    @staticmethod
    def _run(pipe, ports, sessions, count) -> None:
        watchers = LightWatchers()
        watchers.connect(ports, sessions, count)
        pipe.send((len(watchers.clients), watchers.failures))
        pipe.recv()  # stop
        watchers.disconnect()
        pipe.send((watchers.received, dict(watchers.other_events)))

    def disconnect(self) -> None:
        if self._process is None:
            return
        with suppress(BrokenPipeError, EOFError, OSError):
            self._pipe.send("stop")
            if self._pipe.poll(30):
                self.received, other = self._pipe.recv()
                self.other_events.update(other)
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
        self._process = None


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = defaultdict(list)  # action → [(finished at, seconds)]
        self.statuses = Counter()  # (action, status)
        self.sent = {}  # (code, station id) → call-next send time
        self.answered = {}  # (code, station id) → call-next response time
        self.called_steps = Counter()  # step id → times returned by call-next
        self.errors: list[str] = []
        self.idle_counters: dict[int, bool] = {}  # station id → its last Call next found nobody
        self.pace_lock = threading.Lock()
        self.next_call_at = 0.0

    def pace(self, rate: float, stop: threading.Event) -> None:
        """Open loop: Call next presses spaced 1/rate apart over all counters (no-op when rate is 0)."""
        if rate <= 0:
            return
        with self.pace_lock:
            now = time.perf_counter()
            self.next_call_at = max(self.next_call_at + 1.0 / rate, now)
            at = self.next_call_at
        stop.wait(max(0.0, at - now))

    def record(self, action: str, status: int, started: float, finished: float) -> None:
        with self.lock:
            self.latency[action].append((finished, finished - started))
            self.statuses[(action, status)] += 1


def counter_worker(  # noqa: C901 (one officer's loop)
    port, station_id, station, stats: Stats, stop: threading.Event, idle_wait: float, call_rate: float
) -> None:
    """One counter: Call next, identity at immigration when missing, then every step decided (cleared)."""
    http = Http(port)
    tokens = station["tokens"]
    caller = next(iter(tokens.values()))
    try:
        while not stop.is_set():
            stats.pace(call_rate, stop)
            if stop.is_set():
                return
            started = time.perf_counter()
            status, body = http.call("POST", f"/api/v1/stations/{station_id}/call-next", caller)
            finished = time.perf_counter()
            stats.record("call-next" if status == 200 else "call-next (empty)", status, started, finished)
            stats.idle_counters[station_id] = status == 204
            if status == 204:
                stop.wait(idle_wait)
                continue
            if status != 200:
                stats.errors.append(f"call-next {station['code']}: {status} {body[:200]!r}")
                return
            called = json.loads(body)
            code = called["ticket"]["code"]
            with stats.lock:
                stats.sent[(code, station_id)] = started
                stats.answered[(code, station_id)] = finished
                for step in called["steps_here"]:
                    stats.called_steps[step["id"]] += 1
            has_identity = called["crossing"]["holder"] is not None
            for step in called["steps_here"]:
                token = tokens[step["kind"]["agency"]]
                if step["kind"]["agency_kind"] == "immigration" and not has_identity:
                    started = time.perf_counter()
                    status, body = http.call("POST", f"/api/v1/steps/{step['id']}/identity", token, IDENTITY)
                    stats.record("identity", status, started, time.perf_counter())
                    if status != 200:
                        stats.errors.append(f"identity {step['id']}: {status} {body[:200]!r}")
                        return
                    has_identity = True
                started = time.perf_counter()
                status, body = http.call("POST", f"/api/v1/steps/{step['id']}/decision", token, {"outcome": "cleared"})
                stats.record("decision", status, started, time.perf_counter())
                if status != 200:
                    stats.errors.append(f"decision {step['id']}: {status} {body[:200]!r}")
                    return
    except Exception as error:  # noqa: BLE001 (reported in the table)
        stats.errors.append(f"worker {station['code']}: {error!r}")


def kiosk_worker(port, cookie, codes, rate: float, stats: Stats, stop: threading.Event, seed: int) -> None:
    """A kiosk device looking up ticket status (its own rate-limit bucket) at ``rate`` per second on average.

    People at different kiosks do not act in step: each kiosk starts at a random moment and its lookups arrive at
    random (exponential gaps, a Poisson stream). Kiosks started together on a fixed interval would all ask at the same
    instant and time each other's queueing, not the lookup (4 kiosks in step: p50 26 ms; the same rate from one: 11 ms).
    """
    http = Http(port, cookie)
    rng = random.Random(seed)
    next_at = time.perf_counter() + (rng.uniform(0.0, 1.0 / rate) if rate > 0 else 0.0)
    try:
        stop.wait(max(0.0, next_at - time.perf_counter()))
        while not stop.is_set():
            code = rng.choice(codes)
            started = time.perf_counter()
            status, _body = http.call("GET", f"/api/v1/tickets/{code}/status")
            stats.record("kiosk status", status, started, time.perf_counter())
            next_at = max(next_at + (rng.expovariate(rate) if rate > 0 else 0.0), started)
            stop.wait(max(0.0, next_at - time.perf_counter()))
    except Exception as error:  # noqa: BLE001
        stats.errors.append(f"kiosk: {error!r}")


# ------------------------------------------------------------------------------------------------ figures


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(value: float) -> str:
    return "n/a" if value != value else f"{value * 1000:.1f} ms"  # NaN → n/a


def duplicates_in_database(url: str) -> tuple[int, int]:
    """(steps with two 'called' events, stations holding two called tickets) — both must be 0."""
    import psycopg2

    with psycopg2.connect(_psycopg2_dsn(url)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT step_id FROM step_events WHERE kind = 'called'"
            " GROUP BY step_id HAVING count(*) > 1) AS twice"
        )
        steps = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM (SELECT station_id FROM tickets WHERE status = 'called'"
            " GROUP BY station_id HAVING count(*) > 1) AS twice"
        )
        stations = cursor.fetchone()[0]
    connection.close()
    return steps, stations


def database_counters(url: str, database: str) -> dict:
    import psycopg2

    with psycopg2.connect(_psycopg2_dsn(url)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_fetched, tup_returned"
            " FROM pg_stat_database WHERE datname = %s",
            (database,),
        )
        row = cursor.fetchone()
    connection.close()
    return dict(zip(("commits", "rollbacks", "inserted", "updated", "fetched", "returned"), row, strict=True))


def machine() -> str:
    model = "?"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with suppress(OSError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} × {model}, {memory}, {platform.platform()}, Python {platform.python_version()}"


def main(argv=None) -> int:  # noqa: C901 (one linear script)
    args = parse_args(argv)
    for noisy in ("engineio.client", "socketio.client"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)  # "packet queue is empty" when sockets close
    database = urlsplit(args.database_url).path.lstrip("/")
    secret_key = secrets.token_urlsafe(40)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}", flush=True)
    refuse_real_post(args.database_url)

    print(f"setup: schema, {args.stations} counters, {args.tickets} tickets …", flush=True)
    started = time.perf_counter()
    hall = build_hall(args, secret_key)
    print(
        f"setup done in {time.perf_counter() - started:.1f} s (issuing {args.tickets} tickets in-process: "
        f"{args.tickets / hall['issue_seconds']:.0f}/s)",
        flush=True,
    )

    raw = raw_take_next(args, hall)
    print(
        f"raw take-next: {raw['rate']:.0f}/s on {args.raw_connections} connections "
        f"({raw['claims']} claims from a queue of {raw['queue']} in {raw['seconds']:.1f} s)",
        flush=True,
    )

    n = args.instances
    k = args.socket_instances
    clients = len(hall["stations"]) + args.kiosks
    threads = args.threads or (
        max(100, math.ceil(args.sockets / k) + clients + 20)
        if k
        else max(100, math.ceil((args.sockets + clients) / n) + 20)
    )
    servers = [
        Server(args, secret_key, threads, Path(tempfile.gettempdir()) / f"osbp-busy-hall-{os.getpid()}-{i}.log")
        for i in range(n)
    ]
    ports = [server.port for server in servers]
    http_ports, socket_ports = (ports[: n - k], ports[n - k :]) if k else (ports, ports)
    h = len(http_ports)
    watchers = {"process": ProcessWatchers, "light": LightWatchers}.get(args.socket_client, Watchers)()
    stats = Stats()
    stop = threading.Event()
    rss_peak = [0]

    def rss_all() -> int:
        return sum(rss_kib(server.worker_pid) for server in servers)

    def cpu_all() -> tuple[float, float, float]:
        return (
            sum(cpu_seconds(server.worker_pid) for server in servers),
            postgres_cpu_seconds(database),
            sum(os.times()[:2]) + (cpu_seconds(watchers.pid) if getattr(watchers, "pid", None) else 0.0),
        )

    try:
        for server in servers:
            server.wait_ready()
        rss_idle = rss_all()
        sessions = login_sessions(args, ports[0], hall)  # cookie sessions: valid on every instance (same key)
        started = time.perf_counter()
        watchers.connect(socket_ports, sessions, args.sockets)
        print(
            f"{n} server(s), worker pid {', '.join(str(s.worker_pid) for s in servers)} (--threads {threads}"
            f"{', message queue ' + args.message_queue if args.message_queue else ''}); "
            f"{len(watchers.clients)}/{args.sockets} sockets ({sessions[0][0]} sessions) "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        rss_sockets = rss_all()

        def sample_rss():
            while not stop.wait(0.5):
                rss_peak[0] = max(rss_peak[0], rss_all())

        before_db = database_counters(args.database_url, database)
        before_cpu = cpu_all()
        workers = [
            threading.Thread(
                target=counter_worker,
                args=(http_ports[i % h], sid, station, stats, stop, args.idle_wait, args.call_rate),
                daemon=True,
                name=f"counter-{station['code']}",
            )
            for i, (sid, station) in enumerate(hall["stations"].items())
        ]
        if hall["kiosk_status"] and args.kiosks:
            kiosk_cookies = [device_session(ports[0], token) for token in hall["devices"]["kiosk"]]
            kiosk_cookies = kiosk_cookies or [None] * args.kiosks  # anonymous lookups: one bucket per address
            for port in http_ports:  # a running instance has its service times cached (docs/performance.md)
                Http(port, kiosk_cookies[0]).call("GET", f"/api/v1/tickets/{hall['codes'][0]}/status")
            workers += [
                threading.Thread(
                    target=kiosk_worker,
                    args=(
                        http_ports[i % h],
                        cookie,
                        hall["codes"],
                        args.kiosk_rate / len(kiosk_cookies),
                        stats,
                        stop,
                        args.seed + i,
                    ),
                    daemon=True,
                )
                for i, cookie in enumerate(kiosk_cookies)
            ]
        workers.append(threading.Thread(target=sample_rss, daemon=True))
        print(f"load: {len(hall['stations'])} counters for at most {args.duration:.0f} s …", flush=True)
        load_started = time.perf_counter()
        for worker in workers:
            worker.start()
        while time.perf_counter() - load_started < args.duration:
            time.sleep(0.5)
            if stats.errors and len(stats.errors) >= len(hall["stations"]):
                break
            idle = stats.idle_counters
            if len(idle) == len(hall["stations"]) and all(idle.values()):
                break  # every counter's last Call next found nobody waiting: every ticket is through
        stop.set()
        load_ended = time.perf_counter()
        for worker in workers:
            worker.join(35)
        after_cpu = cpu_all()
        after_db = database_counters(args.database_url, database)
        time.sleep(0.5)  # events still in flight
        rss_end = rss_all()
    finally:
        stop.set()
        watchers.disconnect()
        for server in servers:
            server.stop()
    log_path = servers[0].log_path

    window_start = load_started + min(args.warmup, (load_ended - load_started) / 2)
    window = load_ended - window_start
    figures = summarise(
        args, hall, raw, stats, watchers, window_start, window, load_ended - load_started, threads, len(sessions)
    )
    figures.update(
        {
            "rss_idle_mib": rss_idle / 1024,
            "rss_sockets_mib": rss_sockets / 1024,
            "rss_peak_mib": max(rss_peak[0], rss_end) / 1024,
            "cpu_server_s": after_cpu[0] - before_cpu[0],
            "cpu_postgres_s": after_cpu[1] - before_cpu[1],
            "cpu_bench_s": after_cpu[2] - before_cpu[2],
            "db": {k: after_db[k] - before_db[k] for k in after_db},
        }
    )
    requests_in_load = sum(stats.statuses.values())
    figures["cpu_server_ms_per_request"] = 1000 * figures["cpu_server_s"] / max(1, requests_in_load)
    figures["duplicate_steps_db"], figures["double_called_stations_db"] = duplicates_in_database(args.database_url)
    report(args, figures, log_path)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


def summarise(args, hall, raw, stats, watchers, window_start, window, load_seconds, threads, sessions) -> dict:
    def in_window(action):
        return [seconds for finished, seconds in stats.latency.get(action, []) if finished >= window_start]

    calls, decisions, identities = in_window("call-next"), in_window("decision"), in_window("identity")
    empties, kiosk = in_window("call-next (empty)"), in_window("kiosk status")
    actions = len(calls) + len(decisions)
    deliveries, after_response = [], []
    per_event = defaultdict(list)
    for received in watchers.received:
        for at, code, station_id in received:
            sent = stats.sent.get((code, station_id))
            if sent is not None and sent >= window_start:
                deliveries.append(at - sent)
                after_response.append(at - stats.answered[(code, station_id)])
                per_event[(code, station_id)].append(at - sent)
    last_socket = [max(v) for v in per_event.values()]
    expected = sum(1 for sent in stats.sent.values() if sent >= window_start) * len(watchers.clients)
    kiosk_statuses = Counter(s for (a, s), n in stats.statuses.items() if a == "kiosk status" for _ in range(n))
    return {
        "stations": len(hall["stations"]),
        "sockets": len(watchers.clients),
        "socket_failures": len(watchers.failures),
        "socket_sessions": sessions,
        "socket_kind": ("board devices" if hall["devices"]["board"] else "officer logins") + f", {args.socket_client}",
        "tickets": len(hall["codes"]),
        "threads": threads,
        "instances": args.instances,
        "load_seconds": load_seconds,
        "window_seconds": window,
        "call_next_per_s": len(calls) / window,
        "decisions_per_s": len(decisions) / window,
        "actions_per_s": actions / window,
        "identity_per_s": len(identities) / window,
        "requests_per_s": (actions + len(identities) + len(empties) + len(kiosk)) / window,
        "empty_calls": len(empties),
        "call_next_p50": percentile(calls, 50),
        "call_next_p99": percentile(calls, 99),
        "decision_p50": percentile(decisions, 50),
        "decision_p99": percentile(decisions, 99),
        "identity_p50": percentile(identities, 50),
        "event_p50": percentile(deliveries, 50),
        "event_p99": percentile(deliveries, 99),
        "event_all_sockets_p99": percentile(last_socket, 99),
        "event_after_response_p50": percentile(after_response, 50),
        "event_after_response_p99": percentile(after_response, 99),
        "events_delivered": len(deliveries),
        "events_expected": expected,
        "other_events": dict(watchers.other_events),
        "kiosk_available": hall["kiosk_status"],
        "kiosk_p50": percentile(kiosk, 50) if hall["kiosk_status"] else float("nan"),
        "kiosk_p99": percentile(kiosk, 99) if hall["kiosk_status"] else float("nan"),
        "kiosk_statuses": dict(kiosk_statuses),
        "duplicates_client": sum(1 for n in stats.called_steps.values() if n > 1),
        "raw_rate": raw["rate"],
        "raw_connections": args.raw_connections,
        "errors": stats.errors[:10],
        "error_count": len(stats.errors),
        "http_statuses": {f"{a} {s}": n for (a, s), n in sorted(stats.statuses.items())},
    }


def report(args, f: dict, log_path: Path) -> None:
    ratio = f["actions_per_s"] / f["raw_rate"] if f["raw_rate"] else float("nan")
    call_ratio = f["call_next_per_s"] / f["raw_rate"] if f["raw_rate"] else float("nan")
    duplicates = f["duplicates_client"] + f["duplicate_steps_db"] + f["double_called_stations_db"]

    def verdict(ok, measured=True):
        if not measured:
            return "n/a"
        return "ok" if ok else "MISSED"

    rows = [
        (
            "counters / sockets / tickets",
            f"{f['stations']} / {f['sockets']} ({f['socket_kind']}) / {f['tickets']}",
            "",
            "",
        ),
        (
            "gunicorn",
            f"{f['instances']} × -w 1 -k gthread --threads {f['threads']}"
            + (" + Redis" if f["instances"] > 1 or args.message_queue else "")
            + (f" ({args.socket_instances} for sockets only)" if args.socket_instances else "")
            + f"; switch interval {args.switch_interval_ms or 'app default'} ms",
            "",
            "",
        ),
        (
            "load",
            f"{args.call_rate:g} Call next/s (open loop)" if args.call_rate else "closed loop: every counter flat out",
            "",
            "",
        ),
        ("load measured", f"{f['window_seconds']:.1f} s (of {f['load_seconds']:.1f} s)", "", ""),
        (
            "actions/s (call-next + decision)",
            f"{f['actions_per_s']:.0f}",
            "≥ 500",
            verdict(f["actions_per_s"] >= 500),
        ),
        ("  call-next/s, decisions/s", f"{f['call_next_per_s']:.0f}, {f['decisions_per_s']:.0f}", "", ""),
        ("  + identity/s, all requests/s", f"{f['identity_per_s']:.0f}, {f['requests_per_s']:.0f}", "", ""),
        ("raw take-next (SQL + commit)", f"{f['raw_rate']:.0f}/s on {f['raw_connections']} connections", "", ""),
        ("actions/s ÷ raw rate", f"{ratio:.1%} (call-next alone {call_ratio:.1%})", "≥ 25 %", verdict(ratio >= 0.25)),
        ("call-next p50 / p99", f"{ms(f['call_next_p50'])} / {ms(f['call_next_p99'])}", "", ""),
        ("decision p50 / p99", f"{ms(f['decision_p50'])} / {ms(f['decision_p99'])}", "", ""),
        (
            "event delivery p50 / p99",
            f"{ms(f['event_p50'])} / {ms(f['event_p99'])}",
            "p99 < 50 ms",
            verdict(f["event_p99"] < 0.050, f["event_p99"] == f["event_p99"]),
        ),
        ("  all sockets reached, p99", ms(f["event_all_sockets_p99"]), "", ""),
        (
            "  after the HTTP response p50 / p99",
            f"{ms(f['event_after_response_p50'])} / {ms(f['event_after_response_p99'])}",
            "",
            "",
        ),
        ("  deliveries / expected", f"{f['events_delivered']} / {f['events_expected']}", "", ""),
        (
            "kiosk status p50 / p99",
            f"{ms(f['kiosk_p50'])} / {ms(f['kiosk_p99'])}" if f["kiosk_available"] else "n/a (no status endpoint)",
            "p99 < 20 ms",
            verdict(f["kiosk_p99"] < 0.020, f["kiosk_p99"] == f["kiosk_p99"]),
        ),
        ("duplicates (step called twice)", str(duplicates), "0", verdict(duplicates == 0)),
        (
            "server RSS idle / sockets on / peak",
            f"{f['rss_idle_mib']:.0f} / {f['rss_sockets_mib']:.0f} / {f['rss_peak_mib']:.0f} MiB",
            "",
            "",
        ),
        (
            "CPU s: server / postgres / bench",
            f"{f['cpu_server_s']:.1f} / {f['cpu_postgres_s']:.1f} / {f['cpu_bench_s']:.1f} "
            f"(load {f['load_seconds']:.0f} s)",
            "",
            "",
        ),
        ("server CPU per request", f"{f['cpu_server_ms_per_request']:.1f} ms", "", ""),
        ("empty calls (204), errors", f"{f['empty_calls']}, {f['error_count']}", "", ""),
    ]
    actions_total = max(1, (f["actions_per_s"] + f["identity_per_s"]) * f["window_seconds"])
    db = f["db"]
    rows.append(
        (
            "DB per request (whole load)",
            f"{db['commits'] / actions_total:.1f} commits, {db['inserted'] / actions_total:.1f} rows inserted",
            "",
            "",
        )
    )
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print()
    print(f"{'busy hall':<{width}}  {'measured':<{value_width}}  {'target':<11}  ")
    print("-" * (width + value_width + 24))
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:<{value_width}}  {target:<11}  {ok}")
    if f["errors"]:
        print("\nfirst errors:", *f["errors"], sep="\n  ")
    if f["socket_failures"]:
        print(f"\n{f['socket_failures']} sockets failed to connect")
    print(f"\nHTTP statuses: {f['http_statuses']}")
    print(f"other socket events: {f['other_events']}")
    print(f"server log: {log_path}" + (" (and the other instances' next to it)" if f["instances"] > 1 else ""))


if __name__ == "__main__":
    sys.exit(main())
