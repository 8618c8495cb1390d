"""Soak: two osbp servers under realistic traffic for --minutes, with faults, RSS each minute, invariants at the end.

    .venv/bin/python bench/soak.py                 # 30 minutes, its own PostgreSQL (5499) and Redis (6399)
    .venv/bin/python bench/soak.py --minutes 4 --seed 7
    .venv/bin/python bench/soak.py --tracemalloc /tmp/soak-trace   # + server B's memory probe (bench/soak_gunicorn.py)

What it does, all on 127.0.0.1, bounded in time, and cleaned up on exit or Ctrl-C:

1. Its own PostgreSQL cluster (initdb under /tmp/soakpg, port 5499, run as user postgres) and its own redis-server
   (port 6399, no persistence), because it restarts both; or --database-url / --redis-url (then those are never
   restarted). The schema is built by the migrations: the demo post, --stations joint counters with an officer of
   each country seated, bearer tokens, board and kiosk devices (the setup of bench/busy_hall.py).
2. Two servers, ``gunicorn -w 1 -k gthread --threads 100 osbp.wsgi:app``, sharing the database and the Redis message
   queue, no-show policy ``cancel`` (a no-show ends the ticket).
3. Traffic for --minutes: a desk issues tickets over the API; one officer pair per counter calls next, records the
   identity at immigration, starts and decides every step (a few refused, a few no-shows after the recalls); after
   any error the counter looks up what is still called at it (as its page does when reloaded) and carries on. Kiosks
   and phones look up ticket status; boards and kiosks hold Socket.IO websockets, one of which is dropped every few
   seconds (cleanly, or its TCP connection cut without a word) and replaced, on either server.
4. Faults on a schedule: PostgreSQL restarted (twice), Redis restarted (twice), server B killed with SIGKILL and
   started again (twice). Server A is never killed, so its RSS is one process's curve over the whole soak.
5. Each minute: each server's worker RSS, requests, errors, sockets — one row of a table, printed as it goes.
6. Drain (no new tickets; counters serve the rest, bounded), stop, then the invariants in the database: every ticket
   ends served (done) or as a no-show (cancelled) exactly once, each crossing's steps in order, no half-written rows,
   and ``flask --app osbp audit verify`` exit 0 when that command exists. Exit status 1 when an invariant fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import suppress
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.busy_hall import IDENTITY, TICKET_MIX, USER_AGENT, build_hall, device_session, machine, rss_kib  # noqa: E402
from bench.gunicorn_process import GunicornProcess, free_port  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_DIR = Path("/tmp/soakpg")  # noqa: S108 (the soak's own throw-away cluster)
PG_PORT = 5499
REDIS_PORT = 6399
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
LOCAL = ("127.0.0.1", "localhost", "::1")
HTTP_TIMEOUT = 15.0
# (share of the soak's minutes, fault): server A is never killed, so its RSS is one process's whole curve.
SCHEDULE = (
    (0.20, "postgres-restart"),
    (0.33, "redis-restart"),
    (0.47, "kill-9-server-B"),
    (0.60, "postgres-restart"),
    (0.73, "redis-restart"),
    (0.87, "kill-9-server-B"),
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="minutes of traffic (≤ 120), then the drain")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--stations", type=int, default=8, help="joint counters, each with an RW and a CD officer")
    parser.add_argument("--issue-rate", type=float, default=0.6, help="tickets issued per second")
    parser.add_argument("--sockets", type=int, default=24, help="board and kiosk websockets held at once")
    parser.add_argument("--churn-seconds", type=float, default=4.0, help="one socket dropped and replaced this often")
    parser.add_argument("--status-rate", type=float, default=1.5, help="kiosk and phone status lookups per second")
    parser.add_argument("--no-faults", action="store_true", help="traffic only")
    parser.add_argument("--database-url", default="", help="use this PostgreSQL database (its schema is rebuilt)")
    parser.add_argument("--redis-url", default="", help="use this Redis as the message queue (never restarted)")
    parser.add_argument("--tracemalloc", default="", help="path prefix: the servers' memory probe writes there")
    parser.add_argument(
        "--tracemalloc-servers", default="B", help="which servers run the probe (default B: A's RSS stays plain)"
    )
    for name in "ab":
        parser.add_argument(
            f"--env-{name}",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"an environment variable of server {name.upper()} only (e.g. MALLOC_ARENA_MAX=2), to compare the two",
        )
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp/soak-logs"))  # noqa: S108
    args = parser.parse_args(argv)
    args.minutes = min(max(args.minutes, 1.0), 120.0)
    for url in filter(None, (args.database_url, args.redis_url)):
        if urlsplit(url).hostname not in LOCAL:
            parser.error("the soak only talks to servers on this machine (127.0.0.1)")
    return args


# ------------------------------------------------------------------------------------------ its own services


def _as_postgres(*command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (fixed argument list)
        [RUNUSER, "-u", "postgres", "--", *command], capture_output=True, text=True, timeout=timeout, check=False
    )


class Postgres:
    """A throw-away cluster under /tmp/soakpg on port 5499, run as the postgres user."""

    def __init__(self):
        self.data = PG_DIR / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{PG_PORT}/osbp_soak"
        self.started = False

    def start_fresh(self) -> None:
        self.stop()
        shutil.rmtree(PG_DIR, ignore_errors=True)
        PG_DIR.mkdir(parents=True)
        shutil.chown(PG_DIR, "postgres", "postgres")
        result = _as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        if result.returncode:
            raise RuntimeError(f"initdb failed: {result.stderr}")
        self.start()
        result = _as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT), "osbp_soak")
        if result.returncode:
            raise RuntimeError(f"createdb failed: {result.stderr}")

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {PG_PORT} -k {PG_DIR} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
        result = _as_postgres(
            str(PG_BIN / "pg_ctl"), action, "-D", str(self.data), "-w", "-t", "60", "-l", str(PG_DIR / "log"),
            "-o", options, *extra,
        )  # fmt: skip
        if result.returncode:
            raise RuntimeError(f"pg_ctl {action} failed: {result.stdout} {result.stderr}")

    def start(self) -> None:
        self._ctl("start")
        self.started = True

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                self._ctl("stop", "-m", "fast")
        self.started = False


class Redis:
    """redis-server on port 6399 without persistence, a child process in its own process group."""

    def __init__(self):
        self.url = f"redis://127.0.0.1:{REDIS_PORT}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (fixed argument list)
            [REDIS_SERVER, "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with suppress(redis.exceptions.ConnectionError):
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start on port 6399")

    def stop(self) -> None:
        if self.process is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
            self.process = None

    def restart(self) -> None:
        self.stop()
        time.sleep(1.0)  # a second with no message queue at all
        self.start()


class Server:
    """One osbp instance on a fixed port, so that it comes back where its clients expect it after a kill."""

    def __init__(self, name: str, args, database_url: str, redis_url: str, secret_key: str):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OSBP_")}
        self.env.update(
            OSBP_ENV="development",
            OSBP_DATABASE_URL=database_url,
            OSBP_SECRET_KEY=secret_key,
            OSBP_SOCKETIO_MESSAGE_QUEUE=redis_url,
            OSBP_SOCKETIO_CHANNEL=f"osbp-soak-{secrets.token_hex(4)}",
            OSBP_NO_SHOW_POLICY="cancel",
            OSBP_STATUS_RATE_PER_MINUTE="100000",  # every phone here comes from 127.0.0.1
            PYTHONPATH=str(ROOT),
        )
        for setting in getattr(args, f"env_{name.lower()}"):
            key, _, value = setting.partition("=")
            self.env[key] = value
        if args.tracemalloc and name in args.tracemalloc_servers:
            self.env["OSBP_SOAK_TRACEMALLOC"] = f"{args.tracemalloc}-{name}"
        self.log_dir = args.log_dir
        self.process: GunicornProcess | None = None
        self.incarnation = 0
        self.worker_pid = 0

    def start(self) -> None:
        self.incarnation += 1
        self.process = GunicornProcess(
            "osbp.wsgi:app",
            cwd=ROOT,
            env=self.env,
            log_path=self.log_dir / f"server-{self.name}-{self.incarnation}.log",
            threads=100,
            options=("-c", str(ROOT / "bench" / "soak_gunicorn.py"), "--keep-alive", "75", "--graceful-timeout", "3"),
            port=self.port,
        )
        self.process.wait_ready("/healthz", timeout=60)
        self.worker_pid = self.process.worker_pids()[0]

    def kill_9(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.process.pid, signal.SIGKILL)
        self.process.process.wait(10)
        self.process.stop(timeout=1)  # closes its log

    def rss_mib(self) -> float:
        return rss_kib(self.worker_pid) / 1024

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=8)


# ------------------------------------------------------------------------------------------------ clients


class Tally:
    """What the clients did: requests by (what, status), connection errors, messages to look at."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = Counter()
        self.errors: list[str] = []
        self.issued: list[str] = []
        self.outcomes = Counter()  # served / refused / no-show, as the counters saw them
        self.recoveries = 0
        self.sockets = Counter()

    def count(self, what: str, status) -> None:
        with self.lock:
            self.requests[(what, status)] += 1

    def error(self, message: str) -> None:
        with self.lock:
            if len(self.errors) < 400:
                self.errors.append(f"{time.strftime('%H:%M:%S')} {message}")

    def total(self) -> int:
        with self.lock:
            return sum(self.requests.values())

    def failed(self) -> int:
        with self.lock:
            return sum(n for (_, status), n in self.requests.items() if status == "conn" or int(status) >= 500)


