"""The archive of generated bilateral reports: which post and period, in which languages and format, the SHA-256 of
the canonical data and of the file handed out, who made it and when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from osbp.auth.models import User
from osbp.extensions import db
from osbp.types import UTCDateTime, utcnow

REPORT_FORMATS = ("pdf", "csv.zip", "json")


class BilateralReport(db.Model):
    __tablename__ = "bilateral_reports"
    __table_args__ = (
        Index("ix_bilateral_reports_post_id_created_at", "post_id", "created_at"),
        Index("ix_bilateral_reports_data_sha256", "data_sha256"),
        Index("ix_bilateral_reports_file_sha256", "file_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)  # inclusive
    languages: Mapped[str] = mapped_column(String(16))  # "fr,en" or "rw"
    file_format: Mapped[str] = mapped_column(String(8))
    data_sha256: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))
    # The canonical aggregates (no personal data): the report can be made again, byte for byte in JSON and CSV.
    data: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()


class ReportDay(db.Model):
    """A post's local day whose report facts are stored (osbp/bilateral/facts.py)."""

    __tablename__ = "report_days"
    __table_args__ = (UniqueConstraint("post_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    day: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportDayFact(db.Model):
    """One count of a day's report facts: (day, fact, k1, k2, k3, value) → count. Aggregates only: no person."""

    __tablename__ = "report_day_facts"
    __table_args__ = (Index("ix_report_day_facts_post_id_fact_day", "post_id", "fact", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    day: Mapped[date] = mapped_column(Date)
    fact: Mapped[str] = mapped_column(String(24))
    k1: Mapped[str] = mapped_column(String(16))
    k2: Mapped[str] = mapped_column(String(16))
    k3: Mapped[str] = mapped_column(Text)  # a refusal reason (shown only when given 5 times or more)
    value: Mapped[int]
    count: Mapped[int]
