"""The traders' kiosk and the display board as pages: taking a ticket (once per tap), the languages, documents
and rights, and the strict CSP rules (no inline script or style; texts for the scripts come from the page)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from osbp.extensions import db
from osbp.queues.models import Ticket
from tests.test_live import _fresh_limits, device_client, issue  # noqa: F401  (autouse fixture)

NONCE = re.compile(r'name="nonce" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _form(page) -> dict:
    html = page.get_data(as_text=True)
    return {"csrf_token": CSRF.search(html).group(1), "nonce": NONCE.search(html).group(1)}


def _tickets(app) -> list[Ticket]:
    with app.app_context():
        rows = list(db.session.scalars(select(Ticket).order_by(Ticket.id)))
        for ticket in rows:
            db.session.expunge(ticket)
        db.session.remove()
    return rows


def _json_block(html: str, element_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


@pytest.fixture
def kiosk(app):
    return device_client(app, "kiosk")


def test_taking_a_ticket_at_the_kiosk(app, kiosk):
    form = _form(kiosk.get("/live/kiosk?lang=en"))
    response = kiosk.post("/live/kiosk/tickets", data=form | {"direction": "CD-RW", "category": "trader", "lang": "en"})
    assert response.status_code == 302
    assert response.location == "/live/kiosk?lang=en&ticket=T-001&issued=1"
    [ticket] = _tickets(app)
    assert (ticket.code, ticket.channel, ticket.issued_by_id) == ("T-001", "kiosk", None)
    page = kiosk.get(response.location).get_data(as_text=True)
    assert "Here is your ticket. Keep this number and watch the screens." in page
    assert '<p class="status-code" id="s-code">T-001</p>' in page
    assert 'src="data:image/svg+xml' in page  # the QR code of the ticket code
    assert _json_block(page, "kiosk-data")["ticket"] == "T-001"


def test_a_double_tap_issues_one_ticket(app, kiosk):
    form = _form(kiosk.get("/live/kiosk"))
    body = form | {"direction": "RW-CD", "category": "traveller", "lang": "fr"}
    first = kiosk.post("/live/kiosk/tickets", data=body)
    again = kiosk.post("/live/kiosk/tickets", data=body)
    assert first.location == again.location == "/live/kiosk?lang=fr&ticket=P-001&issued=1"
    assert [t.code for t in _tickets(app)] == ["P-001"]
    fresh = _form(kiosk.get("/live/kiosk"))  # the next person: a new page, a new key
    assert kiosk.post("/live/kiosk/tickets", data=body | fresh).location.endswith("ticket=P-002&issued=1")


def test_a_wrong_choice_is_a_translated_message_and_no_ticket(app, kiosk):
    form = _form(kiosk.get("/live/kiosk"))
    response = kiosk.post(
        "/live/kiosk/tickets", data=form | {"direction": "RW-CD", "category": "smuggler", "lang": "fr"}
    )
    assert response.status_code == 302 and response.location == "/live/kiosk?lang=fr"
    page = kiosk.get(response.location).get_data(as_text=True)
    assert 'class="flash flash-error"' in page and "smuggler" in page
    assert _tickets(app) == []
    # the same key can be used again after a failure
    ok = kiosk.post("/live/kiosk/tickets", data=form | {"direction": "RW-CD", "category": "trader", "lang": "fr"})
    assert ok.location.endswith("ticket=T-001&issued=1")


def test_kiosk_posts_need_the_csrf_token_and_a_key(app, kiosk):
    form = _form(kiosk.get("/live/kiosk"))
    body = {"direction": "RW-CD", "category": "trader"}
    assert kiosk.post("/live/kiosk/tickets", data=body | {"nonce": form["nonce"]}).status_code == 400
    assert kiosk.post("/live/kiosk/tickets", data=body | {"csrf_token": form["csrf_token"]}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id))) == 0
        db.session.remove()


@pytest.mark.parametrize(
    ("lang", "trader", "destination"),
    [("en", "Trader", "DR Congo"), ("fr", "Commerçant", "RD Congo"), ("rw", "Umucuruzi", "RD Kongo")],
)
def test_kiosk_in_each_language(kiosk, lang, trader, destination):
    html = kiosk.get(f"/live/kiosk?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert trader in html and destination in html
    assert re.search(
        rf'<a href="/live/kiosk\?lang={lang}" lang="{lang}" data-lang="{lang}"\s+aria-current="true"', html
    )
    for other in {"en", "fr", "rw"} - {lang}:
        assert f'href="/live/kiosk?lang={other}"' in html  # the switch is always there
    data = _json_block(html, "kiosk-data")
    assert data["lang"] == lang
    assert "%(minutes)s" in data["labels"]["minutes"]
    assert data["status_url"] == "/api/v1/tickets/CODE/status"


def test_kiosk_without_a_language_follows_the_browser_and_never_fails_on_a_bad_one(kiosk):
    assert '<html lang="fr">' in kiosk.get("/live/kiosk", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in kiosk.get("/live/kiosk?lang=xx-%00").get_data(as_text=True)


def test_kiosk_shows_the_traders_rights(kiosk):
    html = kiosk.get("/live/kiosk").get_data(as_text=True)
    for right in (
        "You get a receipt for every payment.",
        "All fees are published.",
        "Women are searched by women",
        "in uniform or showing their ID",
        "To complain, go to the supervisors&#39; office",
    ):
        assert right in html


def test_documents_follow_the_category_and_route(app, api):
    desk = api("supervisor-1")
    for category in ("resident", "traveller", "driver", "trader"):
        issue(desk, category=category)
    client = app.test_client()
    resident = client.get("/api/v1/tickets/R-001/status").json["documents"]
    traveller = client.get("/api/v1/tickets/P-001/status").json["documents"]
    driver = client.get("/api/v1/tickets/D-001/status").json["documents"]
    trader = client.get("/api/v1/tickets/T-001/status").json["documents"]
    assert resident == ["Your CEPGL pass (border residents)"]
    assert len(traveller) == 2 and "yellow fever" in traveller[1]
    assert any("driving licence" in d for d in driver) and not any("STR" in d for d in driver)
    assert any("(STR)" in d for d in trader)


class _PageAudit(HTMLParser):
    """Collects what the CSP would block: inline scripts, style attributes and elements, event handler attributes."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
            if "src" not in attributes and attributes.get("type") != "application/json":
                self.problems.append("inline script")
        if tag == "style":
            self.problems.append("style element")
        for name, _value in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")


