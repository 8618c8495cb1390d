"""A ticket's public page on a phone (/t/<code>, opened by the ticket's QR code), the ticket slip the kiosk and the
desk print, the kiosk's printing set-up and its choice of direction.

The page needs no login, carries no personal data, is rate-limited with the public status lookup, comes in the
phone's language (Accept-Language) or the one chosen (?lang=), and shows today's ticket only. The French and
Kinyarwanda a trader reads are written out, never computed with the app's own gettext.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from osbp.config import SUPPORTED_LOCALES
from osbp.extensions import db
from osbp.post.models import Post
from osbp.queues import operations as queues
from osbp.queues.models import Ticket
from osbp.web import PUBLIC_ENDPOINTS
from tests.test_live import (  # noqa: F401  (_fresh_limits: autouse fixture)
    PERSONAL,
    _fresh_limits,
    call,
    decide,
    device_client,
    issue,
    make_device,
    open_device_link,
    seat,
    through_counter_one,
)

FR = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
# What a trader reads, written out per language (catalog entries that exist today).
PLEASE_WAIT = {
    "en": "Please wait. Your number will be called on the screens.",
    "fr": "Veuillez patienter. Votre numéro sera appelé sur les écrans.",
    "rw": "Tegereza gato. Nomero yawe izahamagarwa kuri za mugaragaza.",
}
NO_TICKET = {
    "en": "No ticket T-999 today.",
    "fr": "Aucun ticket T-999 aujourd&#39;hui.",
    "rw": "Nta tike T-999 ihari uyu munsi.",
}
TOO_MANY = {
    "fr": "Trop de requêtes. Patientez un instant puis réessayez.",
    "rw": "Ibyifuzo ni byinshi cyane. Tegereza gato wongere ugerageze.",
}


def _post(app) -> tuple[str, object]:
    """The demo post's code and today's service day there."""
    with app.app_context():
        post = db.session.scalar(select(Post))
        found = post.code, queues.service_date(post)
        db.session.remove()
    return found


def _html(response) -> str:
    return response.get_data(as_text=True)


def _headline(html: str) -> str:
    return re.search(r'<p class="phone-headline" id="p-headline">([^<]*)</p>', html).group(1)


def _tickets_issued(app, **values) -> None:
    with app.app_context():
        db.session.execute(update(Ticket).values(**values))
        db.session.commit()
        db.session.remove()


# -- the phone page ---------------------------------------------------------------------------------------------------


def test_the_phone_page_needs_no_login_and_speaks_the_phones_language(app, api):
    assert {"live.phone", "live.phone_status"} <= PUBLIC_ENDPOINTS
    issue(api("supervisor-1"))
    phone = app.test_client()
    response = phone.get("/t/T-001", headers=FR)
    assert response.status_code == 200  # not the login page
    html = _html(response)
    assert '<html lang="fr">' in html
    assert '<p class="phone-code" id="p-code">T-001</p>' in html
    assert PLEASE_WAIT["fr"] in html
    assert "Rwanda → RD Congo" in html
    assert 'data-country="RW"' in html and 'data-country="CD"' in html  # the flags, drawn inline
    assert _headline(html) == "Vous êtes la prochaine personne appelée."  # first in its queue
    # The switch: every supported language (sw too once it is added), the current one marked.
    for lang in SUPPORTED_LOCALES:
        assert f'href="/t/T-001?lang={lang}" lang="{lang}"' in html
    assert re.search(r'data-lang="fr"\s+aria-current="true"', html)

    rw = _html(phone.get("/t/T-001?lang=rw", headers=FR))
    assert '<html lang="rw">' in rw and PLEASE_WAIT["rw"] in rw and "Rwanda → RD Kongo" in rw
    data = json.loads(re.search(r'<script type="application/json" id="phone-data">(.*?)</script>', rw).group(1))
    assert data["status_url"] == "/t/T-001/status?lang=rw"
    assert '<script src="/static/js/phone.js"></script>' in rw
    assert "socket.io" not in rw  # an anonymous phone has no socket: it polls


def test_the_phone_page_says_how_many_are_before_you_then_where_to_go(app, api, station_id):
    desk = api("supervisor-1")
    for _ in range(4):
        issue(desk)
    rw = api("rw-immigration-1")
    seat(rw, station_id("C1"))
    phone = app.test_client()
    assert _headline(_html(phone.get("/t/T-004?lang=en"))) == "3 places before you"
    assert _headline(_html(phone.get("/t/T-002?lang=en"))) == "1 place before you"
    assert _headline(_html(phone.get("/t/T-004?lang=rw"))) == "Hari abantu 3 bakubanziriza"
    assert _headline(_html(phone.get("/t/T-002", headers=FR))) == "1 personne avant vous"
    status = phone.get("/t/T-004/status?lang=en").json
    assert status["view"]["headline"] == "3 places before you"
    assert re.fullmatch(r"about \d+ min", status["view"]["detail"])  # an officer is seated: minutes
    assert status["view"]["tone"] == "waiting" and status["status"]["code"] == "T-004"

    call(rw, station_id("C1"))
    called = _html(phone.get("/t/T-001?lang=en"))
    assert _headline(called) == "Go to Counter 1 now."
    assert 'data-tone="called"' in called
    french = phone.get("/t/T-001/status", headers=FR).json["view"]
    assert french["headline"] == "Allez maintenant à\u00a0: Guichet 1."
    assert _headline(_html(phone.get("/t/T-004?lang=en"))) == "2 places before you"


def test_an_unstaffed_queue_shows_no_minutes_on_the_phone(app, api):
    issue(api("supervisor-1"))
    view = app.test_client().get("/t/T-001/status?lang=en").json["view"]
    assert view["detail"] == "No officer at Counter 1 / Counter 2 yet."
    assert "min" not in view["detail"]


def test_a_done_or_closed_ticket_says_so_and_no_reason(app, api, station_id):
    officers = through_counter_one(api, station_id)  # identity recorded: a name and a passport number exist
    issue(officers["desk"], category="traveller")  # P-001, refused at its exit
    c2 = station_id("C2")
    rw2 = api("rw-immigration-2")
    seat(rw2, c2)
    step = call(rw2, c2)["steps_here"][0]
    decide(rw2, step["id"], "refused", reason="Forged passport of Uwimana")

    phone = app.test_client()
    closed = _html(phone.get("/t/P-001?lang=fr"))
    assert _headline(closed) == "Ce ticket est clôturé. Demandez à un agent si vous avez besoin d&#39;aide."
    assert 'data-tone="closed"' in closed
    assert "Forged" not in closed and "refus" not in closed.lower()

    page = _html(phone.get("/t/T-001?lang=en"))
    for secret in PERSONAL:
        assert secret not in page, secret
    status = json.dumps(phone.get("/t/T-001/status?lang=en").json)
    for secret in PERSONAL:
        assert secret not in status, secret


def test_an_unknown_code_is_a_translated_404_page(app):
    phone = app.test_client()
    for lang, message in NO_TICKET.items():
        response = phone.get(f"/t/T-999?lang={lang}")
        assert response.status_code == 404
        html = _html(response)
        assert f'<html lang="{lang}">' in html
        assert f'<p class="phone-error" role="alert">{message}</p>' in html
        assert 'href="/t/T-999?lang=rw"' in html  # still switchable
    french = phone.get("/t/T-999", headers=FR)
    assert french.status_code == 404 and NO_TICKET["fr"] in _html(french)
    assert phone.get("/t/T-999/status", headers=FR).json == {"error": {"message": "Aucun ticket T-999 aujourd'hui."}}
    bad = phone.get("/t/hello?lang=rw")
    assert bad.status_code == 404
    assert "Nomero y&#39;itike igizwe n&#39;inyuguti n&#39;umubare, urugero T-042." in _html(bad)


def test_the_phone_page_is_rate_limited_in_the_phones_language(app, api):
    issue(api("supervisor-1"))
    config = app.config["OSBP"]
    app.config["OSBP"] = config.replace(status_rate_per_minute=3)
    try:
        phone = app.test_client()
        for _ in range(2):
            assert phone.get("/t/T-001", headers=FR).status_code == 200
        assert phone.get("/t/T-001/status", headers=FR).status_code == 200
        limited = phone.get("/t/T-001", headers=FR)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert f'<p class="phone-error" role="alert">{TOO_MANY["fr"]}</p>' in _html(limited)
        polled = phone.get("/t/T-001/status?lang=rw")
        assert polled.status_code == 429 and polled.json["error"]["message"] == TOO_MANY["rw"]
        # The same bucket as the public status API: a phone cannot double its rate by switching address.
        assert phone.get("/api/v1/tickets/T-001/status").status_code == 429
    finally:
        app.config["OSBP"] = config


def test_the_page_shows_todays_ticket_only(app, api):
    """Codes start again every day: yesterday's T-001 is not today's, and the QR's day says which one it was."""
    issue(api("supervisor-1"))
    post_code, today = _post(app)
    yesterday = today - timedelta(days=1)
    _tickets_issued(app, service_date=yesterday)
    phone = app.test_client()
    assert phone.get("/t/T-001?lang=en").status_code == 404  # typed by hand: today's only
    assert phone.get(f"/t/T-001?post={post_code}&day={yesterday.isoformat()}&lang=en").status_code == 200
    _tickets_issued(app, service_date=today - timedelta(days=3))
    old = phone.get(f"/t/T-001?post={post_code}&day={(today - timedelta(days=3)).isoformat()}&lang=en")
    assert old.status_code == 404 and NO_TICKET["en"].replace("999", "001") in _html(old)
    assert phone.get("/t/T-001?day=not-a-day&lang=en").status_code == 404
    assert phone.get("/t/T-001?post=NOWHERE&lang=en").status_code == 404


