"""The officer pages: entrance desk, choosing a counter, call next, identity, decisions — as forms."""

from __future__ import annotations

import re

from sqlalchemy import select

from osbp.extensions import db
from osbp.workflow.models import Crossing


def _post(client, path, **data):
    data["csrf_token"] = client.csrf
    return client.post(path, data=data, follow_redirects=True)


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_desk_issues_ticket_and_shows_route(login):
    desk = login("supervisor-1")
    page = _post(desk, "/desk/tickets", direction="RW-CD", category="trader")
    assert page.status_code == 200
    text = _text(page)
    assert "T-001" in text
    assert "Ticket T-001 issued." in text
    for label in ("RW Immigration — exit", "CD Immigration — entry", "CD Health — screening", "RW Customs — export"):
        assert label in text


def test_desk_refuses_unknown_category_with_a_message(app, login):
    desk = login("supervisor-1")
    page = _post(desk, "/desk/tickets", direction="RW-CD", category="smuggler")
    assert page.status_code == 200
    assert "Unknown category smuggler" in _text(page)
    with app.app_context():
        assert db.session.scalar(select(Crossing.id)) is None  # nothing half-written
        db.session.remove()


def test_counter_one_stop_for_both_immigrations(login, station_id):
    desk = login("supervisor-1")
    _post(desk, "/desk/tickets", direction="RW-CD", category="traveller")
    c1 = station_id("C1")
    rw = login("rw-immigration-1")
    cd = login("cd-immigration-1")
    assert _post(rw, f"/counters/{c1}/seat").request.path == f"/counters/{c1}"
    _post(cd, f"/counters/{c1}/seat")

    page = _text(rw.get(f"/counters/{c1}"))
    assert "Call next" in page and "Waiting for this counter: 1" in page
    page = _text(_post(rw, f"/counters/{c1}/call-next"))
    assert "P-001" in page
    assert "Identity and travel document" in page
    assert "Waiting for RW Immigration to decide first." in _text(cd.get(f"/counters/{c1}"))

    step_id = _step_id(page, "identity")
    bad = _post(
        rw,
        f"/steps/{step_id}/identity",
        holder_name="A",
        nationality="RW",
        document_type="passport",
        document_number="L898902C3",
        birth_date="1974-08-12",
        back=f"/counters/{c1}",
    )
    assert "Enter the holder" in _text(bad)
    page = _text(
        _post(
            rw,
            f"/steps/{step_id}/identity",
            holder_name="Anna Eriksson",
            nationality="rwa",
            document_type="passport",
            document_number="L898902C3",
            birth_date="1974-08-12",
            back=f"/counters/{c1}",
        )
    )
    assert "Anna Eriksson · RWA" in page
    page = _text(_post(rw, f"/steps/{_step_id(page, 'decision')}/decision", outcome="cleared", back=f"/counters/{c1}"))
    assert "Decision recorded: Cleared." in page

    page = _text(cd.get(f"/counters/{c1}"))
    assert "Your decision: CD Immigration — entry" in page
    page = _text(_post(cd, f"/steps/{_step_id(page, 'decision')}/decision", outcome="cleared", back=f"/counters/{c1}"))
    # The hand-off: the ticket left Counter 1 and now waits at health's Counter 3, where it is called next.
    assert "Waiting for this counter: 0" in page and "P-001" not in page
    waiting = _waiting(_text(desk.get("/stations")))
    assert (waiting["Counter 1"], waiting["Counter 3"]) == (0, 1)
    c3 = station_id("C3")
    health = login("cd-health-1")
    page = _text(_post(health, f"/counters/{c3}/seat"))
    assert "Waiting for this counter: 1" in page
    page = _text(_post(health, f"/counters/{c3}/call-next"))
    assert "P-001" in page
    assert "Your decision: CD Health — screening" in page


def test_refusal_without_reason_is_explained(login, station_id):
    desk = login("supervisor-1")
    _post(desk, "/desk/tickets", direction="CD-RW", category="resident")
    c2 = station_id("C2")
    cd = login("cd-immigration-1")
    _post(cd, f"/counters/{c2}/seat")
    page = _text(_post(cd, f"/counters/{c2}/call-next"))
    step_id = _step_id(page, "identity")
    page = _text(
        _post(
            cd,
            f"/steps/{step_id}/identity",
            holder_name="Furaha Bahati",
            nationality="COD",
            document_type="cepgl_pass",
            document_number="CEPGL12345",
            birth_date="1990-01-01",
            back=f"/counters/{c2}",
        )
    )
    page = _text(_post(cd, f"/steps/{step_id}/decision", outcome="refused", back=f"/counters/{c2}"))
    assert "Give a reason for a referral or a refusal." in page


def test_officer_cannot_sit_at_a_counter_of_another_agency(login, station_id):
    customs = login("rw-customs-1")
    page = _text(_post(customs, f"/counters/{station_id('C1')}/seat"))
    assert "Counter 1 does not serve your agency." in page


def _waiting(stations_page: str) -> dict[str, int]:
    """Station name → the number waiting, from the stations table."""
    rows = re.findall(r'<tr>\s*<td>([^<(]+?)(?: \([^)]*\))?</td>.*?<td class="number">(\d+)</td>', stations_page, re.S)
    return {name.strip(): int(number) for name, number in rows}


def _step_id(page: str, action: str) -> int:
    match = re.search(rf'/steps/(\d+)/{action}"', page)
    assert match, f"no {action} form on the page"
    return int(match.group(1))
