"""Live pages: the device link, the display board, the traders' kiosk, a ticket's phone page (``/t/<code>``) and the
supervisors' live view."""

from __future__ import annotations

import contextlib
import secrets

from flask import abort, current_app, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from osbp import permissions
from osbp.audit import operations as audit
from osbp.config import SUPPORTED_LOCALES
from osbp.errors import Conflict, Forbidden
from osbp.i18n import STATION_STATE_LABELS, normalise_locale, station_name
from osbp.live import devices, phone, texts
from osbp.live import operations as live
from osbp.live.blueprint import bp
from osbp.live.kiosk import printed_ticket, take_ticket
from osbp.live.limits import retry_after_header, status_limiter
from osbp.queues import operations as queues
from osbp.roles import HOME_ENDPOINTS
from osbp.web import form_action
from osbp.workflow.models import CATEGORIES

KIOSK_IDLE_SECONDS = 120
KIOSK_REFRESH_SECONDS = 20
BOARD_REFRESH_SECONDS = 30
PHONE_REFRESH_SECONDS = 15  # a phone polls its ticket: 4 lookups a minute, well inside the status rate limit


def _require_role(*roles: str) -> None:
    if current_user.role not in roles:
        raise Forbidden(_("This page is for another kind of account."), code="wrong_role")


@bp.get("/device")
def device_setup():
    """The device set-up page: its form posts the device token, so the token never appears in a URL the server sees.

    The link ``flask --app osbp create-device`` prints carries the token in the fragment (``/live/device#<token>``),
    which browsers never send; device-setup.js moves it into the form and submits it. A technician without the link
    pastes the token. ``?print=1`` on the page sets a kiosk up for silent printing.
    """
    return render_template("live/device.html", prints=request.args.get("print") == "1")


@bp.post("/device")
def device_login():
    """Log a board or kiosk in with the token posted by the set-up page, then go to the device's page.

    Guessing is rate-limited like the public status lookup. A browser where a person is logged in is not turned into a
    device (a form planted on another site must not log an officer out; CSRF stops it first).
    """
    if status_limiter().take(f"device-link:{request.remote_addr}", current_app.config["OSBP"].status_rate_per_minute):
        abort(429)
    if current_user.is_authenticated and not current_user.is_device:
        raise Conflict(
            _(
                "You are logged in as %(username)s. Log out first, then open the device link.",
                username=current_user.username,
            ),
            code="logged_in",
        )
    found = devices.device_for_token(request.form.get("token", "").strip())
    if found is None:
        audit.record("device.login", "failed")
        return render_template(
            "live/device.html",
            prints=request.form.get("print") == "1",
            error=_("This device token is not valid. Ask for a new set-up link."),
        ), 404
    user, row = found
    devices.start_device_session(user, row, prints=request.form.get("print") == "1")
    return redirect(url_for(HOME_ENDPOINTS[user.role]))


# -- display board ---------------------------------------------------------------------------------------------------


@bp.get("/board")
def board():
    _require_role("board")
    post = current_user.post
    data = {
        "stations": live.board_stations(post),
        "state": live.board_state(post),
        "state_url": url_for("api.board"),
        "refresh_seconds": BOARD_REFRESH_SECONDS,
        "locales": list(texts.BOARD_LOCALES),
        "labels": {key: texts.translations_of(label) for key, label in texts.BOARD_LABELS.items()},
    }
    labels = {key: texts.in_each_language(label) for key, label in texts.BOARD_LABELS.items()}
    return render_template("live/board.html", post=post, data=data, labels=labels)


# -- kiosk -----------------------------------------------------------------------------------------------------------


def _locale_scope(locale: str | None):
    return force_locale(locale) if locale else contextlib.nullcontext()


@bp.app_template_global("printed_ticket")
def _printed_ticket(ticket):
    """What a ticket slip carries (code, QR, direction, first counter, time): the kiosk's and the desk's print."""
    return printed_ticket(ticket)


@bp.get("/kiosk")
def kiosk():
    """The start screen, or a ticket's status (``?ticket=``); ``&issued=1`` right after taking it (printed then)."""
    _require_role("kiosk")
    locale = normalise_locale(request.args.get("lang"))
    ticket = live.normalise_code(request.args.get("ticket", ""))
    issued = live.find_ticket(current_user.post, ticket) if ticket and request.args.get("issued") else None
    with _locale_scope(locale):
        return render_template(
            "live/kiosk.html",
            post=current_user.post,
            categories=CATEGORIES,
            here=get_locale().language,
            ticket=ticket,
            issued=issued is not None,
            printed=printed_ticket(issued) if issued is not None else None,
            prints=devices.prints_tickets(),
            nonce=secrets.token_urlsafe(16),
            rights=[str(right) for right in texts.RIGHTS],
            complaints=str(texts.COMPLAINTS),
            idle_seconds=KIOSK_IDLE_SECONDS,
            refresh_seconds=KIOSK_REFRESH_SECONDS,
        )


