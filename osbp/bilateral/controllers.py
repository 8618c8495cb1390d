"""Reports page and report API: parse, authorise, call operations, send the file."""

from __future__ import annotations

from datetime import timedelta

from flask import make_response, render_template, request, url_for
from flask_login import current_user

from osbp.bilateral import operations
from osbp.bilateral.blueprint import bp
from osbp.bilateral.labels import DEFAULT_LANGS
from osbp.bilateral.models import REPORT_FORMATS
from osbp.bilateral.period import PERIOD_KINDS, date_range, period
from osbp.config import SUPPORTED_LOCALES
from osbp.queues.operations import service_date
from osbp.web import form_action


def _download(report: operations.ReportFile):
    response = make_response(report.content)
    response.headers["Content-Type"] = report.mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    response.headers["X-Report-SHA256"] = report.record.data_sha256
    return response


@bp.get("/reports")
def reports():
    operations.ensure_may_read_reports(current_user)
    today = service_date(current_user.post)
    last_month = today.replace(day=1) - timedelta(days=1)
    return render_template(
        "bilateral/reports.html",
        post=current_user.post,
        kinds=PERIOD_KINDS,
        formats=REPORT_FORMATS,
        languages=SUPPORTED_LOCALES,
        default_langs=DEFAULT_LANGS,
        default_month=last_month.strftime("%Y-%m"),
        today=today.isoformat(),
        archive=operations.archive(current_user.post_id),
    )


@bp.post("/reports/generate")
def generate():
    def make():
        operations.ensure_may_read_reports(current_user)
        form = request.form
        first, last = period(form.get("kind", ""), form.get("value", ""), form.get("to"))
        langs = [lang for lang in (form.get("lang1"), form.get("lang2")) if lang]
        report = operations.generate(current_user.post, first, last, langs, form.get("format", ""), current_user)
        return _download(report)

    return form_action(make, url_for("bilateral.reports"))


@bp.get("/api/v1/reports/bilateral.pdf", defaults={"file_format": "pdf"})
@bp.get("/api/v1/reports/bilateral.csv.zip", defaults={"file_format": "csv.zip"})
@bp.get("/api/v1/reports/bilateral.json", defaults={"file_format": "json"})
def report_api(file_format: str):
    operations.ensure_may_read_reports(current_user)
    first, last = date_range(request.args.get("from"), request.args.get("to"))
    report = operations.generate(current_user.post, first, last, request.args.get("lang"), file_format, current_user)
    return _download(report)
