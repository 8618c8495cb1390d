"""Every bad input gets a 4xx, on SQLite and PostgreSQL (osbp/edge.py, docs/security.md).

The routes come from the app's URL map, so a new endpoint is covered without editing this file.
"""

from __future__ import annotations

import functools
import re

import pytest

from osbp import create_app
from osbp.extensions import db
from tests.conftest import audit_rows, is_postgres, keep_socketio, second_app

HUGE = 2**63  # one past the largest signed 64-bit integer: SQLite's driver overflowed on it
NESTINGS = {"list": "[" * 100_000, "object": '{"a":' * 50_000}
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


@functools.cache
def _rules() -> tuple:
    """(rule, methods, int params) of every route, read from an app made for the purpose."""
    with keep_socketio():
        application = create_app({"env": "testing", "database_url": "sqlite://", "secret_key": "r" * 40})
    rules = []
    for rule in application.url_map.iter_rules():
        methods = tuple(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        ints = tuple(name for converter, name in PARAM.findall(rule.rule) if converter == "int")
        rules.append((rule.rule, methods, ints))
    return tuple(sorted(rules))


def _path(rule: str, int_value) -> str:
    def fill(match):
        converter, name = match.groups()
        if converter == "int":
            return str(int_value)
        return {"action": "pause", "filename": "osbp.css"}.get(name, "T-001")

    return PARAM.sub(fill, rule)


def _cases(predicate):
    return [
        pytest.param(rule, method, id=f"{method} {rule}")
        for rule, methods, ints in _rules()
        for method in methods
        if predicate(rule, method, ints)
    ]


JSON_POSTS = _cases(lambda rule, method, ints: method == "POST" and rule.startswith("/api/"))
INT_ROUTES = _cases(lambda rule, method, ints: bool(ints))
EVERY_ROUTE = _cases(lambda rule, method, ints: True)
EVERY_RULE = [pytest.param(rule, methods, id=rule) for rule, methods, ints in _rules()]


@pytest.fixture
def desk(api):
    return api("supervisor-1")


def _issue(desk) -> dict:
    response = desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "traveller"})
    assert response.status_code == 201, response.json
    return response.json


def _error_code(response) -> str:
    return response.json["error"]["code"]


def _refused_for_characters(response) -> None:
    """A 400 saying why (JSON under /api/, a page otherwise), quoting nothing of the input."""
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    if response.mimetype == "application/json":
        assert _error_code(response) == "invalid_characters"
    else:
        assert "contains control characters" in response.get_data(as_text=True)
    _no_control_characters(response)


def _no_control_characters(response) -> None:
    body = response.get_data(as_text=True)
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]", body), body[:300]
    assert "\\u0000" not in body and "\\ud800" not in body


def _no_tickets(app) -> None:
    from osbp.queues.models import Ticket

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Ticket)) == 0
        db.session.remove()


# Deeply nested JSON: a RecursionError escaped get_json(silent=True).


