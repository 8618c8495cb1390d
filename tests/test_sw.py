"""Kiswahili (sw), the fourth UI language: each main page rendered in sw, with the Kiswahili a user reads written out
(not computed with the app's gettext), and no English string left where a translation exists."""

from __future__ import annotations

import html as html_module
import re

import pytest

from tests.conftest import csrf_from
from tests.test_i18n import _english_left, _html_lang
from tests.test_live import _fresh_limits, device_client  # noqa: F401  (autouse fixture)


def _post(client, path, **data):
    data["csrf_token"] = client.csrf
    return client.post(path, data=data)


def _in_sw(client, path) -> str:
    assert _post(client, "/language", locale="sw", next=path).status_code == 302
    return _get(client, path)


def _get(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _assert_sw(raw: str, expected: list[str]):
    text = html_module.unescape(raw)
    assert _html_lang(raw) == "sw"
    missing = [phrase for phrase in expected if phrase not in text]
    assert not missing, f"missing from the sw page: {missing}"
    assert not _english_left(raw, "sw"), _english_left(raw, "sw")


def test_login_page_in_sw(app):
    client = app.test_client()
    client.csrf = csrf_from(client)
    page = _in_sw(client, "/login")
    _assert_sw(page, ["<h1>Ingia</h1>", "Jina la mtumiaji", "Nenosiri"])
    assert re.search(r'value="sw" lang="sw"\s+aria-current="true" class="current">Kiswahili</button>', page)


def test_a_wrong_password_is_told_in_sw(app):
    client = app.test_client()
    client.csrf = csrf_from(client)
    _in_sw(client, "/login")
    response = _post(client, "/login", username="rw-immigration-1", password="not-the-password")
    _assert_sw(response.get_data(as_text=True), ["Jina la mtumiaji au nenosiri si sahihi."])


def test_desk_in_sw(login):
    desk = login("supervisor-1")
    page = _in_sw(desk, "/desk")
    _assert_sw(page, [">Mapokezi</a>", "<h1>Toa tiketi</h1>", "Mwelekeo", "Rwanda → DR Kongo", "Mfanyabiashara"])
    response = _post(desk, "/desk/tickets", direction="CD-RW", category="trader")
    ticket = _get(desk, response.headers["Location"])
    _assert_sw(ticket, ["Tiketi T-001 imetolewa.", "<h3>Njia</h3>", "DR Kongo → Rwanda"])


def test_counter_page_in_sw(login, station_id):
    desk = login("supervisor-1")
    assert _post(desk, "/desk/tickets", direction="RW-CD", category="traveller").status_code == 302
    officer = login("rw-immigration-1")
    c1 = station_id("C1")
    _in_sw(officer, "/desk")
    assert _post(officer, f"/counters/{c1}/seat").status_code == 302
    before = _get(officer, f"/counters/{c1}")
    _assert_sw(before, ["Ita anayefuata", "Wanaosubiri dirisha hili: 1", "Acha dirisha hili", "Ondoka kwenye akaunti"])
    assert _post(officer, f"/counters/{c1}/call-next").status_code == 302
    called = _get(officer, f"/counters/{c1}")
    _assert_sw(called, ["Utambulisho na hati ya kusafiria", "Hifadhi utambulisho", "Pasipoti", "Tarehe ya kuzaliwa"])


def test_stations_page_in_sw(login):
    page = _in_sw(login("supervisor-1"), "/stations")
    _assert_sw(page, ["Sehemu za huduma", "Dirisha 1", "Chumba cha karantini cha afya", "Wazi"])


def test_kiosk_in_sw(app):
    kiosk = device_client(app, "kiosk")
    page = _get(kiosk, "/live/kiosk?lang=sw")
    _assert_sw(
        page,
        [
            "<h1>Chukua tiketi</h1>",
            "Unakwenda wapi?",
            "Wewe ni nani? Gusa picha yako upate tiketi.",
            '<span class="category-name">Mfanyabiashara</span>',
            "<h2>Haki zako</h2>",
            "Hakuna anayeruhusiwa kukunyanyasa wala kukuomba hongo au fadhila yoyote.",
        ],
    )


def test_board_says_each_label_in_sw_too(app):
    board = device_client(app, "board")
    page = html_module.unescape(_get(board, "/live/board"))
    for phrase in ("Anayeitwa sasa", "Walioitwa hivi karibuni", "Muda wa kusubiri"):
        assert f'<span lang="sw">{phrase}</span>' in page, phrase
    assert page.index('<span lang="fr">Appel en cours</span>') < page.index('<span lang="sw">Anayeitwa sasa</span>')
    assert page.index('<span lang="sw">Anayeitwa sasa</span>') < page.index('<span lang="en">Now calling</span>')


def test_supervisor_view_in_sw(login):
    page = _in_sw(login("supervisor-1"), "/live/supervisor")
    _assert_sw(
        page, ["<h1>Hali ilivyo sasa</h1>", "Inajisasisha yenyewe tiketi zinapotolewa", "Lengo la kusubiri: dakika"]
    )


def test_reports_page_in_sw(login):
    page = _in_sw(login("rw-committee-1"), "/reports")
    _assert_sw(
        page,
        [
            "Ripoti ya muda wa kuvuka kwa ajili ya Kamati ya Pamoja ya Mpaka",
            "Kipindi",
            "Lugha ya kwanza",
            ">Kiswahili</option>",
            "Ripoti ya PDF",
        ],
    )


def test_gate_page_in_sw(login):
    page = _in_sw(login("rw-gate-1"), "/gate")
    _assert_sw(
        page, ["<h1>Lango la kutoka</h1>", "Wavukaji wanaoingia Rwanda", "Skani au andika msimbo wa kibali cha kutoka"]
    )
    gate = login("rw-gate-1")
    _in_sw(gate, "/gate")
    response = _post(gate, "/gate/scan", code="nonsense")
    refused = _get(gate, response.headers["Location"]) if response.status_code == 302 else response.get_data(True)
    _assert_sw(refused, ["Kutoka kumekataliwa"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/no-such-page", "Ukurasa huu au kumbukumbu hii haipo."),
    ],
)
def test_error_pages_in_sw(login, path, expected):
    client = login("supervisor-1")
    _in_sw(client, "/desk")
    response = client.get(path)
    assert response.status_code == 404
    _assert_sw(response.get_data(as_text=True), [expected])


def test_the_bilateral_pdf_in_sw_beside_french(app, monkeypatch, tmp_path):
    """A committee may pick Kiswahili as a report language: the PDF is made and its labels read in sw."""
    from sqlalchemy import select

    from osbp.bilateral import operations
    from osbp.extensions import db
    from osbp.post.models import Post
    from tests.bilateral_day import DAY, run_day
    from tests.conftest import missing
    from tests.test_report_pdf import PDFTOTEXT, Admin, _text

    if PDFTOTEXT is None:
        missing("pdftotext is missing (apt-get install poppler-utils)")
    run_day(app, monkeypatch)
    with app.app_context():
        post = db.session.scalar(select(Post))
        report = operations.generate(post, DAY, DAY, "sw,fr", "pdf", Admin())
        db.session.rollback()
    text = " ".join(_text(report.content, tmp_path).split())
    for phrase in ("Ripoti ya muda wa kuvuka", "Walioanza kuvuka", "Jinsi ya kusoma ripoti hii", "Passages commencés"):
        assert phrase in text, phrase


# -- the phone page (/t/<code>) and the kiosk's lookup -----------------------------------------------------------------


def _headline(html: str) -> str:
    return re.search(r'<p class="phone-headline" id="p-headline">([^<]*)</p>', html).group(1)


def test_the_phone_page_in_sw(app, api, station_id):
    from tests.test_live import call, issue, seat

    desk = api("supervisor-1")
    for _ in range(4):
        issue(desk)
    phone = app.test_client()
    first = phone.get("/t/T-001", headers={"Accept-Language": "sw-TZ,sw;q=0.9"}).get_data(as_text=True)
    _assert_sw(first, ["Tafadhali subiri. Namba yako itaitwa kwenye skrini.", "Rwanda → DR Kongo"])
    assert _headline(first) == "Wewe ndiye unayefuata."
    unstaffed = phone.get("/t/T-001/status?lang=sw").json["view"]
    assert unstaffed["detail"] == "Bado hakuna afisa kwenye Dirisha 1 / Dirisha 2."  # nobody seated: no minutes

    rw = api("rw-immigration-1")
    seat(rw, station_id("C1"))
    assert _headline(phone.get("/t/T-004?lang=sw").get_data(as_text=True)) == "Kuna watu 3 mbele yako"
    assert _headline(phone.get("/t/T-002?lang=sw").get_data(as_text=True)) == "Kuna mtu 1 mbele yako"
    assert re.fullmatch(r"takriban dakika \d+", phone.get("/t/T-004/status?lang=sw").json["view"]["detail"])
    call(rw, station_id("C1"))
    assert _headline(phone.get("/t/T-001?lang=sw").get_data(as_text=True)) == "Nenda kwenye Dirisha 1 sasa."


def test_the_phone_pages_errors_in_sw(app, api):
    from tests.test_live import issue

    phone = app.test_client()
    missing = phone.get("/t/T-999?lang=sw")
    assert missing.status_code == 404
    assert '<p class="phone-error" role="alert">Hakuna tiketi T-999 leo.</p>' in missing.get_data(as_text=True)
    issue(api("supervisor-1"))
    config = app.config["OSBP"]
    app.config["OSBP"] = config.replace(status_rate_per_minute=1)
    try:
        assert phone.get("/t/T-001?lang=sw").status_code == 200
        limited = phone.get("/t/T-001/status?lang=sw")
        assert limited.status_code == 429
        assert limited.json["error"]["message"] == "Maombi ni mengi mno. Subiri kidogo kisha ujaribu tena."
    finally:
        app.config["OSBP"] = config


def test_the_kiosks_lookup_answers_in_sw(app):
    kiosk = device_client(app, "kiosk")
    response = kiosk.get("/api/v1/tickets/T-999/status?lang=sw", headers={"Accept-Language": "sw"})
    assert response.status_code == 404 and response.json["error"]["message"] == "Hakuna tiketi T-999 leo."
