"""Accounts: each person changes their own password (/account/password); the admin — not a supervisor — disables,
enables and resets accounts and revokes devices (/admin/accounts, /admin/devices). Every such change ends the
account's sessions and API tokens and is audited with who did it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from osbp.audit.models import AuditEvent
from osbp.auth.models import ApiToken, User
from osbp.extensions import db
from osbp.post.seed import DEMO_PASSWORDS
from tests.conftest import audit_rows, csrf_from, open_device_link

OFFICER = DEMO_PASSWORDS["officer"]
NEW = "a fresh passphrase by the lake"


def uid(app, username: str) -> int:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        db.session.remove()
    return user_id


def user_row(app, username: str) -> dict:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        row = {"active": user.active, "must_change_password": user.must_change_password, "hash": user.password_hash}
        db.session.remove()
    return row


def is_logged_in(client) -> bool:
    return client.get("/account/password").status_code == 200  # a page every person reaches


def password_login(app, username: str, password: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(client)})
    return client, response


def change(client, current: str, new: str, confirm: str | None = None):
    token = csrf_from(client, "/account/password")
    data = {"current_password": current, "new_password": new, "confirm_password": confirm or new, "csrf_token": token}
    return client.post("/account/password", data=data)


def audit_details(app, action: str) -> list[dict]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == action)))
        db.session.remove()
    return rows


# --- the own password change ---------------------------------------------------------------------------------------


def test_changing_the_own_password_ends_every_other_session_and_token(app, login, api):
    me, other = login("rw-immigration-1"), login("rw-immigration-1")
    token = api("rw-immigration-1")
    assert token.get("/api/v1/stations").status_code == 200
    old_cookie = me.get_cookie("osbp_session").value
    response = change(me, OFFICER, NEW)
    assert response.status_code == 302
    assert is_logged_in(me)  # still logged in, with a fresh session …
    assert me.get_cookie("osbp_session").value != old_cookie
    assert not is_logged_in(other)  # … and every other session, socket and API token is dead
    assert token.get("/api/v1/stations").status_code == 401
    assert password_login(app, "rw-immigration-1", OFFICER)[1].status_code == 401
    assert password_login(app, "rw-immigration-1", NEW)[1].status_code == 302
    assert audit_rows(app, "auth.password_changed")[0][:2] == ("ok", "rw-immigration-1")


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not-my-password", NEW, NEW, "Your current password is wrong."),
        (OFFICER, NEW, NEW + "!", "The new password and its confirmation differ."),
        (OFFICER, OFFICER, OFFICER, "Choose a new password, not the current one."),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(app, login, current, new, confirm, message):
    me = login("rw-immigration-1")
    before = user_row(app, "rw-immigration-1")
    response = change(me, current, new, confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_row(app, "rw-immigration-1") == before
    assert is_logged_in(me)


def test_wrong_current_passwords_are_audited_and_limited(app, login):
    me = login("rw-immigration-1")
    limit = app.config["OSBP"].login_attempts_per_minute
    for _attempt in range(limit):
        assert change(me, "not-my-password", NEW).status_code == 422
    assert change(me, OFFICER, NEW).status_code == 429  # even the right one, for a minute
    outcomes = [row[0] for row in audit_rows(app, "auth.password_changed")]
    assert outcomes == ["failed"] * limit + ["throttled"]


def test_the_password_change_needs_csrf(app, login):
    me = login("rw-immigration-1")
    data = {"current_password": OFFICER, "new_password": NEW, "confirm_password": NEW}
    assert me.post("/account/password", data=data).status_code == 400
    assert password_login(app, "rw-immigration-1", OFFICER)[1].status_code == 302


@pytest.mark.parametrize(("username", "role"), [("rw-gate-1", "gate"), ("cd-committee-1", "committee")])
def test_gate_officers_and_committee_members_change_their_password_too(app, login, username, role):
    me = login(username)
    assert me.get("/account/password").status_code == 200
    assert change(me, DEMO_PASSWORDS[role], NEW).status_code == 302
    assert password_login(app, username, NEW)[1].status_code == 302


# --- the admin's accounts page -------------------------------------------------------------------------------------


ADMIN_PAGES = ["/admin/accounts", "/admin/devices"]


@pytest.mark.parametrize("username", ["supervisor-1", "rw-immigration-1", "rw-gate-1", "cd-committee-1"])
def test_only_the_admin_manages_accounts(app, login, username):
    client = login(username)
    victim = uid(app, "rw-customs-1")
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    for action in ("disable", "enable", "reset-password", "reset-second-factor"):
        response = client.post(f"/admin/accounts/{victim}/{action}", data={"csrf_token": client.csrf})
        assert response.status_code == 403, action
    assert user_row(app, "rw-customs-1")["active"] and not user_row(app, "rw-customs-1")["must_change_password"]
    denied = audit_rows(app, "authorization.denied", ("outcome", "username"))
    assert len(denied) >= 6 and {row[1] for row in denied} == {username}


def test_the_admin_sees_the_posts_accounts(app, login):
    page = login("admin").get("/admin/accounts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for username in ("supervisor-1", "rw-immigration-1", "cd-gate-1", "cd-committee-1"):
        assert f'id="account-{username}"' in html
    row = re.search(r'id="account-supervisor-1">(.*?)</tr>', html, re.S).group(1)
    assert "On" in row  # the demo supervisor's second factor


def test_disabling_through_the_page_ends_sessions_and_tokens_and_is_audited(app, login, api):
    victim, token = login("rw-customs-1"), api("rw-customs-1")
    admin = login("admin")
    response = admin.post(f"/admin/accounts/{uid(app, 'rw-customs-1')}/disable", data={"csrf_token": admin.csrf})
    assert response.status_code == 302
    assert "rw-customs-1 is disabled" in admin.get(response.location).get_data(as_text=True)
    assert not is_logged_in(victim)
    assert token.get("/api/v1/stations").status_code == 401
    assert password_login(app, "rw-customs-1", OFFICER)[1].status_code == 401
    assert audit_rows(app, "auth.user_disabled")[0][:2] == ("ok", "rw-customs-1")
    assert audit_details(app, "auth.user_disabled") == [{"by": "admin", "by_id": uid(app, "admin")}]
    # Enabled again: the person logs in, but the old API token stays dead.
    admin.post(f"/admin/accounts/{uid(app, 'rw-customs-1')}/enable", data={"csrf_token": admin.csrf})
    assert password_login(app, "rw-customs-1", OFFICER)[1].status_code == 302
    assert token.get("/api/v1/stations").status_code == 401
    assert audit_details(app, "auth.user_enabled") == [{"by": "admin", "by_id": uid(app, "admin")}]


def test_the_admin_cannot_disable_or_reset_their_own_account(app, login):
    admin = login("admin")
    me = uid(app, "admin")
    for action in ("disable", "reset-password", "reset-second-factor"):
        response = admin.post(f"/admin/accounts/{me}/{action}", data={"csrf_token": admin.csrf}, follow_redirects=True)
        assert "You cannot do this to your own account" in response.get_data(as_text=True).replace("&#39;", "'")
    assert user_row(app, "admin")["active"] and is_logged_in(admin)


def test_accounts_of_another_post_are_not_found(app, login):
    from osbp.post.models import Post

    with app.app_context():
        other = Post(code="GOMA", name_a="Goma", name_b="Gisenyi", country_a="CD", country_b="RW")
        db.session.add(other)
        db.session.flush()
        db.session.add(
            User(post_id=other.id, username="goma-officer", full_name="x", password_hash="x", role="officer")
        )
        db.session.commit()
        db.session.remove()
    admin = login("admin")
    assert "goma-officer" not in admin.get("/admin/accounts").get_data(as_text=True)
    response = admin.post(
        f"/admin/accounts/{uid(app, 'goma-officer')}/disable", data={"csrf_token": admin.csrf}, follow_redirects=True
    )
    assert "No such account at this post." in response.get_data(as_text=True)
    assert user_row(app, "goma-officer")["active"]


def test_a_reset_password_is_shown_once_and_must_be_changed(app, login, api):
    victim, token = login("cd-immigration-1"), api("cd-immigration-1")
    admin = login("admin")
    response = admin.post(
        f"/admin/accounts/{uid(app, 'cd-immigration-1')}/reset-password", data={"csrf_token": admin.csrf}
    )
    assert response.status_code == 200
    temporary = re.search(r'<code class="temporary-password">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert temporary not in admin.get("/admin/accounts").get_data(as_text=True)
    assert not is_logged_in(victim)
    assert token.get("/api/v1/stations").status_code == 401
    assert password_login(app, "cd-immigration-1", OFFICER)[1].status_code == 401
    person, first = password_login(app, "cd-immigration-1", temporary)
    assert first.location == "/account/password"
    for path in ("/desk", "/counters", "/stations", "/account/totp"):
        assert person.get(path).location == "/account/password", path
    blocked = person.get("/api/v1/stations")
    assert blocked.status_code == 403 and blocked.json["error"]["code"] == "account_step_required"
    assert change(person, temporary, NEW).status_code == 302
    assert is_logged_in(person)
    assert not user_row(app, "cd-immigration-1")["must_change_password"]
    [detail] = audit_details(app, "auth.password_reset")
    assert detail == {"by": "admin", "by_id": uid(app, "admin"), "typed": False}
    with app.app_context():
        everything = " ".join(str(row) for row in db.session.scalars(select(AuditEvent.detail)))
        db.session.remove()
    assert temporary not in everything and NEW not in everything


def test_the_admin_may_type_the_temporary_password(app, login):
    admin = login("admin")
    typed = "kivu lake temporary"
    admin.post(
        f"/admin/accounts/{uid(app, 'rw-health-1')}/reset-password", data={"password": typed, "csrf_token": admin.csrf}
    )
    _client, response = password_login(app, "rw-health-1", typed)
    assert response.location == "/account/password"
    assert audit_details(app, "auth.password_reset")[0]["typed"] is True


def test_resetting_a_second_factor_makes_the_person_enrol_again(app, login):
    supervisor = login("supervisor-1")
    admin = login("admin")
    response = admin.post(
        f"/admin/accounts/{uid(app, 'supervisor-1')}/reset-second-factor", data={"csrf_token": admin.csrf}
    )
    assert response.status_code == 302
    assert not is_logged_in(supervisor)
    client, first = password_login(app, "supervisor-1", DEMO_PASSWORDS["supervisor"])
    assert first.location == "/account/totp"  # no code asked: a new second factor to set up
    assert client.get("/desk").location == "/account/totp"
    assert audit_details(app, "auth.totp_reset") == [{"by": "admin", "by_id": uid(app, "admin")}]
    again = admin.post(
        f"/admin/accounts/{uid(app, 'supervisor-1')}/reset-second-factor",
        data={"csrf_token": admin.csrf},
        follow_redirects=True,
    )
    assert "has no second factor to reset" in again.get_data(as_text=True)


def test_admin_actions_need_csrf(app, login):
    admin = login("admin")
    assert admin.post(f"/admin/accounts/{uid(app, 'rw-customs-1')}/disable").status_code == 400
    assert user_row(app, "rw-customs-1")["active"]


# --- devices ---------------------------------------------------------------------------------------------------------


def _device(app, role: str, name: str) -> str:
    from osbp.live.devices import create_device
    from osbp.post.models import Post

    with app.app_context():
        _user, token = create_device(db.session.scalar(select(Post)), role, name)
        db.session.commit()
        db.session.remove()
    return token


def test_the_admin_lists_and_revokes_devices(app, login):
    token = _device(app, "board", "board-hall-1")
    _device(app, "kiosk", "kiosk-entrance")
    board = app.test_client()
    assert open_device_link(board, token).status_code == 302
    assert board.get("/live/board").status_code == 200
    admin = login("admin")
    page = admin.get("/admin/devices").get_data(as_text=True)
    assert 'id="device-board-hall-1"' in page and 'id="device-kiosk-entrance"' in page
    assert 'id="account-board-hall-1"' not in admin.get("/admin/accounts").get_data(as_text=True)
    response = admin.post(f"/admin/devices/{uid(app, 'board-hall-1')}/revoke", data={"csrf_token": admin.csrf})
    assert response.status_code == 302
    assert board.get("/live/board").status_code == 302  # the board's session is dead
    with app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == uid(app, "board-hall-1")))
        db.session.remove()
    assert audit_details(app, "device.revoked") == [{"by": "admin", "by_id": uid(app, "admin")}]
    # A person's account is not a device: the devices route does not touch it.
    wrong = admin.post(f"/admin/devices/{uid(app, 'rw-customs-1')}/revoke", data={"csrf_token": admin.csrf})
    assert wrong.status_code == 302 and user_row(app, "rw-customs-1")["active"]
    assert audit_details(app, "device.revoked") == [{"by": "admin", "by_id": uid(app, "admin")}]


def test_a_supervisor_cannot_revoke_a_device(app, login):
    _device(app, "board", "board-hall-1")
    supervisor = login("supervisor-1")
    response = supervisor.post(
        f"/admin/devices/{uid(app, 'board-hall-1')}/revoke", data={"csrf_token": supervisor.csrf}
    )
    assert response.status_code == 403
    assert audit_rows(app, "device.revoked") == []
