"""The joint counter, live: who joins a station's Socket.IO room, the counter page's live parts (the endpoint counter.js
fetches), the close confirmation, the keyboard hints, and the identity form's nationality list and dates. The browser
side is tests/test_counter_browser.py."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from osbp import events
from osbp.extensions import db, socketio
from tests.test_live import HOLDER, call, decide, events_of, issue, make_device, open_device_link, seat


def _post(client, path, **data):
    data["csrf_token"] = client.csrf
    return client.post(path, data=data, follow_redirects=True)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _rooms(socket_client) -> set[str]:
    manager = socketio.server.manager
    sid = manager.sid_from_eio_sid(socket_client.eio_sid, "/")
    return {room for room in manager.get_rooms(sid, "/") if room is not None and room != sid}


def _socket(app, client, **auth):
    live = socketio.test_client(app, flask_test_client=client, auth=auth or None)
    assert live.is_connected()
    return live


def _device_client(app, role: str):
    client = app.test_client()
    token = make_device(app, role, f"{role}-room-test")
    assert open_device_link(client, token).status_code == 302
    return client


# -- who listens to a station ------------------------------------------------------------------------------------


def test_the_officers_seated_at_a_station_join_its_room_and_nobody_else(app, login, api, station_id):
    c1, c2 = station_id("C1"), station_id("C2")
    room = events.station_room(c1)
    rw, cd, other = login("rw-immigration-1"), login("cd-immigration-1"), login("cd-immigration-2")
    for client, station in ((rw, c1), (cd, c1), (other, c2)):
        assert _post(client, f"/counters/{station}/seat").status_code == 200
    sockets = {
        "rw": _socket(app, rw),
        "cd": _socket(app, cd),
        # an officer seated elsewhere who asks for Counter 1 gets his own counter's room only
        "other": _socket(app, other, station=c1),
        "unseated": _socket(app, login("cd-health-1"), station=c1),
        "supervisor": _socket(app, login("supervisor-1"), station=c1),
        "supervisor-not-asking": _socket(app, login("supervisor-1")),
        "gate": _socket(app, login("rw-gate-1"), station=c1),
        "committee": _socket(app, login("cd-committee-1"), station=c1),
        "board": _socket(app, _device_client(app, "board"), station=c1),
        "kiosk": _socket(app, _device_client(app, "kiosk"), station=c1),
    }
    inside = {name for name, live in sockets.items() if room in _rooms(live)}
    assert inside == {"rw", "cd", "supervisor"}
    assert events.station_room(c2) in _rooms(sockets["other"])
    for odd in ({"station": "1"}, {"station": True}, {"station": c1 + 999}):  # never a guess or a wrong type
        live = _socket(app, login("supervisor-1"), **odd)
        assert not {r for r in _rooms(live) if r.startswith("station:")}
        live.disconnect()

    # What the room is for: RW's decision reaches the CD officer beside her (not in RW's agency room), and the
    # supervisor who asked; not the CD officer at Counter 2 who asked for Counter 1.
    desk, rw_api = api("supervisor-1"), api("rw-immigration-1")
    issue(desk)
    exit_step = call(rw_api, c1)["steps_here"][0]
    assert rw_api.post(f"/api/v1/steps/{exit_step['id']}/identity", json=HOLDER).status_code == 200
    for live in sockets.values():
        live.get_received()
    decide(rw_api, exit_step["id"])
    got = {name for name, live in sockets.items() if "step.decided" in [m["type"] for m in events_of(live)]}
    assert got == {"rw", "cd", "supervisor"}
    for live in sockets.values():
        live.disconnect()


def test_a_ticket_joining_a_line_reaches_the_counters_of_that_line(app, api, login, station_id):
    """Health's Counter 3 hears of the ticket cleared at Counter 1 (its line grew); Counter 4 (customs) does not."""
    c1, c3, c4 = station_id("C1"), station_id("C3"), station_id("C4")
    health, customs = login("cd-health-1"), login("rw-customs-1")
    assert _post(health, f"/counters/{c3}/seat").status_code == 200
    assert _post(customs, f"/counters/{c4}/seat").status_code == 200
    health_live, customs_live = _socket(app, health), _socket(app, customs)
    rw, cd = api("rw-immigration-1"), api("cd-immigration-1")
    issue(api("supervisor-1"))
    seat(rw, c1)
    seat(cd, c1)
    exit_step, entry_step = call(rw, c1)["steps_here"]
    assert rw.post(f"/api/v1/steps/{exit_step['id']}/identity", json=HOLDER).status_code == 200
    decide(rw, exit_step["id"])
    health_live.get_received()
    customs_live.get_received()
    decide(cd, entry_step["id"])
    assert "ticket.queued" in [m["type"] for m in events_of(health_live)]
    assert "ticket.queued" not in [m["type"] for m in events_of(customs_live)]
    health_live.disconnect()
    customs_live.disconnect()


