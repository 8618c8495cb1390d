"""The TOTP second factor: supervisors and admins give a code after the password, a code is good once, wrong codes
meet a limit that ends, enrolment (forced by OSBP_TOTP_REQUIRED for supervisors and admins, optional for others), the
secret stored encrypted and never audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
from markupsafe import escape
from sqlalchemy import delete, select

from osbp.audit.models import AuditEvent
from osbp.auth.models import TotpCredential, User
from osbp.config import Config, ConfigError
from osbp.extensions import db
from osbp.post.seed import DEMO_PASSWORDS, DEMO_TOTP_SECRETS
from tests.clock import patch_utcnow
from tests.conftest import audit_rows, csrf_from, open_device_link

T0 = datetime(2026, 12, 1, 8, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step


@pytest.fixture
def clock(monkeypatch):
    """The app's clock stands still at T0 until a test moves it (``clock.now = …``)."""

    class Clock:
        now = T0

    patch_utcnow(monkeypatch, lambda: Clock.now)
    return Clock


def code_at(username: str, moment: datetime) -> str:
    return pyotp.TOTP(DEMO_TOTP_SECRETS[username]).at(moment)


def password_step(client, username: str, password: str | None = None, **extra):
    role = "admin" if username == "admin" else "supervisor" if username.startswith("supervisor") else "officer"
    data = {"username": username, "password": password or DEMO_PASSWORDS[role], "csrf_token": csrf_from(client)}
    return client.post("/login", data={**data, **extra})


def code_step(client, code: str):
    return client.post("/login/code", data={"code": code, "csrf_token": csrf_from(client, "/login/code")})


def is_logged_in(client) -> bool:
    response = client.get("/account/password")  # a page every person reaches, once no step is left to take
    return response.status_code == 200


def text(response) -> str:
    return response.get_data(as_text=True)


# --- login ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["supervisor-1", "admin"])
def test_the_password_alone_does_not_log_a_supervisor_or_admin_in(app, client, clock, username):
    response = password_step(client, username)
    assert response.status_code == 302
    assert response.location == "/login/code"
    assert not is_logged_in(client)
    assert client.get("/api/v1/stations").status_code == 401
    page = client.get("/login/code")
    assert page.status_code == 200 and "6-digit code" in text(page)
    assert code_step(client, code_at(username, T0)).status_code == 302
    assert is_logged_in(client)
    assert audit_rows(app, "auth.second_factor", ("outcome", "username")) == [("ok", username)]


def test_the_code_step_follows_the_page_asked_for(app, client, clock):
    response = password_step(client, "supervisor-1", next="/stations")
    assert response.location == "/login/code"
    assert code_step(client, code_at("supervisor-1", T0)).location == "/stations"


def test_a_code_is_accepted_once(app, clock):
    code = code_at("supervisor-1", T0)
    first = app.test_client()
    password_step(first, "supervisor-1")
    assert code_step(first, code).status_code == 302
    thief = app.test_client()  # someone who saw the password and the code being typed
    password_step(thief, "supervisor-1")
    replay = code_step(thief, code)
    assert replay.status_code == 401
    assert "used already" in text(replay)
    assert not is_logged_in(thief)
    clock.now = T0 + timedelta(seconds=25)  # the next step: still refused (one step of drift is allowed)
    assert code_step(thief, code).status_code == 401
    assert code_step(thief, code_at("supervisor-1", clock.now)).status_code == 302  # the next code, once
    outcomes = [row[0] for row in audit_rows(app, "auth.second_factor", ("outcome",))]
    assert outcomes == ["ok", "replayed", "replayed", "ok"]


def test_one_step_of_clock_drift_either_way_is_accepted(app, clock):
    for offset in (-30, 30):
        client = app.test_client()
        clock.now = clock.now + timedelta(seconds=90)
        password_step(client, "admin")
        assert code_step(client, code_at("admin", clock.now + timedelta(seconds=offset))).status_code == 302
    client = app.test_client()
    clock.now = clock.now + timedelta(seconds=90)
    password_step(client, "admin")
    assert code_step(client, code_at("admin", clock.now + timedelta(seconds=61))).status_code == 401


