"""Station, seat, ticket and ticket-number models."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from osbp import config
from osbp.extensions import db
from osbp.types import UTCDateTime, utcnow
from osbp.workflow.models import Crossing, Stage, StepKind

CATEGORY_LETTERS = {"trader": "T", "traveller": "P", "resident": "R", "driver": "D"}


class TicketStatus(StrEnum):
    """waiting → called → (waiting again at the next station …) → done; cancelled after a no-show (policy
    "cancel")."""

    WAITING = "waiting"
    CALLED = "called"
    DONE = "done"
    CANCELLED = "cancelled"


TICKET_STATUSES = tuple(TicketStatus)
STAGES = tuple(Stage)
# Where a ticket was issued: the entrance desk, the self-service kiosk, or in advance.
CHANNELS = ("desk", "kiosk", "advance")
# Vulnerable people served first (with ageing: see osbp/queues/priority.py and docs/queues.md).
PRIORITY_KINDS = config.PRIORITY_KINDS
STATION_STATES = ("open", "paused", "closed")

station_step_kinds = Table(
    "station_step_kinds",
    db.metadata,
    Column("station_id", ForeignKey("stations.id"), primary_key=True),
    Column("step_kind_id", ForeignKey("step_kinds.id"), primary_key=True),
)


class Station(db.Model):
    """A joint counter (or a secondary-inspection room) serving one or more step kinds."""

    __tablename__ = "stations"
    __table_args__ = (UniqueConstraint("post_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16), default=Stage.PRIMARY)
    # Closed: calls nothing, takes no seat, no ticket waits for it. Paused (open only): serves its current ticket
    # but calls nobody new (a break).
    is_open: Mapped[bool] = mapped_column(default=True)
    paused: Mapped[bool] = mapped_column(default=False)

    step_kinds: Mapped[list[StepKind]] = relationship(secondary=station_step_kinds, order_by="StepKind.id")

    @property
    def agency_ids(self) -> set[int]:
        return {k.agency_id for k in self.step_kinds}

    @property
    def state(self) -> str:
        """open, paused or closed."""
        if not self.is_open:
            return "closed"
        return "paused" if self.paused else "open"

    @property
    def can_call(self) -> bool:
        return self.is_open and not self.paused


class Seat(db.Model):
    """An officer seated at a station. One open seat per officer (left_at is NULL)."""

    __tablename__ = "seats"
    __table_args__ = (
        Index(
            "uq_seats_open_user",
            "user_id",
            unique=True,
            postgresql_where=text("left_at IS NULL"),
            sqlite_where=text("left_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    seated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    station: Mapped[Station] = relationship()


class Ticket(db.Model):
    """A person's place in the queues: T-042 for the 42nd trader of the day."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("post_id", "service_date", "code"),
        Index(
            "ix_tickets_waiting",
            "post_id",
            "step_kind_id",
            "stage",
            "rank_at",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        # A station serves one ticket at a time, even when two officers press Call next together.
        Index(
            "uq_tickets_called_station",
            "station_id",
            unique=True,
            postgresql_where=text("status = 'called'"),
            sqlite_where=text("status = 'called'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    crossing_id: Mapped[int] = mapped_column(ForeignKey("crossings.id"), unique=True)
    code: Mapped[str] = mapped_column(String(8))
    service_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.WAITING)
    # While waiting: the step kind and stage whose queue the ticket stands in.
    step_kind_id: Mapped[int | None] = mapped_column(ForeignKey("step_kinds.id"))
    stage: Mapped[str] = mapped_column(String(16), default=Stage.PRIMARY)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The queue order: queued_at minus the priority boost. Call-next takes the smallest rank_at (then id).
    rank_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After a transfer: the one station this ticket waits for (NULL: any station serving its queue).
    target_station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    # While called: the station serving it, and how many times it was recalled since.
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recalls: Mapped[int] = mapped_column(default=0)
    priority: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="desk")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    crossing: Mapped[Crossing] = relationship()
    station: Mapped[Station | None] = relationship(foreign_keys=[station_id])
    target_station: Mapped[Station | None] = relationship(foreign_keys=[target_station_id])


class TicketCounter(db.Model):
    """Per post and day, the last ticket number issued per category letter."""

    __tablename__ = "ticket_counters"
    __table_args__ = (UniqueConstraint("post_id", "service_date", "letter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    service_date: Mapped[date] = mapped_column(Date)
    letter: Mapped[str] = mapped_column(String(1))
    last_number: Mapped[int] = mapped_column(default=0)