class Api:
    """Keep-alive HTTP to one or the other server; a connection error is a status "conn" (never raised)."""

    def __init__(self, servers: list[Server], tally: Tally, cookie: str | None = None):
        import requests

        self.servers = servers
        self.tally = tally
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if cookie:
            self.session.headers["Cookie"] = cookie

    def call(self, server: Server, method: str, path: str, what: str, token=None, body=None):
        import requests

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = self.session.request(
                method, server.url + path, json=body, headers=headers, timeout=HTTP_TIMEOUT, allow_redirects=False
            )
        except requests.RequestException as error:
            self.tally.count(what, "conn")
            self.tally.error(f"{what} on {server.name}: {type(error).__name__}")
            self.session.close()
            return "conn", None
        self.tally.count(what, response.status_code)
        if response.status_code >= 500:
            self.tally.error(f"{what} on {server.name}: {response.status_code} {response.text[:160]!r}")
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = None
        return response.status_code, payload


def issuer(servers, hall, tally: Tally, rate: float, stop: threading.Event, seed: int) -> None:
    """The entrance desk: one ticket about every 1/rate seconds, alternately on each server."""
    rng = random.Random(seed)
    api = Api(servers, tally)
    categories, weights = [c for c, _ in TICKET_MIX], [w for _, w in TICKET_MIX]
    n = 0
    while not stop.wait(rng.expovariate(rate)):
        n += 1
        body = {"direction": rng.choice(["RW-CD", "CD-RW"]), "category": rng.choices(categories, weights)[0]}
        status, payload = api.call(servers[n % 2], "POST", "/api/v1/tickets", "issue", hall["desk_token"], body)
        if status == 201:
            with tally.lock:
                tally.issued.append(payload["code"])