@pytest.mark.parametrize("bad", ["000000", "12345", "abcdef", "", "1234567", "１２３４５６"])
def test_a_wrong_code_is_a_translated_401_and_audited(app, client, clock, bad):
    password_step(client, "supervisor-1")
    if bad == "000000" and code_at("supervisor-1", T0) == bad:
        bad = "000001"
    with client.session_transaction() as session:
        session["locale"] = "en"
    response = code_step(client, bad)
    assert response.status_code == 401
    assert "Wrong code" in text(response)
    assert not is_logged_in(client)
    assert audit_rows(app, "auth.second_factor", ("outcome", "username")) == [("failed", "supervisor-1")]


def test_wrong_codes_meet_a_limit_that_ends(app, client, clock):
    limit = app.config["OSBP"].login_attempts_per_minute
    password_step(client, "supervisor-1")
    right = code_at("supervisor-1", T0)
    wrong = "111111" if right != "111111" else "222222"
    for _attempt in range(limit):
        assert code_step(client, wrong).status_code == 401
    refused = code_step(client, right)  # past the limit even the right code waits
    assert refused.status_code == 429
    assert "Too many wrong codes" in text(refused)
    assert not is_logged_in(client)
    clock.now = T0 + timedelta(seconds=61)  # a minute later the account is not locked out
    client = app.test_client()
    password_step(client, "supervisor-1")
    assert code_step(client, code_at("supervisor-1", clock.now)).status_code == 302
    outcomes = [row[0] for row in audit_rows(app, "auth.second_factor", ("outcome",))]
    assert outcomes == ["failed"] * limit + ["throttled", "ok"]


def test_the_code_page_needs_the_password_first(app, client, clock):
    response = client.get("/login/code")
    assert urlsplit(response.location).path == "/login"
    token = csrf_from(client, "/login")
    response = client.post("/login/code", data={"code": code_at("supervisor-1", T0), "csrf_token": token})
    assert urlsplit(response.location).path == "/login"
    assert not is_logged_in(client)


def test_the_code_page_needs_csrf(app, client, clock):
    password_step(client, "supervisor-1")
    assert client.post("/login/code", data={"code": code_at("supervisor-1", T0)}).status_code == 400
    assert not is_logged_in(client)


def test_a_wrong_password_never_reaches_the_code_step(app, client, clock):
    response = password_step(client, "supervisor-1", password="not-the-password")
    assert response.status_code == 401
    assert urlsplit(client.get("/login/code").location).path == "/login"


def test_the_code_step_dies_with_the_users_sessions(app, client, clock):
    """Disabled (or sessions revoked) between the password and the code: the code no longer logs in."""
    password_step(client, "supervisor-1")
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "supervisor-1")).session_version += 1
        db.session.commit()
        db.session.remove()
    response = code_step(client, code_at("supervisor-1", T0))
    assert urlsplit(response.location).path == "/login"
    assert not is_logged_in(client)


def test_for_officers_the_second_factor_is_optional(app, client, clock):
    response = password_step(client, "rw-immigration-1")
    assert response.location == "/"
    assert is_logged_in(client)
    page = client.get("/account/totp")
    assert page.status_code == 200 and "Turn on the second factor" in text(page)
    assert "Your role needs a second factor" not in text(page)


# --- enrolment ------------------------------------------------------------------------------------------------------


def forget_second_factor(app, username: str) -> None:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user_id))
        db.session.commit()
        db.session.remove()


KEY = re.compile(r'<code class="totp-key">([A-Z2-7 ]+)</code>')


def enrolment_key(page) -> str:
    match = KEY.search(text(page))
    assert match, text(page)
    return match.group(1).replace(" ", "")


