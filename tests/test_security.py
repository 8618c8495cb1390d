"""The security and reliability checklist, as a user (or an attacker) would notice it."""

from __future__ import annotations

import contextlib
import json
import os
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from osbp import create_app
from osbp.audit.models import AuditEvent
from osbp.config import DEFAULT_SECRET_KEY, Config, ConfigError
from osbp.extensions import db
from osbp.post.seed import DEMO_PASSWORDS
from osbp.queues.models import Ticket
from osbp.web import PUBLIC_ENDPOINTS
from osbp.workflow.models import Crossing
from tests.conftest import CSRF_INPUT, audit_rows, csrf_from, enter_totp_code, keep_socketio

SECURITY_AUDIT = ("outcome", "username", "object_id", "detail")

FR = {"Accept-Language": "fr"}
# The French a user reads, written out (never computed with the app's own gettext).
CSRF_MESSAGE = "Votre formulaire a expiré ou ne provient pas de ce site. Rechargez la page puis réessayez."
DATABASE_MESSAGE = "La base de données est injoignable. Rien n'a été enregistré\u00a0; réessayez."
TOO_LARGE = "La requête est trop volumineuse."
NOT_FOUND = "Cette page ou cet enregistrement n'existe pas."
SERVER_ERROR = "Une erreur s'est produite de notre côté. Rien n'a été enregistré."


def count(app, model) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return n


def page_has(response, text: str) -> bool:
    return str(escape(text)) in response.get_data(as_text=True)


# --- CSRF and safe methods ----------------------------------------------------------------------------------------


def test_form_post_without_csrf_token_is_refused_and_writes_nothing(app, login):
    desk = login("supervisor-1")
    response = desk.post("/desk/tickets", data={"direction": "RW-CD", "category": "trader"}, headers=FR)
    assert response.status_code == 400
    assert page_has(response, CSRF_MESSAGE)
    bad_token = desk.post(
        "/desk/tickets", data={"direction": "RW-CD", "category": "trader", "csrf_token": "forged"}, headers=FR
    )
    assert bad_token.status_code == 400
    assert count(app, Crossing) == count(app, Ticket) == 0


def test_json_post_with_session_cookie_needs_the_csrf_header(app, login):
    desk = login("supervisor-1")
    body = {"direction": "RW-CD", "category": "trader"}
    refused = desk.post("/api/v1/tickets", json=body, headers=FR)
    assert refused.status_code == 400
    assert refused.json["error"] == {"code": "csrf_failed", "message": CSRF_MESSAGE}
    assert count(app, Ticket) == 0
    accepted = desk.post("/api/v1/tickets", json=body, headers={"X-CSRFToken": desk.csrf})
    assert accepted.status_code == 201, accepted.json
    assert count(app, Ticket) == 1


def test_login_and_language_forms_need_csrf_too(client):
    login = client.post("/login", data={"username": "admin", "password": DEMO_PASSWORDS["admin"]})
    assert login.status_code == 400
    assert client.get("/desk").status_code == 302
    assert client.post("/language", data={"locale": "fr"}).status_code == 400


def _url_for_rule(rule) -> str:
    path = rule.rule
    for argument in rule.arguments:
        path = path.replace(f"<int:{argument}>", "1").replace(f"<path:{argument}>", "x").replace(f"<{argument}>", "x")
    return path


def _routes(app):
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    return [(rule, _url_for_rule(rule)) for rule in rules]


def test_get_never_changes_state(app, login):
    desk = login("supervisor-1")
    assert desk.get("/desk/tickets").status_code == 405
    served_by_get = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    post_only = [(rule, url) for rule, url in _routes(app) if rule.rule not in served_by_get]
    assert post_only, "expected some POST-only routes"
    before = count(app, AuditEvent)
    for rule, url in post_only:
        response = desk.get(url)
        assert response.status_code == 405, (rule.endpoint, response.status_code)
        if url.startswith("/api/"):
            assert response.json["error"]["code"] == "method_not_allowed"
    assert count(app, AuditEvent) == before
    assert desk.get("/desk").status_code == 200  # still logged in: GET /logout did not log out


# --- deny by default ----------------------------------------------------------------------------------------------


