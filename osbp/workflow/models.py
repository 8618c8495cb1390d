"""Step kinds, routes, crossings, steps and the step timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from osbp.extensions import db
from osbp.post.models import Agency, Post
from osbp.types import UTCDateTime, utcnow

CONTROLS = ("exit", "entry", "export", "import", "screening")
CATEGORIES = ("traveller", "trader", "resident", "driver")


class Outcome(StrEnum):
    """An officer's decision on a step."""

    CLEARED = "cleared"
    REFERRED = "referred"
    REFUSED = "refused"


class StepStatus(StrEnum):
    """pending → waiting → called → in_progress → cleared | refused, with in_progress → referred → (waiting for
    secondary) → called → in_progress → cleared | refused, and cancelled for the steps left when a crossing ends."""

    PENDING = "pending"
    WAITING = "waiting"
    CALLED = "called"
    IN_PROGRESS = "in_progress"
    REFERRED = "referred"
    CLEARED = "cleared"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class CrossingStatus(StrEnum):
    """in_progress until the last step is cleared (cleared), one is refused (refused), or the person did not come
    when called and the no-show policy cancels the ticket (no_show)."""

    IN_PROGRESS = "in_progress"
    CLEARED = "cleared"
    REFUSED = "refused"
    NO_SHOW = "no_show"


class Stage(StrEnum):
    """A queue's stage: the joint counters, or secondary inspection after a referral."""

    PRIMARY = "primary"
    SECONDARY = "secondary"


OUTCOMES = tuple(Outcome)
STEP_STATUSES = tuple(StepStatus)
CROSSING_STATUSES = tuple(CrossingStatus)
# A step at a counter now; a step that will not change any more.
AT_COUNTER = (StepStatus.CALLED, StepStatus.IN_PROGRESS)
CLOSED_STEP_STATUSES = (StepStatus.CLEARED, StepStatus.REFUSED, StepStatus.CANCELLED)


class StepKind(db.Model):
    """One agency's control of one kind, e.g. one country's exit control. Routes and stations refer to these."""

    __tablename__ = "step_kinds"
    __table_args__ = (UniqueConstraint("agency_id", "control"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    control: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))

    agency: Mapped[Agency] = relationship(lazy="joined")


