"""Login cannot be flooded: atomic limits per account and per address, a cap on concurrent password hashes, lockouts
that end by themselves or by a supervisor, and denials (CSRF, 401) audited without flooding the log.

The racing tests use real threads, each in its own app context (its own session and connections), against the run's
database (SQLite file, or PostgreSQL with OSBP_TEST_DATABASE_URL). No sleeps: a gate in the password check holds the
threads that reached it until every other thread has finished.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from osbp.audit.models import AuditEvent
from osbp.config import Config, ConfigError
from osbp.extensions import db
from osbp.post.seed import DEMO_PASSWORDS
from tests.clock import patch_utcnow
from tests.conftest import audit_rows, csrf_from
from tests.test_live import device_client
from tests.test_race import _run_threads

WRONG = "not-the-right-password"
GATE_TIMEOUT = 30.0
START = datetime(2026, 12, 2, 4, 37, 0, tzinfo=UTC)  # 06:37 in Kigali (UTC+2)


def post_login(client, username: str, password: str, **headers):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(client)},
        headers=headers,
    )


def settings(monkeypatch, app, **changes) -> None:
    """This test's configuration (and fresh hashing slots made from it)."""
    monkeypatch.setitem(app.config, "OSBP", app.config["OSBP"].replace(**changes))
    app.extensions.pop("osbp_hash_slots", None)
    monkeypatch.setattr(app, "extensions", {**app.extensions})  # the slots made during the test go with it