# -- the live parts ------------------------------------------------------------------------------------------------


def _live(client, station: int, shown: str = "") -> dict:
    response = client.get(f"/counters/{station}/live?shown={shown}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_the_live_parts_follow_the_partner(app, login, api, station_id):
    c1 = station_id("C1")
    rw, cd = login("rw-immigration-1"), login("cd-immigration-1")
    _post(rw, f"/counters/{c1}/seat")
    _post(cd, f"/counters/{c1}/seat")
    state = _live(cd, c1)
    assert state["idle"] and state["waiting"] == 0 and state["ticket"] is None
    assert "Waiting for this counter: 0" in state["parts"]["head"]["html"]
    assert state["parts"]["ticket"]["html"].strip() == "" and state["parts"]["action"]["html"].strip() == ""
    again = _live(cd, c1)  # the same state: the same signatures (a rendering's CSRF tokens do not count)
    assert {n: p["sig"] for n, p in again["parts"].items()} == {n: p["sig"] for n, p in state["parts"].items()}

    issue(api("supervisor-1"))
    state = _live(cd, c1)
    assert state["waiting"] == 1 and "Waiting for this counter: 1" in state["parts"]["head"]["html"]

    exit_step = _step_id(_text(_post(rw, f"/counters/{c1}/call-next")), "identity")
    state = _live(cd, c1)
    assert not state["idle"] and "T-001" in state["parts"]["ticket"]["html"]
    assert "Waiting for RW Immigration to decide first." in state["parts"]["action"]["html"]
    assert "deciding now" in state["parts"]["ticket"]["html"]

    rw_api = api("rw-immigration-1")
    assert rw_api.post(f"/api/v1/steps/{exit_step}/identity", json=HOLDER).status_code == 200
    decide(rw_api, exit_step)
    state = _live(cd, c1, shown=str(state["ticket"]))
    assert "Your decision: CD Immigration — entry" in state["parts"]["action"]["html"]
    assert 'id="clear"' in state["parts"]["action"]["html"]
    assert "RW Immigration — exit — cleared" in state["parts"]["ticket"]["html"]
    rw_state = _live(rw, c1)
    assert "Nothing for your agency on this ticket. CD Immigration decides at this counter." in _plain(
        rw_state["parts"]["action"]["html"]
    )

    page = _text(_post(cd, f"/steps/{_step_id(state['parts']['action']['html'])}/decision", outcome="cleared"))
    assert "Decision recorded: Cleared." in page
    rw_state = _live(rw, c1)
    assert rw_state["idle"] and 'id="call-next"' in rw_state["parts"]["head"]["html"]
    assert re.search(
        r"Last decision here: CD Immigration — entry: Cleared at", _plain(rw_state["parts"]["head"]["html"])
    )


def test_the_live_parts_are_only_for_the_officers_seated_there(app, login, station_id):
    c1 = station_id("C1")
    rw = login("rw-immigration-1")
    assert rw.get(f"/counters/{c1}/live").status_code == 409  # not seated: counter.js reloads, the page redirects
    _post(rw, f"/counters/{c1}/seat")
    assert rw.get(f"/counters/{c1}/live").status_code == 200
    _post(rw, "/counters/leave")
    assert rw.get(f"/counters/{c1}/live").status_code == 409
    assert login("supervisor-1").get(f"/counters/{c1}/live").status_code == 403  # a counter is for officers
    assert login("rw-gate-1").get(f"/counters/{c1}/live").status_code == 403
    assert app.test_client().get(f"/counters/{c1}/live").status_code == 302  # to the login page


def test_a_new_ticket_on_the_live_parts_is_a_new_view_of_the_crossing(app, login, station_id):
    """The page records each crossing it shows (crossing.viewed); the live parts do too, once per ticket shown."""
    from tests.conftest import audit_rows

    c1 = station_id("C1")
    desk = login("supervisor-1")
    _post(desk, "/desk/tickets", direction="RW-CD", category="traveller")
    rw, cd = login("rw-immigration-1"), login("cd-immigration-1")
    _post(rw, f"/counters/{c1}/seat")
    _post(cd, f"/counters/{c1}/seat")
    cd.get(f"/counters/{c1}")  # idle: nothing viewed
    _post(rw, f"/counters/{c1}/call-next")
    before = len(audit_rows(app, "crossing.viewed"))
    state = _live(cd, c1)  # the page showed no ticket: a new view
    assert len(audit_rows(app, "crossing.viewed")) == before + 1
    _live(cd, c1, shown=str(state["ticket"]))  # the same ticket again: no new row
    assert len(audit_rows(app, "crossing.viewed")) == before + 1


# -- the page without JavaScript: close confirmation, keyboard hints, Start ------------------------------------------


def test_closing_a_counter_asks_first(app, login, station_id):
    c1 = station_id("C1")
    rw = login("rw-immigration-1")
    page = _text(_post(rw, f"/counters/{c1}/seat"))
    form = re.search(r'<form method="get" action="(/counters/\d+/close)" data-confirm="close-dialog">', page)
    assert form, "the counter's Close button only asks"
    assert 'id="close-dialog"' in page  # counter.js's dialog
    question = _text(rw.get(form.group(1)))
    assert "Close Counter 1?" in question
    assert "This closes the counter for both agencies" in question
    assert "Seated here: RW Immigration" in _plain(question)
    assert f'action="/stations/{c1}/close"' in question and 'id="keep-open"' in question
    page = _text(_post(rw, f"/stations/{c1}/close", back=f"/counters/{c1}"))
    assert "Counter 1 is closed." in page
    # Not seated there (and not a supervisor): no question, back to the counters.
    other = login("rw-immigration-2")
    assert other.get(form.group(1)).headers["Location"].endswith("/counters")


def test_the_counter_buttons_show_their_keys(app, login, station_id):
    desk = login("supervisor-1")
    _post(desk, "/desk/tickets", direction="RW-CD", category="traveller")
    c1 = station_id("C1")
    rw, cd = login("rw-immigration-1"), login("cd-immigration-1")
    _post(cd, f"/counters/{c1}/seat")
    page = _text(_post(rw, f"/counters/{c1}/seat"))
    assert re.search(r'id="call-next" data-shortcut="F2" aria-keyshortcuts="F2">Call next <kbd', page)
    page = _text(_post(rw, f"/counters/{c1}/call-next"))
    assert 'data-shortcut="F3"' in page  # recall
    # The identity form shows: saving it starts the step, so no Start button here.
    assert 'id="start-service"' not in page and "Identity and travel document" in page
    step_id = int(re.search(r"/steps/(\d+)/identity", page).group(1))
    page = _text(
        _post(
            rw,
            f"/steps/{step_id}/identity",
            holder_name="Uwimana Grace",
            nationality="RWA",
            document_type="passport",
            document_number="PC1234567",
            birth_date="14/03/1988",
            back=f"/counters/{c1}",
        )
    )
    for key, button in (("F8", "clear"), ("F9", "refer"), ("F10", "refuse")):
        assert re.search(rf'id="{button}" data-shortcut="{key}"', page), button
    assert re.search(r'<form method="post" action="/steps/\d+/decision" class="decision" novalidate>', page)
    # CD's entry step after RW's: nothing to record first, so Start is there, with what it does.
    _post(rw, f"/steps/{step_id}/decision", outcome="cleared", back=f"/counters/{c1}")
    page = _text(cd.get(f"/counters/{c1}"))
    assert 'id="start-service"' in page and "Start shows the person is being served" in page


# -- the identity form -----------------------------------------------------------------------------------------------


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _step_id(html: str, action: str = "decision") -> int:
    return int(re.search(rf"/steps/(\d+)/{action}", html).group(1))


def _called(login, station_id, username="rw-immigration-1", direction="RW-CD"):
    desk = login("supervisor-1")
    _post(desk, "/desk/tickets", direction=direction, category="traveller")
    c1 = station_id("C1")
    officer = login(username)
    _post(officer, f"/counters/{c1}/seat")
    page = _text(_post(officer, f"/counters/{c1}/call-next"))
    return officer, c1, _step_id(page, "identity"), page


def _identity(app):
    from osbp.agencies.immigration.models import TravellerIdentity

    with app.app_context():
        row = db.session.scalar(select(TravellerIdentity))
        db.session.remove()
    return row


def test_the_identity_form_leaves_validation_to_the_server(app, login, station_id):
    officer, c1, step_id, page = _called(login, station_id)
    form = re.search(r"<form [^>]*/identity[^>]*>", page).group(0)
    assert "novalidate" in form
    assert not re.search(r'<input name="birth_date"[^>]*type="date"', page)  # not the browser's date widget
    assert 'list="nationalities"' in page and '<option value="RWA">Rwanda</option>' in page
    assert '<option value="COD">Congo - Kinshasa</option>' in page

    sent = {
        "holder_name": "Uwimana Grace",
        "nationality": "XYZ",
        "document_type": "laissez_passer",
        "document_number": "LP123",
        "birth_date": "31/02/1988",
        "back": f"/counters/{c1}",
    }
    response = _post(officer, f"/steps/{step_id}/identity", **sent)
    assert response.status_code == 422
    page = _text(response)
    assert "The identity was not saved: correct the fields marked below." in page
    assert "Pick a country from the list or type its three-letter code, such as RWA." in page
    assert "Give the date of birth as DD/MM/YYYY, for example 14/03/1988." in page
    for value in ("Uwimana Grace", "XYZ", "LP123", "31/02/1988"):  # what was typed is still there
        assert f'value="{value}"' in page, value
    assert '<option value="laissez_passer" selected>' in page
    assert page.count('aria-invalid="true"') == 2
    assert _identity(app) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("rwa", "RWA"),
        ("Rwanda", "RWA"),
        ("congo - kinshasa", "COD"),
        ("Burundi (BDI)", "BDI"),
        ("D<<", "DEU"),
        ("XXA", "XXA"),
    ],
)
def test_the_nationality_is_a_real_code_or_a_name(app, login, station_id, typed, stored):
    officer, c1, step_id, _page = _called(login, station_id)
    page = _text(
        _post(
            officer,
            f"/steps/{step_id}/identity",
            holder_name="Uwimana Grace",
            nationality=typed,
            document_type="passport",
            document_number="PC1234567",
            birth_date="14.03.1988",
            back=f"/counters/{c1}",
        )
    )
    assert _identity(app).nationality == stored
    assert f"Uwimana Grace · {stored}" in page


