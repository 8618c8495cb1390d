"""The OpenAPI 3 document of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from osbp.queues.models import CHANNELS, PRIORITY_KINDS, STATION_STATES, TICKET_STATUSES
from osbp.validation import MAX_ID, MAX_REASON
from osbp.workflow.models import CATEGORIES, Outcome

_ERROR = {"$ref": "#/components/responses/Error"}


def _json(schema_ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


# Every request field states its bounds (enum, maxLength, minimum/maximum), so a client can validate before sending;
# tests/test_api_schema.py checks that none is left open and runs schemathesis against the document.
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
REASON = {"type": "string", "maxLength": MAX_REASON}
TICKET_CODE = {"type": "string", "minLength": 1, "maxLength": 16, "example": "T-042"}
DIRECTION = {"type": "string", "pattern": "^[A-Z]{2}-[A-Z]{2}$", "maxLength": 5, "example": "RW-CD"}


def _id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def document() -> dict:
    errors = {"400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "409": _ERROR, "422": _ERROR}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "osbp — One Stop Border Post API",
            "version": "1.0.0",
            "description": "Tickets, crossings, stations and step decisions. Authenticate with a session cookie "
            "(send the CSRF token in X-CSRFToken) or with Authorization: Bearer <token> "
            "(flask --app osbp create-token USERNAME).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/tickets": {
                "post": {
                    "summary": "Issue a ticket and open a crossing with its route",
                    "requestBody": {"required": True, "content": _json("TicketRequest")},
                    "responses": {"201": {"description": "Ticket issued", "content": _json("Ticket")}, **errors},
                }
            },
            "/crossings/{crossing_id}": {
                "get": {
                    "summary": "A crossing with its ordered steps, status and timestamps",
                    "parameters": [_id("crossing_id")],
                    "responses": {"200": {"description": "The crossing", "content": _json("Crossing")}, **errors},
                }
            },
            "/crossings/{crossing_id}/readmission": {
                "post": {
                    "summary": "Record that the exit country took back a person refused or gone after the exit",
                    "description": "For an officer of the agency whose exit step was cleared (seated or not). "
                    "Closes the re-admission task and annuls the exit (a step event exit_annulled); audited as "
                    "crossing.readmitted. 403 wrong_agency / not_officer / wrong_post, 404 crossing_not_found, "
                    "409 no_readmission (nothing to re-admit) or readmission_recorded (already recorded).",
                    "parameters": [_id("crossing_id")],
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"note": {**REASON, "nullable": True}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The re-admission, recorded",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "crossing_id": {"type": "integer"},
                                            "country": {"type": "string", "example": "RW"},
                                            "agency": {"type": "string", "example": "RW-IMM"},
                                            "reason": {"type": "string", "enum": ["refused", "no_show"]},
                                            "exit_step_id": {"type": "integer"},
                                            "created_at": {"type": "string", "format": "date-time"},
                                            "recorded_at": {"type": "string", "format": "date-time"},
                                            "recorded_by": {"type": "integer"},
                                            "note": {"type": "string", "nullable": True},
                                        },
                                    }
                                }
                            },
                        },
                        **errors,
                    },
                }
            },
            "/stations": {
                "get": {
                    "summary": "Stations with the step kinds they serve and their queue length",
                    "responses": {"200": {"description": "Stations", "content": _json("StationList")}, **errors},
                }
            },
            "/stations/{station_id}/seat": {
                "post": {
                    "summary": "Seat the calling officer at a station serving their agency",
                    "parameters": [_id("station_id")],
                    "responses": {"200": {"description": "Seated"}, **errors},
                }
            },
            "/stations/{station_id}/call-next": {
                "post": {
                    "summary": "Call the longest-waiting ticket this station serves (atomic)",
                    "parameters": [_id("station_id")],
                    "responses": {
                        "200": {"description": "Ticket called", "content": _json("Called")},
                        "204": {"description": "Nobody is waiting for this station"},
                        **errors,
                    },
                }
            },
            "/steps/{step_id}/decision": {
                "post": {
                    "summary": "Record cleared, referred (secondary inspection) or refused",
                    "parameters": [_id("step_id")],
                    "requestBody": {"required": True, "content": _json("Decision")},
                    "responses": {"200": {"description": "New state", "content": _json("DecisionResult")}, **errors},
                }
            },
            **_queue_paths(errors),
            **_agency_paths(errors),
            **_gate_paths(),
            **_report_paths(),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "osbp_session"},
            },
            "responses": {"Error": {"description": "Error", "content": _json("Error")}},
            "schemas": {**_schemas(), **_agency_schemas()},
        },
    }


def _schemas() -> dict:
    ts = {"type": "string", "format": "date-time", "nullable": True}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
        "TicketRequest": {
            "type": "object",
            "required": ["direction", "category"],
            "properties": {
                "direction": DIRECTION,
                "category": {"type": "string", "enum": list(CATEGORIES)},
                "priority": {"type": "string", "enum": list(PRIORITY_KINDS), "nullable": True},
                "channel": {
                    "type": "string",
                    "enum": ["desk"],
                    "description": "Optional. The channel comes from the caller's account (desk for a person's "
                    "token or session); any other value is refused with 422 channel_mismatch.",
                },
            },
        },
        "Ticket": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "T-042"},
                "status": {"type": "string", "enum": list(TICKET_STATUSES)},
                "crossing_id": {"type": "integer"},
                "service_date": {"type": "string", "format": "date"},
                "station_id": {"type": "integer", "nullable": True},
                "issued_at": ts,
                "queued_at": ts,
                "called_at": ts,
                "channel": {"type": "string", "enum": list(CHANNELS)},
                "priority": {"type": "string", "enum": list(PRIORITY_KINDS), "nullable": True},
                "target_station_id": {
                    "type": "integer",
                    "nullable": True,
                    "description": "After a transfer: the one station the ticket waits for",
                },
                "recalls": {"type": "integer", "description": "Recalls since it was called"},
            },
        },
        "StepKind": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "code": {"type": "string", "example": "RW-IMM-EXIT"},
                "country": {"type": "string"},
                "agency": {"type": "string"},
                "agency_kind": {"type": "string", "enum": ["immigration", "customs", "health"]},
                "control": {"type": "string", "enum": ["exit", "entry", "export", "import", "screening"]},
            },
        },
        "Step": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "position": {"type": "integer"},
                "kind": {"$ref": "#/components/schemas/StepKind"},
                "status": {
                    "type": "string",
                    "enum": [
                        "pending",
                        "waiting",
                        "called",
                        "in_progress",
                        "referred",
                        "cleared",
                        "refused",
                        "cancelled",
                    ],
                },
                "outcome": {"type": "string", "nullable": True},
                "reason": {"type": "string", "nullable": True},
                "secondary": {"type": "boolean"},
                "referral_reason": {"type": "string", "nullable": True},
                "station_id": {"type": "integer", "nullable": True},
                "queued_at": ts,
                "called_at": ts,
                "started_at": ts,
                "started_by": {"type": "integer", "nullable": True},
                "decided_at": ts,
                "decided_by": {"type": "integer", "nullable": True},
                "events": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "kind": {"type": "string"},
                            "at": ts,
                            "user_id": {"type": "integer", "nullable": True},
                            "station_id": {"type": "integer", "nullable": True},
                        },
                    },
                },
            },
        },
        "Crossing": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "direction": {"type": "string"},
                "category": {"type": "string"},
                "status": {"type": "string", "enum": ["in_progress", "cleared", "refused", "no_show"]},
                "ticket": {"type": "string", "nullable": True},
                "created_at": ts,
                "ended_at": ts,
                "refusal_reason": {"type": "string", "nullable": True},
                "readmission_required": {"type": "boolean"},
                "gate_pass": {"type": "object", "nullable": True},
                "holder": {"type": "object", "nullable": True},
                "steps": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}},
            },
        },
        "Called": {
            "type": "object",
            "properties": {
                "ticket": {"$ref": "#/components/schemas/Ticket"},
                "crossing": {"$ref": "#/components/schemas/Crossing"},
                "steps_here": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}},
            },
        },
        "Decision": {
            "type": "object",
            "required": ["outcome"],
            "properties": {
                "outcome": {"type": "string", "enum": list(Outcome)},
                "reason": {**REASON, "nullable": True, "description": "Required for referred and refused"},
            },
        },
        "DecisionResult": {
            "type": "object",
            "properties": {
                "step": {"$ref": "#/components/schemas/Step"},
                "crossing": {"$ref": "#/components/schemas/Crossing"},
            },
        },
        "StationList": {
            "type": "object",
            "properties": {
                "stations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "code": {"type": "string"},
                            "name": {"type": "string"},
                            "stage": {"type": "string", "enum": ["primary", "secondary"]},
                            "open": {"type": "boolean"},
                            "state": {"type": "string", "enum": list(STATION_STATES)},
                            "step_kinds": {"type": "array", "items": {"$ref": "#/components/schemas/StepKind"}},
                            "queue_length": {"type": "integer"},
                            "wait_seconds": {
                                "type": "integer",
                                "nullable": True,
                                "description": "Estimated wait of the last in line (null: nobody seated to serve it)",
                            },
                            "seated": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                }
            },
        },
        **_queue_schemas(),
        "GateOut": {
            "type": "object",
            "description": "What the gate officer needs to match the person to the pass; nothing more personal",
            "properties": {
                "gate_pass_code": {"type": "string", "example": "GP-ABCD2345"},
                "gate_out_at": {"type": "string", "format": "date-time"},
                "direction": {"type": "string", "example": "RW-CD"},
                "category": {"type": "string", "enum": ["traveller", "trader", "resident", "driver"]},
                "holder_name": {"type": "string", "nullable": True},
                "document_type": {"type": "string", "nullable": True},
            },
        },
    }


def _agency_paths(errors: dict) -> dict:
    """Each agency's routes (osbp/agencies, through the contract in osbp/workflow/contract.py)."""
    from osbp.workflow import contract

    paths: dict = {}
    for control in contract.controls():
        paths.update(control.openapi_paths(errors))
    return paths


