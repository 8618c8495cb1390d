"""The password policy: a real list of common (leaked) passwords, and no password holding the username or the post's
name or code — in the code, on the own password change page and on the admin's reset."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from osbp.auth.models import User
from osbp.auth.passwords import MIN_LENGTH, check_policy, common_passwords
from osbp.errors import Invalid
from osbp.extensions import db
from osbp.post.models import Post
from osbp.post.seed import DEMO_PASSWORDS
from tests.conftest import csrf_from


def refused_code(app, password: str, **context) -> str | None:
    with app.test_request_context():
        try:
            check_policy(password, **context)
        except Invalid as error:
            assert error.status == 422
            return error.code
    return None


def test_the_common_password_list_is_a_real_one(app):
    usable = [word for word in common_passwords() if len(word) >= MIN_LENGTH]
    assert len(usable) >= 10_000  # zxcvbn's 30,000 most common leaked passwords, 11,600 of them 8+ characters


@pytest.mark.parametrize(
    "password", ["1qaz2wsx", "computer", "Starwars", "corvette", "masterca", "fiction7", "mopar440", "11234567"]
)
def test_common_passwords_from_the_list_are_refused(app, password):
    assert refused_code(app, password) == "password_common"


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("rw-immigration-1", "rw-immigration-1"),
        ("my name is RW-Immigration-1 ok", "rw-immigration-1"),
        ("RW_immigration_1 at the bridge", "rw-immigration-1"),  # punctuation and case do not hide it
        ("supervisor-1-and-more", "supervisor-1"),
    ],
)
def test_a_password_holding_the_username_is_refused(app, password, username):
    assert refused_code(app, password, username=username) == "password_has_username"


@pytest.mark.parametrize(
    "password", ["Rusizi II by the lake", "ruzizi-ii-2026!", "RUSIZI-II", "our post rusizi ii forever"]
)
def test_a_password_holding_the_posts_name_or_code_is_refused(app, ctx, password):
    post = db.session.scalar(select(Post))
    assert refused_code(app, password, username="cd-health-1", post=post) == "password_has_post_name"


@pytest.mark.parametrize("password", ["a long walk across the bridge", "lake kivu at dawn, twice", "8 chars!"])
def test_other_passwords_pass_with_the_context(app, ctx, password):
    post = db.session.scalar(select(Post))
    assert refused_code(app, password, username="cd-health-1", post=post) is None


def test_the_rule_is_named_in_the_message(app, ctx):
    post = db.session.scalar(select(Post))
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(Invalid) as username:
            check_policy("cd-health-1 forever", username="cd-health-1", post=post)
        with pytest.raises(Invalid) as post_name:
            check_policy("welcome to ruzizi ii", username="cd-health-1", post=post)
    assert "username" in username.value.message
    assert "post's name" in post_name.value.message and "Ruzizi II" in post_name.value.message


def _change(client, new: str, current: str = DEMO_PASSWORDS["officer"]):
    token = csrf_from(client, "/account/password")
    data = {"current_password": current, "new_password": new, "confirm_password": new, "csrf_token": token}
    return client.post("/account/password", data=data)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("computer", "too common"),
        ("cd-health-1 rocks", "must not contain the username"),
        ("Ruzizi II is home", "must not contain the post's name"),
        ("short", "8 to 128"),
    ],
)
def test_the_own_password_change_applies_the_policy(app, login, new, message):
    officer = login("cd-health-1")
    response = _change(officer, new)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    with app.app_context():
        before = db.session.scalar(select(User.password_hash).where(User.username == "cd-health-1"))
        db.session.remove()
    assert officer.get("/desk").status_code == 200  # nothing changed, still logged in
    with app.app_context():
        assert db.session.scalar(select(User.password_hash).where(User.username == "cd-health-1")) == before
        db.session.remove()


def test_the_admins_typed_temporary_password_meets_the_policy(app, login):
    admin = login("admin")
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == "cd-health-1"))
        db.session.remove()
    token = admin.csrf
    response = admin.post(
        f"/admin/accounts/{uid}/reset-password",
        data={"password": "cd-health-1-temp", "csrf_token": token},
        follow_redirects=True,
    )
    assert "must not contain the username" in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalar(select(User.must_change_password).where(User.id == uid))
        db.session.remove()
