"""Nobody is left between two countries: the exit country's re-admission task.

A crossing whose exit step was cleared (the person was let out) and which then ends refused (a later control refused
entry) or as a no-show (policy "cancel": the person never came to the next control) leaves someone the exit country
must take back. The workflow opens a ``Readmission`` for it in the same transaction as the refusal or the no-show
(``open_if_exit_cleared``, called from osbp/workflow/operations.py), for the exit step's agency and country. The task
stays open, shown on that agency's counter pages and as an alert on the supervisors' live view, until an officer of
that agency records the re-admission (``record``): the task is closed with who, when and an optional note, the exit
step gets an ``exit_annulled`` event (its movement no longer stands), and ``crossing.readmitted`` is audited.

What does not change: the crossing keeps its status (refused, no_show) and the exit step stays cleared with its
decision, so the bilateral report's "re-admissions by the exit country" (crossings refused or gone after a cleared
exit, osbp/bilateral/facts.py) counts every task opened, recorded or not, and a day's frozen facts stay true when the
task is recorded later.

Who may record is checked by the caller (osbp.permissions.ensure_may_readmit). Like the other workflow operations,
nothing here commits; events leave after the request's commit (osbp/events.py).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from osbp import events
from osbp.audit import operations as audit
from osbp.errors import Conflict
from osbp.extensions import db
from osbp.validation import clean_reason
from osbp.workflow.models import Crossing, Readmission, ReadmissionReason, Step, StepStatus

EXIT_CONTROL = "exit"


def cleared_exit_step(crossing: Crossing) -> Step | None:
    """The crossing's cleared exit step (the person was let out of the exit country), if any."""
    return next(
        (s for s in crossing.steps if s.status == StepStatus.CLEARED and s.step_kind.control == EXIT_CONTROL), None
    )


def open_if_exit_cleared(crossing: Crossing, reason: str, now) -> Readmission | None:
    """Open the exit country's task when the crossing ends (``reason``: refused or no_show) after a cleared exit."""
    exit_step = cleared_exit_step(crossing)
    if exit_step is None:
        return None
    task = Readmission(
        crossing=crossing,
        exit_step=exit_step,
        agency_id=exit_step.agency_id,
        country=exit_step.step_kind.agency.country,
        reason=ReadmissionReason(reason),
        created_at=now,
    )
    db.session.add(task)
    _publish("readmission.opened", task, crossing)
    return task


def task_of(crossing: Crossing) -> Readmission | None:
    """The crossing's re-admission task, open or recorded; None when the crossing needs none."""
    return db.session.scalar(select(Readmission).where(Readmission.crossing_id == crossing.id))


def open_tasks(post_id: int, *, agency_id: int | None = None, limit: int | None = None) -> list[Readmission]:
    """The post's open tasks (one agency's when ``agency_id`` is given), newest first."""
    query = (
        select(Readmission)
        .join(Crossing, Crossing.id == Readmission.crossing_id)
        .where(*_open(post_id, agency_id))
        .order_by(Readmission.created_at.desc(), Readmission.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def count_open(post_id: int, *, agency_id: int | None = None) -> int:
    return db.session.scalar(
        select(func.count(Readmission.id))
        .join(Crossing, Crossing.id == Readmission.crossing_id)
        .where(*_open(post_id, agency_id))
    )


def _open(post_id: int, agency_id: int | None) -> tuple:
    conditions = (Crossing.post_id == post_id, Readmission.recorded_at.is_(None))
    return (*conditions, Readmission.agency_id == agency_id) if agency_id is not None else conditions


def ending_step(task: Readmission) -> Step | None:
    """Where the crossing ended: the refused step, or for a no-show the control the person did not come to."""
    wanted = StepStatus.REFUSED if task.reason == ReadmissionReason.REFUSED else StepStatus.CANCELLED
    return next((s for s in task.crossing.steps if s.status == wanted), None)


def record(task: Readmission, officer, note: str | None, now) -> Readmission:
    """The exit country has taken the person back: close the task and annul the exit step's movement (audited).

    The caller has checked the officer (osbp.permissions.ensure_may_readmit). Recording twice is a Conflict, also
    when two officers press at once: the task is closed by one guarded UPDATE (… WHERE recorded_at IS NULL).
    """
    note = clean_reason(note, missing=None)
    if not task.is_open:
        raise already_recorded(task)
    closed = db.session.execute(
        update(Readmission)
        .where(Readmission.id == task.id, Readmission.recorded_at.is_(None))
        .values(recorded_at=now, recorded_by_id=officer.id, note=note)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(task)
    if not closed:
        raise already_recorded(task)
    from osbp.workflow.operations import step_event  # operations opens tasks: imported here, not at the top

    exit_step = task.exit_step
    step_event(exit_step, "exit_annulled", now, user=officer, detail={"readmission": task.reason})
    crossing = task.crossing
    audit.record(
        "crossing.readmitted",
        user=officer,
        obj=crossing,
        exit_step_id=exit_step.id,
        agency_id=task.agency_id,
        reason=task.reason,
        noted=note is not None,
    )
    _publish("readmission.recorded", task, crossing)
    return task


def already_recorded(task: Readmission) -> Conflict:
    from osbp.i18n import when

    return Conflict(
        _(
            "The re-admission of crossing %(id)s was already recorded (%(when)s).",
            id=task.crossing_id,
            when=when(task.recorded_at),
        ),
        code="readmission_recorded",
    )


def _publish(event_type: str, task: Readmission, crossing: Crossing) -> None:
    """To the exit agency's officers (their counter pages) and the post's supervisors (the live view's alerts)."""
    events.publish(
        event_type,
        {"crossing_id": crossing.id, "country": task.country, "reason": task.reason},
        events.agency_room(task.agency_id),
        events.supervisor_room(crossing.post_id),
    )
