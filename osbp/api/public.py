"""Public and device data of /api/v1: a ticket's status (the kiosk's and phones' lookup) and the board's state.

``GET /tickets/<code>/status`` needs no login: it is rate-limited per client (a kiosk device, else the remote
address) and carries no personal data. ``GET /board`` is for board devices and staff of the post.
``extend_openapi`` adds both to the OpenAPI document.
"""

from __future__ import annotations

import contextlib

from flask import current_app, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from osbp import sequence
from osbp.api.blueprint import bp
from osbp.api.openapi import TICKET_CODE
from osbp.config import SUPPORTED_LOCALES
from osbp.errors import BadRequest, Invalid, NotFound
from osbp.extensions import db
from osbp.i18n import normalise_locale
from osbp.live import operations as live
from osbp.live.limits import retry_after_header, status_limiter
from osbp.post.models import Post
from osbp.web import error_response


def _client_key() -> str:
    """A logged-in device (or user) has its own bucket; anyone else is counted by address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"addr:{request.remote_addr}"


def _post_for_request() -> Post:
    """The caller's post; anonymous callers name it (?post=RUSIZI-II) unless the server runs only one."""
    if current_user.is_authenticated:
        return current_user.post
    code = request.args.get("post")
    if code:
        post = db.session.scalar(select(Post).where(Post.code == code[:32]))
        if post is None:
            raise NotFound(_("No post %(code)s.", code=code[:32]), code="post_not_found")
        return post
    posts = list(db.session.scalars(select(Post).limit(2)))
    if len(posts) != 1:
        raise BadRequest(_("Name the post: add ?post= and the post's code."), code="post_required")
    return posts[0]


@bp.get("/tickets/<code>/status")
def ticket_status(code: str):
    wait = status_limiter().take(_client_key(), current_app.config["OSBP"].status_rate_per_minute)
    if wait:
        response, status = error_response(
            429, "too_many_requests", _("Too many requests. Wait a moment and try again.")
        )
        response.headers["Retry-After"] = retry_after_header(wait)
        return response, status
    normalised = live.normalise_code(code)
    if normalised is None:
        raise Invalid(_("A ticket code is a letter and a number, like T-042."), code="invalid_ticket_code")
    post = _post_for_request()
    seq = sequence.current(post.id)  # before the ticket: the kiosk's snapshot (osbp/sequence.py)
    ticket = live.find_ticket(post, normalised)
    if ticket is None:
        raise NotFound(_("No ticket %(code)s today.", code=normalised), code="ticket_not_found")
    locale = normalise_locale(request.args.get("lang"))
    with force_locale(locale) if locale else contextlib.nullcontext():
        return jsonify({**live.ticket_status(ticket), "seq": seq})


@bp.get("/board")
def board():
    """What a display board shows: the last calls and the waits per counter of the caller's post."""
    return jsonify(live.board_state(current_user.post))