class Officers:
    """One joint counter (an officer of each country seated): call, serve, decide; recover after any error."""

    def __init__(self, station_id, station, servers, tally, database_url, seed, draining, stop):
        self.station_id = station_id
        self.station = station
        self.tokens = station["tokens"]  # agency code → bearer token
        self.caller = next(iter(self.tokens.values()))
        self.servers = servers
        self.tally = tally
        self.database_url = database_url
        self.rng = random.Random(seed)
        self.api = Api(servers, tally)
        self.server = servers[seed % 2]  # its "browser" talks to one server, and to the other after a failure
        self.draining = draining
        self.stop = stop
        self.idle = False

    def post(self, path, what, token=None, body=None):
        status, payload = self.api.call(self.server, "POST", path, what, token or self.caller, body)
        if status == "conn" or (isinstance(status, int) and status >= 500):
            self.server = self.servers[1 - self.servers.index(self.server)]
            raise ConnectionError(f"{what}: {status}")
        return status, payload

    def run(self) -> None:
        recover = True  # first look: something may be called here already
        while not self.stop.is_set():
            try:
                if recover:
                    self.recover()
                    recover = False
                self.serve_next()
            except ConnectionError:
                recover = True
                self.stop.wait(1.0)
            except Exception as error:  # noqa: BLE001 (counted; the counter carries on)
                self.tally.error(f"counter {self.station['code']}: {error!r}")
                recover = True
                self.stop.wait(1.0)

    def serve_next(self) -> None:
        status, payload = self.post(f"/api/v1/stations/{self.station_id}/call-next", "call-next")
        if status == 204:
            self.idle = True
            self.stop.wait(0.5 if not self.draining.is_set() else 0.2)
            return
        self.idle = False
        if status == 409:  # still serving a ticket whose answer was lost
            self.recover()
            return
        if status != 200:
            self.tally.error(f"call-next {self.station['code']}: {status} {payload}")
            self.stop.wait(1.0)
            return
        holder = payload["crossing"].get("holder") is not None
        self.serve(payload["steps_here"], holder, started=False)

    def recover(self) -> None:
        """What the counter page shows after a reload: the ticket still called here, its steps."""
        import psycopg2

        with self.tally.lock:
            self.tally.recoveries += 1
        deadline = time.monotonic() + 120
        while True:
            try:
                with psycopg2.connect(self.database_url, connect_timeout=5) as connection, connection.cursor() as cur:
                    cur.execute(
                        "SELECT crossing_id FROM tickets WHERE station_id = %s AND status = 'called'",
                        (self.station_id,),
                    )
                    row = cur.fetchone()
                connection.close()
                break
            except psycopg2.Error:
                if time.monotonic() > deadline or self.stop.wait(1.0):
                    raise
        if row is None:
            return
        status, crossing = self.api.call(self.server, "GET", f"/api/v1/crossings/{row[0]}", "crossing", self.caller)
        if status != 200:
            raise ConnectionError(f"crossing: {status}")
        steps = [s for s in crossing["steps"] if s["station_id"] == self.station_id and s["status"] in AT_COUNTER]
        if steps:
            started = any(s["status"] == "in_progress" for s in steps)
            self.serve(steps, crossing.get("holder") is not None, started=started)

    def serve(self, steps: list[dict], holder: bool, started: bool) -> None:
        base = f"/api/v1/stations/{self.station_id}"
        roll = self.rng.random()
        if roll < 0.05 and not started:  # nobody comes: recalled until the limit, then a no-show
            for _ in range(5):
                self.stop.wait(self.rng.uniform(0.2, 0.6))
                status, payload = self.post(f"{base}/no-show", "no-show")
                if status == 200:
                    self.tally.outcomes["no-show"] += 1
                    return
                if status != 409 or payload["error"]["code"] != "recalls_needed":
                    raise RuntimeError(f"no-show: {status} {payload}")
                self.post(f"{base}/recall", "recall")
            raise RuntimeError("no-show refused after five recalls")
        refuse_at = self.rng.randrange(len(steps)) if roll > 0.97 else None
        for index, step in enumerate(steps):
            token = self.tokens[step["kind"]["agency"]]
            self.stop.wait(self.rng.uniform(0.1, 0.8))  # the officer at work
            if step["kind"]["agency_kind"] == "immigration" and not holder:
                status, payload = self.post(f"/api/v1/steps/{step['id']}/identity", "identity", token, IDENTITY)
                if status != 200:
                    raise RuntimeError(f"identity: {status} {payload}")
                holder = True
            status, payload = self.post(f"{base}/start", "start", token)
            if status != 200:
                raise RuntimeError(f"start: {status} {payload}")
            body = {"outcome": "refused", "reason": "Soak: papers not in order"} if index == refuse_at else None
            status, payload = self.post(f"{base}/finish", "finish", token, body)
            if status != 200:
                raise RuntimeError(f"finish: {status} {payload}")
            if index == refuse_at:
                self.tally.outcomes["refused"] += 1
                return
        self.tally.outcomes["steps served"] += len(steps)


