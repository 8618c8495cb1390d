"""The audit page: read only, GET only, for supervisors and admins (their own post's events)."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from osbp.audit import browse
from osbp.audit import operations as audit
from osbp.audit.blueprint import bp
from osbp.audit.status import describe
from osbp.permissions import ensure_audit_reader


@bp.get("/audit")
def events():
    ensure_audit_reader(current_user)  # officers get 403 (audited); devices and country roles never get here
    filters = browse.parse_filters(request.args)
    rows, older = browse.page(current_user, filters)
    status = browse.chain_status()
    audit.record("audit.viewed", user=current_user, filters=filters.query_args() or None)
    return render_template(
        "audit/events.html",
        filters=filters,
        rows=rows,
        older=older,
        status=status,
        status_text=describe(status),
        actions=browse.actions(current_user),
        outcomes=browse.OUTCOMES,
        shown_detail=browse.shown_detail,
        local_time=lambda value: browse.local_time(current_user, value),
    )