def extend_openapi(document: dict) -> dict:
    """Add the public ticket status and the board's state to the OpenAPI document."""
    errors = {code: {"$ref": "#/components/responses/Error"} for code in ("400", "404", "422")}
    station = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string", "example": "C3"},
            "name": {"type": "string", "example": "Counter 3"},
            "open": {"type": "boolean"},
        },
    }
    document["paths"]["/tickets/{code}/status"] = {
        "get": {
            "summary": "A ticket's status for its holder: step, position, wait, where to go. Public, no personal data",
            "description": "No login. Rate-limited per client (OSBP_STATUS_RATE_PER_MINUTE, default 30): "
            "429 with Retry-After when exceeded. Anonymous callers name the post with ?post= when the server "
            "runs several. ?lang=en|fr|rw|sw chooses the language of labels and messages.",
            "security": [],
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": TICKET_CODE},
                {"name": "post", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 32}},
                {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": list(SUPPORTED_LOCALES)},
                },
            ],
            "responses": {
                "200": {
                    "description": "The ticket's status",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TicketStatus"}}},
                },
                "429": {"$ref": "#/components/responses/Error"},
                **errors,
            },
        }
    }
    document["paths"]["/board"] = {
        "get": {
            "summary": "What a display board shows: last calls and waits per counter (no personal data)",
            "responses": {
                "200": {
                    "description": "The board's state",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BoardState"}}},
                },
                "401": {"$ref": "#/components/responses/Error"},
            },
        }
    }
    nullable_int = {"type": "integer", "nullable": True}
    document["components"]["schemas"]["TicketStatus"] = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "example": "T-042"},
            "status": {"type": "string", "enum": ["waiting", "called", "cleared", "closed"]},
            "message": {"type": "string", "example": "Go to Counter 3 now."},
            "category": {"type": "string", "enum": ["traveller", "trader", "resident", "driver"]},
            "category_label": {"type": "string"},
            "direction": {"type": "string", "example": "RW-CD"},
            "direction_label": {"type": "string"},
            "current_step": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "label": {"type": "string", "example": "CD Health — screening"},
                    "agency_kind": {"type": "string", "enum": ["immigration", "customs", "health"]},
                    "agency_kind_label": {"type": "string"},
                    "country": {"type": "string"},
                },
            },
            "steps": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "label": {"type": "string"},
                        "state": {"type": "string", "enum": ["done", "current", "next"]},
                    },
                },
            },
            "position": {**nullable_int, "description": "1 = next to be called in its queue"},
            "estimated_wait_minutes": {
                **nullable_int,
                "description": "Waiting: the estimate, in whole minutes (at least 1). Null when not waiting, and when "
                "unstaffed: never a number of minutes for a queue nobody serves",
            },
            "unstaffed": {
                "type": "boolean",
                "description": "Waiting in a queue with no officer of its step's agency seated at any open counter "
                "that may call it: there is no estimate",
            },
            "unstaffed_message": {
                "type": "string",
                "nullable": True,
                "example": "No officer at Counter 3 yet.",
                "description": "When unstaffed: the sentence naming the counters (the open ones that will call it, "
                "else every counter serving its step), to show where the wait goes. Null otherwise",
            },
            "station": {**station, "nullable": True, "description": "Where to go now (when called)"},
            "stations": {"type": "array", "items": station, "description": "Where it will be called (waiting)"},
            "fees": {
                "type": "object",
                "properties": {"due": {"type": "array", "items": {"type": "object"}}, "message": {"type": "string"}},
            },
            "documents": {"type": "array", "items": {"type": "string"}},
            "updated_at": {"type": "string", "format": "date-time"},
            "seq": {
                "type": "integer",
                "description": "The post's live number, read before the state: an event carrying a number at most "
                "this one is already in it (docs/live.md)",
            },
        },
    }
    document["components"]["schemas"]["BoardState"] = {
        "type": "object",
        "properties": {
            "calls": {
                "type": "array",
                "description": "Newest first, one per ticket (its latest call): the current call and the six before it",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "station_id": {"type": "integer"},
                        "station_code": {"type": "string"},
                        "station": {"type": "string"},
                        "recall": {"type": "boolean", "description": 'This latest call was a recall (shown "again")'},
                    },
                },
            },
            "queues": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "station_id": {"type": "integer"},
                        "station_code": {"type": "string"},
                        "open": {"type": "boolean"},
                        "state": {"type": "string", "enum": ["open", "paused", "closed"]},
                        "waiting": {"type": "integer", "description": "Tickets in this counter's line"},
                        "wait_minutes": {
                            **nullable_int,
                            "description": "Estimated wait of the last in line with an estimate (0: nobody waits). "
                            "Null when the counter is not open, or when everyone in its line is unstaffed",
                        },
                        "unstaffed": {
                            "type": "integer",
                            "description": "Of those waiting, how many have no officer of their step's agency seated "
                            'at any open counter that may call them (the board says "No officer yet")',
                        },
                    },
                },
            },
            "at": {"type": "string", "format": "date-time"},
            "seq": {
                "type": "integer",
                "description": "The post's live number, read before the state: an event carrying a number at most "
                "this one is already in it (docs/live.md)",
            },
        },
    }
    return document
