"""The bilateral report as files: the PDF the committee prints and signs, the CSV annexes and the attached JSON.

Rendered from the hand-made sample (tests/bilateral_sample.py) and from a scripted day in the database. The PDF is
read back as a reader would: its text (``pdftotext -layout``) and its attachment (``pdfdetach``); the figures checked
are computed here from the sample and formatted with Babel, not taken from the renderer.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import threading
import zipfile
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from babel.numbers import format_decimal
from flask import has_app_context
from flask_babel import force_locale, gettext
from sqlalchemy import select
from weasyprint.urls import FatalURLFetchingError

from osbp.bilateral import pdf as report_pdf
from osbp.bilateral.annex import csv_zip
from osbp.bilateral.labels import Labels, parse_langs
from osbp.bilateral.pdf import DataOnlyFetcher, FetchRefused, render_pdf
from osbp.bilateral.report import build_report, canonical_json, data_sha256
from osbp.errors import Invalid
from osbp.extensions import db
from osbp.post.models import Post
from tests.bilateral_day import DAY, local, run_day, summary
from tests.bilateral_sample import HISTOGRAM, sample_report

GENERATED_AT = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # 08:30 at the post (Africa/Kigali, UTC+2)


def render(data: dict, langs) -> bytes:
    return render_pdf(data, langs, data_sha256=data_sha256(data), generated_at=GENERATED_AT)


def pdf_text(content: bytes, tmp_path, name: str = "report.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout
    return text.decode("utf-8").replace("\u202f", " ").replace("\xa0", " ")


def page_count(content: bytes, tmp_path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def attachment(content: bytes, tmp_path, name: str) -> bytes:
    path = tmp_path / "attached.pdf"
    path.write_bytes(content)
    listing = subprocess.run(["pdfdetach", "-list", str(path)], check=True, capture_output=True, text=True).stdout
    assert name in listing, listing
    out = tmp_path / "detached"
    subprocess.run(["pdfdetach", "-savefile", name, "-o", str(out), str(path)], check=True, capture_output=True)
    return out.read_bytes()


def tr(msgid: str, lang: str, **variables) -> str:
    """A label as the catalogs translate it (so the tests hold once the new strings are translated). Needs an app
    context: without one, force_locale does nothing."""
    assert has_app_context()
    with force_locale(lang):
        return gettext(msgid, **variables)


def shows_row(text: str, msgid: str, value: str, lang: str) -> bool:
    """A figure row of the PDF: its label (the first words, in the first language) and its value on one line."""
    start = " ".join(tr(msgid, lang).split()[:3])
    value = r"<\s?5" if value == "< 5" else re.escape(value)  # pdftotext may close "< 5" up
    return re.search(rf"^\s*{re.escape(start)}.*\s{value}$", text, re.M) is not None


def flat(text: str) -> str:
    return " ".join(text.split())


def fr(value, pattern="#,##0.0") -> str:
    """A number as French writes it (pdftotext gives the narrow no-break space as a space)."""
    return format_decimal(value, pattern, locale="fr_RW").replace("\u202f", " ").replace("\xa0", " ")


def csv_tables(content: bytes) -> dict[str, list[list[str]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    tables = {}
    for name in archive.namelist():
        if name.endswith(".csv"):
            raw = archive.read(name)
            assert raw.startswith(b"\xef\xbb\xbf"), f"{name} has no BOM"
            text = raw.decode("utf-8-sig")
            delimiter = ";" if text.splitlines()[0].count(";") else ","
            tables[name.split("_", 1)[1].removesuffix(".csv")] = list(
                csv.reader(io.StringIO(text), delimiter=delimiter)
            )
    return tables


@pytest.fixture(scope="module")
def rendered(app, tmp_path_factory):
    """The sample rendered once per language set: (data, pdf bytes, pdftotext text, pages)."""
    out = {}
    tmp = tmp_path_factory.mktemp("pdf")
    with app.app_context():
        data = sample_report()
        for langs in (("fr", "en"), ("en",), ("rw", "fr")):
            content = render(data, langs)
            name = "-".join(langs) + ".pdf"
            out[langs] = (data, content, pdf_text(content, tmp, name), page_count(content, tmp))
    return out


# -- the PDF -----------------------------------------------------------------------------------------------------


def test_pdf_shows_the_sample_figures_as_french_writes_them(ctx, rendered):
    data, _content, text, _pages = rendered[("fr", "en")]
    volume = data["sections"]["volume"]
    release = data["sections"]["release"]
    total = sum(day["total"] for day in volume["by_day"])  # every day of the sample is 5 or more
    assert total == volume["total"]
    assert shows_row(text, "Crossings in the period", fr(total, "#,##0"), "fr")  # "25 356"
    assert " " in fr(total, "#,##0")  # French groups thousands
    median = release["overall"]["median"] / 60
    assert shows_row(text, "Median (min)", fr(median), "fr")  # "27,3"
    timed = sum(n for *_, n in HISTOGRAM)
    within = sum(n for _low, high, n in HISTOGRAM if high <= 30)
    assert shows_row(text, "Within the target of %(minutes)s min (%%)", fr(100 * within / timed), "fr")  # "56,8"
    # the busiest hour's date as the French date, the post's local date
    assert "06/11/2026" in text
    # the CD → RW drivers are a small cell: their count is "< 5" and their statistics are not shown
    driver_lines = [line for line in text.splitlines() if "CD → RW" in line and "Chauffeur" in line]
    # (pdftotext may close "< 5" up)
    assert any(re.search(r"<\s?5\s+—\s+—\s+—\s+—\s+—$", line) for line in driver_lines), driver_lines
    # the busiest weekday figure, with a decimal comma
    friday = volume["by_weekday"][4]
    assert re.search(
        rf"ven\. / Fri\s+{fr(friday['persons'], '#,##0')}\s+4\s+{re.escape(fr(friday['mean_per_day']))}", text
    )


def test_labels_in_both_languages_side_by_side(rendered):
    _data, _content, text, _pages = rendered[("fr", "en")]
    lines = text.splitlines()
    assert any("Commerçant / Trader" in line for line in lines)
    assert any("Poste frontalier à arrêt unique / One Stop Border Post" in line for line in lines)
    assert "Français | English" in text
    assert any(re.search(r"Migration / Immigration", line) for line in lines)
    # dates in full in each language on the cover
    assert "1 novembre 2026 – 30 novembre 2026" in text
    assert "1 November 2026 – 30 November 2026" in text


def test_one_language_shows_only_that_language(ctx, rendered):
    _data, _content, text, _pages = rendered[("en",)]
    assert "Trader" in text and "Commerçant" not in text and "Français" not in text
    assert shows_row(text, "Crossings in the period", "25,356", "en")
    assert shows_row(text, "Median (min)", "27.3", "en")


def test_kinyarwanda_first_writes_numbers_the_kinyarwanda_way(ctx, rendered):
    _data, _content, text, _pages = rendered[("rw", "fr")]
    assert "Ikinyarwanda | Français" in text
    assert shows_row(text, "Crossings in the period", "25.356", "rw")
    assert shows_row(text, "Median (min)", "27,3", "rw")
    assert "2026-11-06" in text  # the busiest hour's date, as CLDR writes a short date in Kinyarwanda
    assert "Commerçant" in text


def test_every_page_has_its_number_of_the_total_and_the_data_hash(ctx, rendered):
    for langs, (data, _content, text, pages) in rendered.items():
        digest = data_sha256(data)
        page_texts = [page for page in text.split("\f") if page.strip()]
        assert len(page_texts) == pages > 5, langs
        for number, page in enumerate(page_texts, start=1):
            assert tr("Page %(page)s of %(pages)s", langs[0], page=number, pages=pages) in page, (langs, number)
            assert digest in page, (langs, number)


def test_cover_names_countries_post_period_languages_generation_and_hash(ctx, rendered):
    data, _content, text, _pages = rendered[("fr", "en")]
    cover = text.split("\f")[0]
    for expected in ("Rwanda (RW)", "RD Congo / DR Congo (CD)", "Rusizi II", "Ruzizi II", "RUSIZI-II"):
        assert expected in cover
    assert "06:30:00 UTC" in cover
    assert "08:30:00 (Africa/Kigali" in cover  # post-local time
    assert data_sha256(data) in cover
    last = [page for page in text.split("\f") if page.strip()][-1]
    assert flat(last).count(tr("Co-chair of the Joint Border Committee", "fr")) == 2
    assert tr("Signature", "fr") in last
    assert data_sha256(data) in last


def test_attached_json_is_the_canonical_data_whose_hash_is_printed(rendered, tmp_path):
    data, content, text, _pages = rendered[("fr", "en")]
    attached = attachment(content, tmp_path, "report-data.json")
    assert attached == canonical_json(data)
    assert json.loads(attached) == data
    assert hashlib.sha256(attached).hexdigest() in text


def test_render_refuses_a_hash_that_is_not_the_datas(ctx):
    data = sample_report()
    with pytest.raises(ValueError):
        render_pdf(data, ("fr", "en"), data_sha256="0" * 64, generated_at=GENERATED_AT)


def test_sections_keep_the_report_order_after_a_trip_through_json(ctx, tmp_path):
    """The archive keeps the canonical JSON, whose keys are sorted: the sections still come in the report's order."""
    data = json.loads(canonical_json(sample_report()))
    assert list(data["sections"])[0] == "comparison"
    text = pdf_text(render(data, ("en",)), tmp_path)
    headings = ["Volume of crossings", "Time to release", "Time per stage", "Staffing and occupancy"]
    positions = [text.index(f"\n{heading}\n") for heading in headings]
    assert positions == sorted(positions)


