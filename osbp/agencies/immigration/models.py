"""What immigration keeps: the identity and travel document of the person on a crossing, the persons and their
movements, the national alert lists, every alert check and its resolution, and the post's immigration settings.

Who may see which of these is written in docs/agencies.md ("Immigration: who sees what"): alert lists, checks and hits
stay with that country's immigration; the partner country's immigration sees of a capture what the post's agreement
(``ImmigrationAgreement.partner_sees``) allows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from osbp.extensions import db
from osbp.types import UTCDateTime, utcnow


class TravellerIdentity(db.Model):
    """The identity and travel document immigration recorded for one crossing (at its first immigration step).

    Seen by the officers of the agencies with a step on the crossing, supervisors of the post and — name and document
    type only — the gate officer checking the gate pass (docs/agencies.md).
    """

    __tablename__ = "immigration_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    crossing_id: Mapped[int] = mapped_column(ForeignKey("crossings.id"), unique=True)
    # The step at which it was recorded, and by whom (NULL for records moved from the crossings table).
    step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    holder_name: Mapped[str] = mapped_column(String(120))
    nationality: Mapped[str] = mapped_column(String(3))
    document_type: Mapped[str] = mapped_column(String(32))  # the longest code: emergency_travel_document (25)
    document_number: Mapped[str] = mapped_column(String(32))
    birth_date: Mapped[date | None] = mapped_column(Date)
    # F, M or X (unspecified, as ICAO 9303 writes "<"); NULL on records made before it was asked.
    sex: Mapped[str | None] = mapped_column(String(1))
    expiry_date: Mapped[date | None] = mapped_column(Date)
    # ICAO code of the state (or organisation) that issued the document: RWA, COD, XOM…
    issuing_state: Mapped[str | None] = mapped_column(String(3))
    # The machine-readable zone as read (lines joined by "\n") and its format (TD1, TD2, TD3, MRV-A, MRV-B);
    # NULL when the document was typed by hand (a document without an MRZ).
    mrz: Mapped[str | None] = mapped_column(Text)
    mrz_format: Mapped[str | None] = mapped_column(String(8))
    # Why the officer accepted an MRZ whose check digits failed (the fields that failed are audited with it).
    mrz_override_reason: Mapped[str | None] = mapped_column(Text)
    # A minor (< 18 on the day): the crossing of the accompanying adult, or why there is none.
    companion_crossing_id: Mapped[int | None] = mapped_column(ForeignKey("crossings.id"))
    unaccompanied_reason: Mapped[str | None] = mapped_column(Text)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("immigration_persons.id"), index=True)


class Person(db.Model):
    """One traveller as immigration knows them across crossings: the holder of a document (issuing state + number).

    A person's movements are read per country: each country's immigration sees the movements its own officers
    recorded (``GET /api/v1/persons/<id>/movements``).
    """

    __tablename__ = "immigration_persons"
    __table_args__ = (UniqueConstraint("issuing_state", "document_number", name="uq_immigration_persons_document"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuing_state: Mapped[str] = mapped_column(String(3))
    document_number: Mapped[str] = mapped_column(String(32))
    document_type: Mapped[str] = mapped_column(String(32))
    holder_name: Mapped[str] = mapped_column(String(120))
    # The name folded for matching (alerts.name_key: no accents, upper case, names sorted).
    name_key: Mapped[str] = mapped_column(String(160), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    nationality: Mapped[str] = mapped_column(String(3))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MovementDirection:
    EXIT = "exit"
    ENTRY = "entry"


class Movement(db.Model):
    """A cleared exit or entry: one per cleared immigration step (the step's control: exit or entry)."""

    __tablename__ = "immigration_movements"
    __table_args__ = (Index("ix_immigration_movements_person_time", "person_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("immigration_persons.id"))
    crossing_id: Mapped[int] = mapped_column(ForeignKey("crossings.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), unique=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    country: Mapped[str] = mapped_column(String(2))  # the country whose immigration cleared the step
    direction: Mapped[str] = mapped_column(String(5))  # MovementDirection
    document_type: Mapped[str] = mapped_column(String(32))
    document_number: Mapped[str] = mapped_column(String(32))
    issuing_state: Mapped[str] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AlertListKind:
    STOLEN_LOST_DOCUMENT = "document"  # a stolen, lost or revoked travel document
    WANTED_PERSON = "person"  # a wanted person (name + date of birth)


class AlertListImport(db.Model):
    """One CSV import of a country's national alert list by its immigration supervisor (replace or append)."""

    __tablename__ = "immigration_alert_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mode: Mapped[str] = mapped_column(String(8))  # replace | append
    file_name: Mapped[str] = mapped_column(String(255))
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    # The rejected rows: JSON list of {"line": n, "field": ..., "message": ...} (messages in the importer's language).
    rejected: Mapped[str | None] = mapped_column(Text)


class AlertListEntry(db.Model):
    """One entry of a country's national alert list: a document (number + issuing state) or a person (name + birth
    date). Seen only by that country's immigration."""

    __tablename__ = "immigration_alert_entries"
    __table_args__ = (
        Index("ix_immigration_alert_entries_document", "country", "document_number", "issuing_state"),
        Index("ix_immigration_alert_entries_name", "country", "name_key", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(8))  # AlertListKind
    reference: Mapped[str] = mapped_column(String(64))  # the listing authority's reference
    document_number: Mapped[str | None] = mapped_column(String(32))
    issuing_state: Mapped[str | None] = mapped_column(String(3))
    holder_name: Mapped[str | None] = mapped_column(String(120))
    name_key: Mapped[str | None] = mapped_column(String(160))
    birth_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int] = mapped_column(ForeignKey("immigration_alert_imports.id"))


class CheckSource:
    NATIONAL = "national"  # the country's own alert list
    INTERPOL = "interpol"  # INTERPOL I-24/7 through the country's NCB (interpol.py)


class CheckStatus:
    NO_HIT = "no_hit"
    HIT = "hit"
    UNAVAILABLE = "unavailable"


class Resolution:
    CONFIRMED = "confirmed"  # the person is the one listed: the step is referred or refused
    NOT_SAME_PERSON = "not_same_person"  # cleared by a supervisor, with a reason


class AlertCheck(db.Model):
    """One check of a crossing's person and document against one source, at an immigration step; a hit stops the
    step until that country's immigration supervisor resolves it."""

    __tablename__ = "immigration_alert_checks"
    __table_args__ = (Index("ix_immigration_alert_checks_post_time", "post_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), index=True)
    crossing_id: Mapped[int] = mapped_column(ForeignKey("crossings.id"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    country: Mapped[str] = mapped_column(String(2))  # the checking country (the step's agency's)
    source: Mapped[str] = mapped_column(String(8))  # CheckSource
    status: Mapped[str] = mapped_column(String(12))  # CheckStatus
    reason: Mapped[str | None] = mapped_column(Text)  # why unavailable (for the officer and the log)
    # The hits (JSON list: source reference, kind, what matched), kept for the supervisor who resolves them.
    hits: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    resolution: Mapped[str | None] = mapped_column(String(16))  # Resolution, on a hit
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PartnerSees:
    """What one country's immigration sees of the other's capture at a joint counter (the post's agreement)."""

    NOTHING = "nothing"  # only that the step was recorded
    IDENTITY = "identity"  # the identity page of the document (default)
    IDENTITY_AND_ALERTS = "alerts"  # also the alert-check results (never the list entries themselves)


class ImmigrationAgreement(db.Model):
    """The post's bilateral agreement on sharing immigration captures (one row per post; none: the defaults)."""

    __tablename__ = "immigration_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), unique=True)
    partner_sees: Mapped[str] = mapped_column(String(12), default=PartnerSees.IDENTITY)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ImmigrationSetting(db.Model):
    """One country's immigration settings at a post, kept by that country's immigration supervisor."""

    __tablename__ = "immigration_settings"
    __table_args__ = (UniqueConstraint("post_id", "country", name="uq_immigration_settings_post_country"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    country: Mapped[str] = mapped_column(String(2))
    # May an officer clear a step whose INTERPOL check was unavailable? (no row: OSBP_INTERPOL_CLEAR_WHEN_UNAVAILABLE)
    clear_when_interpol_unavailable: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
