"""Fixtures: one database per run (SQLite by default, PostgreSQL when OSBP_TEST_DATABASE_URL is set),
built by the real migrations, reset and re-seeded before every test. Fixtures return factory functions."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from osbp import create_app
from osbp.auth.passwords import hash_password
from osbp.extensions import db, socketio

DATABASE_URL = os.environ.get("OSBP_TEST_DATABASE_URL", "")


@functools.cache
def _cached_hash(password: str) -> str:
    """Real argon2id hashes, computed once per password per run."""
    return hash_password(password)


def is_postgres() -> bool:
    return DATABASE_URL.startswith("postgresql")


def in_ci() -> bool:
    """CI sets CI=true (and .ci/run exports it): there a missing tool or service fails its tests."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing(message: str):
    """Something a test needs is not on this machine: fail under CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"{message} (CI must have it: .ci/run installs it)")
    pytest.skip(message)


REDIS_URL = os.environ.get("OSBP_TEST_REDIS_URL") or "redis://127.0.0.1:6379/14"


def require_redis(purpose: str) -> str:
    """The test Redis's URL, once it answers. When it does not: fail under CI or when OSBP_TEST_REDIS_URL names a
    Redis (``purpose`` says why it must be real), skip elsewhere."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} is not reachable: {error}"
        if os.environ.get("OSBP_TEST_REDIS_URL"):
            pytest.fail(f"{message} ({purpose} must be tested against a real Redis here)")
        missing(message)
    return REDIS_URL


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if DATABASE_URL:
        return DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'osbp-test.sqlite3'}"


_SESSION_APP: dict = {}


def session_app():
    """The session's app, for helpers called without fixtures (the browser tests' log_in)."""
    return _SESSION_APP["app"]


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from flask_migrate import upgrade

    application = create_app({"env": "testing", "database_url": database_url, "secret_key": "t" * 40})
    application.instance_path = str(tmp_path_factory.mktemp("instance"))
    with application.app_context():
        _drop_everything()
        upgrade()
    _SESSION_APP["app"] = application
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _drop_everything() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


_SOCKETIO_STATE = ("server", "sockio_mw", "async_mode", "manage_session")


@contextlib.contextmanager
def keep_socketio():
    """create_app() re-initialises the process-wide SocketIO for the new app: put the session app's Socket.IO server
    back at the end of the ``with`` (or test_sockets would talk to a dead app)."""
    saved = {name: getattr(socketio, name) for name in _SOCKETIO_STATE if hasattr(socketio, name)}
    saved["server_options"] = dict(socketio.server_options)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(socketio, name, value)


def restore_real_socket_sends() -> None:
    """Flask-SocketIO's test client (test_sockets.py, test_counter_live.py …) replaces the server's send functions with
    its own for the rest of the process: put the real ones back before real browsers connect, or their sockets never
    hear back (the browser tests then fail by the order the files run in)."""
    for name in ("_send_packet", "_send_eio_packet"):
        socketio.server.__dict__.pop(name, None)


@contextlib.contextmanager
def second_app(database_url: str, instance_path):
    """Another app on another database, for the length of a ``with``."""
    with keep_socketio():
        application = create_app({"env": "testing", "database_url": database_url, "secret_key": "x" * 40})
        application.instance_path = str(instance_path)
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def reset_database(attempts: int = 5) -> None:
    """Empty every table. On PostgreSQL a request a browser test left running (a live page's last refresh) may hold
    locks the TRUNCATE needs in the other order: PostgreSQL then cancels one side as a deadlock, and this tries again."""
    from sqlalchemy.exc import OperationalError

    from osbp.audit import guard

    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    for attempt in range(attempts):
        try:
            with db.engine.begin() as connection, guard.suspended(connection):  # the audit log is append-only
                if connection.dialect.name == "postgresql":
                    connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                else:
                    for table in tables:
                        connection.execute(text(f"DELETE FROM {table}"))
            return
        except OperationalError as error:
            if "deadlock detected" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.2)


@pytest.fixture(autouse=True)
def demo_post(app):
    """A clean database holding only the demo post, for every test."""
    from osbp.post.seed import seed_demo

    with app.app_context():
        reset_database()
        post = seed_demo(hasher=_cached_hash)
        db.session.commit()
        post_id = post.id
        db.session.remove()
    return post_id


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