def test_data_text_is_escaped(ctx, tmp_path):
    data = sample_report()
    data["post"]["name_a"] = "<b>Rusizi</b> & <i>II</i>"
    data["sections"]["outcomes"]["refusals"][0]["reason"] = '<img src="http://127.0.0.1:9/x.png"><script>x()</script>'
    text = pdf_text(render(data, ("en",)), tmp_path)
    assert "<b>Rusizi</b> & <i>II</i>" in text
    assert '<img src="http://127.0.0.1:9/x.png"><script>x()</script>' in text.replace("\n", "")


# -- the URL fetcher: data: only ---------------------------------------------------------------------------------


class _Probe(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Probe.hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", "file:///etc/passwd")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def probe_server():
    _Probe.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Probe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/a.png",
        "https://example.org/a.css",
        "file:///etc/passwd",
        "FILE:///etc/hostname",
        "ftp://x/y",
    ],
)
def test_fetcher_refuses_every_url_but_data(url):
    fetcher = DataOnlyFetcher()
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_serves_data_urls():
    fetcher = DataOnlyFetcher()
    response = fetcher.fetch("data:image/svg+xml;base64,PHN2Zy8+")
    assert response.read() == b"<svg/>" and response.content_type == "image/svg+xml"
    assert fetcher.fetch("data:,a%20b").read() == b"a b"
    assert fetcher.refused == []


