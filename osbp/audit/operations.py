"""Recording audit events. Callers never pass secrets or full document data in ``detail``.

The row joins the hash chain when the session flushes it (osbp/audit/chain.py), in the request's one transaction.
"""

from __future__ import annotations

import itertools

from flask import has_request_context, request

from osbp.audit import chain  # noqa: F401  (registers the sealing listener)
from osbp.audit.models import AuditEvent
from osbp.extensions import db
from osbp.types import utcnow

_order = itertools.count(1)


def record(action: str, outcome: str = "ok", *, user=None, username=None, obj=None, post=None, **detail) -> AuditEvent:
    """Add one audit row to the session. ``post`` (default: the user's) decides whose audit page shows it; an event
    of no post is shown to admins only."""
    event = AuditEvent(
        at=utcnow(),
        action=action,
        outcome=outcome,
        user_id=getattr(user, "id", None),
        username=username or getattr(user, "username", None),
        post_id=getattr(post, "id", None) or getattr(user, "post_id", None),
        object_type=type(obj).__name__.lower() if obj is not None else None,
        object_id=getattr(obj, "id", None),
        remote_addr=request.remote_addr if has_request_context() else None,
        detail=detail or None,
    )
    event._audit_order = next(_order)  # the order the rows are chained in when several are flushed together
    db.session.add(event)
    return event