class Clock:
    def __init__(self, monkeypatch, start: datetime = START):
        self.now = start
        patch_utcnow(monkeypatch, lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class Gate:
    """Holds every caller inside the password check until each of ``total`` threads has either entered it or
    finished its request (or until more than ``allowed`` are inside: the test has failed, let them go); records how
    many entered and how many were inside at once. Never waits more than GATE_TIMEOUT."""

    def __init__(self, total: int, allowed: int):
        self.total = total
        self.allowed = allowed
        self.lock = threading.Lock()
        self.entered = 0
        self.inside = 0
        self.most_inside = 0
        self.finished = 0
        self.changed = threading.Condition(self.lock)
        self.open = threading.Event()
        self.settled = False

    def enter(self) -> None:
        with self.lock:
            self.entered += 1
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.changed.notify_all()
        self.open.wait(GATE_TIMEOUT)
        with self.lock:
            self.inside -= 1

    def done(self) -> None:
        with self.lock:
            self.finished += 1
            self.changed.notify_all()

    def release_when_settled(self) -> None:
        with self.lock:
            self.settled = self.changed.wait_for(
                lambda: self.inside + self.finished >= self.total or self.inside > self.allowed, GATE_TIMEOUT
            )
        self.open.set()


def race_logins(app, credentials: list[tuple[str, str]], gate: Gate) -> list:
    """Every (username, password) posted at once from its own thread and client; the responses."""
    clients = [app.test_client() for _ in credentials]
    tokens = [csrf_from(client) for client in clients]
    start = threading.Barrier(len(credentials))
    responses: list = [None] * len(credentials)

    def attempt(index: int):
        username, password = credentials[index]
        start.wait(GATE_TIMEOUT)
        try:
            responses[index] = clients[index].post(
                "/login", data={"username": username, "password": password, "csrf_token": tokens[index]}
            )
        finally:
            gate.done()

    releaser = threading.Thread(target=gate.release_when_settled)
    releaser.start()
    errors = _run_threads([lambda i=i: attempt(i) for i in range(len(credentials))])
    releaser.join(GATE_TIMEOUT)
    assert gate.inside <= gate.allowed and gate.most_inside <= gate.allowed, (
        f"{gate.most_inside} requests were in the password check at once; at most {gate.allowed} may be"
    )
    assert gate.settled, f"threads neither reached the password check nor finished: {gate.inside=} {gate.finished=}"
    assert not errors, "\n".join(errors)
    return responses


# --- the per-account limit is atomic ---------------------------------------------------------------------------------


def test_parallel_wrong_passwords_reach_the_password_check_at_most_limit_times(app, monkeypatch):
    """Today's limit counted committed audit rows: 40 parallel guesses got 24–33 checks instead of 5."""
    from osbp.auth import operations

    limit = app.config["OSBP"].login_attempts_per_minute
    threads = 20  # under the per-address limit (30): only the account's limit is at work
    gate = Gate(threads, limit)
    real_verify = operations.verify_password

    def gated_verify(password_hash, password):
        gate.enter()
        return real_verify(password_hash, password)

    monkeypatch.setattr(operations, "verify_password", gated_verify)
    responses = race_logins(app, [("rw-immigration-1", WRONG)] * threads, gate)

    assert gate.entered <= limit
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * gate.entered + [429] * (threads - gate.entered)
    assert gate.entered == limit  # nothing else stopped them: exactly the limit were checked
    failed = [row for row in audit_rows(app, "auth.login") if row[0] == "failed"]
    assert len(failed) == limit
    # The account is locked now, for the right password too.
    assert post_login(app.test_client(), "rw-immigration-1", DEMO_PASSWORDS["officer"]).status_code == 429


def test_the_counting_statement_gives_every_parallel_caller_its_own_count(app):
    """The counter itself: N threads on N connections, one key, counts 1…N with no gap and no repeat."""
    from osbp.auth import throttle

    threads = 16
    start = threading.Barrier(threads)
    counts: list[int] = []

    def take():
        with app.app_context():
            start.wait(GATE_TIMEOUT)
            count = throttle.take("account:racer", 5, window_seconds=60, lock_seconds=300)
            counts.append(count.failures)
            db.session.remove()

    errors = _run_threads([take] * threads)
    assert not errors, "\n".join(errors)
    assert sorted(counts) == list(range(1, threads + 1))


# --- the cap on concurrent password hashes ---------------------------------------------------------------------------


def test_parallel_logins_never_compute_more_hashes_than_the_slots(app, monkeypatch):
    """40 anonymous logins with random usernames took a worker from 89 MB to 1.26 GB (46 MiB per argon2id hash)."""
    from osbp.auth import passwords

    settings(monkeypatch, app, password_hash_slots=2, password_hash_wait_seconds=0.2)
    threads = 10
    gate = Gate(threads, 2)

    class GatedHasher:
        def verify(self, _hash, _password):
            gate.enter()
            raise passwords.VerificationError("wrong")

    monkeypatch.setattr(passwords, "HASHER", GatedHasher())
    responses = race_logins(app, [(f"nobody-{n}", WRONG) for n in range(threads)], gate)

    assert gate.most_inside <= 2
    busy = [r for r in responses if r.status_code == 429]
    assert len(busy) == threads - gate.entered
    assert sorted(r.status_code for r in responses) == [401] * 2 + [429] * (threads - 2)
    for response in busy:
        assert response.headers["Retry-After"] == "1"
        assert "The server is busy. Try again in a few seconds." in response.get_data(as_text=True)
    # Turned away before any check: they do not count against the address or the accounts.
    with app.app_context():
        from osbp.auth.models import LoginThrottle

        assert db.session.get(LoginThrottle, "address:127.0.0.1").failures == 2
        db.session.remove()


def test_the_cap_holds_for_a_single_login_when_every_slot_is_taken(app, monkeypatch, client):
    from osbp.auth.passwords import hash_slots

    settings(monkeypatch, app, password_hash_slots=1, password_hash_wait_seconds=0)
    with app.app_context():
        slots = hash_slots()
    with slots.slot():  # another request is hashing
        response = post_login(client, "rw-immigration-1", DEMO_PASSWORDS["officer"], **{"Accept-Language": "en"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert ("busy", "rw-immigration-1", None) in audit_rows(app, "auth.login")
    # Once the slot is free the same login goes through: the busy answer did not count as a failure.
    assert post_login(client, "rw-immigration-1", DEMO_PASSWORDS["officer"]).status_code == 302


# --- the per-address limit -------------------------------------------------------------------------------------------


def test_unknown_usernames_count_for_the_address_and_successes_do_not(app, monkeypatch):
    settings(monkeypatch, app, login_attempts_per_address_per_minute=3)
    client = app.test_client()
    assert post_login(client, "nobody-1", WRONG).status_code == 401
    assert post_login(client, "nobody-2", WRONG).status_code == 401
    for _ in range(3):  # right passwords from the same address: not failures
        assert post_login(app.test_client(), "cd-customs-1", DEMO_PASSWORDS["officer"]).status_code == 302
    assert post_login(client, "nobody-3", WRONG).status_code == 401
    refused = post_login(client, "rw-immigration-1", DEMO_PASSWORDS["officer"])
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many failed logins from this address. Try again after" in refused.get_data(as_text=True)
    with app.app_context():
        detail = db.session.scalar(
            select(AuditEvent.detail).where(AuditEvent.action == "auth.login", AuditEvent.outcome == "throttled")
        )
        db.session.remove()
    assert detail == {"limit": "address"}
    # Another address is not held back.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert post_login(other, "rw-immigration-1", DEMO_PASSWORDS["officer"]).status_code == 302


def last_login_address(app) -> str:
    with app.app_context():
        address = db.session.scalar(
            select(AuditEvent.remote_addr).where(AuditEvent.action == "auth.login").order_by(AuditEvent.id.desc())
        )
        db.session.remove()
    return address


def test_the_address_is_the_forwarded_one_only_behind_trusted_proxies(app, database_url, tmp_path):
    from osbp import create_app
    from tests.conftest import keep_socketio

    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    post_login(app.test_client(), "nobody", WRONG, **forwarded)
    assert last_login_address(app) == "127.0.0.1"  # by default nobody in front is trusted: the header is ignored
    with keep_socketio():
        proxied = create_app(
            {"env": "testing", "database_url": database_url, "secret_key": "p" * 40, "trusted_proxies": 1}
        )
        proxied.instance_path = str(tmp_path)
        post_login(proxied.test_client(), "nobody", WRONG, **forwarded)
        assert last_login_address(proxied) == "203.0.113.9"
        with app.app_context():
            from osbp.auth.models import LoginThrottle

            assert db.session.get(LoginThrottle, "address:203.0.113.9").failures == 1
            db.session.remove()
        with proxied.app_context():
            db.engine.dispose()


# --- lockouts --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "shown"), [("en", "6:42\u202fAM"), ("fr", "06:42")])
def test_a_lockout_says_when_to_retry_and_ends_by_itself(app, monkeypatch, locale, shown):
    clock = Clock(monkeypatch)
    client = app.test_client()
    for _ in range(app.config["OSBP"].login_attempts_per_minute):
        assert post_login(client, "rw-immigration-1", WRONG).status_code == 401
    refused = post_login(client, "rw-immigration-1", DEMO_PASSWORDS["officer"], **{"Accept-Language": locale})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "300"  # OSBP_LOGIN_LOCKOUT_MINUTES=5 from the fifth failure
    page = refused.get_data(as_text=True)
    assert f'<html lang="{locale}">' in page
    assert str(escape(shown)) in page  # in Kigali time, as the language writes it
    if locale == "en":
        assert "Too many failed attempts. Try again after 6:42\u202fAM." in page
    # Trying during the lock does not make it longer.
    clock.advance(minutes=4)
    again = post_login(client, "rw-immigration-1", DEMO_PASSWORDS["officer"], **{"Accept-Language": locale})
    assert again.status_code == 429
    assert again.headers["Retry-After"] == "60"
    assert str(escape(shown)) in again.get_data(as_text=True)
    clock.advance(minutes=1)
    assert post_login(client, "rw-immigration-1", DEMO_PASSWORDS["officer"]).status_code == 302


def test_a_right_password_forgets_the_failures(app):
    client = app.test_client()
    limit = app.config["OSBP"].login_attempts_per_minute
    for _ in range(limit - 1):
        assert post_login(client, "rw-immigration-1", WRONG).status_code == 401
    assert post_login(client, "rw-immigration-1", DEMO_PASSWORDS["officer"]).status_code == 302
    for _ in range(limit - 1):
        assert post_login(app.test_client(), "rw-immigration-1", WRONG).status_code == 401


def lock(app, username: str) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"  # the attacker's address, not the supervisor's
    for _ in range(app.config["OSBP"].login_attempts_per_minute + 1):
        post_login(client, username, WRONG)


def test_a_supervisor_unlocks_an_account_of_the_post(app, login):
    lock(app, "rw-immigration-1")
    supervisor = login("supervisor-1")
    page = supervisor.get("/accounts/lockouts")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "rw-immigration-1" in body and 'action="/accounts/lockouts/unlock"' in body
    response = supervisor.post(
        "/accounts/lockouts/unlock", data={"username": "rw-immigration-1", "csrf_token": supervisor.csrf}
    )
    assert response.status_code == 302 and response.location.endswith("/accounts/lockouts")
    assert "rw-immigration-1 can log in again." in supervisor.get("/accounts/lockouts").get_data(as_text=True)
    assert post_login(app.test_client(), "rw-immigration-1", DEMO_PASSWORDS["officer"]).status_code == 302
    rows = audit_rows(app, "auth.unlocked", ("outcome", "username", "object_type", "detail"))
    assert len(rows) == 1
    outcome, who, object_type, detail = rows[0]
    assert (outcome, who, object_type, detail["unlocked"]) == ("ok", "supervisor-1", "user", "rw-immigration-1")
    # Unlocking again: it is not locked any more.
    again = supervisor.post(
        "/accounts/lockouts/unlock", data={"username": "rw-immigration-1", "csrf_token": supervisor.csrf}
    )
    assert again.status_code == 302
    assert "rw-immigration-1 is not locked." in supervisor.get("/accounts/lockouts").get_data(as_text=True)


def test_a_supervisor_cannot_unlock_an_admin_but_an_admin_can(app, login):
    admin = login("admin")  # logged in before the lock: the session goes on
    lock(app, "admin")
    lock(app, "supervisor-1")
    supervisor_client = app.test_client()
    with app.app_context():
        from osbp.auth import throttle

        throttle.forget("account:supervisor-1")
        db.session.remove()
    supervisor = login("supervisor-1")
    lock(app, "supervisor-1")
    assert "<td>admin</td>" not in supervisor.get("/accounts/lockouts").get_data(as_text=True)
    refused = supervisor.post("/accounts/lockouts/unlock", data={"username": "admin", "csrf_token": supervisor.csrf})
    assert refused.status_code == 302
    assert "You cannot unlock this account." in supervisor.get("/accounts/lockouts").get_data(as_text=True)
    assert audit_rows(app, "auth.unlocked") == []
    assert ("denied", "supervisor-1") in [row[:2] for row in audit_rows(app, "authorization.denied")]
    # The admin sees both locked accounts and unlocks them.
    body = admin.get("/accounts/lockouts").get_data(as_text=True)
    assert "<td>admin</td>" in body and "<td>supervisor-1</td>" in body
    for username in ("admin", "supervisor-1"):
        response = admin.post("/accounts/lockouts/unlock", data={"username": username, "csrf_token": admin.csrf})
        assert response.status_code == 302
    assert post_login(supervisor_client, "supervisor-1", DEMO_PASSWORDS["supervisor"]).status_code == 302
    assert post_login(app.test_client(), "admin", DEMO_PASSWORDS["admin"]).status_code == 302
    assert [row[1] for row in audit_rows(app, "auth.unlocked")] == ["admin", "admin"]


@pytest.mark.parametrize("username", ["rw-immigration-1", "rw-gate-1", "rw-committee-1"])
def test_the_lockouts_page_is_denied_by_default(app, login, username):
    lock(app, "cd-customs-1")
    client = login(username)
    assert client.get("/accounts/lockouts").status_code == 403
    response = client.post("/accounts/lockouts/unlock", data={"username": "cd-customs-1", "csrf_token": client.csrf})
    assert response.status_code == 403
    assert audit_rows(app, "auth.unlocked") == []
    assert post_login(app.test_client(), "cd-customs-1", DEMO_PASSWORDS["officer"]).status_code == 429


@pytest.mark.parametrize("role", ["board", "kiosk"])
def test_devices_cannot_reach_the_lockouts_page(app, role):
    device = device_client(app, role)
    assert device.get("/accounts/lockouts").status_code == 403
    assert device.post("/accounts/lockouts/unlock", data={"username": "x"}).status_code == 403


def test_unlocking_needs_the_csrf_token(app, login):
    lock(app, "rw-immigration-1")
    supervisor = login("supervisor-1")
    assert supervisor.post("/accounts/lockouts/unlock", data={"username": "rw-immigration-1"}).status_code == 400
    assert audit_rows(app, "auth.unlocked") == []


# --- denials are audited, but cannot flood the log ---------------------------------------------------------------------


def test_csrf_failures_are_audited_once_a_minute_per_address(app, monkeypatch):
    clock = Clock(monkeypatch)
    client = app.test_client()
    for _ in range(3):
        assert client.post("/login", data={"username": "x", "password": WRONG}).status_code == 400
    rows = audit_rows(app, "auth.csrf_failed", ("outcome", "remote_addr", "detail"))
    assert rows == [("denied", "127.0.0.1", {"path": "/login", "method": "POST"})]
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert other.post("/login", data={}).status_code == 400
    clock.advance(seconds=61)
    assert client.post("/login", data={}).status_code == 400
    assert [row[1] for row in audit_rows(app, "auth.csrf_failed", ("outcome", "remote_addr"))] == [
        "127.0.0.1",
        "10.1.2.3",
        "127.0.0.1",
    ]


def test_401s_are_audited_once_a_minute_per_address(app):
    anonymous = app.test_client()
    for _ in range(3):
        assert anonymous.get("/api/v1/stations", headers={"Authorization": "Bearer osbp_forged"}).status_code == 401
        assert anonymous.get("/api/v1/stations").status_code == 401
    rows = audit_rows(app, "auth.unauthorized", ("outcome", "username", "detail"))
    assert rows == [("denied", None, {"path": "/api/v1/stations", "method": "GET", "bearer": True})]
    assert "osbp_forged" not in str(rows)


# --- configuration ---------------------------------------------------------------------------------------------------


def test_the_limits_come_from_the_environment_and_are_checked(tmp_path):
    environ = {
        "OSBP_LOGIN_ATTEMPTS_PER_MINUTE": "3",
        "OSBP_LOGIN_LOCKOUT_MINUTES": "15",
        "OSBP_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": "50",
        "OSBP_PASSWORD_HASH_SLOTS": "2",
        "OSBP_PASSWORD_HASH_WAIT_SECONDS": "1.5",
        "OSBP_TRUSTED_PROXIES": "1",
    }
    config = Config.from_env(str(tmp_path), environ)
    config.validate()
    assert (
        config.login_attempts_per_minute,
        config.login_lockout_minutes,
        config.login_attempts_per_address_per_minute,
        config.password_hash_slots,
        config.password_hash_wait_seconds,
        config.trusted_proxies,
    ) == (3, 15, 50, 2, 1.5, 1)
    for wrong in (
        {"login_lockout_minutes": 0},
        {"login_attempts_per_address_per_minute": 0},
        {"password_hash_slots": 0},
        {"password_hash_wait_seconds": 60.0},
        {"trusted_proxies": -1},
    ):
        with pytest.raises(ConfigError):
            config.replace(**wrong).validate()