# -- the slip: the kiosk's and the desk's print -----------------------------------------------------------------------


def test_the_desk_prints_the_ticket_slip(app, login):
    desk = login("supervisor-1")
    page = _html(
        desk.post(
            "/desk/tickets",
            data={"direction": "CD-RW", "category": "trader", "csrf_token": desk.csrf},
            follow_redirects=True,
        )
    )
    assert '<button type="button" class="print-ticket" data-print>Print</button>' in page
    assert '<script src="/static/js/desk.js" defer></script>' in page
    slip = re.search(r'<section class="printed-ticket".*?</section>', page, re.S).group(0)
    assert '<p class="pt-code">T-001</p>' in slip
    assert '<p class="pt-direction">DR Congo → Rwanda</p>' in slip
    assert "<strong>Counter 1 / Counter 2</strong>" in slip  # the first counter
    assert 'class="pt-qr" src="data:image/svg+xml' in slip
    # The time is the post's (Kigali, UTC+2), in the page's language.
    _tickets_issued(app, issued_at=datetime(2026, 11, 1, 7, 12, tzinfo=UTC))
    with app.app_context():
        ticket_id = db.session.scalar(select(Ticket.id))
        db.session.remove()
    english = _html(desk.get(f"/desk?ticket={ticket_id}"))
    assert '<p class="pt-time">Issued Nov 1, 2026 9:12\u202fAM</p>' in english
    french = _html(desk.get(f"/desk?ticket={ticket_id}", headers=FR))
    assert '<p class="pt-time">Délivré le 1 nov. 2026 09:12</p>' in french
    assert '<p class="pt-direction">RD Congo → Rwanda</p>' in french