AT_COUNTER = ("called", "in_progress")


def status_lookups(servers, hall, tally: Tally, rate: float, stop: threading.Event, seed: int) -> None:
    """Kiosks (device session) and phones (no session) looking up ticket status, and the phone page now and then."""
    rng = random.Random(seed)
    kiosk = Api(servers, tally, cookie=hall["kiosk_cookie"])
    phone = Api(servers, tally)
    while not stop.wait(rng.expovariate(rate)):
        with tally.lock:
            codes = tally.issued[-200:]
        if not codes:
            continue
        code, server = rng.choice(codes), rng.choice(servers)
        which = rng.random()
        if which < 0.5:
            kiosk.call(server, "GET", f"/api/v1/tickets/{code}/status", "kiosk status")
        elif which < 0.9:
            phone.call(server, "GET", f"/t/{code}/status", "phone status")
        else:
            phone.call(server, "GET", f"/t/{code}", "phone page")


class Sockets:
    """Board and kiosk websockets (Engine.IO 4 / Socket.IO 5 spoken directly), held, dropped and replaced.

    One thread: reads every socket (answering pings), and every --churn-seconds drops one — a clean disconnect, or
    the TCP connection cut with no close frame (a phone leaving the Wi-Fi) — and opens a new one on either server.
    A board opens its page and its state (GET /live/board, /api/v1/board) when it connects, as the page does.
    """

    def __init__(self, servers, hall, tally: Tally, count: int, churn: float, stop: threading.Event, seed: int):
        self.servers, self.hall, self.tally, self.count, self.churn, self.stop = (
            servers,
            hall,
            tally,
            count,
            churn,
            stop,
        )
        self.rng = random.Random(seed)
        self.open: list = []  # (websocket, kind, server name)
        self.board_api = Api(servers, tally, cookie=hall["board_cookie"])

    def connect_one(self) -> None:
        import websocket

        kind = "board" if self.rng.random() < 0.6 else "kiosk"
        server = self.rng.choice(self.servers)
        if kind == "board" and self.rng.random() < 0.5:
            self.board_api.call(server, "GET", "/live/board", "board page")
            self.board_api.call(server, "GET", "/api/v1/board", "board state")
        cookie = self.hall[f"{kind}_cookie"]
        url = f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket"
        try:
            ws = websocket.create_connection(url, header=[f"User-Agent: {USER_AGENT}"], cookie=cookie, timeout=5)
            if not ws.recv().startswith("0"):
                raise RuntimeError("no open packet")
            ws.send("40")
            answer = ws.recv()
            while answer == "2" or answer.startswith("42"):  # an event of a room joined may come before the ack
                if answer == "2":
                    ws.send("3")
                answer = ws.recv()
            if not answer.startswith("40"):
                raise RuntimeError(f"refused: {answer[:60]}")
        except Exception as error:  # noqa: BLE001 (counted)
            self.tally.sockets["connect failed"] += 1
            self.tally.error(f"socket connect {kind} on {server.name}: {error!r}"[:200])
            return
        ws.settimeout(0)
        self.open.append((ws, kind, server.name))
        self.tally.sockets["connected"] += 1

    def drop_one(self) -> None:
        if not self.open:
            return
        ws, _kind, _server = self.open.pop(self.rng.randrange(len(self.open)))
        if self.rng.random() < 0.5:
            self.tally.sockets["dropped cleanly"] += 1
            with suppress(Exception):
                ws.send("41")
                ws.close(timeout=1)
        else:
            self.tally.sockets["cut"] += 1
            with suppress(Exception):
                ws.sock.shutdown(2)
            with suppress(Exception):
                ws.sock.close()

    def run(self) -> None:
        import selectors

        next_churn = time.monotonic() + self.churn
        while not self.stop.is_set():
            while len(self.open) < self.count and not self.stop.is_set():
                before = len(self.open)
                self.connect_one()
                if len(self.open) == before:
                    self.stop.wait(1.0)
                    break
            selector = selectors.DefaultSelector()
            for index, (ws, _k, _s) in enumerate(self.open):
                with suppress(Exception):
                    selector.register(ws.sock, selectors.EVENT_READ, index)
            dead = set()
            for key, _mask in selector.select(timeout=0.5):
                ws = self.open[key.data][0]
                try:
                    ws.settimeout(1)
                    message = ws.recv()
                    ws.settimeout(0)
                except Exception:  # noqa: BLE001 (the server went away)
                    dead.add(key.data)
                    continue
                if message == "2":
                    with suppress(Exception):
                        ws.send("3")
                elif message.startswith("42"):
                    self.tally.sockets["events received"] += 1
                elif message == "" or message.startswith("1") or message.startswith("41"):
                    dead.add(key.data)
            selector.close()
            if dead:
                self.tally.sockets["closed by server"] += len(dead)
                self.open = [entry for i, entry in enumerate(self.open) if i not in dead]
            if time.monotonic() >= next_churn:
                next_churn += self.churn
                self.drop_one()
        for ws, _k, _s in self.open:
            with suppress(Exception):
                ws.close(timeout=1)


