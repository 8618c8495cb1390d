"""Input at the edge: what every request must be before a view or a query sees it (docs/security.md).

- A JSON body nested too deeply for the parser is refused with 400 (``json_too_deep``), never a RecursionError.
- ``<int:…>`` in a route matches 1 … MAX_ID only: a larger id is a 404, never an OverflowError on SQLite.
- Text holding a NUL, another control character (tab, newline and carriage return excepted) or a lone surrogate —
  in the path, a query argument, a form field, a JSON string or key, or the bearer token — is refused with 400
  (``invalid_characters``) before anything else runs: PostgreSQL cannot store a NUL nor encode a lone surrogate, and
  no message may echo such characters back. A login refused so is audited as a failed login.
"""

from __future__ import annotations

import unicodedata

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from osbp.validation import MAX_ID

ALLOWED_CONTROLS = frozenset("\t\n\r")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body nested too deeply is malformed JSON (a ValueError) like any other."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError as error:
            g.json_too_deep = True
            raise ValueError("JSON nested too deeply") from error


class IdConverter(IntegerConverter):
    """The app's ``int`` converter: a positive id that every database can compare (1 … MAX_ID)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    """Install the edge rules; call before any blueprint adds its routes (converters bind when a rule is added)."""
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)


def bad_char(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs") and char not in ALLOWED_CONTROLS


def clean(text: str) -> bool:
    return not any(bad_char(char) for char in text)


def printable(text: str) -> str:
    """``text`` with every control character and lone surrogate replaced by U+FFFD, safe to store and to show."""
    return "".join("\ufffd" if bad_char(char) else char for char in text)


def _texts():
    """Every piece of text the request carries, lazily."""
    yield request.path
    for key, value in request.args.items(multi=True):
        yield key
        yield value
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for key, value in request.form.items(multi=True):
            yield key
            yield value
    yield request.headers.get("Authorization", "")
    if request.is_json:
        yield from _json_texts(request.get_json(silent=True))


def _json_texts(value):
    """The strings and keys of a parsed JSON value, walked without recursion (depth is the client's choice)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key, inner in item.items():
                yield key
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)


def check_request():
    """Refuse a request whose text cannot be stored or shown safely (the first before_request function)."""
    if not all(clean(text) for text in _texts()):
        return _refuse("invalid_characters", _("The request contains control characters or broken text. Remove them."))
    if g.get("json_too_deep"):
        return _refuse("json_too_deep", _("The JSON body is nested too deeply."))
    return None


def _refuse(code: str, message: str):
    from osbp.audit import operations as audit
    from osbp.extensions import login_manager
    from osbp.web import error_response

    g.edge_refused = True  # base.html then echoes no part of the address
    g._login_user = login_manager.anonymous_user()  # loading the user would send the bad token to the database
    if request.endpoint == "auth.login" and request.method == "POST":
        username = printable(request.form.get("username", "")).strip().lower()[:64]
        audit.record("auth.login", "failed", username=username, reason=code)
    return error_response(400, code, message)