@pytest.mark.parametrize("kind", ["img-http", "img-file", "css-http", "css-file"])
def test_a_url_in_the_template_is_never_fetched(ctx, monkeypatch, probe_server, tmp_path, kind):
    """If the report's HTML ever pointed at the network or a file, the render stops and nothing is fetched."""
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not to be read")
    target = f"{probe_server}/probe.png" if kind.endswith("http") else secret.as_uri()
    if kind.startswith("img"):
        body = f'<p>x</p><img src="{target}">'
    else:
        body = f'<style>p {{ background: url("{target}") }}</style><p>x</p>'
    html = f"<!doctype html><html><head><meta charset=utf-8></head><body>{body}</body></html>"
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: (opened.append(str(path)), real_open(path, *a, **k))[1])
    data = sample_report()
    monkeypatch.setattr(report_pdf, "render_html", lambda *a, **k: (html, Labels(("en",), "RW")))
    with pytest.raises(FatalURLFetchingError):
        render_pdf(data, ("en",), data_sha256=data_sha256(data), generated_at=GENERATED_AT)
    assert _Probe.hits == []
    assert str(secret) not in opened


def test_the_real_template_fetches_nothing_but_data_urls(ctx, monkeypatch):
    fetched = []
    original = DataOnlyFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(DataOnlyFetcher, "fetch", spy)
    render(sample_report(), ("fr", "en"))
    assert len(fetched) == 4  # the four charts
    assert all(url.startswith("data:image/svg+xml;base64,") for url in fetched)


# -- the CSV annexes ---------------------------------------------------------------------------------------------


