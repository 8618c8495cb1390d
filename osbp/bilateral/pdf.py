"""The bilateral report as a PDF the Joint Border Committee prints and signs (WeasyPrint).

``render_pdf(data, langs, *, data_sha256, generated_at)``: a cover page (countries, post, period, languages,
generation time in UTC and at the post, the data SHA-256), one block per section in the order of the report
(``templates/bilateral/sections/<key>.html``: charts from ``charts.py``, each with its tables from ``annex.py``
beneath), the co-chairs' signature block, "Page X of Y" and the SHA-256 in every page's footer, and the canonical JSON
attached as ``report-data.json`` so a copy can be checked against the printed hash.

Safety: WeasyPrint fetches through :class:`DataOnlyFetcher`, which serves ``data:`` URLs and refuses everything else
(no network, no files, no redirects) and stops the render if the template ever asks for another URL; every text from
the data is escaped (Jinja autoescape, SVG text escaped in ``charts.py``); the report is aggregates and a bounded
number of boxes (no per-person table), so a render takes about a second.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote_to_bytes
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from weasyprint import CSS, HTML, Attachment
from weasyprint.urls import URLFetcher, URLFetcherResponse

from osbp.bilateral import annex, charts
from osbp.bilateral.labels import Labels, agency_label, is_numeric, stage_label
from osbp.bilateral.report import canonical_json
from osbp.bilateral.report import data_sha256 as compute_sha256

STYLESHEET = Path(__file__).with_name("report.css")
ATTACHMENT_NAME = "report-data.json"
SHA256 = re.compile(r"[0-9a-f]{64}")

TEXT = {
    "committee": _l("Joint Border Committee"),
    "title": _l("Time release report"),
    "osbp": _l("One Stop Border Post"),
    "countries": _l("Countries"),
    "post": _l("Post"),
    "period": _l("Period"),
    "days": _l("%(days)s days"),
    "languages": _l("Languages"),
    "generated": _l("Generated"),
    "at_post": _l("at the post"),
    "sha256": _l("Data SHA-256"),
    "sha256_note": _l(
        "The SHA-256 of the report's data, which is attached to this PDF as report-data.json: "
        "the same data always gives the same hash, and any change gives another."
    ),
    "format": _l("Report format"),
    "rules": _l("Rules"),
    "rule_release_target": _l("Release target: %(minutes)s min"),
    "rule_wait_target": _l("Wait target: %(minutes)s min"),
    "rule_outliers": _l("Crossings longer than %(hours)s h are left out of the statistics and counted apart"),
    "rule_small_cells": _l('Counts of fewer than %(count)s persons are shown as "< %(count)s"'),
    "method": _l("How to read this report"),
    "signatures": _l("Signatures"),
    "signatures_note": _l("Approved by the co-chairs of the Joint Border Committee."),
    "co_chair": _l("Co-chair of the Joint Border Committee"),
    "name": _l("Name"),
    "function": _l("Title"),
    "signature": _l("Signature"),
    "date": _l("Date"),
    "page_of": _l("Page %(page)s of %(pages)s"),
    "bottleneck": _l("Stage with the largest share of the median time to release"),
    "small_cells_not_drawn": charts.SMALL_CELLS_NOT_DRAWN,
}
METHOD = (
    _l(
        "Times run from the ticket (arrival at the post) to the gate-out scan, or to the gate pass where there was "
        "no scan. Only released crossings are timed."
    ),
    _l("Median: half of the persons took less time, half more. 90th percentile: 9 persons in 10 took less."),
    _l(
        'Counts of 1 to 4 persons are shown as "< 5" and the statistics of fewer than 5 persons as "—", so that '
        "no figure points at a person."
    ),
    _l(
        "Numbers, dates and durations are written the way the first language writes them. In the tables, durations "
        "are in minutes and shares in percent."
    ),
)
INTROS = {
    "volume": _l("Every crossing started at the post in the period, by the local date and hour of its ticket."),
    "release": _l(
        "Time in the facility from the ticket to release, in total and per lane, and the share released within the "
        "target."
    ),
    "stages": _l(
        "Per agency and stage: the wait in the queue and the service at the counter (medians). The stage with the "
        "largest share of the median time to release is in bold."
    ),
    "pattern": _l(
        "When people wait: the median wait in the counter queues by weekday and hour of arrival in the queue. "
        "Darker is longer; the two darkest greys are over the wait target."
    ),
    "outcomes": _l(
        "Referrals to secondary inspection per agency, refusals by reason, re-admissions and tickets not answered."
    ),
    "comparison": _l("The period against the previous period of the same length, and against the baseline study."),
    "staffing": _l(
        "Hours each station was staffed and, per agency, the officers' seated hours against the hours spent serving "
        "(occupancy)."
    ),
    "audit": _l(
        "The post's audit log is a hash chain. Keep these rows: the check at the post (flask audit verify) must find the same "
        "row numbers and hashes later, or the log was changed. An empty row is a day not over yet."
    ),
}
CHARTS = {
    "volume": (("daily_volume", charts.daily_volume),),
    "release": (("release_distribution", charts.release_distribution),),
    "stages": (("stage_bars", charts.stage_bars),),
    "pattern": (("wait_heatmap", charts.wait_heatmap),),
}


class FetchRefused(ValueError):
    """The report asked for a URL that is not a ``data:`` URL."""


class DataOnlyFetcher(URLFetcher):
    """WeasyPrint's URL fetcher for reports: ``data:`` URLs only. Any other URL (http, https, file, ftp, a relative
    path…) raises, and with ``fail_on_errors`` the render stops instead of going on without it. It never opens a
    connection or a file, so there is nothing to redirect. Refused URLs are kept in ``refused``."""

    def __init__(self):
        super().__init__(allowed_protocols=("data",), allow_redirects=False, fail_on_errors=True)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if not isinstance(url, str) or url[:5].lower() != "data:":
            self.refused.append(str(url))
            raise FetchRefused(f"the report fetches data: URLs only, not {str(url)[:80]!r}")
        media_type, body = decode_data_url(url)
        return URLFetcherResponse(url, body, {"Content-Type": media_type})

    def open(self, url, data=None, timeout=None):
        return self.fetch(getattr(url, "full_url", url))


def decode_data_url(url: str) -> tuple[str, bytes]:
    """``data:[<media type>][;base64],<data>`` (RFC 2397) → (media type, bytes), decoded here: no urllib opener."""
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise FetchRefused("malformed data: URL")
    encoded = header.lower().endswith(";base64")
    media_type = (header[: -len(";base64")] if encoded else header) or "text/plain;charset=US-ASCII"
    raw = unquote_to_bytes(payload)
    try:
        return media_type, base64.b64decode(raw, validate=False) if encoded else raw
    except binascii.Error as error:
        raise FetchRefused("malformed base64 in a data: URL") from error


def svg_data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _css_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def page_counter_css(labels: Labels) -> str:
    """CSS ``content`` for "Page X of Y" in each language: the translation with counters where its placeholders are."""
    pieces = []
    for text in labels.each(TEXT["page_of"], page="\ue000", pages="\ue001"):
        tokens = []
        for part in re.split("(\ue000|\ue001)", text):
            if part == "\ue000":
                tokens.append("counter(page)")
            elif part == "\ue001":
                tokens.append("counter(pages)")
            elif part:
                tokens.append(_css_string(part))
        pieces.append(tokens)
    return ' " / " '.join(" ".join(tokens) for tokens in pieces)


def page_css(labels: Labels, data: dict, sha256: str) -> str:
    """The @page rules that carry text: the footer (hash, page numbers) and the running header (post, period)."""
    if not SHA256.fullmatch(sha256):
        raise ValueError("data_sha256 must be 64 lowercase hexadecimal digits")
    post, period = data["post"], data["period"]
    header = f"{post['name_a']} / {post['name_b']} · {labels.date(period['from'])} – {labels.date(period['to'])}"
    sha_label = labels.text(TEXT["sha256"])
    return (
        "@page {"
        f" @top-left {{ content: {_css_string(header)}; }}"
        f" @top-right {{ content: {_css_string(labels.text(TEXT['title']))}; }}"
        f" @bottom-left {{ content: {_css_string(f'{sha_label}: {sha256}')}; }}"
        f" @bottom-right {{ content: {page_counter_css(labels)}; }}"
        " }"
        " @page :first { @top-left { content: none; } @top-right { content: none; } }"
    )


def table_view(table: annex.Table, labels: Labels) -> dict:
    """A table from ``annex`` as the template prints it: header and cells as lists of strings (one per language
    for words, one for figures), and which columns are figures (right-aligned)."""
    name, headers, rows = table
    columns = len(headers)
    numeric = [False] * columns
    for index in range(columns):
        values = [row[index] for row in rows if row[index] is not None]
        numeric[index] = bool(values) and all(is_numeric(value) for value in values)
    header_pairs = [labels.pairs(header) for header in headers]
    cells = [[labels.cell(value) for value in row] for row in rows]
    return {
        "name": name,
        "title": labels.pairs(annex.TABLE_TITLES[name]) if name in annex.TABLE_TITLES else [(labels.lang, name)],
        "headers": header_pairs,
        "rows": cells,
        "numeric": numeric,
        "widths": column_widths(header_pairs, cells, numeric),
        "wide": columns >= 10,
        "keep": len(rows) <= 14,
    }


def column_widths(
    headers: list[list[tuple[str, str]]], rows: list[list[list[str]]], numeric: list[bool]
) -> list[float]:
    """Column widths in percent, from the text they hold: tables are laid out with fixed widths, which WeasyPrint does
    much faster than measuring every cell. A figure column is as wide as its longest figure (figures never wrap), a
    text column as its longest text up to a limit (it wraps beyond), and never narrower than a header's longest word.
    """
    text_limit = 22 if len(headers) >= 10 else 30  # in a wide table, text columns give way to the figures
    weights = []
    for index, header in enumerate(headers):
        longest_word = max((len(word) for _, text in header for word in text.split()), default=1)
        texts = [" / ".join(row[index]) for row in rows]
        longest = max((len(text) for text in texts), default=1)
        header_word = longest_word * 1.3  # headers are bold, and a word must not break
        if numeric[index]:
            weight = max(longest, header_word, 3)
        else:
            cell_word = max((len(word) for text in texts for word in text.split()), default=1)
            weight = max(min(longest, text_limit), min(header_word, 18), cell_word, 4)
        weights.append(weight + 2)
    total = sum(weights)
    return [round(100 * weight / total, 2) for weight in weights]


def section_view(key: str, data: dict, labels: Labels) -> dict:
    return {
        "key": key,
        "template": f"bilateral/sections/{key}.html",
        "title": annex.SECTION_TITLES.get(key, key),
        "intro": INTROS.get(key),
        "data": data["sections"][key],
        "tables": {table[0]: table_view(table, labels) for table in annex.tables(data, key)},
        "charts": {name: svg_data_url(draw(data, labels)) for name, draw in CHARTS.get(key, ())},
    }


def render_html(data: dict, langs, *, data_sha256: str, generated_at: datetime) -> tuple[str, Labels]:
    """The report's HTML (and its Labels), before WeasyPrint."""
    post = data["post"]
    labels = Labels(langs, territory=post["country_a"])
    generated_at = generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC)
    context = {
        "L": labels,
        "T": TEXT,
        "METHOD": METHOD,
        "data": data,
        "post": post,
        "period": data["period"],
        "rules": data["rules"],
        "sha256": data_sha256,
        "generated_utc": labels.datetime(generated_at, "UTC"),
        "generated_local": labels.datetime(generated_at, post["timezone"]),
        "generated_date": labels.date(generated_at.astimezone(ZoneInfo(post["timezone"])).date()),
        "sections": [section_view(key, data, labels) for key in annex.section_keys(data)],
        "period_each": _period_each(labels, data["period"]),
        "agency_label": agency_label,
        "stage_label": stage_label,
    }
    html = current_app.jinja_env.get_template("bilateral/report.html").render(**context)
    return html, labels