def test_other_nationalities_are_refused(app, api, station_id):
    rw = api("rw-immigration-1")
    issue(api("supervisor-1"))
    seat(rw, station_id("C1"))
    step = call(rw, station_id("C1"))["steps_here"][0]
    for typed in ("UTO", "XYZ", "RW", "Utopia", ""):  # a specimen, no such code, two letters, no such name, nothing
        response = rw.post(f"/api/v1/steps/{step['id']}/identity", json=HOLDER | {"nationality": typed})
        assert response.status_code == 422, typed
        assert response.json["error"]["code"] == "invalid_nationality"


def test_the_page_takes_dates_day_first_and_the_api_in_iso_form(app, api, login, station_id):
    officer, c1, step_id, _page = _called(login, station_id)
    rw = api("rw-immigration-1")
    response = rw.post(f"/api/v1/steps/{step_id}/identity", json=HOLDER | {"birth_date": "14/03/1988"})
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_birth_date"
    assert response.json["error"]["message"] == "Give the date of birth as YYYY-MM-DD."
    response = rw.post(f"/api/v1/steps/{step_id}/identity", json=HOLDER | {"birth_date": "1988-02-30"})
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_birth_date"
    page = _text(
        _post(
            officer,
            f"/steps/{step_id}/identity",
            holder_name="Uwimana Grace",
            nationality="RWA",
            document_type="passport",
            document_number="PC1234567",
            birth_date="14/03/1988",
            back=f"/counters/{c1}",
        )
    )
    assert _identity(app).birth_date == date(1988, 3, 14)
    assert "born 14/03/1988" in page


