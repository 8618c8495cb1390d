"""What immigration keeps: the identity and travel document of the person on a crossing."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
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
