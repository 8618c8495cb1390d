"""Generating, archiving and verifying bilateral reports. Operations never commit.

Every generated file is archived (post, period, languages, format, the SHA-256 of the canonical data and of the file,
who, when) and audited. ``verify`` checks a JSON or PDF copy: the JSON's data must hash to the SHA-256 it states, and
a PDF must be byte for byte a file this system issued (its SHA-256 in the archive), whose archived data still hashes
to the SHA-256 printed on it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from osbp.audit import operations as audit
from osbp.bilateral.labels import parse_langs
from osbp.bilateral.models import REPORT_FORMATS, BilateralReport
from osbp.bilateral.report import build_report, canonical_json, data_sha256
from osbp.errors import Forbidden, Invalid
from osbp.extensions import db
from osbp.types import utcnow

REPORT_ROLES = ("committee", "supervisor", "admin")
MIME_TYPES = {"pdf": "application/pdf", "csv.zip": "application/zip", "json": "application/json"}


@dataclass(frozen=True)
class ReportFile:
    content: bytes
    filename: str
    mimetype: str
    record: BilateralReport


def ensure_may_read_reports(user) -> None:
    """Committee members (of either country), supervisors and admins: aggregates only, never a person."""
    if getattr(user, "role", None) not in REPORT_ROLES:
        raise Forbidden(_("Only the Joint Border Committee, supervisors and admins read bilateral reports."))


def report_format(value) -> str:
    if value not in REPORT_FORMATS:
        raise Invalid(
            _("Unknown format %(format)s. Use one of: %(choices)s.", format=value, choices=", ".join(REPORT_FORMATS)),
            code="invalid_format",
        )
    return value


def generate(post, first_day, last_day, langs, file_format: str, user, *, now: datetime | None = None) -> ReportFile:
    """Build the report's data, make the file in ``file_format``, archive it and audit the download."""
    ensure_may_read_reports(user)
    langs = parse_langs(langs)
    file_format = report_format(file_format)
    now = now or utcnow()
    data = build_report(post, first_day, last_day, now=now)
    digest = data_sha256(data)
    content = render(data, langs, file_format, digest, now)
    record = BilateralReport(
        post_id=post.id,
        period_from=first_day,
        period_to=last_day,
        languages=",".join(langs),
        file_format=file_format,
        data_sha256=digest,
        file_sha256=hashlib.sha256(content).hexdigest(),
        data=data,
        created_by_id=getattr(user, "id", None),
        created_at=now,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        "report.generated",
        user=user,
        obj=record,
        period_from=first_day.isoformat(),
        period_to=last_day.isoformat(),
        format=file_format,
        languages=record.languages,
        data_sha256=digest,
    )
    name = f"osbp-trs-{post.code}-{first_day.isoformat()}-{last_day.isoformat()}-{'-'.join(langs)}.{file_format}"
    return ReportFile(content, name.lower(), MIME_TYPES[file_format], record)


def render(data: dict, langs, file_format: str, digest: str, generated_at: datetime) -> bytes:
    if file_format == "pdf":
        from osbp.bilateral.pdf import render_pdf

        return render_pdf(data, langs, data_sha256=digest, generated_at=generated_at)
    if file_format == "csv.zip":
        from osbp.bilateral.annex import csv_zip

        return csv_zip(data, langs)
    return json_document(data, langs, digest, generated_at)


def json_document(data: dict, langs, digest: str, generated_at: datetime) -> bytes:
    document = {
        "sha256": digest,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "languages": list(langs),
        "data": data,
    }
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def archive(post_id: int, limit: int = 50) -> list[BilateralReport]:
    return list(
        db.session.scalars(
            select(BilateralReport)
            .where(BilateralReport.post_id == post_id)
            .order_by(BilateralReport.created_at.desc(), BilateralReport.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    data_sha256: str | None = None
    record: BilateralReport | None = None


def verify(content: bytes, filename: str) -> Verdict:
    """Is this copy of a report intact? (JSON: its data hashes to the stated SHA-256 and is in the archive; PDF: the
    very file this system issued.)"""
    if filename.lower().endswith(".json"):
        return _verify_json(content)
    if filename.lower().endswith(".pdf"):
        return _verify_pdf(content)
    return Verdict(False, "give a .json or .pdf report file")


def _verify_json(content: bytes) -> Verdict:
    try:
        document = json.loads(content.decode("utf-8"))
        stated, data = document["sha256"], document["data"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return Verdict(False, "not a report JSON file (expected the keys sha256 and data)")
    actual = hashlib.sha256(canonical_json(data)).hexdigest()
    if actual != stated:
        return Verdict(False, f"ALTERED: the data hashes to {actual}, the file states {stated}", actual)
    record = db.session.scalar(select(BilateralReport).where(BilateralReport.data_sha256 == actual).limit(1))
    if record is None:
        return Verdict(False, f"the data is intact ({actual}) but this system never issued it", actual)
    return Verdict(True, f"OK: intact, data SHA-256 {actual}, {_issued(record)}", actual, record)


def _verify_pdf(content: bytes) -> Verdict:
    file_hash = hashlib.sha256(content).hexdigest()
    record = db.session.scalar(select(BilateralReport).where(BilateralReport.file_sha256 == file_hash).limit(1))
    if record is None:
        return Verdict(False, f"ALTERED or unknown: no report issued by this system has the file SHA-256 {file_hash}")
    if data_sha256(record.data) != record.data_sha256:
        return Verdict(False, "the archived data no longer matches its hash: the archive was altered", record=record)
    return Verdict(
        True,
        f"OK: the file as issued, data SHA-256 {record.data_sha256}, {_issued(record)}",
        record.data_sha256,
        record,
    )


def _issued(record: BilateralReport) -> str:
    who = record.created_by.username if record.created_by else "the command line"
    return (
        f"{record.period_from.isoformat()} to {record.period_to.isoformat()}, issued "
        f"{record.created_at.isoformat(timespec='seconds')} by {who}"
    )
