"""Immigration's routes: the identity form on the counter page and the same through the API."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request, url_for
from flask_login import current_user

from osbp.agencies.immigration import operations
from osbp.api.controllers import crossing_json
from osbp.api.inputs import json_body, text_field
from osbp.web import form_action, local_path
from osbp.workflow import operations as workflow

pages = Blueprint("immigration", __name__)
api = Blueprint("immigration_api", __name__, url_prefix="/api/v1")


@pages.post("/steps/<int:step_id>/identity")
def record_identity(step_id: int):
    back = local_path(request.form.get("back"), url_for("queues.home"))

    def action():
        operations.record_identity(
            workflow.get_step(step_id),
            current_user,
            holder_name=request.form.get("holder_name"),
            nationality=request.form.get("nationality"),
            document_type=request.form.get("document_type"),
            document_number=request.form.get("document_number"),
            birth_date=request.form.get("birth_date"),
        )
        return redirect(back)

    return form_action(action, back)


@api.post("/steps/<int:step_id>/identity")
def api_record_identity(step_id: int):
    body = json_body()
    crossing = operations.record_identity(
        workflow.get_step(step_id),
        current_user,
        **{field: text_field(body, field) for field in operations.IDENTITY_FIELDS},
    )
    return jsonify(crossing_json(crossing))
