"""The printed report: the figures on the PDF's pages equal the figures computed from the scripted day, in each
language pair, and a copy verifies by its hash."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from babel.numbers import format_decimal
from sqlalchemy import select

from osbp.bilateral import operations
from osbp.bilateral.report import data_sha256
from osbp.extensions import db
from osbp.post.models import Post
from tests.bilateral_day import DAY, percentile, run_day
from tests.conftest import missing

PDFTOTEXT = shutil.which("pdftotext")
# The second-language label of each row looked at (a report always has French or English on one side here).
LABELS = {
    "started": {"en": "Crossings started", "fr": "Passages commencés"},
    "median": {"en": "Median (min)", "fr": "Médiane (min)"},
    "p90": {"en": "90th percentile (min)", "fr": "90e centile (min)"},
}


class Admin:
    id = None
    username = None
    role = "admin"


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _row(text: str, label: str) -> str:
    """The first line carrying ``label`` followed only by a figure (the release summary table)."""
    for line in text.splitlines():
        if label in line and re.search(r"\d\s*$", line):
            return line
    raise AssertionError(f"no row {label!r} in the PDF text")


@pytest.mark.parametrize("langs", [("fr", "en"), ("en", "rw"), ("rw", "fr")])
def test_printed_figures_equal_the_scripted_day(app, monkeypatch, tmp_path, langs):
    if PDFTOTEXT is None:
        missing("pdftotext is missing (apt-get install poppler-utils)")
    expected = run_day(app, monkeypatch)
    with app.app_context():
        post = db.session.scalar(select(Post))
        report = operations.generate(post, DAY, DAY, ",".join(langs), "pdf", Admin())
        digest = report.record.data_sha256
        assert digest == data_sha256(report.record.data)
        db.session.rollback()
    text = _text(report.content, tmp_path)
    totals = sorted(s for values in expected.totals.values() for s in values)
    first = langs[0]
    label_lang = "fr" if "fr" in langs else "en"

    def minutes(seconds: float) -> str:
        return format_decimal(round(seconds / 60, 1), "#,##0.0", locale=first)

    assert _row(text, LABELS["started"][label_lang]).split()[-1] == "20"
    assert _row(text, LABELS["median"][label_lang]).split()[-1] == minutes(percentile(totals, 0.5))
    assert _row(text, LABELS["p90"][label_lang]).split()[-1] == minutes(percentile(totals, 0.9))
    # both countries and the post on the cover; the hash of the data on it; "X of Y" pages
    assert "Rusizi II" in text and "Ruzizi II" in text
    assert digest in text.replace("\n", "")
    pages = text.count("\f")
    footer = " ".join(text.split("\f")[0].splitlines()[-3:])  # "Page 1 of N" beside the hash, in each language
    assert pages >= 5 and re.search(rf"\b1\b\D+\b{pages}\b", footer), footer