def test_a_supervisor_without_a_second_factor_must_enrol_before_anything(app, client, clock):
    forget_second_factor(app, "supervisor-1")
    response = password_step(client, "supervisor-1", next="/stations")
    assert response.location == "/account/totp"
    for path in ("/desk", "/stations", "/live/supervisor", "/", "/account/password"):
        assert client.get(path).location == "/account/totp", path
    api = client.get("/api/v1/stations")
    assert api.status_code == 403 and api.json["error"]["code"] == "account_step_required"
    page = client.get("/account/totp")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in text(page)  # the QR code of the otpauth:// address
    key = enrolment_key(page)
    assert client.get("/account/totp").status_code == 200 and enrolment_key(client.get("/account/totp")) == key
    token = csrf_from(client, "/account/totp")
    wrong = client.post("/account/totp", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 422 and "Wrong code" in text(wrong)
    assert client.get("/desk").location == "/account/totp"
    done = client.post("/account/totp", data={"code": pyotp.TOTP(key).at(T0), "csrf_token": token})
    assert done.status_code == 302
    assert is_logged_in(client)
    assert "is on" in text(client.get("/account/totp")) and key not in text(client.get("/account/totp"))
    with app.app_context():
        stored = db.session.scalar(select(TotpCredential.secret_encrypted))
        details = " ".join(str(d) for d in db.session.scalars(select(AuditEvent.detail)))
        db.session.remove()
    assert key not in stored and key not in details  # encrypted at rest, never audited
    assert audit_rows(app, "auth.totp_enrolled", ("outcome", "username")) == [("ok", "supervisor-1")]
    # The next login asks for a code from the new key; the code used to enrol is spent.
    later = app.test_client()
    assert password_step(later, "supervisor-1").location == "/login/code"
    assert code_step(later, pyotp.TOTP(key).at(T0)).status_code == 401
    clock.now = T0 + timedelta(seconds=30)
    assert code_step(later, pyotp.TOTP(key).at(clock.now)).status_code == 302


def test_enrolling_ends_the_users_other_sessions(app, clock, login):
    other = login("rw-immigration-1")
    client = login("rw-immigration-1")
    key = enrolment_key(client.get("/account/totp"))
    token = csrf_from(client, "/account/totp")
    assert client.post("/account/totp", data={"code": pyotp.TOTP(key).at(T0), "csrf_token": token}).status_code == 302
    assert is_logged_in(client) and not is_logged_in(other)
    fresh = app.test_client()
    assert password_step(fresh, "rw-immigration-1").location == "/login/code"  # optional for officers, then asked


def test_the_policy_can_be_turned_off(app, client, clock, monkeypatch):
    forget_second_factor(app, "admin")
    monkeypatch.setitem(app.config, "OSBP", app.config["OSBP"].replace(totp_required=False))
    assert password_step(client, "admin", next="/stations").location == "/stations"
    assert is_logged_in(client)


def test_the_policy_setting_is_read_from_the_environment(tmp_path):
    assert Config.from_env(str(tmp_path), {}).totp_required is True
    assert Config.from_env(str(tmp_path), {"OSBP_TOTP_REQUIRED": "false"}).totp_required is False
    assert Config.from_env(str(tmp_path), {"OSBP_TOTP_REQUIRED": "On"}).totp_required is True
    with pytest.raises(ConfigError):
        Config.from_env(str(tmp_path), {"OSBP_TOTP_REQUIRED": "perhaps"})


def test_devices_never_reach_the_account_pages(app, clock):
    from osbp.live.devices import create_device
    from osbp.post.models import Post

    with app.app_context():
        _device, token = create_device(db.session.scalar(select(Post)), "board", "board-hall-1")
        db.session.commit()
        db.session.remove()
    board = app.test_client()
    assert open_device_link(board, token).status_code == 302
    assert board.get("/account/totp").status_code == 403
    assert board.get("/account/password").status_code == 403


def test_seed_demo_prints_the_demo_second_factors(app, monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr("osbp.auth.passwords.HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for username, key in DEMO_TOTP_SECRETS.items():
        assert re.search(rf"{username}\s+{key}", result.output)
    assert str(escape("pyotp.TOTP(")) in str(escape(result.output))


def test_a_supervisor_who_must_enrol_gets_no_hall_events(app, client, clock, api):
    from osbp.extensions import socketio

    forget_second_factor(app, "supervisor-1")
    password_step(client, "supervisor-1")
    live = socketio.test_client(app, flask_test_client=client)
    assert live.is_connected()
    sid = socketio.server.manager.sid_from_eio_sid(live.eio_sid, "/")
    rooms = {room for room in socketio.server.manager.get_rooms(sid, "/") if ":" in room}
    with app.app_context():
        supervisor_id = db.session.scalar(select(User.id).where(User.username == "supervisor-1"))
        db.session.remove()
    assert rooms == {f"user:{supervisor_id}"}  # not the post's or the supervisors' rooms
    live.disconnect()
