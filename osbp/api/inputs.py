"""Reading a JSON request body: one object, typed fields, translated 4xx errors."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from osbp.errors import BadRequest, Invalid
from osbp.validation import MAX_ID


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_("Send a JSON object with Content-Type: application/json."), code="bad_json")
    return body


def text_field(body: dict, key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise Invalid(_("The field %(field)s must be text.", field=key), code="invalid_field", field=key)
    return value


def whole_number(body: dict, key: str) -> int:
    """A positive id (1 … MAX_ID: larger ones overflow SQLite's driver)."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise Invalid(_("The field %(field)s must be a whole number.", field=key), code="invalid_field", field=key)
    return value