def _period_each(labels: Labels, period: dict) -> list[str]:
    """The period written in full in each language (the cover): "1 novembre 2026 – 30 novembre 2026"."""
    out: list[str] = []
    for lang in labels.langs:
        each = Labels(lang, territory=labels.locale.territory)
        text = f"{each.date(period['from'], 'long')} – {each.date(period['to'], 'long')}"
        if text not in out:
            out.append(text)
    return out


def render_pdf(data: dict, langs, *, data_sha256: str, generated_at: datetime) -> bytes:
    """The report as PDF bytes, in ``langs`` (one or two of en/fr/rw, first language first; see ``labels``).

    ``data_sha256`` must be the SHA-256 of ``data``'s canonical JSON (it is printed, and checked here); the JSON is
    attached as ``report-data.json``. ``generated_at`` (UTC) is printed in UTC and in the post's time zone.
    """
    if data_sha256 != compute_sha256(data):
        raise ValueError("data_sha256 is not the SHA-256 of this report's data")
    html, labels = render_html(data, langs, data_sha256=data_sha256, generated_at=generated_at)
    fetcher = DataOnlyFetcher()
    stylesheets = [
        CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=fetcher),
        CSS(string=page_css(labels, data, data_sha256), url_fetcher=fetcher),
    ]
    stamp = (generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC)).astimezone(UTC)
    attachment = Attachment(
        string=canonical_json(data),
        name=ATTACHMENT_NAME,
        description=f"Canonical report data (osbp), SHA-256 {data_sha256}",
        created=stamp,
        modified=stamp,
        relationship="Data",
        url_fetcher=fetcher,
    )
    document = HTML(string=html, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets, attachments=[attachment])
