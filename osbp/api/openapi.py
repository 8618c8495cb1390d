"""The OpenAPI 3 document of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

_ERROR = {"$ref": "#/components/responses/Error"}


def _json(schema_ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


def _id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


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
            "/steps/{step_id}/identity": {
                "post": {
                    "summary": "Immigration records the person's identity and travel document",
                    "parameters": [_id("step_id")],
                    "requestBody": {"required": True, "content": _json("Identity")},
                    "responses": {"200": {"description": "Crossing", "content": _json("Crossing")}, **errors},
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
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "osbp_session"},
            },
            "responses": {"Error": {"description": "Error", "content": _json("Error")}},
            "schemas": _schemas(),
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
                "direction": {"type": "string", "example": "RW-CD"},
                "category": {"type": "string", "enum": ["traveller", "trader", "resident", "driver"]},
            },
        },
        "Ticket": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "T-042"},
                "status": {"type": "string", "enum": ["waiting", "called", "done"]},
                "crossing_id": {"type": "integer"},
                "service_date": {"type": "string", "format": "date"},
                "station_id": {"type": "integer", "nullable": True},
                "issued_at": ts,
                "queued_at": ts,
                "called_at": ts,
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
                "status": {"type": "string", "enum": ["in_progress", "cleared", "refused"]},
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
        "Identity": {
            "type": "object",
            "required": ["holder_name", "nationality", "document_type", "document_number", "birth_date"],
            "properties": {
                "holder_name": {"type": "string"},
                "nationality": {"type": "string", "example": "RWA"},
                "document_type": {
                    "type": "string",
                    "enum": ["passport", "national_id", "cepgl_pass", "laissez_passer", "emergency_travel_document"],
                },
                "document_number": {"type": "string"},
                "birth_date": {"type": "string", "format": "date"},
            },
        },
        "Decision": {
            "type": "object",
            "required": ["outcome"],
            "properties": {
                "outcome": {"type": "string", "enum": ["cleared", "referred", "refused"]},
                "reason": {"type": "string", "description": "Required for referred and refused"},
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
                            "step_kinds": {"type": "array", "items": {"$ref": "#/components/schemas/StepKind"}},
                            "queue_length": {"type": "integer"},
                            "seated": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                }
            },
        },
    }
