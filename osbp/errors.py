"""Domain errors: each has an HTTP status, a stable code and a translated message."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **detail):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.detail = detail

    def headers(self) -> dict[str, str]:
        """HTTP headers the refusal carries: Retry-After when it says when to try again (``retry_after`` seconds)."""
        if "retry_after" in self.detail:
            return {"Retry-After": str(self.detail["retry_after"])}
        return {}


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """Authorisation failure. Always audited by the error handler."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The action does not fit the current state (out of order, already decided, station busy)."""

    status = 409
    code = "conflict"


class Invalid(DomainError):
    """Well-formed request whose values are not acceptable."""

    status = 422
    code = "invalid"


class TooManyRequests(DomainError):
    """Refused for now: too many attempts, or the server is busy. ``retry_after`` (seconds), when given, becomes the
    Retry-After header (``headers``)."""

    status = 429
    code = "too_many_attempts"
