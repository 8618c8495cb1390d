"""The re-admission tasks in the hall: recording one (the counter page's form and the API) and the rows the counter
block and the supervisors' alerts show. The task and the operation are the workflow's (osbp/workflow/readmission.py);
the pages are in osbp/queues/readmission_views.py; docs/queues.md.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from osbp import permissions
from osbp.extensions import db
from osbp.i18n import step_label
from osbp.queues.models import Ticket
from osbp.types import utcnow
from osbp.workflow import operations as workflow
from osbp.workflow import readmission
from osbp.workflow.models import Readmission, ReadmissionReason

SHOWN = 5  # tasks listed on a counter page or the live view; the rest are counted


def readmit(crossing_id: int, user, note: str | None) -> Readmission:
    """Record the re-admission of a crossing's person (the form and ``POST /api/v1/crossings/<id>/readmission``)."""
    crossing = workflow.get_crossing(crossing_id)
    task = readmission.task_of(crossing)
    permissions.ensure_may_readmit(crossing, task, user)
    return readmission.record(task, user, note, utcnow())


def task_rows(tasks: list[Readmission]) -> list[dict]:
    """What the counter block and the supervisors' alerts show of each task: ticket code, where and why it ended."""
    codes = dict(
        db.session.execute(
            select(Ticket.crossing_id, Ticket.code).where(Ticket.crossing_id.in_([t.crossing_id for t in tasks]))
        ).all()
        if tasks
        else ()
    )
    rows = []
    for task in tasks:
        ended = readmission.ending_step(task)
        rows.append(
            {
                "crossing_id": task.crossing_id,
                "code": codes.get(task.crossing_id) or _("Crossing %(id)s", id=task.crossing_id),
                "reason": task.reason,
                "refused": task.reason == ReadmissionReason.REFUSED,
                "step": step_label(ended.step_kind) if ended is not None else "—",
                "refusal_reason": task.crossing.refusal_reason,
                "agency": task.agency.label,
                "since": task.created_at,
            }
        )
    return rows


def open_rows(post_id: int, agency_id: int | None = None) -> dict:
    """``{"tasks": rows of the newest SHOWN open tasks, "count": all open}`` for a post (or one agency of it)."""
    tasks = readmission.open_tasks(post_id, agency_id=agency_id, limit=SHOWN)
    count = len(tasks) if len(tasks) < SHOWN else readmission.count_open(post_id, agency_id=agency_id)
    return {"tasks": task_rows(tasks), "count": count}
