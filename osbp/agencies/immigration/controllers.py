"""Immigration's routes: the identity form on the counter page and the same through the API."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from osbp import events, permissions
from osbp.agencies.immigration import countries, operations
from osbp.api.controllers import crossing_json
from osbp.api.inputs import json_body, text_field
from osbp.errors import Invalid
from osbp.extensions import db
from osbp.queues.controllers import counter_page
from osbp.web import form_action, local_path
from osbp.workflow import operations as workflow

pages = Blueprint("immigration", __name__)
api = Blueprint("immigration_api", __name__, url_prefix="/api/v1")


@pages.post("/steps/<int:step_id>/identity")
def record_identity(step_id: int):
    """The counter page's identity form. Values to correct come back on the counter page itself (422), each problem
    next to its field and what was typed kept; other refusals (not seated here, not this step's turn) as a message."""
    back = local_path(request.form.get("back"), url_for("queues.home"))
    typed_date = request.form.get("birth_date", "")

    def action():
        try:
            operations.record_identity(
                workflow.get_step(step_id),
                current_user,
                holder_name=request.form.get("holder_name"),
                nationality=request.form.get("nationality"),
                document_type=request.form.get("document_type"),
                document_number=request.form.get("document_number"),
                birth_date=countries.parse_date(typed_date) or "",
            )
        except Invalid as error:
            station = permissions.seated_station(current_user)
            if station is None or "fields" not in error.detail:
                raise
            return _correct_on_the_counter(station, error)
        return redirect(back)

    return form_action(action, back)


def _correct_on_the_counter(station, error: Invalid):
    """The counter page again (422) with the identity form as it was sent and its problems."""
    db.session.rollback()
    events.discard()
    fields = dict(error.detail["fields"])
    if "birth_date" in fields:  # the page takes the date as the officer reads it, not in ISO form
        fields["birth_date"] = _(
            "Give the date of birth as %(pattern)s, for example %(example)s.",
            pattern=_("DD/MM/YYYY"),
            example=countries.show_date(date(1988, 3, 14)),
        )
    flash(_("The identity was not saved: correct the fields marked below."), "error")
    return counter_page(station, status=422, retry={"form": request.form, "errors": fields})


@api.post("/steps/<int:step_id>/identity")
def api_record_identity(step_id: int):
    body = json_body()
    crossing = operations.record_identity(
        workflow.get_step(step_id),
        current_user,
        **{field: text_field(body, field) for field in operations.IDENTITY_FIELDS},
    )
    return jsonify(crossing_json(crossing))
