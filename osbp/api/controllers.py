"""API controllers: parse, authorise, call operations, shape JSON."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from osbp import permissions
from osbp.api import serializers
from osbp.api.blueprint import bp
from osbp.api.inputs import json_body, text_field, whole_number
from osbp.api.openapi import document
from osbp.audit import operations as audit
from osbp.errors import Invalid
from osbp.extensions import db
from osbp.queues import estimator
from osbp.queues import operations as queues
from osbp.queues.models import Ticket
from osbp.workflow import operations as workflow


def crossing_json(crossing) -> dict:
    """A crossing with its ticket's code and each agency's record (the API's Crossing)."""
    return serializers.crossing(crossing, _ticket_for(crossing.id))


def _ticket_for(crossing_id: int):
    return db.session.scalar(select(Ticket).where(Ticket.crossing_id == crossing_id))


@bp.get("/openapi.json")
def openapi():
    from osbp.api.public import extend_openapi  # the live layer's public status and board

    return jsonify(extend_openapi(document()))


@bp.post("/tickets")
def create_ticket():
    body = json_body()
    ticket = queues.issue_ticket(
        current_user.post,
        text_field(body, "direction"),
        text_field(body, "category"),
        issued_by=current_user,
        channel=queues.ensure_channel(text_field(body, "channel", required=False), current_user),
        priority=text_field(body, "priority", required=False),
    )
    payload = serializers.ticket(ticket)
    payload["crossing_id"] = ticket.crossing_id
    return jsonify(payload), 201


@bp.get("/crossings/<int:crossing_id>")
def get_crossing(crossing_id: int):
    crossing = workflow.get_crossing(crossing_id)
    permissions.ensure_can_view(crossing, current_user)
    audit.record("crossing.viewed", user=current_user, obj=crossing, via="api")
    return jsonify(crossing_json(crossing))


@bp.get("/stations")
def list_stations():
    waits = estimator.queue_waits(current_user.post_id)
    seated = queues.seated_officers(current_user.post_id)
    empty = {"length": 0, "wait_seconds": 0}
    return jsonify(
        {
            "stations": [
                serializers.station(
                    s, waits.get(s.id, empty)["length"], seated.get(s.id, ()), waits.get(s.id, empty)["wait_seconds"]
                )
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


@bp.post("/steps/<int:step_id>/decision")
def decide(step_id: int):
    body = json_body()
    step = workflow.get_step(step_id)
    queues.decide_step(step, current_user, text_field(body, "outcome"), text_field(body, "reason", required=False))
    return jsonify(_decided(step))


def _decided(step) -> dict:
    crossing = crossing_json(step.crossing)  # loads every step's timeline once
    return {"step": serializers.step(step), "crossing": crossing}


# Tickets by code, the queues' waits, and station actions (docs/queues.md).


def _station(station_id: int):
    return queues.get_station(station_id, current_user.post_id)


def _ticket_payload(ticket) -> dict:
    return {"ticket": serializers.ticket(ticket), "wait": serializers.ticket_wait(estimator.ticket_wait(ticket))}


@bp.get("/tickets/<code>")
def get_ticket(code: str):
    return jsonify(_ticket_payload(queues.get_ticket_by_code(current_user.post, code)))


@bp.post("/tickets/<code>/priority")
def set_priority(code: str):
    body = json_body()
    if "priority" not in body:
        raise Invalid(_("The field %(field)s is required.", field="priority"), code="invalid_field", field="priority")
    ticket = queues.set_priority(
        queues.get_ticket_by_code(current_user.post, code),
        current_user,
        text_field(body, "priority", required=False),
        text_field(body, "reason", required=False),
    )
    return jsonify(_ticket_payload(ticket))


@bp.post("/tickets/<code>/transfer")
def transfer_ticket(code: str):
    body = json_body()
    ticket = queues.get_ticket_by_code(current_user.post, code)
    ticket = queues.transfer(ticket, _station(whole_number(body, "station_id")), current_user)
    return jsonify(_ticket_payload(ticket))


@bp.get("/queues")
def queue_waits():
    post_id = current_user.post_id
    return jsonify(
        {
            "stations": [
                {"station_id": station_id, **line}
                for station_id, line in sorted(estimator.queue_waits(post_id).items())
            ],
            "service_times": [
                {"step_kind_id": kind, "stage": stage, **times}
                for (kind, stage), times in sorted(estimator.service_times(post_id).items())
            ],
        }
    )


@bp.post("/stations/<int:station_id>/recall")
def recall(station_id: int):
    return jsonify({"ticket": serializers.ticket(queues.recall(_station(station_id), current_user))})


@bp.post("/stations/<int:station_id>/no-show")
def no_show(station_id: int):
    return jsonify({"ticket": serializers.ticket(queues.no_show(_station(station_id), current_user))})


@bp.post("/stations/<int:station_id>/transfer")
def transfer_called(station_id: int):
    body = json_body()
    station = _station(station_id)
    target = _station(whole_number(body, "station_id"))
    return jsonify(_ticket_payload(queues.transfer(queues.called_ticket(station), target, current_user)))


@bp.post("/stations/<int:station_id>/start")
def start_service(station_id: int):
    step = queues.start_my_step(_station(station_id), current_user)
    return jsonify({"step": serializers.step(step), "ticket": serializers.ticket(_ticket_for(step.crossing_id))})


@bp.post("/stations/<int:station_id>/finish")
def finish_service(station_id: int):
    body = json_body() if request.get_data() else {}  # no body: cleared
    step = queues.decide_my_step(
        _station(station_id),
        current_user,
        text_field(body, "outcome", required=False) or "cleared",
        text_field(body, "reason", required=False),
    )
    return jsonify(_decided(step))


@bp.post("/stations/<int:station_id>/pause")
def pause_station(station_id: int):
    return jsonify(serializers.station_state(queues.pause_station(_station(station_id), current_user)))


@bp.post("/stations/<int:station_id>/open")
def open_station(station_id: int):
    return jsonify(serializers.station_state(queues.open_station(_station(station_id), current_user)))


@bp.post("/stations/<int:station_id>/close")
def close_station(station_id: int):
    station, returned, released = queues.close_station(_station(station_id), current_user)
    payload = serializers.station_state(station)
    payload["returned"] = returned.code if returned else None
    payload["released"] = [t.code for t in released]
    return jsonify(payload)