@pytest.mark.parametrize(
    ("locale", "typed", "shown", "country"),
    [
        ("fr", "12/08/1974", "12/08/1974", '<option value="COD">Congo-Kinshasa</option>'),
        ("en", "12081974", "12/08/1974", '<option value="COD">Congo - Kinshasa</option>'),
        ("rw", "1974-08-12", "12/08/1974", '<option value="RWA">U Rwanda</option>'),
    ],
)
def test_dates_and_countries_in_the_ui_language(app, login, station_id, locale, typed, shown, country):
    officer, c1, step_id, _page = _called(login, station_id)
    _post(officer, "/language", locale=locale, next=f"/counters/{c1}")
    page = _text(officer.get(f"/counters/{c1}"))
    assert f'<html lang="{locale}">' in page
    assert country in page
    page = _text(
        _post(
            officer,
            f"/steps/{step_id}/identity",
            holder_name="Uwimana Grace",
            nationality="COD",
            document_type="passport",
            document_number="PC1234567",
            birth_date=typed,
            back=f"/counters/{c1}",
        )
    )
    assert _identity(app).birth_date == date(1974, 8, 12)
    assert re.search(rf"Uwimana Grace · COD \([^)]+\) · [^·]+ · [^·]*{re.escape(shown)}", _plain(page)), _plain(page)
