"""The gate page (a handheld scanner types the pass's QR content and Enter) and the gate API."""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from osbp import events
from osbp.agencies.immigration.operations import identity_of
from osbp.audit import operations as audit
from osbp.errors import DomainError, Forbidden
from osbp.gate import operations
from osbp.gate.blueprint import bp
from osbp.web import error_response

RESULT_KEY = "gate_result"
# What the last scans list says about each scan (the audit row's outcome, or its refusal code).
SCAN_LABELS = {
    "ok": _l("Gate-out recorded"),
    "invalid_gate_pass_code": _l("Not a gate pass code"),
    "gate_pass_unknown": _l("Unknown pass"),
    "gate_pass_used": _l("Already used"),
    "gate_pass_not_valid": _l("Not valid"),
    "wrong_gate": _l("Wrong gate"),
}


def _attempt(code):
    """(crossing, None) after a gate-out, or (None, error) for a refused scan.

    A refused scan's audit row is kept: unlike the generic error handler (which rolls the request back), this answers
    without a rollback, and the request commits that row (nothing else changed). Other errors go to the handler.
    """
    try:
        return operations.record_gate_out(current_user.post, code, current_user), None
    except DomainError as error:
        if not getattr(error, "kept_audit", False):
            raise
        if isinstance(error, Forbidden):
            audit.record(
                "authorization.denied",
                "denied",
                user=current_user,
                code=error.code,
                path=request.path,
                method=request.method,
            )
        events.discard()
        return None, error


def gate_out_json(crossing) -> dict:
    """What the gate officer needs to match the person to the pass, and nothing more personal."""
    identity = identity_of(crossing)
    return {
        "gate_pass_code": crossing.gate_pass_code,
        "gate_out_at": crossing.gate_out_at.isoformat(),
        "direction": crossing.direction,
        "category": crossing.category,
        "holder_name": identity.holder_name if identity else None,
        "document_type": identity.document_type if identity else None,
    }


@bp.post("/api/v1/gate-passes/<code>/exit")
def api_exit(code: str):
    crossing, error = _attempt(code)
    if error is not None:
        return error_response(error.status, error.code, error.message)
    return jsonify(gate_out_json(crossing))


@bp.get("/gate")
def page():
    operations.ensure_gate_officer(current_user, current_user.post)
    result = session.pop(RESULT_KEY, None)
    if not isinstance(result, dict):
        result = None
    crossing = operations.crossing_for_gate(result.get("crossing_id"), current_user) if result else None
    return render_template(
        "gate/gate.html",
        result=result,
        crossing=crossing,
        identity=identity_of(crossing) if crossing else None,
        scans=operations.recent_scans(current_user),
        scan_labels=SCAN_LABELS,
    )


@bp.post("/gate/scan")
def scan():
    """The form behind the big input: record, remember the answer for the page, redirect (no GET changes state)."""
    operations.ensure_gate_officer(current_user, current_user.post)
    code = request.form.get("code", "")
    if not code.strip():
        return redirect(url_for("gate.page"))  # Enter on an empty field: nothing scanned, nothing to say
    crossing, error = _attempt(code)
    if error is None:
        session[RESULT_KEY] = {"ok": True, "crossing_id": crossing.id, "gate_pass": crossing.gate_pass_code}
    else:
        # The holder is shown again only for a pass of this gate (used, not valid); only its id goes in the cookie.
        shown = error.code in ("gate_pass_used", "gate_pass_not_valid")
        session[RESULT_KEY] = {
            "ok": False,
            "code": error.code,
            "message": error.message,
            "crossing_id": error.crossing_id if shown else None,
        }
    return redirect(url_for("gate.page"))