def test_every_non_public_route_needs_login(app, client):
    checked = 0
    for rule, url in _routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            where = (method, url)
            if url.startswith("/api/"):
                assert response.status_code == 401, where
                assert response.json["error"]["code"] == "unauthorized", where
            else:
                assert response.status_code == 302, where
                assert urlsplit(response.location).path == "/login", where
            checked += 1
    assert checked >= 15
    assert count(app, Ticket) == 0


def test_public_endpoints_are_few_and_reachable(app, client):
    assert {
        "auth.login",
        "auth.login_code",  # the TOTP code after the password: only with a recent right password (tests/test_totp.py)
        "auth.set_language",
        "static",
        "api.openapi",
        "queues.health",
        "live.device_setup",  # a board's or kiosk's set-up page (tests/test_live.py) …
        "live.device_login",  # … and the form it posts the device token to
        "api.ticket_status",  # the kiosk's public lookup: rate-limited, no personal data
        "live.phone",  # /t/<code>, the page a ticket's QR opens (tests/test_phone_status.py): the same rules
        "live.phone_status",  # what that page polls
    } >= PUBLIC_ENDPOINTS
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/api/v1/openapi.json").status_code == 200
    static = client.get("/static/osbp.css")
    assert static.status_code == 200
    static.close()


def test_login_page_keeps_the_wanted_page(client):
    response = client.get("/desk?ticket=3")
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/desk?ticket=3"]}


# --- headers and cookies ------------------------------------------------------------------------------------------


def _assert_security_headers(response, *, cacheable=False):
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    if not cacheable:
        assert "no-store" in response.headers["Cache-Control"]


def test_security_headers_on_pages_api_and_errors(app, login, api):
    desk = login("supervisor-1")
    for response in (
        app.test_client().get("/login"),
        desk.get("/desk"),
        desk.get("/stations"),
        desk.get("/no-such-page"),
        desk.post("/desk/tickets"),  # 400 CSRF
        api("supervisor-1").get("/api/v1/stations"),
        app.test_client().get("/api/v1/stations"),  # 401
    ):
        _assert_security_headers(response)
        assert "Strict-Transport-Security" not in response.headers  # not in testing
    static = app.test_client().get("/static/osbp.css")
    _assert_security_headers(static, cacheable=True)
    static.close()


