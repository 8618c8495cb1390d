"""Who gets bilateral reports, in which formats, archived and audited; the CLI and its verify command."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from osbp.bilateral.models import BilateralReport
from osbp.extensions import db
from tests.bilateral_day import run_day
from tests.conftest import audit_rows

DAY_QUERY = "from=2026-11-10&to=2026-11-10"


@pytest.fixture
def day(app, monkeypatch):
    return run_day(app, monkeypatch)


def test_committee_downloads_json_whose_hash_verifies_and_is_archived(app, api, day):
    committee = api("cd-committee-1")
    response = committee.get(f"/api/v1/reports/bilateral.json?{DAY_QUERY}&lang=fr,en")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.data)
    canonical = json.dumps(document["data"], sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    assert hashlib.sha256(canonical).hexdigest() == document["sha256"] == response.headers["X-Report-SHA256"]
    assert document["data"]["sections"]["volume"]["total"] == 20
    assert document["languages"] == ["fr", "en"]
    with app.app_context():
        record = db.session.scalar(select(BilateralReport))
        assert record.data_sha256 == document["sha256"]
        assert record.file_sha256 == hashlib.sha256(response.data).hexdigest()
        assert record.created_by.username == "cd-committee-1"
        db.session.remove()
    assert audit_rows(app, "report.generated") == [("ok", "cd-committee-1", record.created_by_id)]


def test_no_personal_data_in_a_report(api, day):
    body = api("supervisor-1").get(f"/api/v1/reports/bilateral.json?{DAY_QUERY}").get_data(as_text=True)
    for personal in ("Test Person", "PA1234567", "1990-01-01", "T-001", "rw-immigration-1", "No valid visa"):
        assert personal not in body  # names, documents, tickets, officers; a reason given once is "other reasons"


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-11-10",
        "from=2026-11-31&to=2026-12-01",
        "from=2026-11-10&to=2026-11-01",
        "from=2025-01-01&to=2026-11-10",
        "from=10/11/2026&to=2026-11-10",
        "from=2026-11-10&to=2026-11-10&lang=de",
        "from=2026-11-10&to=2026-11-10&lang=fr,fr",
        "from=2026-11-10&to=2026-11-10&lang=fr,en,rw",
    ],
)
def test_bad_period_or_language_is_a_clear_4xx(api, query):
    response = api("supervisor-1").get(f"/api/v1/reports/bilateral.json?{query}")
    assert response.status_code in (400, 422)
    assert response.json["error"]["code"] in ("invalid_period", "invalid_languages", "invalid")
    assert response.json["error"]["message"]


def test_bad_period_message_is_translated(api):
    client = api("supervisor-1")
    response = client.client.get(
        "/api/v1/reports/bilateral.json?from=2026-11-10&to=2026-11-01",
        headers={**client.headers, "Accept-Language": "fr"},
    )
    assert response.status_code == 400
    assert response.json["error"]["message"] != "The period ends before it starts."


@pytest.mark.parametrize("username", ["rw-immigration-1", "cd-health-1", "rw-gate-1"])
def test_officers_and_gate_cannot_read_reports(app, api, login, username):
    assert api(username).get(f"/api/v1/reports/bilateral.json?{DAY_QUERY}").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(BilateralReport.id)) is None
        db.session.remove()
    page = login(username).get("/reports") if username != "rw-gate-1" else None
    if page is not None:
        assert page.status_code == 403


def test_csv_zip_has_the_same_numbers_as_the_json(api, day):
    client = api("rw-committee-1")
    data = json.loads(client.get(f"/api/v1/reports/bilateral.json?{DAY_QUERY}&lang=en").data)["data"]
    response = client.get(f"/api/v1/reports/bilateral.csv.zip?{DAY_QUERY}&lang=en")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    text = "\n".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())
    median_minutes = data["sections"]["release"]["overall"]["median"] / 60
    assert f"{median_minutes:.1f}" in text
    assert str(data["sections"]["volume"]["total"]) in text


def test_reports_page_makes_a_pdf_and_lists_it_in_the_archive(login, day):
    committee = login("rw-committee-1")
    page = committee.get("/reports")
    assert page.status_code == 200
    assert "No report has been made yet." in page.get_data(as_text=True)
    response = committee.post(
        "/reports/generate",
        data={
            "csrf_token": committee.csrf,
            "kind": "day",
            "value": "2026-11-10",
            "lang1": "fr",
            "lang2": "en",
            "format": "pdf",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.data.startswith(b"%PDF")
    assert response.headers["Cache-Control"] == "no-store"
    listed = committee.get("/reports").get_data(as_text=True)
    assert "Nov 10, 2026 – Nov 10, 2026" in listed and "rw-committee-1" in listed


def test_reports_page_bad_period_is_a_flashed_message_not_a_file(login):
    supervisor = login("supervisor-1")
    response = supervisor.post(
        "/reports/generate",
        data={"csrf_token": supervisor.csrf, "kind": "month", "value": "2026-13", "lang1": "en", "format": "pdf"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Give the month as YYYY-MM." in response.get_data(as_text=True)


def test_cli_report_and_verify(app, day, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "day.json"
    result = runner.invoke(
        args=["report", "--from", "2026-11-10", "--to", "2026-11-10", "--lang", "en", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "data SHA-256" in result.output
    verified = runner.invoke(args=["report", "verify", str(out)])
    assert verified.exit_code == 0 and verified.output.startswith("OK"), verified.output
    document = json.loads(out.read_text())
    document["data"]["sections"]["volume"]["total"] = 21  # one changed figure
    out.write_text(json.dumps(document))
    altered = runner.invoke(args=["report", "verify", str(out)])
    assert altered.exit_code == 1 and "ALTERED" in altered.output


def test_cli_pdf_verifies_and_a_changed_byte_fails(app, day, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "day.pdf"
    result = runner.invoke(args=["report", "--from", "2026-11-10", "--to", "2026-11-10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["report", "verify", str(out)]).exit_code == 0
    content = bytearray(out.read_bytes())
    content[len(content) // 2] ^= 0x01
    out.write_bytes(bytes(content))
    failed = runner.invoke(args=["report", "verify", str(out)])
    assert failed.exit_code == 1 and "ALTERED" in failed.output
