"""API controllers: parse, authorise, call operations, shape JSON."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from osbp.agencies import immigration
from osbp.api import serializers
from osbp.api.blueprint import bp
from osbp.api.openapi import document
from osbp.audit import operations as audit
from osbp.errors import BadRequest, Invalid
from osbp.extensions import db
from osbp.queues import operations as queues
from osbp.queues.models import Ticket
from osbp.workflow import operations as workflow


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_("Send a JSON object with Content-Type: application/json."), code="bad_json")
    return body


def _string(body: dict, key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise Invalid(_("The field %(field)s must be text.", field=key), code="invalid_field", field=key)
    return value


def _ticket_for(crossing_id: int):
    return db.session.scalar(select(Ticket).where(Ticket.crossing_id == crossing_id))


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.post("/tickets")
def create_ticket():
    body = _body()
    ticket = queues.issue_ticket(
        current_user.post, _string(body, "direction"), _string(body, "category"), issued_by=current_user
    )
    payload = serializers.ticket(ticket)
    payload["crossing_id"] = ticket.crossing_id
    return jsonify(payload), 201


@bp.get("/crossings/<int:crossing_id>")
def get_crossing(crossing_id: int):
    crossing = workflow.get_crossing(crossing_id)
    workflow.ensure_can_view(crossing, current_user)
    audit.record("crossing.viewed", user=current_user, obj=crossing, via="api")
    return jsonify(serializers.crossing(crossing, _ticket_for(crossing.id)))


@bp.get("/stations")
def list_stations():
    lengths = queues.queue_lengths(current_user.post_id)
    seated = queues.seated_officers(current_user.post_id)
    return jsonify(
        {
            "stations": [
                serializers.station(s, lengths.get(s.id, 0), seated.get(s.id, ()))
                for s in queues.list_stations(current_user.post_id)
            ]
        }
    )


@bp.post("/stations/<int:station_id>/seat")
def take_seat(station_id: int):
    station = queues.get_station(station_id, current_user.post_id)
    queues.take_seat(station, current_user)
    return jsonify({"station_id": station.id, "seated": current_user.username})


@bp.post("/stations/<int:station_id>/call-next")
def call_next(station_id: int):
    station = queues.get_station(station_id, current_user.post_id)
    called = queues.call_next(station, current_user)
    if called is None:
        return "", 204
    ticket, steps = called
    return jsonify(
        {
            "ticket": serializers.ticket(ticket),
            "crossing": serializers.crossing(ticket.crossing, ticket),
            "steps_here": [serializers.step(s) for s in steps],
        }
    )


@bp.post("/steps/<int:step_id>/identity")
def record_identity(step_id: int):
    body = _body()
    step = workflow.get_step(step_id)
    crossing = immigration.record_identity(
        step,
        current_user,
        holder_name=_string(body, "holder_name"),
        nationality=_string(body, "nationality"),
        document_type=_string(body, "document_type"),
        document_number=_string(body, "document_number"),
        birth_date=_string(body, "birth_date"),
    )
    return jsonify(serializers.crossing(crossing, _ticket_for(crossing.id)))


@bp.post("/steps/<int:step_id>/decision")
def decide(step_id: int):
    body = _body()
    step = workflow.get_step(step_id)
    workflow.decide_step(step, current_user, _string(body, "outcome"), _string(body, "reason", required=False))
    crossing = step.crossing
    return jsonify(
        {"step": serializers.step(step), "crossing": serializers.crossing(crossing, _ticket_for(crossing.id))}
    )