def test_session_cookie_flags(app, client):
    response = client.post(
        "/login",
        data={"username": "admin", "password": DEMO_PASSWORDS["admin"], "csrf_token": csrf_from(client)},
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("osbp_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires" not in cookie  # a browser-session cookie: no remember-me on shared counters
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_production_sends_secure_cookies_and_hsts(database_url, monkeypatch):
    """A deployment's app, built as osbp/wsgi.py builds it (create_app() reading OSBP_* from the environment): the
    session cookie it sets at login is Secure, HttpOnly and SameSite=Lax, and its pages carry HSTS."""
    for name in [name for name in os.environ if name.startswith("OSBP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OSBP_ENV", "production")
    monkeypatch.setenv("OSBP_SECRET_KEY", "p" * 40)
    monkeypatch.setenv("OSBP_DATABASE_URL", database_url)
    with keep_socketio():
        production = create_app()
        try:
            client = production.test_client()
            page = client.get("/login", base_url="https://osbp.example")
            assert page.status_code == 200
            assert page.headers.get("Strict-Transport-Security", "").startswith("max-age="), "no HSTS in production"
            token = CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
            response = client.post(
                "/login",
                base_url="https://osbp.example",
                data={"username": "admin", "password": DEMO_PASSWORDS["admin"], "csrf_token": token},
                headers={"Referer": "https://osbp.example/login"},  # a browser sends it; CSRF checks it over HTTPS
            )
            assert response.status_code == 302, response.get_data(as_text=True)
            cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("osbp_session="))
            flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
            assert "secure" in flags, cookie
            assert "httponly" in flags, cookie
            assert flags.get("samesite") == "SameSite=Lax", cookie
            assert "expires" not in flags, cookie  # a browser-session cookie on shared counters
            assert response.headers.get("Strict-Transport-Security", "").startswith("max-age=")
        finally:
            with production.app_context():
                db.session.remove()
                db.engine.dispose()


# --- input limits -------------------------------------------------------------------------------------------------


def test_oversized_json_body_is_413_json(app, api, login):
    desk = api("supervisor-1")
    body = json.dumps({"direction": "RW-CD", "category": "trader", "padding": "x" * (2 * 1024 * 1024)})
    response = desk.post("/api/v1/tickets", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"
    assert response.json["error"]["message"] == "The request is too large."
    cookie_client = login("supervisor-1")
    response = cookie_client.post(
        "/api/v1/tickets", data=body, content_type="application/json", headers={"X-CSRFToken": cookie_client.csrf}
    )
    assert response.status_code == 413 and response.is_json
    page = app.test_client().post("/login", data={"username": "x" * (2 * 1024 * 1024)}, headers=FR)
    assert page.status_code == 413
    assert page_has(page, TOO_LARGE)
    assert count(app, Ticket) == 0


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"', "{"])
def test_malformed_json_is_a_clear_400(api, body):
    response = api("supervisor-1").post("/api/v1/tickets", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_json"


# --- configuration ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("secret_key", [DEFAULT_SECRET_KEY, "x", "short-but-not-32-characters"])
def test_production_refuses_a_default_or_short_secret_key(secret_key):
    config = Config(env="production", secret_key=secret_key, database_url="postgresql://osbp@db/osbp")
    with pytest.raises(ConfigError):
        config.validate()


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError):
        create_app({"env": "production", "secret_key": "x"})
    with pytest.raises(ConfigError):
        Config.from_env(str(tmp_path), {"OSBP_ENV": "production"}).validate()
    Config.from_env(str(tmp_path), {"OSBP_ENV": "production", "OSBP_SECRET_KEY": "k" * 32}).validate()


# --- object-level authorisation -----------------------------------------------------------------------------------


def test_officer_of_an_agency_without_a_step_cannot_read_the_crossing(app, api, login):
    desk = api("supervisor-1")
    issued = desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "resident"})
    assert issued.status_code == 201
    crossing_id = issued.json["crossing_id"]
    # A border resident only passes the two immigrations: customs and health have no business here.
    for username in ("rw-customs-1", "cd-health-1"):
        response = api(username).get(f"/api/v1/crossings/{crossing_id}")
        assert response.status_code == 403
        assert response.json["error"]["code"] == "wrong_agency"
    page = login("rw-customs-1").get(f"/crossings/{crossing_id}")
    assert page.status_code == 403
    denied = audit_rows(app, "authorization.denied", SECURITY_AUDIT)
    assert [(outcome, username) for outcome, username, _id, _detail in denied] == [
        ("denied", "rw-customs-1"),
        ("denied", "cd-health-1"),
        ("denied", "rw-customs-1"),
    ]
    assert denied[0][3]["path"] == f"/api/v1/crossings/{crossing_id}"
    assert audit_rows(app, "crossing.viewed", SECURITY_AUDIT) == []  # nothing was shown

    assert api("rw-immigration-1").get(f"/api/v1/crossings/{crossing_id}").status_code == 200
    assert desk.get(f"/api/v1/crossings/{crossing_id}").status_code == 200
    viewed = audit_rows(app, "crossing.viewed", SECURITY_AUDIT)
    assert [(username, object_id) for _outcome, username, object_id, _detail in viewed] == [
        ("rw-immigration-1", crossing_id),
        ("supervisor-1", crossing_id),
    ]


# --- redirects ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        " //evil.example",
        "javascript:alert(1)",
        "///evil.example",
    ],
)
def test_login_never_redirects_off_site(app, client, target):
    response = client.post(
        "/login",
        data={
            "username": "supervisor-1",
            "password": DEMO_PASSWORDS["supervisor"],
            "next": target,
            "csrf_token": csrf_from(client),
        },
    )
    assert response.location == "/login/code"
    response = enter_totp_code(app, client, "supervisor-1")
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert not location.scheme and not location.netloc
    assert location.path.startswith("/") and not location.path.startswith("//")
    assert "evil" not in response.location


def test_login_follows_a_local_next(app, client):
    response = client.post(
        "/login",
        data={
            "username": "supervisor-1",
            "password": DEMO_PASSWORDS["supervisor"],
            "next": "/desk?ticket=1",
            "csrf_token": csrf_from(client),
        },
    )
    assert response.location == "/login/code"  # the supervisor's second factor, then the page asked for
    assert enter_totp_code(app, client, "supervisor-1").location == "/desk?ticket=1"


