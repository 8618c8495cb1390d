"""Nobody is left between two countries: a refusal or a no-show after the exit was cleared opens the exit country's
re-admission task, shown to that agency's officers and the supervisors until one of its officers records it.

Through the API (bearer tokens) and the pages (sessions, CSRF), on SQLite and PostgreSQL alike; the migration's
back-fill on a fresh database of each kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from osbp.audit.models import AuditEvent
from osbp.extensions import db
from osbp.post.models import Post
from osbp.workflow.models import Crossing
from tests.conftest import audit_rows
from tests.test_live import call, decide, device_client, issue, seat
from tests.test_migrations import _flask_db, fresh_app, fresh_database_url  # noqa: F401
from tests.test_queue_actions import _identity, configure, emitted  # noqa: F401

RW_IMM = "RW-IMM"


@dataclass
class Crossed:
    """A ticket whose RW exit was cleared at Counter 1, the CD entry officer seated there too."""

    crossing_id: int
    code: str
    exit_step: int
    entry_step: int
    c1: int
    rw: object
    cd: object
    desk: object


def exit_cleared(api, station_id, category="traveller") -> Crossed:
    desk = api("supervisor-1")
    ticket = issue(desk, "RW-CD", category)
    c1 = station_id("C1")
    rw, cd = api("rw-immigration-1"), api("cd-immigration-1")
    seat(rw, c1)
    seat(cd, c1)
    exit_step, entry_step = (s["id"] for s in call(rw, c1)["steps_here"])
    _identity(rw, exit_step)
    decide(rw, exit_step)
    return Crossed(ticket["crossing_id"], ticket["code"], exit_step, entry_step, c1, rw, cd, desk)


def refused_after_exit(api, station_id) -> Crossed:
    crossed = exit_cleared(api, station_id)
    decide(crossed.cd, crossed.entry_step, "refused", "No valid visa")
    return crossed


def tasks(app) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT r.crossing_id, r.exit_step_id, a.code, r.country, r.reason, r.recorded_at, r.note, "
                "u.username FROM readmissions r JOIN agencies a ON a.id = r.agency_id "
                "LEFT JOIN users u ON u.id = r.recorded_by_id ORDER BY r.id"
            )
        ).all()
        db.session.remove()
    keys = ("crossing_id", "exit_step_id", "agency", "country", "reason", "recorded_at", "note", "recorded_by")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def agency_label(app, code: str) -> str:
    from osbp.post.models import Agency

    with app.app_context():
        label = db.session.scalar(select(Agency).where(Agency.code == code)).label
        db.session.remove()
    return label


def form(client, path, **data) -> str:
    data["csrf_token"] = client.csrf
    return client.post(path, data=data, follow_redirects=True).get_data(as_text=True)


def block_of(page: str) -> str:
    """The re-admission block of a counter page ('' when the page has none)."""
    match = re.search(r'<section class="readmissions".*?</section>', page, re.S)
    return match.group(0) if match else ""


def seated_page(login, username: str, station: int) -> str:
    client = login(username)
    form(client, f"/counters/{station}/seat")
    response = client.get(f"/counters/{station}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def alerts_of(client) -> list[str]:
    panel = client.get("/live/supervisor/panel")
    assert panel.status_code == 200
    return re.findall(
        r'<p class="flash flash-error alert readmission-alert"[^>]*>(.*?)</p>', panel.get_data(True), re.S
    )


# --- when a task is opened ------------------------------------------------------------------------------------------


def test_an_entry_refusal_after_the_exit_opens_one_task_for_the_exit_agency(app, api, station_id, emitted):  # noqa: F811
    crossed = refused_after_exit(api, station_id)
    [task] = tasks(app)
    assert task == {
        "crossing_id": crossed.crossing_id,
        "exit_step_id": crossed.exit_step,
        "agency": RW_IMM,
        "country": "RW",
        "reason": "refused",
        "recorded_at": None,
        "note": None,
        "recorded_by": None,
    }
    with app.app_context():
        post_id = db.session.scalar(select(Post.id))
        rw_imm = db.session.scalar(text("SELECT id FROM agencies WHERE code = 'RW-IMM'"))
        db.session.remove()
    [opened] = [(data, rooms) for kind, data, rooms in emitted if kind == "readmission.opened"]
    assert opened == (
        {"crossing_id": crossed.crossing_id, "country": "RW", "reason": "refused"},
        (f"agency:{rw_imm}", f"supervisor:{post_id}"),
    )


def test_no_task_for_a_refusal_at_the_exit_or_before_the_exit_was_cleared(app, api, station_id):
    desk = api("supervisor-1")
    c1, s1 = station_id("C1"), station_id("S1")
    rw = api("rw-immigration-1")
    seat(rw, c1)
    # refused at the exit control itself
    issue(desk, "RW-CD", "traveller")
    exit_step = call(rw, c1)["steps_here"][0]["id"]
    decide(rw, exit_step, "refused", "Wanted by the police")
    # referred at the exit, then refused in secondary inspection: the exit was never cleared either
    issue(desk, "RW-CD", "traveller")
    exit_step = call(rw, c1)["steps_here"][0]["id"]
    decide(rw, exit_step, "referred", "Document damaged")
    inspector = api("rw-immigration-2")
    seat(inspector, s1)
    assert call(inspector, s1)["steps_here"][0]["id"] == exit_step
    assert decide(inspector, exit_step, "refused", "Forged document")["crossing"]["status"] == "refused"
    assert tasks(app) == []


def test_a_no_show_after_the_exit_opens_one_task_with_the_cancel_policy(app, api, station_id, configure):  # noqa: F811
    configure(max_recalls=0, no_show_policy="cancel")
    crossed = exit_cleared(api, station_id)
    response = crossed.cd.post(f"/api/v1/stations/{crossed.c1}/no-show")
    assert response.status_code == 200 and response.json["ticket"]["status"] == "cancelled"
    [task] = tasks(app)
    assert (task["crossing_id"], task["agency"], task["reason"]) == (crossed.crossing_id, RW_IMM, "no_show")


def test_no_task_for_a_no_show_before_the_exit_or_one_sent_back_to_the_queue(app, api, station_id, configure):  # noqa: F811
    configure(max_recalls=0, no_show_policy="cancel")
    desk, c1 = api("supervisor-1"), station_id("C1")
    rw = api("rw-immigration-1")
    seat(rw, c1)
    issue(desk, "RW-CD", "traveller")
    call(rw, c1)
    assert rw.post(f"/api/v1/stations/{c1}/no-show").json["ticket"]["status"] == "cancelled"
    configure(no_show_policy="requeue")
    crossed = exit_cleared(api, station_id)
    assert crossed.cd.post(f"/api/v1/stations/{c1}/no-show").json["ticket"]["status"] == "waiting"
    assert tasks(app) == []


# --- where it shows -------------------------------------------------------------------------------------------------


def test_the_task_shows_on_the_exit_agencys_counter_pages_only(app, api, login, station_id):
    crossed = refused_after_exit(api, station_id)
    mine = block_of(seated_page(login, "rw-immigration-2", station_id("C2")))
    assert "Re-admissions to record" in mine and " hidden" not in mine.split(">")[0]
    assert crossed.code in mine
    assert "Refused at CD Immigration — entry" in mine and "No valid visa" in mine
    assert f'action="/crossings/{crossed.crossing_id}/readmission"' in mine
    assert "Record re-admission" in mine
    for username, station in (("cd-immigration-1", "C1"), ("rw-customs-1", "C4"), ("cd-health-1", "C3")):
        theirs = block_of(seated_page(login, username, station_id(station)))
        assert crossed.code not in theirs and f"/crossings/{crossed.crossing_id}/readmission" not in theirs, username
        assert " hidden" in theirs.split(">")[0], username  # the empty block waits, hidden, for a live update


def test_the_supervisors_see_an_alert_until_the_exit_agency_records_it(app, api, login, station_id):
    crossed = refused_after_exit(api, station_id)
    supervisor = login("supervisor-1")
    [alert] = alerts_of(supervisor)
    assert f"Re-admission to record: {crossed.code} was refused at CD Immigration — entry after the exit." in alert
    assert f"{agency_label(app, RW_IMM)} must take the person back (since " in alert
    assert crossed.code in supervisor.get("/live/supervisor").get_data(as_text=True)
    # an officer of the exit agency who is not seated anywhere records it through the form
    officer = login("rw-immigration-2")
    page = form(officer, f"/crossings/{crossed.crossing_id}/readmission", note="Handed back at 10:40")
    assert f"Re-admission of {crossed.code} recorded: the exit is annulled." in page
    assert alerts_of(supervisor) == []
    assert crossed.code not in block_of(seated_page(login, "rw-immigration-1", crossed.c1))


# --- recording ------------------------------------------------------------------------------------------------------


def test_recording_is_audited_annuls_the_exit_and_keeps_the_report_count(app, api, station_id, emitted):  # noqa: F811
    from osbp.bilateral import facts
    from osbp.bilateral.query import Scope

    def readmissions_in_report() -> int:
        with app.app_context():
            post = db.session.scalar(select(Post))
            day = db.session.scalar(select(func.min(Crossing.created_at))).date()
            scope = Scope(post.id, post.timezone, day - timedelta(days=1), day + timedelta(days=1))
            count = sum(row[-1] for row in facts.compute(scope) if row[1] == "readmission")
            db.session.remove()
        return count

    crossed = refused_after_exit(api, station_id)
    assert readmissions_in_report() == 1
    officer = api("rw-immigration-2")  # not seated: the re-admission is an office act, not a counter's
    response = officer.post(f"/api/v1/crossings/{crossed.crossing_id}/readmission", json={"note": "  Back home  "})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["crossing_id"] == crossed.crossing_id and body["country"] == "RW" and body["agency"] == RW_IMM
    assert body["reason"] == "refused" and body["note"] == "Back home" and body["recorded_at"]
    [task] = tasks(app)
    assert (task["recorded_by"], task["note"]) == ("rw-immigration-2", "Back home") and task["recorded_at"]
    [(outcome, username, detail)] = audit_rows(app, "crossing.readmitted", ("outcome", "username", "detail"))
    assert (outcome, username) == ("ok", "rw-immigration-2")
    assert detail["exit_step_id"] == crossed.exit_step and detail["reason"] == "refused"
    crossing = crossed.desk.get(f"/api/v1/crossings/{crossed.crossing_id}").json
    assert crossing["status"] == "refused"  # what happened to the crossing stays as it was
    exit_step = crossing["steps"][0]
    assert exit_step["status"] == "cleared" and exit_step["events"][-1]["kind"] == "exit_annulled"
    assert readmissions_in_report() == 1  # a task recorded later leaves the report (and frozen days) as they were
    [recorded] = [rooms for kind, _data, rooms in emitted if kind == "readmission.recorded"]
    assert recorded[0].startswith("agency:") and recorded[1].startswith("supervisor:")


def test_recording_twice_is_a_conflict(app, api, login, station_id):
    crossed = refused_after_exit(api, station_id)
    path = f"/api/v1/crossings/{crossed.crossing_id}/readmission"
    assert crossed.rw.post(path).status_code == 200  # no body: no note
    again = api("rw-immigration-2").post(path, json={})
    assert again.status_code == 409 and again.json["error"]["code"] == "readmission_recorded"
    assert f"The re-admission of crossing {crossed.crossing_id} was already recorded" in again.json["error"]["message"]
    page = form(login("rw-immigration-2"), f"/crossings/{crossed.crossing_id}/readmission")
    assert "was already recorded" in page
    assert [t["recorded_by"] for t in tasks(app)] == ["rw-immigration-1"]
    assert len(audit_rows(app, "crossing.readmitted")) == 1


@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("cd-immigration-1", "wrong_agency"),  # the entry country's immigration
        ("rw-customs-1", "wrong_agency"),  # the exit country, another agency
        ("cd-health-1", "wrong_agency"),
        ("supervisor-1", "role_not_allowed"),  # supervisors see the alert, they do not record it (the role matrix)
        ("admin", "role_not_allowed"),
    ],
)
def test_only_the_exit_agencys_officers_record_it(app, api, login, station_id, username, code):
    crossed = refused_after_exit(api, station_id)
    response = api(username).post(f"/api/v1/crossings/{crossed.crossing_id}/readmission", json={"note": "x"})
    assert response.status_code == 403 and response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    page = form(login(username), f"/crossings/{crossed.crossing_id}/readmission", back="/stations")
    # the translated message: flashed by the operation's check, or the matrix's error page
    assert ("can record" if code != "role_not_allowed" else 'data-error="role_not_allowed"') in page
    assert [t["recorded_at"] for t in tasks(app)] == [None]
    assert audit_rows(app, "crossing.readmitted") == []
    denied = [d for _o, d in audit_rows(app, "authorization.denied", ("outcome", "detail"))]
    assert [d["code"] for d in denied] == [code, code]


def test_devices_gate_officers_and_committee_members_never_reach_it(app, api, login, station_id):
    crossed = refused_after_exit(api, station_id)
    path = f"/crossings/{crossed.crossing_id}/readmission"
    for role in ("kiosk", "board"):
        device = device_client(app, role)
        assert device.post(path, data={"note": "x"}).status_code == 403, role
        assert device.get("/readmissions/block").status_code == 403, role
    for username in ("rw-gate-1", "rw-committee-1"):
        person = login(username)
        assert person.post(path, data={"note": "x", "csrf_token": person.csrf}).status_code == 403, username
        assert person.get("/readmissions/block").status_code == 403, username
        assert api(username).post(f"/api/v1{path}", json={}).status_code == 403, username
    assert [t["recorded_at"] for t in tasks(app)] == [None]


def test_nothing_to_record_and_unknown_crossings(app, api, station_id):
    crossed = exit_cleared(api, station_id)  # still in progress: the entry has not decided
    officer = crossed.rw
    response = officer.post(f"/api/v1/crossings/{crossed.crossing_id}/readmission")
    assert response.status_code == 409 and response.json["error"]["code"] == "no_readmission"
    response = officer.post("/api/v1/crossings/999999/readmission")
    assert response.status_code == 404 and response.json["error"]["code"] == "crossing_not_found"
    decide(crossed.cd, crossed.entry_step, "refused", "No valid visa")
    response = officer.post(f"/api/v1/crossings/{crossed.crossing_id}/readmission", json={"note": "n" * 501})
    assert response.status_code == 422 and response.json["error"]["code"] == "reason_too_long"
    response = officer.post(f"/api/v1/crossings/{crossed.crossing_id}/readmission", json={"note": 5})
    assert response.status_code == 422
    assert [t["recorded_at"] for t in tasks(app)] == [None]


def test_the_block_alone_is_served_for_the_live_refresh(app, api, login, station_id):
    crossed = refused_after_exit(api, station_id)
    officer = login("rw-immigration-2")
    fragment = officer.get("/readmissions/block").get_data(as_text=True)
    assert crossed.code in block_of(fragment)
    assert "<script" not in fragment and "<html" not in fragment
    assert login("supervisor-1").get("/readmissions/block").status_code == 403


def test_the_openapi_document_describes_the_route(api):
    document = api("supervisor-1").get("/api/v1/openapi.json").json
    post = document["paths"]["/crossings/{crossing_id}/readmission"]["post"]
    assert set(post["responses"]) >= {"200", "403", "404", "409"}


# --- the migration --------------------------------------------------------------------------------------------------


def test_the_migration_backfills_the_crossings_left_between_two_countries(fresh_app):  # noqa: F811
    """933b0c80fad5 opens a task for each crossing refused or gone after a cleared exit, and only for those."""
    with fresh_app.app_context():
        _flask_db(fresh_app, "upgrade", "c7d1e2f3a4b5")
        with db.engine.begin() as connection:
            run = connection.execute
            run(
                text(
                    "INSERT INTO posts (id, code, name_a, name_b, country_a, country_b, default_locale, timezone) "
                    "VALUES (1, 'P', 'Post A', 'Post B', 'RW', 'CD', 'en', 'Africa/Kigali')"
                )
            )
            run(
                text(
                    "INSERT INTO agencies (id, post_id, country, kind, code, name) VALUES "
                    "(1, 1, 'RW', 'immigration', 'RW-IMM', 'RW immigration'), "
                    "(2, 1, 'CD', 'immigration', 'CD-IMM', 'CD immigration')"
                )
            )
            run(
                text(
                    "INSERT INTO step_kinds (id, post_id, agency_id, control, code) VALUES "
                    "(1, 1, 1, 'exit', 'RW-IMM-EXIT'), (2, 1, 2, 'entry', 'CD-IMM-ENTRY')"
                )
            )
            run(text("INSERT INTO routes (id, post_id, direction, category) VALUES (1, 1, 'RW-CD', 'resident')"))
            # crossing: status, ended_at, (exit step status, entry step status)
            plan = {
                1: ("refused", "2026-11-30 09:15:00", ("cleared", "refused")),  # refused at entry: a task
                2: ("refused", "2026-11-30 09:20:00", ("refused", "cancelled")),  # refused at the exit: none
                3: ("no_show", "2026-11-30 09:30:00", ("cleared", "cancelled")),  # gone after the exit: a task
                4: ("no_show", "2026-11-30 09:40:00", ("cancelled", "cancelled")),  # gone before the exit: none
                5: ("in_progress", None, ("cleared", "waiting")),  # still crossing: none
                6: ("cleared", "2026-11-30 10:00:00", ("cleared", "cleared")),  # through: none
            }
            for crossing_id, (status, ended_at, steps) in plan.items():
                run(
                    text(
                        "INSERT INTO crossings (id, post_id, route_id, direction, category, status, created_at, "
                        "ended_at) VALUES (:id, 1, 1, 'RW-CD', 'resident', :status, '2026-11-30 09:00:00', :ended)"
                    ),
                    {"id": crossing_id, "status": status, "ended": ended_at},
                )
                for position, (kind_id, agency_id) in enumerate(((1, 1), (2, 2)), start=1):
                    run(
                        text(
                            "INSERT INTO steps (id, crossing_id, position, step_kind_id, agency_id, status) "
                            "VALUES (:id, :c, :p, :k, :a, :s)"
                        ),
                        {
                            "id": crossing_id * 10 + position,
                            "c": crossing_id,
                            "p": position,
                            "k": kind_id,
                            "a": agency_id,
                            "s": steps[position - 1],
                        },
                    )
        _flask_db(fresh_app, "upgrade")
        with db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT crossing_id, exit_step_id, agency_id, country, reason, created_at, recorded_at "
                    "FROM readmissions ORDER BY crossing_id"
                )
            ).all()
        assert [(r[0], r[1], r[2], r[3], r[4], str(r[5])[:19], r[6]) for r in rows] == [
            (1, 11, 1, "RW", "refused", "2026-11-30 09:15:00", None),
            (3, 31, 1, "RW", "no_show", "2026-11-30 09:30:00", None),
        ]
        _flask_db(fresh_app, "downgrade", "c7d1e2f3a4b5")
        with db.engine.connect() as connection:
            assert "readmissions" not in {
                name for (name,) in connection.execute(text(_table_names_sql(connection.dialect.name)))
            }


def _table_names_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return "SELECT name FROM sqlite_master WHERE type = 'table'"


def test_the_denials_are_audited_with_the_user(app, api, station_id):
    crossed = refused_after_exit(api, station_id)
    api("cd-immigration-1").post(f"/api/v1/crossings/{crossed.crossing_id}/readmission")
    with app.app_context():
        denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "authorization.denied")).all()
        assert [(e.username, e.detail["code"]) for e in denied] == [("cd-immigration-1", "wrong_agency")]
        db.session.remove()
