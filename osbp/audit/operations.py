"""Recording audit events. Callers never pass secrets or full document data in ``detail``."""

from __future__ import annotations

from flask import has_request_context, request

from osbp.audit.models import AuditEvent
from osbp.extensions import db


def record(action: str, outcome: str = "ok", *, user=None, username=None, obj=None, **detail) -> AuditEvent:
    event = AuditEvent(
        action=action,
        outcome=outcome,
        user_id=getattr(user, "id", None),
        username=username or getattr(user, "username", None),
        object_type=type(obj).__name__.lower() if obj is not None else None,
        object_id=getattr(obj, "id", None),
        remote_addr=request.remote_addr if has_request_context() else None,
        detail=detail or None,
    )
    db.session.add(event)
    return event