def test_only_a_kiosk_set_up_for_printing_prints(app):
    token = make_device(app, "kiosk", "kiosk-printer-1")
    printer = app.test_client()
    assert open_device_link(printer, token, prints=True).status_code == 302
    plain = device_client(app, "kiosk", "kiosk-no-printer")
    for client, prints in ((printer, True), (plain, False)):
        html = _html(client.get("/live/kiosk?lang=en"))
        nonce = re.search(r'name="nonce" value="([^"]+)"', html).group(1)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        body = {"csrf_token": csrf, "nonce": nonce, "direction": "RW-CD", "category": "trader", "lang": "en"}
        issued = _html(client.get(client.post("/live/kiosk/tickets", data=body).location))
        data = json.loads(re.search(r'id="kiosk-data">(.*?)</script>', issued, re.S).group(1))
        assert data["auto_print"] is prints
        assert ("Your ticket is printing." in issued) is prints
        assert '<section class="printed-ticket" id="printed-ticket"' in issued  # the slip is on the page
        assert 'id="print"' not in issued  # no Print button on a kiosk (with a printer it prints by itself)
        # the ticket screen shows the direction
        assert '<span class="status-direction-name">Rwanda → DR Congo</span>' in issued
        # the start page again: nothing more to print
        home = json.loads(re.search(r'id="kiosk-data">(.*?)</script>', _html(client.get("/live/kiosk")), re.S).group(1))
        assert home["auto_print"] is False


def test_the_kiosk_chooses_no_direction_for_the_trader(app):
    kiosk = device_client(app, "kiosk")
    html = _html(kiosk.get("/live/kiosk?lang=en"))
    radios = re.findall(r'<input type="radio" name="direction"[^>]*>', html)
    assert len(radios) == 2 and not any("checked" in radio for radio in radios)
    assert '<fieldset class="categories" id="categories" disabled>' in html
    assert "First choose where you are going." in html
    form = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
        "nonce": re.search(r'name="nonce" value="([^"]+)"', html).group(1),
    }
    refused = kiosk.post("/live/kiosk/tickets", data=form | {"category": "trader", "lang": "fr"})
    assert refused.location == "/live/kiosk?lang=fr"  # no direction, no ticket
    with app.app_context():
        assert db.session.scalar(select(Ticket.id)) is None
        db.session.remove()


@pytest.mark.parametrize(("lang", "message"), [("fr", "Aucun ticket T-999 aujourd'hui."), ("rw", NO_TICKET["rw"])])
def test_the_kiosks_lookup_answers_in_the_language_it_asks_for(app, lang, message):
    """kiosk.js sends its language as Accept-Language: the lookup's errors come in it, whatever the browser's."""
    kiosk = device_client(app, "kiosk")
    response = kiosk.get(f"/api/v1/tickets/T-999/status?lang={lang}", headers={"Accept-Language": lang})
    assert response.status_code == 404 and response.json["error"]["message"] == message