def test_csv_zip_has_every_table_with_the_same_numbers_as_the_pdf(ctx, rendered):
    data, _content, text, _pages = rendered[("fr", "en")]
    content = csv_zip(data, ("fr", "en"))
    tables = csv_tables(content)
    assert {"volume_by_day", "release_by_lane", "stages", "pattern_median_wait", "staffing_agencies"} <= set(tables)
    # headers in both languages; French spreadsheet habit: ";" and a decimal comma
    assert tables["volume_by_lane"][0][:2] == ["Sens / Direction", "Catégorie / Category"]
    lanes = {(row[0], row[1]): row[2] for row in tables["volume_by_lane"][1:]}
    assert lanes[("RW → CD", "Commerçant / Trader")] == "4560"
    assert lanes[("CD → RW", "Chauffeur / Driver")] == "< 5"
    lane = next(row for row in tables["release_by_lane"][1:] if row[:2] == ["CD → RW", "Commerçant / Trader"])
    assert lane[2:] == ["5164", "45,2", "38,7", "86,0", "7,3", "695,0"]
    small = next(row for row in tables["release_by_lane"][1:] if row[:2] == ["CD → RW", "Chauffeur / Driver"])
    assert small[2:] == ["< 5", "", "", "", "", ""]
    # every row of three tables is printed in the PDF with the same figures (grouping aside)
    for name, key_columns in (("release_by_lane", 2), ("volume_by_day", 1), ("staffing_agencies", 2)):
        for row in tables[name][1:]:
            figures = list(row[key_columns:])
            printed = [_group(cell) if cell else "—" for cell in figures]
            pattern = r"\s+".join(r"<\s?5" if cell == "< 5" else re.escape(cell) for cell in printed)
            assert re.search(pattern, text), (name, row, pattern)


def _group(cell: str) -> str:
    """A CSV figure as the French PDF prints it: thousands grouped."""
    if not re.fullmatch(r"\d+(,\d)?", cell):
        return cell
    whole, _, decimals = cell.partition(",")
    return fr(int(whole), "#,##0") + (f",{decimals}" if decimals else "")


def test_csv_dates_are_iso_and_the_pdf_writes_them_in_the_language(ctx, rendered):
    data, _content, text, _pages = rendered[("fr", "en")]
    rows = csv_tables(csv_zip(data, ("fr", "en")))["volume_by_day"][1:]
    assert rows[0][0] == "2026-11-01" and len(rows) == 30
    assert re.search(r"\n\s*01/11/2026\s+45\s+71\s", text)


def test_csv_in_english_uses_commas_and_a_decimal_point(ctx):
    archive = zipfile.ZipFile(io.BytesIO(csv_zip(sample_report(), ("en",))))
    name = next(n for n in archive.namelist() if n.endswith("release_by_lane.csv"))
    lines = archive.read(name).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Direction,Category,Crossings timed,")
    assert "CD → RW,Trader,5164,45.2,38.7,86.0,7.3,695.0" in lines


def test_csv_readme_names_post_period_and_hash_and_the_zip_is_reproducible(ctx):
    data = sample_report()
    content = csv_zip(data, ("fr", "en"))
    readme = zipfile.ZipFile(io.BytesIO(content)).read("README.txt").decode("utf-8-sig")
    for expected in ("Rusizi II", "Ruzizi II", "RUSIZI-II", "2026-11-01 – 2026-11-30", data_sha256(data)):
        assert expected in readme
    assert csv_zip(sample_report(), ("fr", "en")) == content  # byte for byte: an archived report can be remade
    changed = sample_report()
    changed["sections"]["volume"]["by_lane"][1]["count"] = 4561
    assert csv_zip(changed, ("fr", "en")) != content


# -- labels and formats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["de", "fr,fr", "fr,en,rw", ["en", "xx"], "en;fr"])
def test_languages_are_one_or_two_different_supported_ones(ctx, value):
    with pytest.raises(Invalid) as raised:
        parse_langs(value)
    assert raised.value.code == "invalid_languages"


def test_languages_default_to_french_then_english(ctx):
    assert parse_langs(None) == ("fr", "en")
    assert parse_langs("rw, FR") == ("rw", "fr")
    assert parse_langs(["en"]) == ("en",)


