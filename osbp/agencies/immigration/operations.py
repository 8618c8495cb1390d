"""Immigration's operations: record and read the identity and travel document. They never commit."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from osbp import events
from osbp.agencies.immigration import countries, documents
from osbp.agencies.immigration.models import TravellerIdentity
from osbp.audit import operations as audit
from osbp.errors import Forbidden, Invalid
from osbp.extensions import db
from osbp.permissions import ensure_officer_at_step
from osbp.queues.operations.tickets import lock_ticket_at_counter, ticket_rooms
from osbp.types import utcnow
from osbp.workflow import operations as workflow
from osbp.workflow.models import Crossing, Step, StepStatus

KIND = "immigration"
DOCUMENT_TYPES = documents.CODES  # the types of document_types.toml, in its order
IDENTITY_FIELDS = ("holder_name", "nationality", "document_type", "document_number", "birth_date")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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
    station_id = step.station_id
    if step.status == StepStatus.CALLED:
        workflow.mark_in_progress(step, officer, now)  # recording the identity starts the step (no "Start" needed)
        events.publish(
            "ticket.started",
            {
                "code": ticket.code,
                "station": ticket.station.name,
                "station_id": station_id,
                "status": StepStatus.IN_PROGRESS,
            },
            *ticket_rooms(ticket, station_id),
        )
    # The partner at a joint counter sees the holder's line appear (no personal data in the event).
    events.publish(
        "identity.recorded",
        {"step_id": step.id, "crossing_id": crossing.id},
        events.station_room(station_id),
        post_id=crossing.post_id,
    )
    # The document number itself stays out of the audit log.
    audit.record("crossing.identity_recorded", user=officer, obj=crossing, document_type=values["document_type"])
    return crossing


def validate_identity(holder_name, nationality, document_type, document_number, birth_date) -> dict:
    """The identity's values, cleaned; else Invalid with the first problem as its message and code, and every
    problem by field in ``detail["fields"]`` (the counter page shows each next to its field).

    ``nationality``: an ISO 3166-1 alpha-3 code or one of ICAO's codes for people without a nationality, or the
    country's name (countries.py). ``birth_date``: a date, or a string in ISO form (YYYY-MM-DD, the API's format).
    """
    holder_name = (holder_name or "").strip() if isinstance(holder_name, str) else ""
    code = countries.resolve(nationality)
    document_number = (
        (document_number or "").strip().upper().replace(" ", "") if isinstance(document_number, str) else ""
    )
    if isinstance(birth_date, str):
        birth_date = _iso_date(birth_date)
    problems: dict[str, tuple[str, str]] = {}
    if not 2 <= len(holder_name) <= 120:
        problems["holder_name"] = ("invalid_holder_name", _("Enter the holder's name (2 to 120 characters)."))
    if code is None:
        problems["nationality"] = (
            "invalid_nationality",
            _("Pick a country from the list or type its three-letter code, such as RWA."),
        )
    if document_type not in DOCUMENT_TYPES:
        problems["document_type"] = ("invalid_document_type", _("Choose a document type from the list."))
    if not _DOCUMENT_NUMBER.match(document_number):
        problems["document_number"] = (
            "invalid_document_number",
            _("The document number has 3 to 32 letters and digits."),
        )
    if not isinstance(birth_date, date) or birth_date > date.today() or birth_date.year < 1900:
        problems["birth_date"] = ("invalid_birth_date", _("Give the date of birth as YYYY-MM-DD."))
    if problems:
        first_code, first_message = next(iter(problems.values()))
        raise Invalid(
            first_message, code=first_code, fields={field: message for field, (_c, message) in problems.items()}
        )
    return {
        "holder_name": holder_name,
        "nationality": code,
        "document_type": document_type,
        "document_number": document_number,
        "birth_date": birth_date,
    }


def _iso_date(text: str) -> date | None:
    if not _ISO_DATE.match(text.strip()):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


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
