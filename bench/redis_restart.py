"""Events survive a Redis restart: how long until every board shows the true state once Redis is back.

Two ``gunicorn -w 1 -k gthread`` instances (A and B) share one database and a Redis message queue — a
``redis-server`` of this script's own, on a free port of 127.0.0.1 (never the shared one). Two display boards, real
headless Chromium pages running board.js, are connected to A and to B. Each round: stop Redis, recall a ticket
through B (the board on A misses that event: nothing carries it between the instances), wait ``--down`` seconds,
start Redis again, and time how long each board takes to show the recalled ticket as the current call, from the
moment Redis answers PING. The boards converge because A's message queue manager reconnects within a second and
sends ``resync`` to its sockets, which then read the board's snapshot again (docs/live.md, "Snapshots, sequence and
resync"). Prints each round and the worst time; the target is 2 s.

    .venv/bin/python bench/redis_restart.py [--rounds 3] [--down 20] [--database-url postgresql://…]

Loopback only, bounded: every wait has a deadline, and Redis, the servers and the browser are stopped at the end
whatever happens. ``tests/test_redis_restart.py`` runs one short round of the same scenario as a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gunicorn_process import GunicornProcess, free_port  # noqa: E402 (after the path is set)

HTTP_TIMEOUT = 10.0
START_TIMEOUT = 30.0
CONVERGE_TIMEOUT = 30.0  # the bench's bound; the test has its own


class RedisServer:
    """A ``redis-server`` of our own on a free loopback port: no persistence, stopped and started again at will."""

    def __init__(self, log_path: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> float:
        """Start it and wait until it answers PING; returns the monotonic time it first did."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        return self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> float:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                with suppress(redis.RedisError):
                    if client.ping():
                        return time.monotonic()
                time.sleep(0.01)
        finally:
            client.close()
        raise RuntimeError(f"redis-server on port {self.port} not ready after {timeout:g} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


def environment(database_url: str, redis_url: str, channel: str, secret_key: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSBP_")}
    env.update(
        OSBP_ENV="testing",
        OSBP_DATABASE_URL=database_url,
        OSBP_SECRET_KEY=secret_key,
        OSBP_SOCKETIO_MESSAGE_QUEUE=redis_url,
        OSBP_SOCKETIO_CHANNEL=channel,
        OSBP_MAX_RECALLS="1000",  # every round recalls a ticket again
        PYTHONPATH=str(ROOT),
    )
    return env


def prepare(env: dict) -> dict:
    """Migrations, the demo post, two extra counters (X1, X2) and the tokens, in a child process."""
    result = subprocess.run(  # noqa: S603 (fixed argument list)
        [sys.executable, "-m", "bench.redis_restart", "--setup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _setup_main() -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from osbp import create_app
    from osbp.auth.operations import create_token
    from osbp.extensions import db
    from osbp.live.devices import create_device
    from osbp.post.seed import seed_demo
    from osbp.queues.models import Station

    app = create_app()
    with app.app_context():
        upgrade()
        post = seed_demo()
        c1 = db.session.scalar(select(Station).where(Station.post_id == post.id, Station.code == "C1"))
        stations = {}
        for code in ("X1", "X2"):
            station = Station(post_id=post.id, code=code, name=f"Counter {code}", stage="primary", is_open=True)
            station.step_kinds = list(c1.step_kinds)
            db.session.add(station)
            db.session.flush()
            stations[code] = station.id
        data = {
            "stations": stations,
            "officers": {"X1": create_token("rw-immigration-1"), "X2": create_token("rw-immigration-2")},
            "desk": create_token("supervisor-1"),
            "boards": [create_device(post, "board", f"board-restart-{i}")[1] for i in (1, 2)],
        }
        db.session.commit()
    print(json.dumps(data))


class Hall:
    """The running scenario: Redis, instances A and B, a board page on each; ``post`` acts through B's API."""

    def __init__(self, database_url: str, work: Path, browser):
        self.work = work
        self.redis = RedisServer(work / "redis.log")
        self.servers: dict[str, GunicornProcess] = {}
        self.contexts = []
        self.boards = {}
        try:
            self._start(database_url, browser)
        except BaseException:
            self.close()  # nothing left running, whatever failed
            raise

    def _start(self, database_url: str, browser) -> None:
        self.redis.start()
        env = environment(database_url, self.redis.url, f"osbp-restart-{secrets.token_hex(4)}", secrets.token_hex(24))
        self.data = prepare(env)
        for name in ("A", "B"):
            self.servers[name] = GunicornProcess(
                "osbp.wsgi:app", cwd=ROOT, env=env, log_path=self.work / f"gunicorn-{name}.log", threads=50
            )
        deadline = time.monotonic() + START_TIMEOUT
        for server in self.servers.values():
            server.wait_ready("/login", timeout=max(0.0, deadline - time.monotonic()))
        for name, token in zip(("A", "B"), self.data["boards"], strict=True):
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            context.set_default_timeout(15000)
            self.contexts.append(context)
            page = context.new_page()
            page.goto(f"{self.servers[name].url}/live/device#{token}")  # the set-up page posts the token
            page.wait_for_url("**/live/board")
            page.wait_for_selector("body[data-live=yes]", state="attached")
            # The board's own timers stop (30 s refresh, clock, language rotation): a refresh that happened to fall
            # in the outage would show the change without the resync, and the round would measure nothing.
            page.evaluate("() => { for (let id = 1; id < 10000; id += 1) clearInterval(id); }")
            self.boards[name] = page

    def post(self, path: str, token: str, **body) -> dict:
        import requests

        response = requests.post(
            self.servers["B"].url + "/api/v1" + path,
            json=body or None,
            headers={"Authorization": f"Bearer {token}"},
            timeout=HTTP_TIMEOUT,
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{path}: {response.status_code} {response.text}")
        return response.json()

    def start_calls(self) -> dict[str, str]:
        """A ticket called at X1 and one at X2 (Redis up): station code → ticket code. X2's is the current call."""
        called = {}
        for code in ("X1", "X2"):
            self.post("/tickets", self.data["desk"], direction="RW-CD", category="traveller")
            station, officer = self.data["stations"][code], self.data["officers"][code]
            self.post(f"/stations/{station}/seat", officer)
            called[code] = self.post(f"/stations/{station}/call-next", officer)["ticket"]["code"]
        return called

    def recall(self, code: str) -> None:
        self.post(f"/stations/{self.data['stations'][code]}/recall", self.data["officers"][code])

    def shown(self) -> dict[str, str]:
        """Board name → the code it shows as the current call."""
        return {name: page.inner_text("#now-code").strip() for name, page in self.boards.items()}

    def wait_for(self, code: str, timeout: float, since: float | None = None) -> dict[str, float]:
        """Poll every board until each shows ``code`` as the current call; board → seconds after ``since`` it did.
        Boards still wrong at the deadline are missing from the answer."""
        since = time.monotonic() if since is None else since
        deadline = time.monotonic() + timeout
        seen: dict[str, float] = {}
        while time.monotonic() < deadline and len(seen) < len(self.boards):
            for name, text in self.shown().items():
                if name not in seen and text == code:
                    seen[name] = time.monotonic() - since
            time.sleep(0.02)
        return seen

    def log(self, name: str) -> str:
        return self.servers[name].log_tail(20000)

    def close(self) -> None:
        for context in self.contexts:
            with suppress(Exception):
                context.close()
        for server in self.servers.values():
            server.stop(timeout=5)
        self.redis.stop()


def round_trip(hall: Hall, target: str, down: float) -> tuple[float, float, dict[str, str]]:
    """Stop Redis, recall ``target``'s ticket through B, wait ``down`` s, start Redis: (the monotonic time Redis
    answered again, seconds it was down, what the boards showed just before it came back)."""
    hall.redis.stop()
    stopped = time.monotonic()
    hall.recall(target)
    time.sleep(max(0.0, down - (time.monotonic() - stopped)))
    before = hall.shown()
    back = hall.redis.start()
    return back, back - stopped, before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--down", type=float, default=20.0, help="seconds Redis stays stopped each round")
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        _setup_main()
        return 0
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="osbp-redis-restart-") as tmp:
        work = Path(tmp)
        database_url = args.database_url or f"sqlite:///{work / 'restart.sqlite3'}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            hall = Hall(database_url, work, browser)
            worst = 0.0
            try:
                called = hall.start_calls()
                if len(hall.wait_for(called["X2"], CONVERGE_TIMEOUT)) != len(hall.boards):
                    raise RuntimeError(f"the boards do not show {called['X2']} with Redis up: {hall.shown()}")
                print(f"calls before the rounds: {called}; boards show {hall.shown()}")
                target = "X2"
                for number in range(1, args.rounds + 1):
                    target = "X1" if target == "X2" else "X2"  # the other ticket becomes the current call
                    back, down, before = round_trip(hall, target, args.down)
                    times = hall.wait_for(called[target], CONVERGE_TIMEOUT, since=back)
                    late = sorted(set(hall.boards) - set(times))
                    worst = max([worst, *times.values()]) if not late else float("inf")
                    shown = ", ".join(
                        f"board {name} {seconds:.2f} s"
                        + (" (already, from its own instance)" if before[name] == called[target] else "")
                        for name, seconds in sorted(times.items())
                    )
                    print(
                        f"round {number}: Redis down {down:.1f} s; {called[target]} recalled through B; boards just "
                        f"before Redis returned: {before}; converged after Redis returned: {shown}"
                        + (f"; NOT converged: {late}" if late else "")
                    )
            finally:
                hall.close()
                browser.close()
    print(
        f"worst time to converge: {worst:.2f} s (target ≤ 2 s) — {args.rounds} rounds, Redis down {args.down:g} s, "
        f"{'PostgreSQL' if args.database_url.startswith('postgresql') else 'SQLite'}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    return 0 if worst <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