def test_formats_follow_the_first_language(ctx):
    french, english = Labels(("fr", "en"), "RW"), Labels(("en", "fr"), "RW")
    assert french.duration(750).replace("\u202f", " ") == "12,5\xa0min"
    assert english.duration(750) == "12.5\xa0min"
    assert english.duration(3 * 3600 + 23 * 60 + 10) == "3:23\xa0h"
    assert french.share(0.8734).replace("\u202f", " ").replace("\xa0", " ") == "87,3 %"
    assert english.share(0.8734) == "87.3%"
    assert english.date(date(2026, 11, 6)) == "06/11/2026"  # the post's territory: day first, not US style
    assert french.count("< 5") == "< 5" and french.minutes(None) == "—"
    assert french.weekday(0) == ["lun.", "Mon"]
    assert french.each(Labels.direction("RW-CD")) == ["RW → CD"]


# -- real data: a scripted day in the database --------------------------------------------------------------------


def test_a_real_report_renders_with_its_figures(app, monkeypatch, tmp_path):
    expected = run_day(app, monkeypatch)
    with app.app_context():
        post = db.session.scalar(select(Post))
        data = build_report(post, DAY, DAY, now=local(20, 0))
        content = render(data, ("fr", "en"))
        tables = csv_tables(csv_zip(data, ("fr", "en")))
        db.session.remove()
    text = pdf_text(content, tmp_path)
    everyone = [s for values in expected.totals.values() for s in values]
    median_minutes = summary(everyone)["median"] / 60
    with app.app_context():  # the labels, as the catalogs translate them
        assert shows_row(text, "Median (min)", fr(median_minutes), "fr")
        assert shows_row(text, "Crossings started", "20", "fr")
        summary_rows = {row[0].split(" / ")[-1]: row[1] for row in tables["release_summary"][1:]}  # English label
        assert summary_rows[tr("Median (min)", "en")] == f"{median_minutes:.1f}".replace(".", ",")
        assert summary_rows[tr("Crossings started", "en")] == "20"
    assert "10/11/2026" in text
    assert attachment(content, tmp_path, "report-data.json") == canonical_json(data)


def test_a_section_without_its_own_template_still_renders(ctx, monkeypatch, tmp_path):
    """A later section (an agency's) needs its module and its tables; until its template block exists, its tables
    are printed as they are."""
    from osbp.bilateral import annex

    data = sample_report()
    data["sections"]["health_screening"] = {"screened": 1234}
    monkeypatch.setitem(
        annex.SECTION_TABLES,
        "health_screening",
        lambda data: [("health_screening", ["Screened"], [[data["sections"]["health_screening"]["screened"]]])],
    )
    text = pdf_text(render(data, ("en",)), tmp_path)
    assert "health_screening" in text and re.search(r"Screened\s+1,234\n", text)


def test_chart_texts_are_escaped(ctx):
    """Texts that come from the data (country codes in the lanes, stage keys) are escaped in the SVG."""
    import xml.etree.ElementTree as ET

    from osbp.bilateral import charts

    data = sample_report()
    data["post"]["country_a"] = 'R"<&'
    data["sections"]["stages"]["rows"][0]["country"] = "</text><script>"
    labels = Labels(("fr", "en"), "RW")
    for draw in (charts.daily_volume, charts.release_distribution, charts.stage_bars, charts.wait_heatmap):
        svg = draw(data, labels)
        ET.fromstring(svg)  # noqa: S314  (our own SVG) well-formed: no data text opened or closed an element
        assert "<script>" not in svg
    volume = charts.daily_volume(data, labels)
    assert "R&quot;&lt;&amp; → CD" in volume
    texts = ET.fromstring(volume).iter("{http://www.w3.org/2000/svg}text")  # noqa: S314
    assert any(t.text == 'R"<& → CD' for t in texts)


def test_a_quarter_renders_with_dated_axis(ctx, tmp_path):
    """A 92-day period: 92 rows in the daily table (over pages, with the header repeated), day/month on the chart.
    (How long it takes is measured by bench/report.py, not here: docs/performance.md.)"""
    data = sample_report(days=92)
    content = render(data, ("fr", "en"))
    text = pdf_text(content, tmp_path)
    assert "31/01/2027" in text and re.search(r"\n\s*31/01/2027\s+\d+", text)  # the last day's row
    svg = report_pdf.charts.daily_volume(data, Labels(("fr", "en"), "RW"))
    assert ">01/12<" in svg  # the axis names the month once the period runs over several
