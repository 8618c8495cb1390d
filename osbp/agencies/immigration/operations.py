"""Immigration's operations: record and read the identity and travel document. They never commit."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from osbp.agencies.immigration.models import TravellerIdentity
from osbp.audit import operations as audit
from osbp.errors import Forbidden, Invalid
from osbp.extensions import db
from osbp.permissions import ensure_officer_at_step
from osbp.queues.operations.tickets import lock_ticket_at_counter
from osbp.types import utcnow
from osbp.workflow import operations as workflow
from osbp.workflow.models import Crossing, Step, StepStatus

KIND = "immigration"
DOCUMENT_TYPES = ("passport", "national_id", "cepgl_pass", "laissez_passer", "emergency_travel_document")
IDENTITY_FIELDS = ("holder_name", "nationality", "document_type", "document_number", "birth_date")
_NATIONALITY = re.compile(r"^[A-Z]{3}$")
_DOCUMENT_NUMBER = re.compile(r"^[A-Z0-9<-]{3,32}$")


def identity_of(crossing: Crossing) -> TravellerIdentity | None:
    """The identity recorded for a crossing, if any."""
    if crossing.id is None:
        return None
    return db.session.scalar(select(TravellerIdentity).where(TravellerIdentity.crossing_id == crossing.id))


def record_identity(
    step: Step, officer, *, holder_name, nationality, document_type, document_number, birth_date
) -> Crossing:
    """Immigration enters the person's identity and travel document for the crossing (again: it is corrected)."""
    ticket = lock_ticket_at_counter(step)
    ensure_officer_at_step(step, officer)
    if ticket is None:
        raise workflow.not_at_counter(step)
    if step.step_kind.agency.kind != KIND:
        raise Forbidden(_("Only immigration records the identity and travel document."), code="not_immigration")
    values = validate_identity(holder_name, nationality, document_type, document_number, birth_date)
    crossing = step.crossing
    now = utcnow()
    identity = identity_of(crossing)
    if identity is None:
        identity = TravellerIdentity(crossing_id=crossing.id)
        db.session.add(identity)
    for key, value in values.items():
        setattr(identity, key, value)
    identity.step_id = step.id
    identity.recorded_at = now
    identity.recorded_by_id = officer.id
    if step.status == StepStatus.CALLED:
        workflow.mark_in_progress(step, officer, now)
    # The document number itself stays out of the audit log.
    audit.record("crossing.identity_recorded", user=officer, obj=crossing, document_type=values["document_type"])
    return crossing


def validate_identity(holder_name, nationality, document_type, document_number, birth_date) -> dict:
    holder_name = (holder_name or "").strip() if isinstance(holder_name, str) else ""
    nationality = (nationality or "").strip().upper() if isinstance(nationality, str) else ""
    document_number = (
        (document_number or "").strip().upper().replace(" ", "") if isinstance(document_number, str) else ""
    )
    if not 2 <= len(holder_name) <= 120:
        raise Invalid(_("Enter the holder's name (2 to 120 characters)."), code="invalid_holder_name")
    if not _NATIONALITY.match(nationality):
        raise Invalid(_("Nationality is a three-letter code such as RWA or COD."), code="invalid_nationality")
    if document_type not in DOCUMENT_TYPES:
        raise Invalid(_("Choose a document type from the list."), code="invalid_document_type")
    if not _DOCUMENT_NUMBER.match(document_number):
        raise Invalid(_("The document number has 3 to 32 letters and digits."), code="invalid_document_number")
    if isinstance(birth_date, str):
        try:
            birth_date = date.fromisoformat(birth_date)
        except ValueError:
            raise Invalid(_("Give the date of birth as YYYY-MM-DD."), code="invalid_birth_date") from None
    if not isinstance(birth_date, date) or birth_date > date.today() or birth_date.year < 1900:
        raise Invalid(_("Give the date of birth as YYYY-MM-DD."), code="invalid_birth_date")
    return {
        "holder_name": holder_name,
        "nationality": nationality,
        "document_type": document_type,
        "document_number": document_number,
        "birth_date": birth_date,
    }


def identity_json(identity: TravellerIdentity | None) -> dict | None:
    """The ``holder`` of a crossing's JSON."""
    if identity is None:
        return None
    return {
        "name": identity.holder_name,
        "nationality": identity.nationality,
        "document_type": identity.document_type,
        "document_number": identity.document_number,
        "birth_date": identity.birth_date.isoformat() if identity.birth_date else None,
    }