class Route(db.Model):
    """The ordered steps for one (direction, category) at a post. Routes are data."""

    __tablename__ = "routes"
    __table_args__ = (UniqueConstraint("post_id", "direction", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    direction: Mapped[str] = mapped_column(String(5))
    category: Mapped[str] = mapped_column(String(16))

    steps: Mapped[list[RouteStep]] = relationship(
        order_by="RouteStep.position", cascade="all, delete-orphan", back_populates="route"
    )


class RouteStep(db.Model):
    __tablename__ = "route_steps"
    __table_args__ = (UniqueConstraint("route_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id"))
    position: Mapped[int]
    step_kind_id: Mapped[int] = mapped_column(ForeignKey("step_kinds.id"))

    route: Mapped[Route] = relationship(back_populates="steps")
    step_kind: Mapped[StepKind] = relationship(lazy="joined")


class Crossing(db.Model):
    """One person passing through the post in one direction as one category: the case file."""

    __tablename__ = "crossings"
    # Reports read a post's crossings by the time they started (osbp/bilateral).
    __table_args__ = (Index("ix_crossings_post_id_created_at", "post_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id"))
    direction: Mapped[str] = mapped_column(String(5))
    category: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CrossingStatus.IN_PROGRESS)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    gate_pass_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    gate_pass_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Scanned at the exit gate (osbp/gate): the end of the clock for time in the facility.
    gate_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gate_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What each agency records (identity, declarations, screening) lives in its own tables (osbp/agencies).

    post: Mapped[Post] = relationship()
    route: Mapped[Route] = relationship()
    steps: Mapped[list[Step]] = relationship(
        order_by="Step.position", back_populates="crossing", cascade="all, delete-orphan"
    )

    @property
    def origin(self) -> str:
        return self.direction.split("-")[0]

    @property
    def destination(self) -> str:
        return self.direction.split("-")[1]

    @property
    def readmission_required(self) -> bool:
        """Refused, or gone (no-show), after the exit country let the person out: the exit country must re-admit
        them (or annul the exit)."""
        return self.status in (CrossingStatus.REFUSED, CrossingStatus.NO_SHOW) and any(
            s.status == StepStatus.CLEARED and s.step_kind.control == "exit" for s in self.steps
        )

    def next_open_step(self) -> Step | None:
        return next((s for s in self.steps if s.status not in CLOSED_STEP_STATUSES), None)

    def run_at(self, station_id: int | None) -> list[Step]:
        """The steps called or in progress at a station now (the run it serves)."""
        if station_id is None:
            return []
        return [s for s in self.steps if s.station_id == station_id and s.status in AT_COUNTER]

    def current_step(self, station_id: int | None = None) -> Step | None:
        """The step the ticket stands for now: the head of the run at its station, else the next open step."""
        run = self.run_at(station_id)
        return run[0] if run else self.next_open_step()


class Step(db.Model):
    """One agency's control on one crossing."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("crossing_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crossing_id: Mapped[int] = mapped_column(ForeignKey("crossings.id"))
    position: Mapped[int]
    step_kind_id: Mapped[int] = mapped_column(ForeignKey("step_kinds.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.PENDING)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    referral_reason: Mapped[str | None] = mapped_column(Text)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    crossing: Mapped[Crossing] = relationship(back_populates="steps")
    step_kind: Mapped[StepKind] = relationship(lazy="joined")
    events: Mapped[list[StepEvent]] = relationship(order_by="StepEvent.id", cascade="all, delete-orphan")

    @property
    def is_secondary(self) -> bool:
        return self.referral_reason is not None


class ReadmissionReason(StrEnum):
    """Why the exit country must take the person back: refused by a later control, or gone (no-show) after the exit."""

    REFUSED = "refused"
    NO_SHOW = "no_show"


class Readmission(db.Model):
    """The exit country's task to take back a person it let out, opened when the crossing ends refused or as a
    no-show after its exit step was cleared, and closed when an officer of the exit step's agency records the
    re-admission (osbp/workflow/readmission.py)."""

    __tablename__ = "readmissions"
    # open tasks per agency: the counter pages' block and the supervisors' alerts (osbp/workflow/readmission.py)
    __table_args__ = (Index("ix_readmissions_agency_id_recorded_at", "agency_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crossing_id: Mapped[int] = mapped_column(ForeignKey("crossings.id"), unique=True)
    # The cleared exit step whose movement the re-admission annuls, its agency and country (the exit country).
    exit_step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    country: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(16))  # ReadmissionReason
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)

    crossing: Mapped[Crossing] = relationship()
    exit_step: Mapped[Step] = relationship()
    agency: Mapped[Agency] = relationship(lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.recorded_at is None


class StepEvent(db.Model):
    """Every change of state of a step, timestamped with the officer and station: dwell and service times come from here."""

    __tablename__ = "step_events"
    # by step: a crossing's timeline; by time: recent service times for the wait estimator (osbp/queues/estimator.py)
    __table_args__ = (
        Index("ix_step_events_step_id_at", "step_id", "at"),
        Index("ix_step_events_at", "at"),
        # the few no-show events, counted by the bilateral report without reading the whole timeline
        Index(
            "ix_step_events_no_show",
            "step_id",
            postgresql_where=text("kind = 'no_show'"),
            sqlite_where=text("kind = 'no_show'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"))
    kind: Mapped[str] = mapped_column(String(16))  # queued, called, started, referred, cleared, refused, cancelled
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    detail: Mapped[dict | None] = mapped_column(JSON)
