"""The OpenAPI document against the app: every request field bounded, and schemathesis's conformance checks pass."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from osbp.extensions import db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _request_fields(spec: dict):
    """(where, schema) of every parameter and every JSON body property a client sends."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                yield f"{method.upper()} {path} {parameter['name']}", parameter["schema"]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                for name, field in _resolve(spec, body["schema"]).get("properties", {}).items():
                    yield f"{method.upper()} {path} body.{name}", _resolve(spec, field)


def test_every_request_field_states_its_bounds(openapi):
    """A client can validate before sending: strings have an enum or a maxLength, integers a minimum and maximum."""
    open_fields = []
    for where, schema in _request_fields(openapi):
        if schema["type"] == "string" and "enum" not in schema and "maxLength" not in schema:
            open_fields.append(where)
        if schema["type"] == "integer" and not {"minimum", "maximum"} <= schema.keys():
            open_fields.append(where)
    assert open_fields == []


def test_the_enums_are_the_ones_the_app_accepts(openapi):
    from osbp.agencies.immigration.operations import DOCUMENT_TYPES
    from osbp.config import SUPPORTED_LOCALES
    from osbp.queues.models import PRIORITY_KINDS
    from osbp.workflow.models import CATEGORIES, Outcome

    fields = dict(_request_fields(openapi))
    assert fields["POST /steps/{step_id}/decision body.outcome"]["enum"] == list(Outcome)
    assert fields["POST /tickets body.category"]["enum"] == list(CATEGORIES)
    # the API is the hall staff's (role matrix): their channel is the desk's; kiosks issue on their own page
    assert fields["POST /tickets body.channel"]["enum"] == ["desk"]
    assert fields["POST /tickets body.priority"]["enum"] == list(PRIORITY_KINDS)
    assert fields["POST /steps/{step_id}/identity body.document_type"]["enum"] == list(DOCUMENT_TYPES)
    assert fields["GET /tickets/{code}/status lang"]["enum"] == list(SUPPORTED_LOCALES)


def _schema(app):
    # The report files are generated (PDF rendering takes seconds) and tested in test_reports_api.py.
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).exclude(path_regex="^/reports/")


@pytest.fixture
def bearer(app, station_id) -> dict:
    """A supervisor's token, with a ticket issued so that some generated codes and ids exist."""
    from osbp.auth.operations import create_token
    from osbp.post.models import Post
    from osbp.queues import operations as queues

    with app.app_context():
        token = create_token("supervisor-1")
        queues.issue_ticket(db.session.scalar(db.select(Post)), "RW-CD", "traveller", channel="desk")
        db.session.commit()
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_conforms_to_its_openapi_document(app, bearer):
    """Generated requests (a few per operation, the same each run) get documented, schema-conforming answers.

    One test over every operation of the session's app: an app made while tests are collected would replace the
    process-wide Socket.IO server, and the handlers osbp/sockets.py registered on import would be lost."""
    failures, tried = {}, []
    for result in _schema(app).get_all_operations():
        operation = result.ok()
        tried.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def conforms(case):
            case.call_and_validate(headers=bearer, checks=CHECKS)

        try:
            conforms()
        except Exception as error:  # noqa: BLE001 (every operation is tried; the failures are reported together)
            failures[operation.label] = f"{type(error).__name__}: {error}"[:2000]
    assert failures == {}
    assert {"POST /tickets", "POST /stations/{station_id}/call-next", "GET /tickets/{code}/status"} <= set(tried)