def _agency_schemas() -> dict:
    from osbp.workflow import contract

    schemas: dict = {}
    for control in contract.controls():
        schemas.update(control.openapi_schemas())
    return schemas


def _gate_paths() -> dict:
    """The exit gate (osbp/gate): a gate pass is valid once."""

    def error(description: str) -> dict:
        return {"description": description, "content": _json("Error")}

    return {
        "/gate-passes/{code}/exit": {
            "post": {
                "summary": "A gate officer of the crossing's destination country records the gate-out (once per pass)",
                "parameters": [
                    {
                        "name": "code",
                        "in": "path",
                        "required": True,
                        "description": "The pass code as scanned or typed; case and the GP- prefix do not matter",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 32, "example": "GP-ABCD2345"},
                    }
                ],
                "responses": {
                    "200": {"description": "Gate-out recorded", "content": _json("GateOut")},
                    "400": error("csrf_failed: a session-cookie call without X-CSRFToken"),
                    "401": _ERROR,
                    "403": error(
                        "not_gate_officer: the caller is not a gate officer of this post; "
                        "wrong_gate: the pass is for the gate into the other country"
                    ),
                    "404": error("gate_pass_unknown: no such pass at this post"),
                    "409": error(
                        "gate_pass_used: already used (the message says when); "
                        "gate_pass_not_valid: the crossing is not cleared"
                    ),
                    "422": error("invalid_gate_pass_code: not a gate pass code"),
                },
            }
        }
    }


