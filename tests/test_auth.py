"""Logging in and out: audit, throttling, session revocation and timeouts, passwords, API tokens, CLI."""

from __future__ import annotations

import re
import time

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from markupsafe import escape
from sqlalchemy import func, select, update

from osbp.audit import guard
from osbp.audit.models import AuditEvent
from osbp.auth import operations
from osbp.auth.models import ApiToken, User
from osbp.auth.passwords import check_policy, hash_password
from osbp.errors import Invalid
from osbp.extensions import db
from osbp.post.seed import DEMO_PASSWORDS
from osbp.types import utcnow
from tests.conftest import audit_rows, csrf_from, reset_database

COOKIE = "osbp_session"
WRONG = "not-the-right-password"


def post_login(client, username: str, password: str, **headers):
    token = csrf_from(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, headers=headers
    )


def user_id(app, username: str) -> int:
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == username))
        db.session.remove()
    return uid


def is_logged_in(client) -> bool:
    response = client.get("/desk")
    if response.status_code == 302:
        assert "/login" in response.location
        return False
    assert response.status_code == 200
    return True


def copy_session(app, client):
    """A second browser holding a copy of ``client``'s session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


# --- logging in ---------------------------------------------------------------------------------------------------


def test_login_redirects_and_is_audited(app, client):
    response = post_login(client, "rw-immigration-1", DEMO_PASSWORDS["officer"])
    assert response.status_code == 302
    assert is_logged_in(client)
    assert audit_rows(app, "auth.login") == [("ok", "rw-immigration-1", user_id(app, "rw-immigration-1"))]


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("fr", "Nom d'utilisateur ou mot de passe incorrect."),
        ("rw", "Izina ukoresha cyangwa ijambo ry'ibanga si byo."),
        ("en", "Wrong username or password."),
    ],
)
def test_wrong_password_gives_translated_401_and_is_audited(app, client, locale, message):
    response = post_login(client, "rw-immigration-1", WRONG, **{"Accept-Language": locale})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert str(escape(message)) in page
    assert f'<html lang="{locale}">' in page
    assert not is_logged_in(client)
    assert audit_rows(app, "auth.login") == [("failed", "rw-immigration-1", None)]


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(app, client):
    known = post_login(client, "rw-immigration-1", WRONG)
    unknown = post_login(client, "nobody-at-all", WRONG)
    assert unknown.status_code == known.status_code == 401
    strip = [(r"csrf_token\" value=\"[^\"]+", ""), ("rw-immigration-1", "X"), ("nobody-at-all", "X")]
    bodies = []
    for response in (known, unknown):
        body = response.get_data(as_text=True)
        for pattern, replacement in strip:
            body = re.sub(pattern, replacement, body)
        bodies.append(body)
    assert bodies[0] == bodies[1]
    assert audit_rows(app, "auth.login") == [("failed", "rw-immigration-1", None), ("failed", "nobody-at-all", None)]


def test_throttling_is_per_account(app, client):
    limit = app.config["OSBP"].login_attempts_per_minute
    for _attempt in range(limit):
        assert post_login(client, "rw-immigration-1", WRONG).status_code == 401
    # The right password no longer helps for a minute …
    refused = post_login(client, "RW-Immigration-1", DEMO_PASSWORDS["officer"], **{"Accept-Language": "fr"})
    assert refused.status_code == 429
    message = "Trop de tentatives échouées. Patientez une minute puis réessayez."
    assert str(escape(message)) in refused.get_data(as_text=True)
    assert not is_logged_in(client)
    assert audit_rows(app, "auth.login")[-1] == ("throttled", "rw-immigration-1", None)
    # … but the lock is on that account only.
    assert post_login(app.test_client(), "cd-immigration-1", DEMO_PASSWORDS["officer"]).status_code == 302
    # Failures older than a minute no longer count.
    with app.app_context():
        # Backdating audit rows is tampering: only with the append-only triggers lifted (and the chain then breaks).
        with db.engine.begin() as connection, guard.suspended(connection):
            mine = select(AuditEvent.id, AuditEvent.at).where(AuditEvent.username == "rw-immigration-1")
            for event_id, at in connection.execute(mine).all():
                connection.execute(
                    update(AuditEvent).where(AuditEvent.id == event_id).values(at=at.replace(year=at.year - 1))
                )
        db.session.remove()
    assert post_login(client, "rw-immigration-1", DEMO_PASSWORDS["officer"]).status_code == 302


# --- sessions -----------------------------------------------------------------------------------------------------


def test_logout_kills_the_session_everywhere(app, login):
    officer = login("rw-immigration-1")
    thief = copy_session(app, officer)
    assert is_logged_in(thief)
    assert officer.post("/logout", data={"csrf_token": officer.csrf}).status_code == 302
    assert not is_logged_in(officer)
    assert not is_logged_in(thief)  # the copied cookie is dead server-side
    assert thief.get("/api/v1/stations").status_code == 401
    assert audit_rows(app, "auth.logout") == [("ok", "rw-immigration-1", user_id(app, "rw-immigration-1"))]


def test_logout_needs_csrf(login):
    officer = login("rw-immigration-1")
    assert officer.post("/logout").status_code == 400
    assert is_logged_in(officer)


def test_password_change_kills_every_session(app, login, api):
    first, second = login("cd-health-1"), login("cd-health-1")
    device = api("cd-health-1")
    assert device.get("/api/v1/stations").status_code == 200
    new_password = "a new passphrase for Ruzizi"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "cd-health-1"))
        operations.change_password(user, new_password)
        db.session.commit()
        db.session.remove()
    assert not is_logged_in(first)
    assert not is_logged_in(second)
    assert device.get("/api/v1/stations").status_code == 401  # API tokens die with the old password
    assert post_login(app.test_client(), "cd-health-1", DEMO_PASSWORDS["officer"]).status_code == 401
    assert post_login(app.test_client(), "cd-health-1", new_password).status_code == 302
    assert audit_rows(app, "auth.password_changed")[0][:2] == ("ok", "cd-health-1")


def test_disabling_a_user_kills_sessions_and_tokens(app, login, api):
    officer = login("rw-customs-1")
    device = api("rw-customs-1")
    assert device.get("/api/v1/stations").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "rw-customs-1"))
        operations.disable_user(user)
        db.session.commit()
        db.session.remove()
    assert not is_logged_in(officer)
    assert device.get("/api/v1/stations").status_code == 401
    assert post_login(app.test_client(), "rw-customs-1", DEMO_PASSWORDS["officer"]).status_code == 401
    assert audit_rows(app, "auth.user_disabled")[0][:2] == ("ok", "rw-customs-1")


def test_setting_active_false_is_enough_to_lock_out(app, login):
    officer = login("rw-customs-1")
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "rw-customs-1")).active = False
        db.session.commit()
        db.session.remove()
    assert not is_logged_in(officer)


def test_login_starts_a_new_session(app, client):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["locale"] = "fr"
    old_token = csrf_from(client)
    old_cookie = client.get_cookie(COOKIE).value
    response = client.post(
        "/login",
        data={"username": "supervisor-1", "password": DEMO_PASSWORDS["supervisor"], "csrf_token": old_token},
    )
    assert response.status_code == 302
    assert client.get_cookie(COOKIE).value != old_cookie
    with client.session_transaction() as session:
        assert "planted" not in session  # pre-login data dropped …
        assert session["locale"] == "fr"  # … except the language the person chose
    # The CSRF token from before the login is no longer valid.
    refused = client.post("/desk/tickets", data={"direction": "RW-CD", "category": "trader", "csrf_token": old_token})
    assert refused.status_code == 400


def _age_session(client, **seconds_ago):
    now = int(time.time())
    with client.session_transaction() as session:
        for key, ago in seconds_ago.items():
            session[key] = now - ago


def test_idle_timeout(app, login):
    idle = app.config["OSBP"].session_idle_minutes * 60
    assert idle == 30 * 60
    officer = login("rw-immigration-1")
    _age_session(officer, seen_at=idle - 60)
    assert is_logged_in(officer)  # and that request counts as activity
    _age_session(officer, seen_at=idle + 60)
    assert not is_logged_in(officer)
    with officer.session_transaction() as session:
        assert "_user_id" not in session
    api_user = login("cd-immigration-1")
    _age_session(api_user, seen_at=idle + 60)
    response = api_user.get("/api/v1/stations")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_idle_timeout_follows_the_configuration(app, login, monkeypatch):
    monkeypatch.setitem(app.config, "OSBP", app.config["OSBP"].replace(session_idle_minutes=5))
    officer = login("rw-immigration-1")
    _age_session(officer, seen_at=4 * 60)
    assert is_logged_in(officer)
    _age_session(officer, seen_at=6 * 60)
    assert not is_logged_in(officer)


def test_absolute_timeout(app, login):
    absolute = app.config["OSBP"].session_absolute_hours * 3600
    assert absolute == 12 * 3600
    officer = login("rw-immigration-1")
    _age_session(officer, login_at=absolute - 60, seen_at=0)
    assert is_logged_in(officer)
    _age_session(officer, login_at=absolute + 60, seen_at=0)  # active all along, still out after 12 h
    assert not is_logged_in(officer)


# --- passwords ----------------------------------------------------------------------------------------------------


def test_passwords_are_argon2id_with_owasp_parameters(app, ctx):
    stored = db.session.scalar(select(User.password_hash).where(User.username == "admin"))
    assert stored.startswith("$argon2id$v=19$m=47104,t=1,p=1$")
    for password_hash in (stored, hash_password("a fresh passphrase")):
        parameters = extract_parameters(password_hash)
        assert parameters.type is Type.ID
        assert parameters.memory_cost >= 47104  # 46 MiB
        assert parameters.time_cost >= 1
    assert DEMO_PASSWORDS["admin"] not in stored


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short7c", "password_length"),
        ("", "password_length"),
        ("x" * 129, "password_length"),
        ("password123", "password_common"),
        ("Password123", "password_common"),
    ],
)
def test_password_policy_refuses(app, password, code):
    with app.test_request_context(), pytest.raises(Invalid) as refused:
        check_policy(password)
    assert refused.value.code == code
    assert refused.value.status == 422


@pytest.mark.parametrize(
    "password", ["8 chars!", "correct horse battery staple on the Ruzizi bridge", "é" * 128, "ALLCAPSNODIGITS"]
)
def test_password_policy_accepts_without_composition_rules(app, password):
    with app.test_request_context():
        check_policy(password)


def test_an_overlong_password_at_login_is_just_wrong(client):
    response = post_login(client, "admin", "x" * 5000)
    assert response.status_code == 401


# --- API tokens ---------------------------------------------------------------------------------------------------


def test_bearer_token_needs_no_csrf(app, api):
    desk = api("supervisor-1")
    response = desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"})
    assert response.status_code == 201, response.json


def test_revoked_or_unknown_token_gives_401_json(app, api):
    desk = api("supervisor-1")
    assert desk.get("/api/v1/stations").status_code == 200
    with app.app_context():
        for token in db.session.scalars(select(ApiToken)):
            token.revoked_at = utcnow()
        db.session.commit()
        db.session.remove()
    for client_headers in (desk.headers, {"Authorization": "Bearer osbp_unknown"}, {"Authorization": "Bearer"}):
        response = desk.client.get("/api/v1/stations", headers=client_headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
        assert response.json["error"]["message"]


def test_only_the_token_hash_is_stored(app, api):
    desk = api("supervisor-1")
    token = desk.headers["Authorization"].removeprefix("Bearer ")
    with app.app_context():
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
        db.session.remove()
    assert len(stored) == 1 and token not in stored[0]


# --- command line -------------------------------------------------------------------------------------------------


def test_create_token_command(app):
    result = app.test_cli_runner().invoke(args=["create-token", "supervisor-1"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("osbp_") and len(token) > 40
    response = app.test_client().get("/api/v1/stations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert audit_rows(app, "auth.token_created")[0][:2] == ("ok", "supervisor-1")


def test_create_token_for_unknown_user_fails(app):
    result = app.test_cli_runner().invoke(args=["create-token", "nobody-at-all"])
    assert result.exit_code != 0
    assert "nobody-at-all" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id))) == 0
        db.session.remove()


def _counts(app) -> dict[str, int]:
    from osbp.post.models import Agency, Post
    from osbp.queues.models import Station
    from osbp.workflow.models import Route, RouteStep, StepKind

    with app.app_context():
        counts = {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Post, Agency, StepKind, Route, RouteStep, Station, User)
        }
        db.session.remove()
    return counts


def test_seed_demo_is_idempotent(app, monkeypatch):
    seeded = _counts(app)
    # 8 officers, a supervisor, an admin, 2 gate officers and 2 committee members
    assert seeded["User"] == 14 and seeded["Station"] == 8 and seeded["Route"] == 8
    with app.app_context():
        reset_database()
    # Cheap hashes for this test only: the command hashes every demo password once.
    monkeypatch.setattr("osbp.auth.passwords.HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    runner = app.test_cli_runner()
    for _run in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        assert "Demo post ready" in result.output
        assert _counts(app) == seeded
