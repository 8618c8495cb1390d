"""The exit gate: a gate officer scans a crossing's gate pass once, and the gate-out time is recorded.

A gate officer (role ``gate``) serves the exit gate of one country (``User.country``): the gate into that country,
so only a gate officer of the crossing's destination country may record its gate-out. A pass is valid once: the
gate-out is one guarded ``UPDATE … WHERE gate_out_at IS NULL RETURNING``, so of two officers scanning the same pass
at the same moment exactly one succeeds.

Refusals raise a domain error marked ``kept_audit``: its ``gate_pass.exit`` audit row (outcome ``failed``) is
already in the session and the caller keeps it (the controllers answer without rolling back; nothing else changed).
The error's ``crossing_id`` names the crossing when the pass was found.
Operations never commit.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select, update

from osbp.audit import operations as audit
from osbp.audit.models import AuditEvent
from osbp.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from osbp.extensions import db
from osbp.i18n import COUNTRY_NAMES, CROSSING_STATUS_LABELS, when
from osbp.types import utcnow
from osbp.workflow.models import Crossing, CrossingStatus

AUDIT_ACTION = "gate_pass.exit"
RECENT_SCANS = 10
MAX_INPUT = 64
# "GP-ABCD2345", "gp-abcd2345", "ABCD2345", "GPABCD2345" (a scanner whose keyboard layout lost the hyphen).
_CODE = re.compile(r"^(?:GP-?)?([A-Z0-9]{8})$")


def normalise_code(raw) -> str | None:
    """The gate pass code ``GP-XXXXXXXX`` from what was scanned or typed, or None when it is not one."""
    if not isinstance(raw, str) or len(raw) > MAX_INPUT:
        return None
    match = _CODE.match(raw.strip().upper())
    return f"GP-{match.group(1)}" if match else None


def is_gate_officer(user, post) -> bool:
    return getattr(user, "role", None) == "gate" and user.post_id == post.id and bool(user.country)


def ensure_gate_officer(user, post) -> None:
    if not is_gate_officer(user, post):
        raise Forbidden(_("Only a gate officer of this post can record a gate-out."), code="not_gate_officer")


def record_gate_out(post, code, officer) -> Crossing:
    """Record that the holder of gate pass ``code`` left through ``officer``'s exit gate now.

    Raises ``Forbidden`` (not a gate officer of this post; a wrong gate), ``Invalid`` (not a gate pass code),
    ``NotFound`` (no such pass at this post) or ``Conflict`` (already used; the crossing is not cleared).
    """
    ensure_gate_officer(officer, post)
    normalised = normalise_code(code)
    if normalised is None:
        raise _refused(
            Invalid(
                _("This is not a gate pass code. A gate pass code looks like GP-ABCD2345."),
                code="invalid_gate_pass_code",
            ),
            officer,
        )
    crossing = db.session.scalar(
        select(Crossing).where(Crossing.post_id == post.id, Crossing.gate_pass_code == normalised)
    )
    if crossing is None:
        raise _refused(
            NotFound(_("Unknown gate pass %(code)s.", code=normalised), code="gate_pass_unknown"),
            officer,
            normalised,
        )
    if crossing.destination != officer.country:
        raise _refused(
            Forbidden(
                _(
                    "Gate pass %(code)s is for the exit gate into %(country)s, not this gate.",
                    code=normalised,
                    country=COUNTRY_NAMES.get(crossing.destination, crossing.destination),
                ),
                code="wrong_gate",
            ),
            officer,
            normalised,
            crossing,
        )
    _ensure_unused_and_cleared(crossing, officer, normalised)
    # The one guarded UPDATE: whoever comes second (another gate officer, a second scan) matches no row.
    db.session.flush()
    passed = db.session.execute(
        update(Crossing)
        .where(Crossing.id == crossing.id, Crossing.gate_out_at.is_(None), Crossing.status == CrossingStatus.CLEARED)
        .values(gate_out_at=utcnow(), gate_out_by_id=officer.id)
        .returning(Crossing)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).scalar()
    if passed is None:
        db.session.refresh(crossing)  # what the winner committed: the time it was used, or the new status
        _ensure_unused_and_cleared(crossing, officer, normalised)
        raise _refused(_not_valid(crossing), officer, normalised, crossing)
    audit.record(AUDIT_ACTION, user=officer, obj=passed, gate_pass=normalised)
    return passed


def _ensure_unused_and_cleared(crossing: Crossing, officer, code: str) -> None:
    if crossing.gate_out_at is not None:
        raise _refused(
            Conflict(
                _("Gate pass %(code)s was already used on %(when)s.", code=code, when=when(crossing.gate_out_at)),
                code="gate_pass_used",
            ),
            officer,
            code,
            crossing,
        )
    if crossing.status != CrossingStatus.CLEARED:
        raise _refused(_not_valid(crossing), officer, code, crossing)


def _not_valid(crossing: Crossing) -> Conflict:
    status = CROSSING_STATUS_LABELS.get(crossing.status, crossing.status)
    return Conflict(
        _("This gate pass is not valid: the crossing is %(status)s, not cleared.", status=status),
        code="gate_pass_not_valid",
    )


def _refused(error: DomainError, officer, code: str | None = None, crossing: Crossing | None = None) -> DomainError:
    """Audit a refused scan and mark the error: its audit row is already in the session, keep it."""
    audit.record(AUDIT_ACTION, "failed", user=officer, obj=crossing, code=error.code, gate_pass=code)
    error.kept_audit = True
    error.crossing_id = crossing.id if crossing is not None else None
    return error


def recent_scans(officer, limit: int = RECENT_SCANS) -> list[AuditEvent]:
    """The officer's last scans, newest first: gate-outs and refusals, from the audit log."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == AUDIT_ACTION, AuditEvent.user_id == officer.id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


def crossing_for_gate(crossing_id, officer) -> Crossing | None:
    """A crossing the officer's gate may show: same post, into the officer's country."""
    if not isinstance(crossing_id, int):
        return None
    crossing = db.session.get(Crossing, crossing_id)
    if crossing is None or crossing.post_id != officer.post_id or crossing.destination != officer.country:
        return None
    return crossing