def _report_paths() -> dict:
    from osbp.bilateral.openapi import paths

    return paths()


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _code() -> dict:
    return {"name": "code", "in": "path", "required": True, "schema": TICKET_CODE}


def _station_action(summary: str, result: str, errors: dict, body: str | None = None) -> dict:
    operation = {
        "summary": summary,
        "parameters": [_id("station_id")],
        "responses": {"200": {"description": "Done", "content": _json(result)}, **errors},
    }
    if body:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    return {"post": operation}


def _queue_paths(errors: dict) -> dict:
    """Tickets by code, the queues' waits, and the station actions (docs/queues.md)."""
    return {
        "/tickets/{code}": {
            "get": {
                "summary": "A ticket of the caller's post: state, priority, place in line and estimated wait",
                "parameters": [_code()],
                "responses": {"200": {"description": "The ticket", "content": _json("TicketWithWait")}, **errors},
            }
        },
        "/tickets/{code}/priority": {
            "post": {
                "summary": "Flag (or clear, with null) a ticket's priority, with a reason (audited). Supervisors: any "
                "ticket in a queue; officers: the ticket called at their counter",
                "parameters": [_code()],
                "requestBody": {"required": True, "content": _json("PriorityRequest")},
                "responses": {"200": {"description": "The ticket", "content": _json("TicketWithWait")}, **errors},
            }
        },
        "/tickets/{code}/transfer": {
            "post": {
                "summary": "Move a ticket to another station serving its next step (same code, same place in line). "
                "Supervisors: any waiting or called ticket; officers: the ticket called at their counter",
                "parameters": [_code()],
                "requestBody": {"required": True, "content": _json("TransferRequest")},
                "responses": {"200": {"description": "The ticket", "content": _json("TicketWithWait")}, **errors},
            }
        },
        "/queues": {
            "get": {
                "summary": "Each station's line length and estimated wait, and the service times behind them",
                "responses": {"200": {"description": "Queues", "content": _json("QueueWaits")}, **errors},
            }
        },
        "/stations/{station_id}/recall": _station_action(
            "Chime the called ticket again (at most OSBP_MAX_RECALLS times, before the service starts)",
            "TicketResult",
            errors,
        ),
        "/stations/{station_id}/no-show": _station_action(
            "After OSBP_MAX_RECALLS recalls: the ticket goes to the end of its queue or is cancelled "
            "(OSBP_NO_SHOW_POLICY)",
            "TicketResult",
            errors,
        ),
        "/stations/{station_id}/transfer": _station_action(
            "Transfer the ticket called here to another station serving its next step",
            "TicketWithWait",
            errors,
            "TransferRequest",
        ),
        "/stations/{station_id}/start": _station_action(
            "The calling officer starts their step on the ticket called here", "StartResult", errors
        ),
        "/stations/{station_id}/finish": _station_action(
            "The calling officer ends their step on the ticket called here (body optional: cleared)",
            "DecisionResult",
            errors,
            "Decision",
        ),
        "/stations/{station_id}/pause": _station_action(
            "Pause: keep the current ticket, call nobody new (supervisors, or an officer seated here)",
            "StationState",
            errors,
        ),
        "/stations/{station_id}/open": _station_action(
            "Open a closed station or resume a paused one (supervisors, or an officer seated here)",
            "StationState",
            errors,
        ),
        "/stations/{station_id}/close": _station_action(
            "Close: a called ticket not yet started goes back to its queue with its place kept (409 if its service "
            "started); tickets transferred here wait for any station again",
            "StationState",
            errors,
        ),
    }