# ------------------------------------------------------------------------------------------------- faults


class Faults:
    def __init__(self, postgres, redis, servers, minutes, enabled: bool):
        self.postgres, self.redis, self.servers = postgres, redis, servers
        self.plan = [(share * minutes * 60, name) for share, name in SCHEDULE] if enabled else []
        self.done: list[tuple[float, str, str]] = []  # (second, fault, how long until back)

    def run(self, start: float, stop: threading.Event) -> None:
        for at, name in self.plan:
            if stop.wait(max(0.0, start + at - time.monotonic())):
                return
            began = time.monotonic()
            try:
                note = self.inject(name)
            except Exception as error:  # noqa: BLE001 (a fault that failed is reported, the soak goes on)
                note = f"FAILED: {error!r}"
            log(f"fault {name}: {note}")
            self.done.append((began - start, name, note))

    def inject(self, name: str) -> str:
        began = time.monotonic()
        if name == "postgres-restart":
            if self.postgres is None:
                return "skipped (given --database-url)"
            self.postgres.restart()
        elif name == "redis-restart":
            if self.redis is None:
                return "skipped (given --redis-url)"
            self.redis.restart()
        elif name == "kill-9-server-B":
            server = self.servers[1]
            server.kill_9()
            time.sleep(1.0)
            server.start()
        return f"back after {time.monotonic() - began:.1f} s"


# ---------------------------------------------------------------------------------------------- invariants


