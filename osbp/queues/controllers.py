"""Officer and supervisor pages: entrance desk, counter screen, stations overview, crossing file."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_time
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from osbp import permissions, sequence
from osbp.audit import operations as audit
from osbp.errors import Invalid
from osbp.i18n import station_name
from osbp.queues import estimator, operations, qr
from osbp.queues.blueprint import bp
from osbp.queues.models import PRIORITY_KINDS, TicketStatus
from osbp.types import utcnow
from osbp.validation import id_from_text
from osbp.web import form_action, local_path
from osbp.workflow import contract
from osbp.workflow import operations as workflow
from osbp.workflow.models import CATEGORIES, CrossingStatus, Outcome, StepStatus


@bp.get("/healthz")
def health():
    """200 while the database answers; 503 (osbp/web.py's database-down handler) when it does not."""
    from osbp.extensions import db

    db.session.execute(select(1))
    return {"status": "ok"}


@bp.get("/")
def home():
    if current_user.is_officer:
        station = permissions.seated_station(current_user)
        return redirect(url_for("queues.counter", station_id=station.id) if station else url_for("queues.counters"))
    return redirect(url_for("queues.stations"))


@bp.get("/desk")
def desk():
    ticket = None
    ticket_id = id_from_text(request.args.get("ticket"))
    if ticket_id is not None:
        from osbp.extensions import db
        from osbp.queues.models import Ticket

        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None or ticket.post_id != current_user.post_id:
            ticket = None
    return render_template(
        "queues/desk.html",
        post=current_user.post,
        categories=CATEGORIES,
        priority_kinds=PRIORITY_KINDS,
        ticket=ticket,
        qr=qr.ticket_qr_data_uri(ticket.code) if ticket else None,
        wait=estimator.ticket_wait(ticket) if ticket else None,
    )


@bp.post("/desk/tickets")
def issue_ticket():
    def action():
        ticket = operations.issue_ticket(
            current_user.post,
            request.form.get("direction", ""),
            request.form.get("category", ""),
            issued_by=current_user,
            channel=operations.channel_of(current_user),
            priority=request.form.get("priority") or None,
        )
        flash(_("Ticket %(code)s issued.", code=ticket.code), "success")
        return redirect(url_for("queues.desk", ticket=ticket.id))

    return form_action(action, url_for("queues.desk"))


@bp.get("/counters")
def counters():
    stations = [s for s in operations.list_stations(current_user.post_id) if current_user.agency_id in s.agency_ids]
    return render_template(
        "queues/counters.html",
        stations=stations,
        lengths=operations.queue_lengths(current_user.post_id),
        seated=permissions.seated_station(current_user),
    )


@bp.post("/counters/<int:station_id>/seat")
def take_seat(station_id: int):
    def action():
        station = operations.get_station(station_id, current_user.post_id)
        operations.take_seat(station, current_user)
        return redirect(url_for("queues.counter", station_id=station.id))

    return form_action(action, url_for("queues.counters"))


@bp.post("/counters/leave")
def leave_seat():
    returned = operations.leave_seat(current_user)
    if returned is not None:
        flash(_("%(code)s went back to its queue, first in line.", code=returned.code), "info")
    return redirect(url_for("queues.counters"))


@bp.get("/counters/<int:station_id>")
def counter(station_id: int):
    g.live_seq = sequence.current(current_user.post_id)  # before the state the page shows (osbp/sequence.py)
    station = operations.get_station(station_id, current_user.post_id)
    if permissions.seated_station_id(current_user) != station.id:
        return redirect(url_for("queues.counters"))
    return counter_page(station)


def counter_page(station, status: int = 200, retry: dict | None = None):
    """The counter screen: its live parts (head, ticket, action; docs/queues.md) inside the page around them.

    Also the answer to a form of an agency's panel that the officer must correct: ``retry`` (what was sent and the
    problems by field) is ``g.counter_retry`` while the parts are rendered, for the panel to show again. The parts'
    signatures are those of the page without it, so that counter.js does not take the corrections away at once.
    """
    seq = g.get("live_seq")
    if seq is None:
        seq = sequence.current(station.post_id)
    context = _counter_context(station)
    if context["ticket"] is not None:
        audit.record("crossing.viewed", user=current_user, obj=context["ticket"].crossing, station_id=station.id)
    g.counter_retry = retry
    try:
        parts = _counter_parts(context)
    finally:
        g.counter_retry = None
    plain = parts if retry is None else _counter_parts(context)
    return (
        render_template(
            "queues/counter.html",
            parts=parts,
            signatures={name: _signature(html) for name, html in plain.items()},
            live_seq=seq,
            **context,
        ),
        status,
    )


@bp.get("/counters/<int:station_id>/live")
def counter_live(station_id: int):
    """The counter page's changing parts, for counter.js to put in place after a Socket.IO event (no reload).

    ``shown``: the ticket the page shows; a different one is a new view of a crossing (audited as the page is).
    409 when the officer is no longer seated here: the page reloads and goes to the counters. ``seq``: the post's
    live number, read before the parts (the counter page's snapshot: docs/live.md).
    """
    seq = sequence.current(current_user.post_id)
    station = operations.get_station(station_id, current_user.post_id)
    if permissions.seated_station_id(current_user) != station.id:
        return {"error": {"code": "not_seated_here", "message": _("You are not seated at this counter.")}}, 409
    context = _counter_context(station)
    ticket = context["ticket"]
    if ticket is not None and request.args.get("shown") != str(ticket.id):
        audit.record("crossing.viewed", user=current_user, obj=ticket.crossing, station_id=station.id)
    parts = _counter_parts(context)
    return {
        "parts": {name: {"html": str(html), "sig": _signature(html)} for name, html in parts.items()},
        "ticket": ticket.id if ticket is not None else None,
        "idle": ticket is None,
        "can_call": station.can_call,
        "waiting": context["queue_length"],
        "seq": seq,
    }


@bp.get("/counters/<int:station_id>/close")
def confirm_close(station_id: int):
    """Closing a counter closes it for every agency at it: this page asks first (counter.js asks in a dialog)."""
    station = operations.get_station(station_id, current_user.post_id)
    if not current_user.is_supervisor and permissions.seated_station_id(current_user) != station.id:
        return redirect(url_for("queues.counters"))
    back = local_path(request.args.get("back"), url_for("queues.counter", station_id=station.id))
    return render_template(
        "queues/close_counter.html",
        station=station,
        back=back,
        seated=operations.seated_officers(current_user.post_id).get(station.id, []),
    )


COUNTER_PARTS = ("head", "ticket", "action")  # templates/queues/_counter_<part>.html
LAST_DECISION_WINDOW = timedelta(hours=1)
_CSRF_VALUE = re.compile(r'(name="csrf_token" value=")[^"]*(")')


def _counter_context(station) -> dict:
    ticket = operations.current_ticket(station)
    steps = workflow.steps_here(ticket.crossing, station) if ticket else []
    my_step = next((s for s in steps if s.agency_id == current_user.agency_id), None)
    actionable = my_step if my_step is not None and steps and steps[0] is my_step else None
    panel, panel_template = None, None
    if actionable is not None:
        control = contract.control_for(actionable.step_kind.agency.kind)
        panel = control.panel_context(actionable) if control.counter_panel else None
        panel_template = control.counter_panel
    config = current_app.config["OSBP"]
    return {
        "station": station,
        "back": url_for("queues.counter", station_id=station.id),
        "ticket": ticket,
        "steps": steps,
        "my_step": my_step,
        "actionable": actionable,
        "started": any(s.status == StepStatus.IN_PROGRESS for s in steps),
        "queue_length": operations.queue_lengths(current_user.post_id).get(station.id, 0),
        "last_decision": _last_decision(station),
        "summaries": _agency_summaries(ticket.crossing) if ticket else [],
        "panel": panel,
        "panel_template": panel_template,
        "max_recalls": config.max_recalls,
        "no_show_policy": config.no_show_policy,
        "transfer_targets": operations.transfer_targets(ticket) if ticket else [],
        "priority_kinds": PRIORITY_KINDS,
        "clock": _clock,
    }


def _clock(value) -> str:
    return format_time(value, "short")


def _counter_parts(context: dict) -> dict[str, Markup]:
    # Markup: our own templates, autoescaped when rendered
    return {name: Markup(render_template(f"queues/_counter_{name}.html", **context)) for name in COUNTER_PARTS}  # noqa: S704 (our own templates, autoescaped)


def _signature(html: str) -> str:
    """What a part shows, without its CSRF tokens (new on every rendering): counter.js replaces a part only when
    this changed, so a form being filled in stays as it is while the rest of the page moves."""
    return hashlib.sha256(_CSRF_VALUE.sub(r"\1\2", str(html)).encode()).hexdigest()[:16]


def _last_decision(station) -> dict | None:
    """The last decision taken at this counter within the hour, by either agency: the partner's decision stays in
    view after the ticket left the counter. Read from the step events of the hour (indexed by time)."""
    from osbp.extensions import db
    from osbp.workflow.models import Step, StepEvent

    event = db.session.scalar(
        select(StepEvent)
        .where(
            StepEvent.at >= utcnow() - LAST_DECISION_WINDOW,
            StepEvent.station_id == station.id,
            StepEvent.kind.in_(tuple(Outcome)),
        )
        .order_by(StepEvent.at.desc(), StepEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    return {"step": db.session.get(Step, event.step_id), "outcome": event.kind, "at": event.at}


def _agency_summaries(crossing) -> list[tuple[str, dict]]:
    """Each agency's line about the person (its summary template and context), through the agency contract."""
    summaries = []
    for control in contract.controls():
        context = control.summary_context(crossing) if control.summary_template else None
        if context is not None:
            summaries.append((control.summary_template, context))
    return summaries


@bp.post("/counters/<int:station_id>/call-next")
def call_next(station_id: int):
    back = url_for("queues.counter", station_id=station_id)

    def action():
        station = operations.get_station(station_id, current_user.post_id)
        if operations.call_next(station, current_user) is None:
            flash(_("Nobody is waiting for this counter."), "info")
        return redirect(back)

    return form_action(action, back)


@bp.post("/steps/<int:step_id>/decision")
def decide(step_id: int):
    back = _back_to_counter()

    def action():
        step = workflow.get_step(step_id)
        outcome = request.form.get("outcome", "")
        operations.decide_step(step, current_user, outcome, request.form.get("reason"))
        flash(_("Decision recorded: %(outcome)s.", outcome=_outcome_label(outcome)), "success")
        crossing = step.crossing
        if crossing.status == CrossingStatus.CLEARED:
            flash(_("All controls cleared. Gate pass: %(code)s", code=crossing.gate_pass_code), "success")
        elif crossing.status == CrossingStatus.REFUSED and crossing.readmission_required:
            flash(_("Crossing refused. The exit country must re-admit this person."), "info")
        return redirect(back)

    return form_action(action, back)


def _back_to_counter() -> str:
    """Where a step form returns: the local page it came from."""
    return local_path(request.form.get("back"), url_for("queues.home"))


def _outcome_label(outcome: str) -> str:
    from osbp.i18n import OUTCOME_LABELS

    return str(OUTCOME_LABELS.get(outcome, outcome))


@bp.get("/stations")
def stations():
    if not permissions.may_see_stations(current_user):
        abort(403)
    stations = operations.list_stations(current_user.post_id)
    return render_template(
        "queues/stations.html",
        stations=stations,
        waits=estimator.queue_waits(current_user.post_id),
        seated=operations.seated_officers(current_user.post_id),
        may_manage=current_user.is_supervisor,
        open_stations=[s for s in stations if s.is_open],
    )


@bp.get("/crossings/<int:crossing_id>")
def crossing(crossing_id: int):
    crossing = workflow.get_crossing(crossing_id)
    permissions.ensure_can_view(crossing, current_user)
    audit.record("crossing.viewed", user=current_user, obj=crossing)
    return render_template("queues/crossing.html", crossing=crossing)


# Station actions from the counter and stations pages (the same operations as the API; docs/queues.md).


def _station_action(station_id: int, run):
    """Run ``run(station)`` as a form action and go back to the page the form came from."""
    back = local_path(request.form.get("back"), url_for("queues.counter", station_id=station_id))

    def action():
        run(operations.get_station(station_id, current_user.post_id))
        return redirect(back)

    return form_action(action, back)


def _form_station_id() -> int:
    station_id = id_from_text(request.form.get("station_id"))
    if station_id is None:
        raise Invalid(_("Choose a station."), code="invalid_field")
    return station_id


@bp.post("/counters/<int:station_id>/recall")
def recall(station_id: int):
    def run(station):
        ticket = operations.recall(station, current_user)
        flash(
            _(
                "%(code)s recalled (%(count)s of %(max)s).",
                code=ticket.code,
                count=ticket.recalls,
                max=current_app.config["OSBP"].max_recalls,
            ),
            "info",
        )

    return _station_action(station_id, run)


@bp.post("/counters/<int:station_id>/no-show")
def no_show(station_id: int):
    def run(station):
        ticket = operations.no_show(station, current_user)
        if ticket.status == TicketStatus.CANCELLED:
            flash(_("%(code)s did not come: the ticket is cancelled.", code=ticket.code), "info")
            if ticket.crossing.readmission_required:
                flash(_("The exit country must re-admit this person."), "info")
        else:
            flash(_("%(code)s did not come: back to the end of the queue.", code=ticket.code), "info")

    return _station_action(station_id, run)


@bp.post("/counters/<int:station_id>/start")
def start_service(station_id: int):
    return _station_action(station_id, lambda station: operations.start_my_step(station, current_user))


@bp.post("/counters/<int:station_id>/transfer")
def transfer_called(station_id: int):
    def run(station):
        target = operations.get_station(_form_station_id(), current_user.post_id)
        ticket = operations.transfer(operations.called_ticket(station), target, current_user)
        flash(_("%(code)s transferred to %(station)s.", code=ticket.code, station=station_name(target)), "success")

    return _station_action(station_id, run)


@bp.post("/stations/<int:station_id>/pause")
def pause_station(station_id: int):
    def run(station):
        operations.pause_station(station, current_user)
        flash(_("%(station)s is paused.", station=station_name(station)), "info")

    return _station_action(station_id, run)


@bp.post("/stations/<int:station_id>/open")
def open_station(station_id: int):
    def run(station):
        operations.open_station(station, current_user)
        flash(_("%(station)s is open.", station=station_name(station)), "success")

    return _station_action(station_id, run)


@bp.post("/stations/<int:station_id>/close")
def close_station(station_id: int):
    def run(station):
        _station, returned, _released = operations.close_station(station, current_user)
        flash(_("%(station)s is closed.", station=station_name(station)), "info")
        if returned is not None:
            flash(_("%(code)s went back to its queue, first in line.", code=returned.code), "info")

    return _station_action(station_id, run)


@bp.post("/tickets/<code>/priority")
def set_priority(code: str):
    back = local_path(request.form.get("back"), url_for("queues.home"))

    def action():
        ticket = operations.get_ticket_by_code(current_user.post, code)
        operations.set_priority(ticket, current_user, request.form.get("priority") or None, request.form.get("reason"))
        flash(_("Priority recorded for %(code)s.", code=ticket.code), "success")
        return redirect(back)

    return form_action(action, back)


@bp.post("/tickets/transfer")
def move_ticket():
    """Supervisors move a waiting ticket (typed code) to a station, from the stations page."""
    back = local_path(request.form.get("back"), url_for("queues.stations"))

    def action():
        ticket = operations.get_ticket_by_code(current_user.post, request.form.get("code", "")[:16])
        target = operations.get_station(_form_station_id(), current_user.post_id)
        ticket = operations.transfer(ticket, target, current_user)
        flash(_("%(code)s transferred to %(station)s.", code=ticket.code, station=station_name(target)), "success")
        return redirect(back)

    return form_action(action, back)