def _queue_schemas() -> dict:
    integer = {"type": "integer"}
    return {
        "Wait": {
            "type": "object",
            "properties": {
                "position": {"type": "integer", "description": "1 = next; 0 = called or no longer waiting"},
                "wait_seconds": {
                    "type": "integer",
                    "nullable": True,
                    "description": "Estimated wait; null when unstaffed (no estimate for a queue nobody serves)",
                },
                "station_ids": {"type": "array", "items": integer, "description": "Open stations that may call it"},
                "servers": {"type": "integer", "description": "Of those, not paused and staffed for its step"},
                "unstaffed": {
                    "type": "boolean",
                    "description": "Waiting, and no officer of its step's agency is seated at any open station that "
                    "may call it",
                },
            },
        },
        "TicketWithWait": {"type": "object", "properties": {"ticket": _ref("Ticket"), "wait": _ref("Wait")}},
        "TicketResult": {"type": "object", "properties": {"ticket": _ref("Ticket")}},
        "StartResult": {"type": "object", "properties": {"step": _ref("Step"), "ticket": _ref("Ticket")}},
        "PriorityRequest": {
            "type": "object",
            "required": ["priority", "reason"],
            "properties": {
                "priority": {"type": "string", "enum": list(PRIORITY_KINDS), "nullable": True},
                "reason": REASON,
            },
        },
        "TransferRequest": {
            "type": "object",
            "required": ["station_id"],
            "properties": {"station_id": ID},
        },
        "StationState": {
            "type": "object",
            "properties": {
                "id": integer,
                "code": {"type": "string"},
                "name": {"type": "string"},
                "state": {"type": "string", "enum": list(STATION_STATES)},
                "open": {"type": "boolean"},
                "returned": {"type": "string", "nullable": True, "description": "close: ticket sent back to its queue"},
                "released": {"type": "array", "items": {"type": "string"}, "description": "close: targets released"},
            },
        },
        "QueueWaits": {
            "type": "object",
            "properties": {
                "stations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "station_id": integer,
                            "length": integer,
                            "wait_seconds": {
                                "type": "integer",
                                "nullable": True,
                                "description": "Wait of the last in line with an estimate; 0 when nobody waits; "
                                "null when everyone in the line is unstaffed",
                            },
                            "unstaffed": {"type": "integer", "description": "Of the line, tickets with no officer"},
                        },
                    },
                },
                "service_times": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "step_kind_id": integer,
                            "stage": {"type": "string", "enum": ["primary", "secondary"]},
                            "seconds": {"type": "integer", "description": "Median of recent visits, or the default"},
                            "samples": integer,
                        },
                    },
                },
            },
        },
    }