@bp.post("/kiosk/tickets")
def kiosk_issue():
    """Take a ticket at the kiosk. The form's nonce makes a double tap or a resubmission issue one ticket only."""
    _require_role("kiosk")
    locale = normalise_locale(request.form.get("lang"))
    back = url_for("live.kiosk", lang=locale)
    nonce = request.form.get("nonce", "")[:64]
    if len(nonce) < 16:  # the page's form always has one; without it, every ticket would be the first one again
        abort(400)

    def action():
        form = request.form
        code = take_ticket(current_user, nonce, form.get("direction", ""), form.get("category", ""))
        return redirect(url_for("live.kiosk", lang=locale, ticket=code, issued=1) if code else back)

    with _locale_scope(locale):
        return form_action(action, back)


# -- a ticket's page on a phone (/t/<code>, public) ------------------------------------------------------------------


def _client_key() -> str:
    """The status lookup's bucket (shared with GET /api/v1/tickets/<code>/status): the account, else the address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"addr:{request.remote_addr}"


def _phone_lookup(code: str):
    """(post, ticket, None), or (post, None, (status, message)) when there is nothing to show."""
    post = phone.post_for(request.args.get("post"))
    if post is None:
        if request.args.get("post"):
            return None, None, (404, _("No post %(code)s.", code=request.args["post"][:32]))
        return None, None, (400, _("Name the post: add ?post= and the post's code."))
    normalised = live.normalise_code(code)
    if normalised is None:
        return post, None, (404, _("A ticket code is a letter and a number, like T-042."))
    day = phone.parse_day(request.args.get("day"))
    ticket = phone.find_ticket(post, normalised, day) if day is not False else None
    if ticket is None:
        return post, None, (404, _("No ticket %(code)s today.", code=normalised))
    return post, ticket, None


def _phone(code: str, as_json: bool):
    """The phone page or its JSON, in ``?lang=`` or the phone's language (Accept-Language), errors included."""
    locale = normalise_locale(request.args.get("lang"))
    with _locale_scope(locale):
        here = get_locale().language
        wait = status_limiter().take(_client_key(), current_app.config["OSBP"].status_rate_per_minute)
        if wait:
            post, ticket, error = None, None, (429, _("Too many requests. Wait a moment and try again."))
        else:
            post, ticket, error = _phone_lookup(code)
        status = live.ticket_status(ticket) if ticket is not None else None
        view = phone.phone_view(status, post) if status is not None else None
        if as_json:
            body = {"status": status, "view": view} if error is None else {"error": {"message": error[1]}}
            response = make_response(jsonify(body), error[0] if error else 200)
        else:
            keep = {key: request.args[key][:32] for key in ("post", "day") if request.args.get(key)}
            response = make_response(
                render_template(
                    "live/phone.html",
                    post=post,
                    code=live.normalise_code(code) or code[:16],
                    status=status,
                    view=view,
                    error=error[1] if error else None,
                    here=here,
                    languages=[
                        (lang, url_for("live.phone", code=code[:16], lang=lang, **keep)) for lang in SUPPORTED_LOCALES
                    ],
                    data={
                        "status_url": url_for("live.phone_status", code=code[:16], lang=here, **keep),
                        "refresh_seconds": PHONE_REFRESH_SECONDS,
                    },
                ),
                error[0] if error else 200,
            )
        if wait:
            response.headers["Retry-After"] = retry_after_header(wait)
        return response


def phone_page(code: str):
    """``/t/<code>``: the page the ticket's QR code opens."""
    return _phone(code, as_json=False)


def phone_status(code: str):
    """``/t/<code>/status``: what the phone page polls (the same lookup, rate limit and language)."""
    return _phone(code, as_json=True)


@bp.record_once
def _phone_routes(state) -> None:
    """Short addresses for the QR code, outside the blueprint's /live prefix; endpoints live.phone and
    live.phone_status (both in PUBLIC_ENDPOINTS)."""
    state.app.add_url_rule("/t/<code>", "live.phone", phone_page, methods=["GET"])
    state.app.add_url_rule("/t/<code>/status", "live.phone_status", phone_status, methods=["GET"])


# -- supervisors' live view ------------------------------------------------------------------------------------------


def _supervisor_state() -> dict:
    permissions.ensure_supervisor(current_user)
    return live.supervisor_state(current_user.post, current_app.config["OSBP"].wait_target_minutes)


@bp.get("/supervisor")
def supervisor():
    return render_template("live/supervisor.html", state=_supervisor_state())


@bp.get("/supervisor/panel")
def supervisor_panel():
    """The live part of the page, fetched again when an event says something changed; its live number in the
    ``X-OSBP-Seq`` header (the supervisor view's snapshot: docs/live.md)."""
    state = _supervisor_state()
    response = make_response(render_template("live/_supervisor_panel.html", state=state))
    response.headers["X-OSBP-Seq"] = str(state["seq"])
    return response


STATION_ACTIONS = {"open": queues.open_station, "pause": queues.pause_station, "close": queues.close_station}


@bp.post("/supervisor/stations/<int:station_id>/<action>")
def station_action(station_id: int, action: str):
    """Open, pause or close a station from the live view (the queues' own operations: atomic, audited)."""
    back = url_for("live.supervisor")
    permissions.ensure_supervisor(current_user)
    if action not in STATION_ACTIONS:
        abort(404)

    def run():
        station = queues.get_station(station_id, current_user.post_id)
        STATION_ACTIONS[action](station, current_user)
        flash(
            _(
                "%(station)s: %(state)s.",
                station=station_name(station),
                state=STATION_STATE_LABELS.get(station.state, station.state),
            ),
            "success",
        )
        return redirect(back)

    return form_action(run, back)
