"""``POST /api/v1/crossings/<id>/readmission``: the exit country records that it took the person back (the same
operation as the counter page's form, osbp/queues/readmissions.py)."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from osbp.api.blueprint import bp
from osbp.api.inputs import json_body, text_field
from osbp.queues.readmissions import readmit


def _ts(value):
    return value.isoformat() if value else None


def readmission_json(task) -> dict:
    return {
        "crossing_id": task.crossing_id,
        "country": task.country,
        "agency": task.agency.code,
        "reason": task.reason,
        "exit_step_id": task.exit_step_id,
        "created_at": _ts(task.created_at),
        "recorded_at": _ts(task.recorded_at),
        "recorded_by": task.recorded_by_id,
        "note": task.note,
    }


@bp.post("/crossings/<int:crossing_id>/readmission")
def record_readmission(crossing_id: int):
    body = json_body() if request.get_data() else {}  # no body: no note
    task = readmit(crossing_id, current_user, text_field(body, "note", required=False))
    return jsonify(readmission_json(task))