INVARIANTS = {
    "tickets not ended (waiting or called)": "SELECT count(*) FROM tickets WHERE status NOT IN ('done', 'cancelled')",
    "tickets done whose crossing is not cleared or refused": """
        SELECT count(*) FROM tickets t JOIN crossings c ON c.id = t.crossing_id
        WHERE t.status = 'done' AND c.status NOT IN ('cleared', 'refused')""",
    "tickets cancelled whose crossing is not a no-show": """
        SELECT count(*) FROM tickets t JOIN crossings c ON c.id = t.crossing_id
        WHERE t.status = 'cancelled' AND c.status <> 'no_show'""",
    "tickets still holding a station or a target": """
        SELECT count(*) FROM tickets WHERE status IN ('done', 'cancelled')
        AND (station_id IS NOT NULL OR target_station_id IS NOT NULL)""",
    "crossings without a ticket, or tickets without a crossing": """
        SELECT (SELECT count(*) FROM crossings c WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.crossing_id = c.id))
             + (SELECT count(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM crossings c WHERE c.id = t.crossing_id))""",
    "crossings without steps": """
        SELECT count(*) FROM crossings c WHERE NOT EXISTS (SELECT 1 FROM steps s WHERE s.crossing_id = c.id)""",
    "ended crossings without ended_at": "SELECT count(*) FROM crossings WHERE status <> 'in_progress' AND ended_at IS NULL",
    "steps not closed": "SELECT count(*) FROM steps WHERE status NOT IN ('cleared', 'refused', 'cancelled')",
    "steps decided without time or officer": """
        SELECT count(*) FROM steps WHERE status IN ('cleared', 'refused')
        AND (decided_at IS NULL OR decided_by_id IS NULL OR started_at IS NULL OR called_at IS NULL)""",
    "steps called more than once": """
        SELECT count(*) FROM (SELECT step_id FROM step_events WHERE kind = 'called'
        GROUP BY step_id HAVING count(*) > 1) AS twice""",
    "steps whose ending was recorded other than exactly once": """
        SELECT count(*) FROM steps s WHERE (SELECT count(*) FROM step_events e WHERE e.step_id = s.id
        AND e.kind IN ('cleared', 'refused', 'cancelled')) <> 1""",
    "steps whose ending event disagrees with their status": """
        SELECT count(*) FROM steps s WHERE NOT EXISTS (SELECT 1 FROM step_events e WHERE e.step_id = s.id
        AND e.kind = s.status)""",
    "steps out of time order (called < started < decided)": """
        SELECT count(*) FROM steps WHERE started_at < called_at OR decided_at < started_at""",
    "cleared crossings with a step not cleared": """
        SELECT count(*) FROM crossings c WHERE c.status = 'cleared'
        AND EXISTS (SELECT 1 FROM steps s WHERE s.crossing_id = c.id AND s.status <> 'cleared')""",
    "refused crossings not refused exactly once": """
        SELECT count(*) FROM crossings c WHERE c.status = 'refused'
        AND (SELECT count(*) FROM steps s WHERE s.crossing_id = c.id AND s.status = 'refused') <> 1""",
    "no-show crossings without a no-show event, or no-show events elsewhere": """
        SELECT (SELECT count(*) FROM crossings c WHERE c.status = 'no_show' AND NOT EXISTS (SELECT 1 FROM step_events e
                JOIN steps s ON s.id = e.step_id WHERE s.crossing_id = c.id AND e.kind = 'no_show'))
             + (SELECT count(*) FROM step_events e JOIN steps s ON s.id = e.step_id JOIN crossings c
                ON c.id = s.crossing_id WHERE e.kind = 'no_show' AND c.status <> 'no_show')""",
    "no-show events per crossing other than one per step at the counter (same station, same moment)": """
        SELECT count(*) FROM (SELECT s.crossing_id FROM step_events e JOIN steps s ON s.id = e.step_id
        WHERE e.kind = 'no_show' GROUP BY s.crossing_id HAVING count(DISTINCT (e.at, e.station_id)) <> 1) AS twice""",
    "steps out of order (a later step decided while an earlier one was not cleared)": """
        SELECT count(*) FROM steps late JOIN steps early ON early.crossing_id = late.crossing_id
        AND early.position < late.position
        WHERE late.status IN ('cleared', 'refused') AND (early.status <> 'cleared' OR early.called_at > late.called_at)""",
    "steps cleared after a refusal or a no-show": """
        SELECT count(*) FROM steps late JOIN steps early ON early.crossing_id = late.crossing_id
        AND early.position < late.position
        WHERE early.status IN ('refused', 'cancelled') AND late.status <> 'cancelled'""",
    "no-shows without their audit record, or the other way": """
        SELECT abs((SELECT count(*) FROM crossings WHERE status = 'no_show')
                 - (SELECT count(*) FROM audit_events WHERE action = 'ticket.no_show'))""",
    "tickets without their ticket.issued audit record": """
        SELECT abs((SELECT count(*) FROM tickets) - (SELECT count(*) FROM audit_events WHERE action = 'ticket.issued'))""",
}


