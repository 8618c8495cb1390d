"""Request lifecycle: login required by default, CSRF, sessions, one commit per request, errors, headers."""

from __future__ import annotations

import contextlib
import time
from urllib.parse import urlsplit

from flask import g, jsonify, make_response, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from osbp import edge, events, roles
from osbp.audit import operations as audit
from osbp.errors import DomainError, Forbidden
from osbp.extensions import csrf, db, login_manager
from osbp.i18n import template_helpers

# The only endpoints reachable without logging in (SecureDrop's _insecure_views habit): those the role matrix
# (osbp/roles.py) opens to anonymous callers — the login, the device set-up page, a ticket's public status and /t/<code>
# (rate-limited, no personal data), static files and the health check.
PUBLIC_ENDPOINTS = roles.public_endpoints()
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_bearer_user)
    login_manager.unauthorized_handler(_unauthorized)

    edge.init_app(app)  # first: the edge rules run before anything reads the request (osbp/edge.py)
    app.before_request(_require_login_and_csrf)
    # after_request functions run in reverse order: commit first, so that a 503 made there still gets the headers.
    app.after_request(_security_headers)
    app.after_request(_commit_and_emit)
    app.teardown_request(_rollback_on_error)
    app.context_processor(template_helpers)
    app.add_template_global(may, "may")

    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_down)


def may(endpoint: str) -> bool:
    """For templates: whether the current user may reach ``endpoint`` (the role matrix), e.g. to show a link."""
    return roles.may_reach(current_user, endpoint)


def _load_user(user_key: str):
    from osbp.auth.models import User

    try:
        user_id, version = (int(part) for part in user_key.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _load_bearer_user(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    from osbp.auth.operations import user_for_token

    user = user_for_token(header[7:].strip())
    if user is not None:
        g.bearer_auth = True
    return user


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default``: no open redirects."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return default  # browsers drop tabs and newlines: "/\t/evil.example" would become "//evil.example"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return default
    return target


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, code: str, message: str):
    message = edge.printable(message)  # a message quoting input never carries a control character back
    if wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("error.html", status=status, code=code, message=message), status


def _unauthorized():
    if wants_json():
        from osbp.auth.operations import audit_denial

        bearer = request.headers.get("Authorization", "").startswith("Bearer ")
        audit_denial("auth.unauthorized", path=request.path[:200], method=request.method, bearer=bearer)
        return error_response(401, "unauthorized", _("Log in or send a valid bearer token."))
    from flask import redirect, url_for

    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def _require_login_and_csrf():
    """Deny by default, in one place: the role matrix (osbp/roles.py) decides who reaches which endpoint."""
    endpoint = request.endpoint
    if endpoint is None or roles.is_public(endpoint):
        if request.method not in SAFE_METHODS and endpoint is not None:
            csrf.protect()
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not g.get("bearer_auth"):
        if session_expired():
            logout_user()
            session.clear()
            return login_manager.unauthorized()
        session["seen_at"] = int(time.time())
        from osbp.auth import access

        step = access.required_step_response(current_user, endpoint)
        if step is not None:
            return step  # a reset password to change, or a second factor to set up, before anything else
    if endpoint == "queues.home" and current_user.role in roles.HOME_ENDPOINTS:
        from osbp.auth import access

        return access.home_response(current_user)  # "/" is the role's own page (the gate, the reports …)
    if not roles.may_reach(current_user, endpoint):
        # checked before CSRF; audited by _domain_error (authorization.denied, code role_not_allowed)
        raise Forbidden(_("This page is for another kind of account."), code="role_not_allowed")
    if not g.get("bearer_auth") and request.method not in SAFE_METHODS:
        csrf.protect()
    return None


def session_expired() -> bool:
    """Idle (30 min) and absolute (12 h) session timeouts; also checked when a socket connects.

    Device sessions (boards, kiosks) have no timeout; they end when the device's token is revoked.
    """
    from flask import current_app

    from osbp.live.devices import device_session_valid, is_device_session

    if is_device_session():
        return not device_session_valid()
    config = current_app.config["OSBP"]
    now = int(time.time())
    login_at = session.get("login_at", 0)
    seen_at = session.get("seen_at", 0)
    return now - login_at > config.session_absolute_hours * 3600 or now - seen_at > config.session_idle_minutes * 60


def _commit_and_emit(response):
    """The one commit of the request; events leave only after it succeeded."""
    if response.status_code >= 500:
        db.session.rollback()
        events.discard()
        return response
    try:
        events.stamp()  # the live sequence: the request's last statement before its commit
        db.session.commit()
    except OperationalError as error:
        return make_response(_database_down(error))
    events.flush()
    return response


def _rollback_on_error(exc):
    if exc is not None:
        db.session.rollback()
        events.discard()


def _security_headers(response):
    from flask import current_app

    headers = response.headers
    headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    if current_app.config["OSBP"].production:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _domain_error(error: DomainError):
    db.session.rollback()
    events.discard()
    if isinstance(error, Forbidden):
        user = current_user if current_user.is_authenticated else None
        audit.record(
            "authorization.denied", "denied", user=user, code=error.code, path=request.path, method=request.method
        )
    body, status = error_response(error.status, error.code, error.message)
    return body, status, error.headers()


def _csrf_error(error: CSRFError):
    from osbp.auth.operations import audit_denial

    user = current_user if current_user.is_authenticated else None
    audit_denial(
        "auth.csrf_failed", username=getattr(user, "username", None), path=request.path[:200], method=request.method
    )
    return error_response(
        400, "csrf_failed", _("Your form expired or did not come from this site. Reload the page and try again.")
    )


HTTP_MESSAGES = {
    400: lambda: _("The request could not be understood."),
    401: lambda: _("Log in or send a valid bearer token."),
    403: lambda: _("You are not allowed to do this."),
    404: lambda: _("This page or record does not exist."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The request is too large."),
    429: lambda: _("Too many requests. Wait a moment and try again."),
}


def _http_error(error: HTTPException):
    status = error.code or 500
    if status >= 500:
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()  # the page below may load the user again; a failed flush must not stop it
        events.discard()
    elif status == 403:
        user = current_user if current_user.is_authenticated else None
        audit.record("authorization.denied", "denied", user=user, code="forbidden", path=request.path)
    message = HTTP_MESSAGES.get(status, lambda: _("Something went wrong on our side. Nothing was saved."))()
    response, status = error_response(status, (error.name or "error").lower().replace(" ", "_"), message)
    response = make_response(response)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # Allow on a 405, Retry-After, WWW-Authenticate …
    return response, status


def form_action(action, redirect_to):
    """Run a state-changing page action; a domain error becomes a flashed, translated message."""
    from flask import flash, redirect

    try:
        result = action()
    except DomainError as error:
        _domain_error(error)
        flash(edge.printable(error.message), "error")
        return redirect(redirect_to)
    return result


def _database_down(error: OperationalError):
    """503 with a clear message. The page is made without touching the database (no user, no post)."""
    from flask import current_app

    current_app.logger.error("database unavailable: %s", error.orig or error)
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    events.discard()
    session.pop("_flashes", None)  # "Ticket issued." was not saved: never show it
    g._login_user = login_manager.anonymous_user()  # loading or refreshing the user would query again
    return error_response(
        503, "database_unavailable", _("The database is not reachable. Nothing was saved; try again.")
    )