# --- database outage ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def database_down(app):
    """Every SQL statement fails as if the server had gone away."""

    def refuse(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


def _fail_commit(app, monkeypatch, outage: list):
    def commit():
        outage.append(database_down(app))
        outage[-1].__enter__()
        raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection"))

    monkeypatch.setattr(db.session, "commit", commit)


def test_database_lost_at_commit_gives_503_and_saves_nothing(app, login, api, monkeypatch):
    desk, device = login("supervisor-1"), api("supervisor-1")
    outage: list = []
    _fail_commit(app, monkeypatch, outage)
    try:
        page = desk.post(
            "/desk/tickets", data={"direction": "RW-CD", "category": "trader", "csrf_token": desk.csrf}, headers=FR
        )
        assert page.status_code == 503
        assert page_has(page, DATABASE_MESSAGE)
        assert "T-001" not in page.get_data(as_text=True)  # no "Ticket T-001 issued." next to it
        _assert_security_headers(page)
        response = device.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"})
        assert response.status_code == 503
        assert response.json["error"]["code"] == "database_unavailable"
        _assert_security_headers(response)
    finally:
        for down in outage:
            down.__exit__(None, None, None)
        monkeypatch.undo()
    assert count(app, Ticket) == count(app, Crossing) == 0
    after = desk.get("/desk")  # back to normal once the database is back
    assert after.status_code == 200
    assert "T-001" not in after.get_data(as_text=True)  # no "Ticket T-001 issued." left over


def test_database_down_before_anything_gives_503_not_500(app, login, api):
    desk, device = login("supervisor-1"), api("supervisor-1")
    with database_down(app):
        page = desk.get("/desk", headers=FR)
        assert page.status_code == 503
        assert page_has(page, DATABASE_MESSAGE)
        response = device.get("/api/v1/stations")
        assert response.status_code == 503
        assert response.json["error"]["code"] == "database_unavailable"
        login_attempt = app.test_client()
        token = csrf_from(login_attempt)
        attempt = login_attempt.post(
            "/login", data={"username": "admin", "password": DEMO_PASSWORDS["admin"], "csrf_token": token}
        )
        assert attempt.status_code == 503
    assert desk.get("/desk").status_code == 200


# --- errors -------------------------------------------------------------------------------------------------------


def test_not_found_is_translated_html_or_json(app, login, api):
    for client in (app.test_client(), login("supervisor-1")):
        page = client.get("/no/such/page", headers=FR)
        assert page.status_code == 404
        assert page.mimetype == "text/html"
        assert page_has(page, NOT_FOUND)
    device = api("supervisor-1")
    response = device.client.get("/api/v1/no-such-thing", headers={**device.headers, **FR})
    assert response.status_code == 404
    assert response.json["error"] == {"code": "not_found", "message": NOT_FOUND}
    missing = device.get("/api/v1/crossings/999999")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "crossing_not_found"
    assert login("supervisor-1").get("/crossings/999999").status_code == 404


def _break_issue_ticket(monkeypatch):
    """The ticket operation hits a bug after writing: a unique constraint fails at flush."""
    from osbp.auth.models import User
    from osbp.queues import operations

    def broken(post, *_args, **_kwargs):
        db.session.add(User(post_id=post.id, username="admin", full_name="Twin", password_hash="x", role="admin"))
        db.session.flush()

    monkeypatch.setattr(operations, "issue_ticket", broken)


def test_an_unexpected_error_is_a_translated_500_and_saves_nothing(app, login, api, monkeypatch):
    desk, device = login("supervisor-1"), api("supervisor-1")
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # behave as in production
    _break_issue_ticket(monkeypatch)
    page = desk.post(
        "/desk/tickets", data={"direction": "RW-CD", "category": "trader", "csrf_token": desk.csrf}, headers=FR
    )
    assert page.status_code == 500
    assert page_has(page, SERVER_ERROR)
    _assert_security_headers(page)
    response = device.client.post(
        "/api/v1/tickets", json={"direction": "RW-CD", "category": "trader"}, headers={**device.headers, **FR}
    )
    assert response.status_code == 500
    assert response.json["error"] == {"code": "internal_server_error", "message": SERVER_ERROR}
    assert count(app, Ticket) == 0


def test_forbidden_pages_are_audited(app, login, monkeypatch):
    officer = login("rw-customs-1")
    monkeypatch.setattr("osbp.auth.models.User.is_officer", property(lambda _user: False))
    assert officer.get("/stations").status_code == 403
    assert [row[:2] for row in audit_rows(app, "authorization.denied", SECURITY_AUDIT)] == [("denied", "rw-customs-1")]