@pytest.mark.parametrize("page", ["board", "kiosk", "supervisor"])
def test_live_pages_keep_the_strict_csp(app, login, page):
    client = login("supervisor-1") if page == "supervisor" else device_client(app, page)
    response = client.get(f"/live/{page}")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    audit = _PageAudit()
    audit.feed(response.get_data(as_text=True))
    assert audit.problems == []
    sources = [s["src"] for s in audit.scripts if "src" in s]
    assert "/static/vendor/socket.io.min.js" in sources
    assert f"/static/js/{page}.js" in sources
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source  # `make install` copied the Socket.IO client
        asset.close()


def test_board_page_has_every_label_in_four_languages(app):
    board = device_client(app, "board")
    html = board.get("/live/board").get_data(as_text=True)
    data = _json_block(html, "board-data")
    assert data["locales"] == ["rw", "fr", "sw", "en"]
    counter_one = next(s for s in data["stations"].values() if s["code"] == "C1")
    assert counter_one["names"] == {"rw": "Konteri 1", "fr": "Guichet 1", "sw": "Dirisha 1", "en": "Counter 1"}
    assert data["labels"]["closed"] == {"rw": "Birafunze", "fr": "Fermé", "sw": "Imefungwa", "en": "Closed"}
    assert data["state_url"] == "/api/v1/board"
    # headings side by side: each different translation once, each marked with its language
    now_calling = data["labels"]["now_calling"]
    spans, seen = "", set()
    for lang in ("rw", "fr", "sw", "en"):
        if now_calling[lang] not in seen:
            seen.add(now_calling[lang])
            spans += f'<span lang="{lang}">{now_calling[lang]}</span>'
    assert f'<h1 class="tri">{spans}</h1>' in html