def audit_rows(app, action: str, columns=("outcome", "username", "user_id")) -> list[tuple]:
    """The audit rows of one action, oldest first, as tuples of the named AuditEvent columns."""
    from osbp.audit.models import AuditEvent

    with app.app_context():
        rows = db.session.execute(
            db.select(*(getattr(AuditEvent, column) for column in columns))
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client, path: str = "/login") -> str:
    page = client.get(path, follow_redirects=True)
    match = CSRF_INPUT.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def login(app):
    """login(username) → a logged-in test client (cookie session) with .csrf set."""

    def _login(username: str, password: str | None = None):
        from osbp.post.seed import DEMO_PASSWORDS

        role = "admin" if username == "admin" else "supervisor" if username.startswith("supervisor") else "officer"
        role = next((r for r in ("gate", "committee") if f"-{r}-" in username), role)
        if password is None:
            password = DEMO_PASSWORDS[role]
        client = app.test_client()
        token = csrf_from(client)
        response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        if urlsplit(response.location).path == "/login/code":  # the demo supervisor and admin have a second factor
            response = enter_totp_code(app, client, username)
            assert response.status_code == 302, response.get_data(as_text=True)
        client.csrf = csrf_from(client, {"gate": "/gate", "committee": "/", "admin": "/"}.get(role, "/desk"))  # reached
        return client

    return _login


def totp_code(app, username: str) -> str:
    """The code of ``username``'s demo second factor (osbp.post.seed.DEMO_TOTP_SECRETS) for a time-step the app has
    not accepted yet. A test may log the same person in more than once within one 30-second step, and a code is good
    only once: then the next step's code is taken (the app accepts one step either side for clock drift), and when
    that one was used too, the last used step is set back — test set-up; the app's check is the real one."""
    import pyotp

    from osbp.auth.models import TotpCredential, User
    from osbp.auth.totp import current_step
    from osbp.post.seed import DEMO_TOTP_SECRETS

    with app.app_context():
        credential = db.session.scalar(
            db.select(TotpCredential).join(User, User.id == TotpCredential.user_id).where(User.username == username)
        )
        now = current_step()
        last = credential.last_step if credential is not None and credential.last_step is not None else now - 2
        if last >= now + 1:
            credential.last_step = last = now - 1
            db.session.commit()
        db.session.remove()
    return pyotp.TOTP(DEMO_TOTP_SECRETS[username]).generate_otp(max(now, last + 1))


def enter_totp_code(app, client, username: str):
    """The second step of a login: post the current TOTP code on /login/code."""
    token = csrf_from(client, "/login/code")
    return client.post("/login/code", data={"code": totp_code(app, username), "csrf_token": token})


class ApiClient:
    """A JSON client authenticated with a bearer token."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path):
        return self.client.get(path, headers=self.headers)

    def post(self, path, json=None, **kwargs):
        return self.client.post(path, json=json, headers=self.headers, **kwargs)


@pytest.fixture
def api(app):
    """api(username) → an ApiClient with a fresh bearer token for that user."""

    def _api(username: str) -> ApiClient:
        from osbp.auth.operations import create_token

        with app.app_context():
            token = create_token(username)
            db.session.commit()
            db.session.remove()
        return ApiClient(app.test_client(), token)

    return _api


@pytest.fixture
def station_id(app):
    """station_id("C1") → the id of a demo station."""

    def _station_id(code: str) -> int:
        from osbp.queues.models import Station

        with app.app_context():
            station_id = db.session.scalar(db.select(Station.id).where(Station.code == code))
            db.session.remove()
        return station_id

    return _station_id


def open_device_link(client, token: str, *, prints: bool = False):
    """What the set-up page does with the link /live/device#<token> (device-setup.js): post the token with the page's
    CSRF token. The token never appears in a URL the server sees."""
    page = client.get("/live/device?print=1" if prints else "/live/device")
    assert page.status_code == 200, page.status_code
    csrf = CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
    return client.post("/live/device", data={"csrf_token": csrf, "token": token} | ({"print": "1"} if prints else {}))