def check_invariants(database_url: str, issued_codes: list[str]) -> tuple[list[tuple[str, int]], dict]:
    import psycopg2

    results = []
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        for name, sql in INVARIANTS.items():
            try:
                cursor.execute(sql)
                results.append((name, cursor.fetchone()[0]))
            except psycopg2.Error as error:
                connection.rollback()
                results.append((f"{name} (query failed: {str(error).splitlines()[0]})", -1))
        cursor.execute("SELECT code FROM tickets")
        codes = {row[0] for row in cursor.fetchall()}
        results.append(("tickets the desk was given (201) missing in the database", len(set(issued_codes) - codes)))
        cursor.execute(
            "SELECT t.status, c.status, count(*) FROM tickets t JOIN crossings c ON c.id = t.crossing_id GROUP BY 1, 2"
        )
        ends = {f"{t}/{c}": n for t, c, n in cursor.fetchall()}
    connection.close()
    return results, ends


def audit_verify(database_url: str) -> tuple[str, bool]:
    """``flask --app osbp audit verify`` when it exists: (what it said, passed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSBP_")}
    env.update(OSBP_ENV="development", OSBP_DATABASE_URL=database_url, OSBP_SECRET_KEY="soak-audit-verify")  # noqa: S106 (a throw-away key)
    flask = [sys.executable, "-m", "flask", "--app", "osbp", "audit"]
    probe = subprocess.run(  # noqa: S603 (fixed argument list)
        [*flask, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if probe.returncode != 0 or "verify" not in probe.stdout:
        return "flask --app osbp audit verify: not available yet (skipped)", True
    result = subprocess.run(  # noqa: S603 (fixed argument list)
        [*flask, "verify"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    said = (result.stdout + result.stderr).strip().splitlines()
    return f"flask --app osbp audit verify: exit {result.returncode}: {' | '.join(said[-3:])}", result.returncode == 0


# --------------------------------------------------------------------------------------------------- main


def prepare(args, database_url: str, redis_url: str) -> dict:
    hall_args = SimpleNamespace(
        database_url=database_url, stations=args.stations, sockets=10, kiosks=2, tickets=0, seed=args.seed
    )
    hall = build_hall(hall_args, "soak-setup")
    from osbp import create_app
    from osbp.auth.operations import create_token
    from osbp.extensions import db

    app = create_app({"env": "development", "database_url": database_url, "secret_key": "soak-setup"})
    with app.app_context():
        hall["desk_token"] = create_token("supervisor-1")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return hall


def main(argv=None) -> int:  # noqa: C901, PLR0912, PLR0915 (one linear script)
    args = parse_args(argv)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background (SIG_IGN)
    rng = random.Random(args.seed)
    postgres = redis = None
    servers: list[Server] = []
    stop, stop_issuing, draining = threading.Event(), threading.Event(), threading.Event()
    tally = Tally()
    rows: list[dict] = []
    threads: list[threading.Thread] = []
    failed = False
    try:
        log(f"soak: {args.minutes:g} min, seed {args.seed}, machine: {machine()}, logs in {args.log_dir}")
        if args.database_url:
            database_url = args.database_url
        else:
            postgres = Postgres()
            postgres.start_fresh()
            database_url = postgres.url
        if args.redis_url:
            redis_url = args.redis_url
        else:
            redis = Redis()
            redis.start()
            redis_url = redis.url
        hall = prepare(args, database_url, redis_url)
        secret_key = "soak-" + secrets.token_hex(24)
        servers = [Server(name, args, database_url, redis_url, secret_key) for name in "AB"]
        for server in servers:
            server.start()
        hall["board_cookie"] = device_session(servers[0].port, hall["devices"]["board"][0])
        hall["kiosk_cookie"] = device_session(servers[1].port, hall["devices"]["kiosk"][0])
        log(
            f"servers A :{servers[0].port} (pid {servers[0].worker_pid}), B :{servers[1].port}; {database_url}; {redis_url}"
        )

        counters = [
            Officers(int(sid), station, servers, tally, database_url, args.seed * 1000 + n, draining, stop)
            for n, (sid, station) in enumerate(hall["stations"].items())
        ]
        work = [
            (issuer, (servers, hall, tally, args.issue_rate, stop_issuing, rng.randrange(1 << 30))),
            (status_lookups, (servers, hall, tally, args.status_rate, stop_issuing, rng.randrange(1 << 30))),
            *((counter.run, ()) for counter in counters),
        ]
        sockets = Sockets(servers, hall, tally, args.sockets, args.churn_seconds, stop_issuing, rng.randrange(1 << 30))
        work.append((sockets.run, ()))
        faults = Faults(postgres, redis, servers, args.minutes, not args.no_faults)
        start = time.monotonic()
        work.append((faults.run, (start, stop_issuing)))
        for target, target_args in work:
            thread = threading.Thread(target=target, args=target_args, daemon=True)
            thread.start()
            threads.append(thread)

        def sample(minute: float) -> None:
            row = {
                "minute": minute,
                "A": servers[0].rss_mib(),
                "B": servers[1].rss_mib(),
                "B_incarnation": servers[1].incarnation,
                "requests": tally.total(),
                "failed": tally.failed(),
                "sockets": len(sockets.open),
                "issued": len(tally.issued),
                "faults": len(faults.done),
            }
            rows.append(row)
            log(
                f"minute {minute:5.1f}  RSS A {row['A']:6.1f} MiB  B {row['B']:6.1f} MiB (#{row['B_incarnation']})  "
                f"requests {row['requests']:6d}  failed {row['failed']:4d}  sockets {row['sockets']:3d}  "
                f"tickets {row['issued']:5d}  faults {row['faults']}"
            )

        sample(0.0)
        end = start + args.minutes * 60
        minute = 0
        while time.monotonic() < end:
            minute += 1
            time.sleep(max(0.0, min(end, start + minute * 60) - time.monotonic()))
            sample((time.monotonic() - start) / 60)
        stop_issuing.set()
        draining.set()
        log("traffic over: draining (no new tickets; the counters serve the rest)")
        drain_end = time.monotonic() + max(120.0, args.minutes * 6)
        import psycopg2

        left = None
        while time.monotonic() < drain_end:
            time.sleep(3)
            with suppress(psycopg2.Error):
                with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM tickets WHERE status NOT IN ('done', 'cancelled')")
                    left = cursor.fetchone()[0]
                connection.close()
                if left == 0:
                    break
        log(f"drained: {left} tickets not ended")
        stop.set()
        for thread in threads:
            thread.join(20)
        sample((time.monotonic() - start) / 60)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        stop.set()
        stop_issuing.set()
        failed = True
        rows = rows or []
    finally:
        stop.set()
        stop_issuing.set()
        for server in servers:
            with suppress(Exception):
                server.stop()
    if failed:
        _stop_services(postgres, redis)
        return 130

    results, ends = check_invariants(database_url, tally.issued)
    said, audit_ok = audit_verify(database_url)
    _stop_services(postgres, redis)
    report(args, rows, tally, faults, results, ends, said)
    bad = [name for name, count in results if count != 0]
    if bad or not audit_ok:
        log(f"INVARIANTS FAILED: {bad or ''} {'' if audit_ok else said}")
        return 1
    log("every invariant holds")
    return 0


def _stop_services(postgres, redis) -> None:
    if redis is not None:
        redis.stop()
    if postgres is not None:
        postgres.stop()


def report(args, rows, tally: Tally, faults: Faults, results, ends, said) -> None:
    print("\n## RSS of each server's worker, each minute (MiB; B is restarted by its kill -9 faults)")
    print("| minute | A | B (incarnation) | requests | failed (5xx, conn) | sockets open | tickets issued |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['minute']:.1f} | {row['A']:.1f} | {row['B']:.1f} (#{row['B_incarnation']}) | {row['requests']} "
            f"| {row['failed']} | {row['sockets']} | {row['issued']} |"
        )
    a = [(r["minute"], r["A"]) for r in rows if r["A"] > 0]
    if len(a) >= 4:
        half = [v for m, v in a if m >= a[-1][0] / 2]
        print(
            f"\nA: {a[0][1]:.1f} → {a[-1][1]:.1f} MiB; second half {min(half):.1f}–{max(half):.1f} MiB, "
            f"slope over the second half {(half[-1] - half[0]) / max(1e-9, a[-1][0] - a[-1][0] / 2):+.2f} MiB/min"
        )
    print("\n## Requests (what, status: count)")
    for (what, status), n in sorted(tally.requests.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        print(f"  {what:14s} {status!s:5s} {n}")
    print(f"  total {tally.total()}, counter recoveries {tally.recoveries}, outcomes {dict(tally.outcomes)}")
    print(f"  sockets: {dict(tally.sockets)}")
    print("\n## Faults")
    for second, name, note in faults.done:
        print(f"  {second / 60:5.1f} min  {name}: {note}")
    print("\n## Tickets at the end (ticket/crossing status: count)")
    print("  " + json.dumps(ends))
    print("\n## Invariants (each must be 0)")
    for name, count in results:
        print(f"  {'ok  ' if count == 0 else 'FAIL'} {count:5d}  {name}")
    print(f"  {said}")
    if tally.errors:
        print(f"\n## First of {len(tally.errors)} client errors")
        for line in tally.errors[:40]:
            print("  " + line)


if __name__ == "__main__":
    sys.exit(main())
