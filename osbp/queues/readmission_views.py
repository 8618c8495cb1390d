"""The re-admission pages: the block on the exit agency's counter pages and its form (docs/queues.md).

The counter page includes templates/queues/_readmissions.html, which reads ``readmission_block()`` (a template
global registered here), so the counter view passes nothing. The block refreshes itself over Socket.IO
(osbp/static/js/readmissions.js fetches ``queues.readmissions_block`` on a ``readmission.*`` event).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from osbp import permissions
from osbp.queues.blueprint import bp
from osbp.queues.readmissions import open_rows, readmit, task_rows
from osbp.web import form_action, local_path


@bp.app_template_global()
def readmission_block() -> dict | None:
    """The counter page's block for the officer looking at it: their agency's open tasks; None for anyone else."""
    if not current_user.is_authenticated or not permissions.may_see_readmissions(current_user):
        return None
    return open_rows(current_user.post_id, current_user.agency_id)


@bp.get("/readmissions/block")
def readmissions_block():
    """The block alone, fetched again by readmissions.js when a task is opened or recorded."""
    if not permissions.may_see_readmissions(current_user):
        abort(403)
    return render_template("queues/_readmissions.html", fragment=True)


@bp.post("/crossings/<int:crossing_id>/readmission")
def record_readmission(crossing_id: int):
    back = local_path(request.form.get("back"), url_for("queues.home"))  # home: the officer's own counter

    def action():
        task = readmit(crossing_id, current_user, request.form.get("note"))
        code = task_rows([task])[0]["code"]
        flash(_("Re-admission of %(code)s recorded: the exit is annulled.", code=code), "success")
        return redirect(back)

    return form_action(action, back)