@pytest.mark.parametrize("shape", sorted(NESTINGS))
@pytest.mark.parametrize(("rule", "method"), JSON_POSTS)
def test_deeply_nested_json_is_a_400(desk, rule, method, shape):
    response = desk.post(_path(rule, 1), data=NESTINGS[shape], content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert _error_code(response) == "json_too_deep"


# Ids beyond 2**63 - 1: OverflowError on SQLite.


@pytest.mark.parametrize(("rule", "method"), INT_ROUTES)
def test_a_huge_id_in_the_path_is_a_404(desk, rule, method):
    response = desk.client.open(_path(rule, HUGE), method=method, headers=desk.headers)
    assert response.status_code == 404, response.get_data(as_text=True)[:300]


def _int_body_fields() -> list:
    """(path template, field) of every integer field of a JSON request body in the OpenAPI document."""
    from osbp.api.openapi import document

    with keep_socketio():
        application = create_app({"env": "testing", "database_url": "sqlite://", "secret_key": "r" * 40})
    with application.app_context(), application.test_request_context():
        from osbp.api.public import extend_openapi

        spec = extend_openapi(document())
    found = []
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if not content:
                continue
            schema = _resolve(spec, content["schema"])
            for name, field in schema.get("properties", {}).items():
                if _resolve(spec, field).get("type") == "integer":
                    found.append(pytest.param(path, name, id=f"{path} {name}"))
    return found


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


@pytest.mark.parametrize("value", [HUGE, 10**20])
@pytest.mark.parametrize(("path", "field"), _int_body_fields())
def test_an_id_out_of_range_in_a_body_is_a_422(desk, station_id, path, field, value):
    ticket = _issue(desk)
    url = "/api/v1" + path.replace("{station_id}", str(station_id("C1"))).replace("{code}", ticket["code"])
    response = desk.post(url, json={field: value})
    assert response.status_code == 422, response.json
    assert response.json["error"] == {"code": "invalid_field", "message": f"The field {field} must be a whole number."}


@pytest.mark.parametrize("value", ["9" * 25, "9" * 5000, "²"])
def test_a_bad_station_in_a_form_is_refused(app, desk, value):
    ticket = _issue(desk)
    response = desk.client.post(
        "/tickets/transfer", data={"code": ticket["code"], "station_id": value}, headers=desk.headers
    )
    assert response.status_code == 302
    with desk.client.session_transaction() as session:
        assert ("error", "Choose a station.") in session["_flashes"]


@pytest.mark.parametrize("value", ["9" * 25, "9" * 5000, "²"])
def test_a_bad_ticket_id_on_the_desk_page_is_ignored(desk, value):
    response = desk.get(f"/desk?ticket={value}")
    assert response.status_code == 200


# NUL, other control characters and lone surrogates: psycopg2 ValueError / UnicodeEncodeError on PostgreSQL.


CONTROL_CHARACTERS = ("%00", "%01", "%1B", "%7F", "%C2%85")


@pytest.mark.parametrize(
    ("rule", "method", "char"),
    [pytest.param(*case.values, CONTROL_CHARACTERS[n % 5], id=case.id) for n, case in enumerate(EVERY_ROUTE)],
)
def test_a_control_character_in_a_query_argument_is_a_400(desk, rule, method, char):
    response = desk.client.open(f"{_path(rule, 1)}?post=RUSIZI{char}", method=method, headers=desk.headers)
    _refused_for_characters(response)


def _nul_paths() -> list:
    cases = []
    for rule, methods, _ints in _rules():
        if PARAM.search(rule) and not all(converter == "int" for converter, _ in PARAM.findall(rule)):
            cases += [pytest.param(rule, method, id=f"{method} {rule}") for method in methods]
    return cases


@pytest.mark.parametrize(("rule", "method"), _nul_paths())
def test_a_nul_in_a_text_path_parameter_is_a_400(desk, rule, method):
    path = PARAM.sub(lambda m: "1" if m.group(1) == "int" else "T%00001", rule)
    response = desk.client.open(path, method=method, headers=desk.headers)
    _refused_for_characters(response)


@pytest.mark.parametrize("text", ["a\u0000b", "\ud800", "x\x1by"])
@pytest.mark.parametrize(("rule", "method"), JSON_POSTS)
def test_a_bad_character_in_any_json_string_is_a_400(desk, rule, method, text):
    body = {"reason": text, "note": "ok", "nested": [{"holder_name": text}]}
    response = desk.post(_path(rule, 1), json=body)
    assert response.status_code == 400, response.json
    assert _error_code(response) == "invalid_characters"
    _no_control_characters(response)


def test_a_bad_character_in_a_json_key_is_a_400(desk):
    response = desk.post("/api/v1/tickets", json={"direction": "RW-CD", "category": "traveller", "k\u0000": 1})
    assert response.status_code == 400
    assert _error_code(response) == "invalid_characters"


@pytest.mark.parametrize("text", ["Anna\u0000Eriksson", "Anna\ud800"])
def test_a_holder_name_or_reason_with_a_bad_character_writes_nothing(app, desk, api, station_id, text):
    ticket = _issue(desk)
    crossing = desk.get(f"/api/v1/crossings/{ticket['crossing_id']}").json
    step_id = crossing["steps"][0]["id"]
    officer = api("rw-immigration-1")
    assert officer.post(f"/api/v1/stations/{station_id('C1')}/seat").status_code == 200
    assert officer.post(f"/api/v1/stations/{station_id('C1')}/call-next").status_code == 200
    identity = {
        "holder_name": text,
        "nationality": "RWA",
        "document_type": "passport",
        "document_number": "L898902C3",
        "birth_date": "1974-08-12",
    }
    response = officer.post(f"/api/v1/steps/{step_id}/identity", json=identity)
    assert response.status_code == 400, response.json
    response = officer.post(f"/api/v1/steps/{step_id}/decision", json={"outcome": "refused", "reason": text})
    assert response.status_code == 400, response.json
    after = desk.get(f"/api/v1/crossings/{ticket['crossing_id']}").json
    assert after["holder"] is None
    assert after["steps"][0]["outcome"] is None


def test_a_ticket_code_with_a_nul_is_a_400(desk):
    _issue(desk)
    for path in ("/api/v1/tickets/T%00001", "/api/v1/tickets/T-001/status?post=RUSIZI%00", "/t/T%00001"):
        _refused_for_characters(desk.get(path))


@pytest.mark.parametrize("direction", ["RW-CD\x00", "RW-CD\x01"])
def test_a_form_field_with_a_control_character_is_a_400_page_and_writes_nothing(app, login, direction):
    client = login("supervisor-1")
    response = client.post(
        "/desk/tickets", data={"direction": direction, "category": "traveller", "csrf_token": client.csrf}
    )
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "control characters" in response.get_data(as_text=True)
    _no_control_characters(response)
    _no_tickets(app)


@pytest.mark.parametrize("username", ["admin\x00", "admin\x1b[31m", "rw-immigration-1\x00"])
def test_a_login_with_a_control_character_is_refused_and_audited(app, client, username):
    from tests.conftest import csrf_from

    token = csrf_from(client)
    response = client.post("/login", data={"username": username, "password": "whatever", "csrf_token": token})
    assert response.status_code == 400
    _no_control_characters(response)
    rows = audit_rows(app, "auth.login", columns=("outcome", "username", "user_id", "detail"))
    expected = re.sub(r"[\x00-\x1f]", "\ufffd", username)
    assert rows == [("failed", expected, None, {"reason": "invalid_characters"})]


def test_a_bearer_token_with_a_nul_is_a_400(app, client):
    response = client.get("/api/v1/stations", headers={"Authorization": "Bearer osbp_\x00abc"})
    assert response.status_code == 400
    assert _error_code(response) == "invalid_characters"


# 405 carries Allow.


@pytest.mark.parametrize(("rule", "methods"), EVERY_RULE)
def test_a_405_says_which_methods_are_allowed(client, rule, methods):
    response = client.open(_path(rule, 1), method="DELETE")
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers.get("Allow", "").split(",")}
    assert set(methods) <= allowed, response.headers


# /healthz: 503 when the database is down.


def test_healthz_says_503_when_the_database_is_down(client, tmp_path):
    assert client.get("/healthz").status_code == 200
    if is_postgres():
        down = "postgresql://postgres@127.0.0.1:1/osbp_down"
    else:
        down = f"sqlite:///{tmp_path / 'no-such-dir' / 'osbp.sqlite3'}"
    with second_app(down, tmp_path / "instance") as application:
        response = application.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
