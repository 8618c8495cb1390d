"""Scale-out for real: two gunicorn processes share one database and a Redis message queue.

An officer calls a ticket over HTTP on instance A; a display board's socket connected to instance B (a board device
account, logged in through its device link on B) receives ``ticket.called``. The only path between the two processes
is Redis, so this shows the production layout of the README: several ``gunicorn -w 1 -k gthread --threads N``
instances sharing PostgreSQL and ``OSBP_SOCKETIO_MESSAGE_QUEUE``. (Without device accounts, osbp/live/devices.py, the
socket is an officer's, in the post room.)

Database: with OSBP_TEST_DATABASE_URL pointing at PostgreSQL, a database of its own (``osbp_scaleout_<pid>``) is
created and dropped on that server; otherwise a temporary SQLite file shared by both processes.
Redis: OSBP_TEST_REDIS_URL (default ``redis://127.0.0.1:6379/14``). Under CI (env ``CI`` set, as .ci/run does), or
when OSBP_TEST_REDIS_URL names a Redis, an unreachable Redis fails the test; otherwise it skips. Without gunicorn it
fails under CI and skips elsewhere. Servers are killed at the end whatever happens; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench.gunicorn_process import GunicornProcess
from tests.conftest import REDIS_URL, missing, require_redis

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "scale-out-" + secrets.token_hex(24)
USER_AGENT = "osbp-scale-out-test"  # Flask-Login "strong" protection ties the session to the user agent
START_TIMEOUT = 20.0
EVENT_TIMEOUT = 5.0
HTTP_TIMEOUT = 10.0
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def redis_ready():
    return require_redis("the scale-out test")


@pytest.fixture
def shared_database(tmp_path):
    """The URL of an empty database both servers use; created for this test and dropped after it."""
    base = os.environ.get("OSBP_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scale-out.sqlite3'}"
        return
    from sqlalchemy import create_engine, text

    name = f"osbp_scaleout_{os.getpid()}"
    parts = urlsplit(base)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _environment(database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSBP_")}
    env.update(
        OSBP_ENV="testing",
        OSBP_DATABASE_URL=database_url,
        OSBP_SECRET_KEY=SECRET_KEY,
        OSBP_SOCKETIO_MESSAGE_QUEUE=REDIS_URL,
        PYTHONPATH=str(ROOT),
    )
    return env


def _prepare(database_url: str, station_name: str) -> dict:
    """Migrations, demo post, one extra immigration counter and two bearer tokens, in a child process.

    A child keeps this process's Flask-SocketIO singleton untouched by a second create_app().
    """
    result = subprocess.run(
        [sys.executable, "-m", "tests.test_scale_out", station_name],
        cwd=ROOT,
        env=_environment(database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _server(name: str, database_url: str, log_dir: Path) -> GunicornProcess:
    """One ``gunicorn -w 1 -k gthread --threads 100`` instance, in its own process group so it can always be killed."""
    return GunicornProcess(
        "osbp.wsgi:app",
        cwd=ROOT,
        env=_environment(database_url),
        log_path=log_dir / f"gunicorn-{name}.log",
        threads=100,
        options=("--graceful-timeout", "2"),
    )


@pytest.fixture
def two_instances(redis_ready, shared_database, tmp_path):
    """(setup data, server A, server B) on one database and one Redis message queue."""
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        missing("gunicorn cannot be imported (pip install -r requirements.txt)")
    station_name = f"Scale-out counter {secrets.token_hex(4)}"  # unique: Redis pub/sub channels ignore DB numbers
    data = _prepare(shared_database, station_name)
    servers = [_server("A", shared_database, tmp_path), _server("B", shared_database, tmp_path)]
    try:
        deadline = time.monotonic() + START_TIMEOUT
        for name, server in zip("AB", servers, strict=True):
            try:
                server.wait_ready("/login", timeout=max(0.0, deadline - time.monotonic()))
            except RuntimeError as error:
                pytest.fail(f"server {name}: {error}")
        yield data, servers[0], servers[1]
    finally:
        for server in servers:
            server.stop(timeout=5)


def _http_session():
    import requests

    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    return http


def _board_session(base_url: str, device_token: str):
    """What a display board does once: open its device link; the session cookie then opens its socket."""
    http = _http_session()
    page = http.get(f"{base_url}/live/device", timeout=HTTP_TIMEOUT)  # the set-up page posts the token
    csrf = CSRF_INPUT.search(page.text)
    assert csrf, "no CSRF token on /live/device"
    response = http.post(
        f"{base_url}/live/device",
        data={"csrf_token": csrf.group(1), "token": device_token},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code in (302, 303), response.text
    return http


def _login(base_url: str, username: str, password: str):
    http = _http_session()
    page = http.get(base_url + "/login", timeout=HTTP_TIMEOUT)
    csrf = CSRF_INPUT.search(page.text)
    assert csrf, "no CSRF token on /login"
    response = http.post(
        base_url + "/login",
        data={"username": username, "password": password, "csrf_token": csrf.group(1)},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 302, response.text
    return http


def test_ticket_called_on_instance_a_reaches_a_socket_on_instance_b(two_instances):
    import requests
    import socketio

    data, server_a, server_b = two_instances
    from osbp.post.seed import DEMO_PASSWORDS

    # The watcher: a board's socket on B (board room), or an officer's (post room). It never talks to A.
    if data["board_token"]:
        watcher = _board_session(server_b.url, data["board_token"])
    else:
        watcher = _login(server_b.url, "cd-immigration-1", DEMO_PASSWORDS["officer"])
    received: list[tuple[float, dict]] = []
    called = threading.Event()
    live = socketio.Client(reconnection=False)

    @live.on("event")
    def on_event(message):
        received.append((time.perf_counter(), message))
        if message.get("type") == "ticket.called" and message["data"].get("station") == data["station_name"]:
            called.set()

    cookie = "; ".join(f"{k}={v}" for k, v in watcher.cookies.get_dict().items())
    live.connect(
        server_b.url,
        headers={"Cookie": cookie, "User-Agent": USER_AGENT},
        transports=["websocket"],
        wait_timeout=5,
    )
    try:
        assert live.connected

        # The action, over HTTP on A only: issue a ticket, seat an officer, call next.
        def post_a(path: str, token: str, **body):
            return requests.post(
                server_a.url + "/api/v1" + path,
                json=body or None,
                headers={"Authorization": f"Bearer {token}"},
                timeout=HTTP_TIMEOUT,
            )

        issued = post_a("/tickets", data["desk_token"], direction="RW-CD", category="traveller")
        assert issued.status_code == 201, issued.text
        station = data["station_id"]
        assert post_a(f"/stations/{station}/seat", data["officer_token"]).status_code == 200
        sent = time.perf_counter()
        response = post_a(f"/stations/{station}/call-next", data["officer_token"])
        answered = time.perf_counter()
        assert response.status_code == 200, response.text
        assert response.json()["ticket"]["code"] == issued.json()["code"]

        assert called.wait(EVENT_TIMEOUT), (
            f"no ticket.called on B within {EVENT_TIMEOUT} s; received: {received}\n"
            f"A:\n{server_a.log_tail()}\nB:\n{server_b.log_tail()}"
        )
        at, message = next(
            (t, m)
            for t, m in received
            if m["type"] == "ticket.called" and m["data"].get("station") == data["station_name"]
        )
        assert isinstance(message.pop("seq"), int)  # the post's live number (docs/live.md)
        assert message == {
            "type": "ticket.called",
            "data": {"code": issued.json()["code"], "station": data["station_name"], "station_id": station},
        }
        print(
            f"\nticket.called A → Redis → B ({'board' if data['board_token'] else 'officer'} socket): "
            f"{(at - sent) * 1000:.1f} ms after call-next was sent to A "
            f"(A answered in {(answered - sent) * 1000:.1f} ms)"
        )
    finally:
        live.disconnect()


def _setup_main(station_name: str) -> None:
    """Child process of ``_prepare``: build the schema and the data both servers will use."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from osbp import create_app
    from osbp.auth.operations import create_token
    from osbp.extensions import db
    from osbp.post.seed import seed_demo
    from osbp.queues.models import Station

    app = create_app()
    with app.app_context():
        upgrade()
        post = seed_demo()
        c1 = db.session.scalar(select(Station).where(Station.post_id == post.id, Station.code == "C1"))
        station = Station(post_id=post.id, code="X1", name=station_name, stage="primary", is_open=True)
        station.step_kinds = list(c1.step_kinds)
        db.session.add(station)
        db.session.flush()
        data = {
            "station_id": station.id,
            "station_name": station_name,
            "officer_token": create_token("rw-immigration-1"),
            "desk_token": create_token("supervisor-1"),
            "board_token": _board_device(post),
        }
        db.session.commit()
    print(json.dumps(data))


def _board_device(post) -> str | None:
    try:
        from osbp.live.devices import create_device
    except ImportError:  # before device accounts
        return None
    return create_device(post, "board", "board-scale-out")[1]


if __name__ == "__main__":
    _setup_main(sys.argv[1])
