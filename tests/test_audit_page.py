"""The audit page (/audit, endpoint audit.events): read only, supervisors and admins of the post, filters, pages,
the chain's status, detail that could say something personal withheld; everyone else 403."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from osbp.audit import browse, guard
from osbp.audit import operations as audit
from osbp.audit.models import AuditEvent
from osbp.auth.models import User
from osbp.extensions import db
from osbp.post.models import Post
from tests.conftest import audit_rows
from tests.test_live import device_client


def _record(app, count: int, action: str = "test.event", username: str = "rw-immigration-1", **detail) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        for n in range(count):
            audit.record(action, user=user, n=n, **detail)
        db.session.commit()
        db.session.remove()


def _other_post_event(app) -> None:
    """An event of another post on the same server, and one of no post."""
    with app.app_context():
        other = Post(code="OTHER", name_a="Elsewhere A", name_b="Elsewhere B", country_a="RW", country_b="UG")
        db.session.add(other)
        db.session.flush()
        db.session.add(AuditEvent(action="test.elsewhere", outcome="ok", username="someone-else", post_id=other.id))
        audit.record("auth.login", "failed", username="typed-a-password-here")
        db.session.commit()
        db.session.remove()


def _seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="number">(\d+)</td>', html)]


def test_a_supervisor_reads_the_posts_events_with_the_chain_status(app, login):
    _record(app, 3)
    _other_post_event(app)
    supervisor = login("supervisor-1")
    response = supervisor.get("/audit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Hash chain verified:" in html and "verified (" in html
    assert "test.event" in html and "rw-immigration-1" in html
    assert "someone-else" not in html and "test.elsewhere" not in html  # another post's
    assert "typed-a-password-here" not in html  # no post: admins only
    assert response.headers["Cache-Control"] == "no-store"
    main = html.split("<main>")[1]
    assert 'method="post"' not in main and 'method="get" action="/audit"' in main  # nothing on it changes anything
    assert audit_rows(app, "audit.viewed", ("outcome", "username"))[-1] == ("ok", "supervisor-1")


def test_an_admin_also_reads_events_of_no_post(app, login):
    _other_post_event(app)
    html = login("admin").get("/audit").get_data(as_text=True)
    assert "typed-a-password-here" in html and "someone-else" not in html


def test_a_wrong_password_for_an_account_of_the_post_shows_to_its_supervisor(app, login):
    from tests.conftest import csrf_from

    client = app.test_client()
    form = {"username": "rw-immigration-1", "password": "not-the-right-one", "csrf_token": csrf_from(client)}
    assert client.post("/login", data=form).status_code == 401
    html = login("supervisor-1").get("/audit?action=auth.login").get_data(as_text=True)
    assert "rw-immigration-1" in html and "failed" in html


def test_filters_and_pages(app, login):
    _record(app, browse.PAGE_SIZE + 5, action="test.many")
    _record(app, 2, action="test.other", username="cd-immigration-1")
    with app.app_context():
        audit.record("test.other", "denied", username="cd-immigration-1", user=None)
        db.session.commit()
        db.session.remove()
    supervisor = login("supervisor-1")
    first = supervisor.get("/audit?action=test.many").get_data(as_text=True)
    seqs = _seqs(first)
    assert len(seqs) == browse.PAGE_SIZE and seqs == sorted(seqs, reverse=True)
    older = re.search(r'href="(/audit\?[^"]*before=(\d+)[^"]*)">Older', first)
    assert older, "no link to the older page"
    second = supervisor.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert len(_seqs(second)) == 5 and max(_seqs(second)) < min(seqs)
    assert "<td>test.other</td>" not in second
    by_user = supervisor.get("/audit?user=CD-Immigration-1").get_data(as_text=True)
    assert (
        "<td>test.many</td>" not in by_user and by_user.count("<td>test.other</td>") == 2
    )  # its post's two (one has no post)
    denied = supervisor.get("/audit?outcome=denied&action=test.many").get_data(as_text=True)
    assert "No audit events match these filters." in denied
    today = supervisor.get("/audit?from=2000-01-01&to=2000-01-02").get_data(as_text=True)
    assert "No audit events match these filters." in today


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "to=2026-13-01",
        "from=2026-12-02&to=2026-12-01",
        "before=abc",
        "before=99999999999999999999",
        "outcome=deleted",
        "user=admin%00",
        "action=" + "x" * 49,
    ],
)
def test_bad_filters_are_a_clear_400(app, login, query):
    response = login("supervisor-1").get(f"/audit?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert any(
        message in html
        for message in (
            "Write days as year-month-day",
            "The first day comes after the last day.",
            "This page of the audit log does not exist.",
            "Choose an outcome from the list.",
            "A filter is too long or holds characters it cannot hold.",
            "The request contains control characters or broken text.",  # refused at the edge (osbp/edge.py)
        )
    )
    assert "\x00" not in html
    assert audit_rows(app, "audit.viewed") == []  # nothing was shown


def test_health_and_free_text_detail_is_withheld(app, login):
    _record(app, 1, action="ticket.priority", priority="medical", reason="pregnant, feels unwell", station_id=3)
    _record(app, 1, action="authorization.denied", path="/live/device/secret-device-token-123")
    html = login("supervisor-1").get("/audit").get_data(as_text=True)
    assert "pregnant" not in html and "reason: <em>withheld</em>" in html
    assert "priority: medical" in html and "station_id: 3" in html
    assert "secret-device-token-123" not in html and "path: /live/device/…" in html


def test_the_page_says_when_the_chain_is_broken(app, login):
    _record(app, 4)
    with app.app_context(), db.engine.begin() as connection, guard.suspended(connection):
        connection.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(outcome="denied"))
    html = login("supervisor-1").get("/audit").get_data(as_text=True)
    assert "Hash chain broken:" in html and "row 2 (id" in html and "was altered" in html


def test_the_page_is_read_only(login):
    supervisor = login("supervisor-1")
    for method in ("post", "put", "delete", "patch"):
        response = getattr(supervisor, method)("/audit", data={"csrf_token": supervisor.csrf})
        assert response.status_code == 405, method


@pytest.mark.parametrize("username", ["rw-immigration-1", "rw-gate-1", "rw-committee-1"])
def test_officers_gate_and_committee_are_refused(app, login, username):
    _record(app, 1)
    response = login(username).get("/audit")
    assert response.status_code == 403
    assert "test.event" not in response.get_data(as_text=True)
    assert audit_rows(app, "authorization.denied", ("outcome", "username"))[-1] == ("denied", username)


@pytest.mark.parametrize("role", ["board", "kiosk"])
def test_devices_are_refused(app, role):
    _record(app, 1)
    response = device_client(app, role).get("/audit")
    assert response.status_code == 403
    assert "test.event" not in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
