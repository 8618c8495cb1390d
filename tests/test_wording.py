"""Wording a user reads, written out literally (not computed with the app's gettext): French and Kinyarwanda terms
that were ambiguous or wrong (issue 9), and one name per agency on every page."""

from __future__ import annotations

import html as html_module
import re

from tests.test_kiosk import _json_block
from tests.test_live import _fresh_limits, device_client, make_device, open_device_link  # noqa: F401  (autouse fixture)


def _post(client, path, **data):
    data["csrf_token"] = client.csrf
    return client.post(path, data=data)


def _in(client, locale, path) -> str:
    """The page at ``path`` after choosing ``locale`` on the language form, unescaped."""
    assert _post(client, "/language", locale=locale, next=path).status_code == 302
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return html_module.unescape(response.get_data(as_text=True))


def _two_officers_at_counter_1(login, station_id, locale):
    """RW and CD immigration seated at Counter 1; RW has called a traveller: CD waits for RW's exit decision."""
    desk = login("supervisor-1")
    assert _post(desk, "/desk/tickets", direction="RW-CD", category="traveller").status_code == 302
    c1 = station_id("C1")
    rw, cd = login("rw-immigration-1"), login("cd-immigration-1")
    for officer in (rw, cd):
        _in(officer, locale, "/desk")
        assert _post(officer, f"/counters/{c1}/seat").status_code == 302
    assert _post(rw, f"/counters/{c1}/call-next").status_code == 302
    return rw, cd, f"/counters/{c1}"


# -- French --------------------------------------------------------------------------------------------------------


def test_fr_the_entrance_desk_is_not_called_home(login):
    page = _in(login("supervisor-1"), "fr", "/desk")
    assert ">Délivrance des tickets</a>" in page
    assert ">Accueil<" not in page


def test_fr_the_kiosk_addresses_a_trader_in_the_feminine_too(app):
    kiosk = device_client(app, "kiosk")
    page = html_module.unescape(kiosk.get("/live/kiosk?lang=fr").get_data(as_text=True))
    assert '<span class="category-name">Commerçante / Commerçant</span>' in page
    assert '<span class="category-name">Voyageur</span>' in page


def test_fr_the_category_as_a_field_stays_one_word(login):
    page = _in(login("supervisor-1"), "fr", "/desk")
    assert "Commerçant" in page and "Commerçante" not in page


def test_one_name_per_agency_on_the_counter_page(login, station_id):
    rw, cd, counter = _two_officers_at_counter_1(login, station_id, "fr")
    waiting = _in(cd, "fr", counter)
    assert "En attente de la décision de RW Migration." in waiting
    assert "cd-immigration-1 · CD Migration" in waiting
    called = _in(rw, "fr", counter)
    assert "RW Migration — sortie" in called and "rw-immigration-1 · RW Migration" in called
    for page in (waiting, called):
        assert not re.search(r"\b(DGIE|DGM|DGDA|RRA|RBC|PNHF)\b", page)


def test_one_name_per_agency_in_english_too(login, station_id):
    _rw, cd, counter = _two_officers_at_counter_1(login, station_id, "en")
    page = _in(cd, "en", counter)
    assert "Waiting for RW Immigration to decide first." in page
    assert "cd-immigration-1 · CD Immigration" in page


# -- Kinyarwanda ---------------------------------------------------------------------------------------------------


def test_rw_log_out_is_not_the_exit_control(login, station_id):
    rw, _cd, counter = _two_officers_at_counter_1(login, station_id, "rw")
    page = _in(rw, "rw", counter)
    assert ">Gusohoka muri konti</button>" in page
    assert "RW Abinjira n'Abasohoka — gusohoka" in page
    assert ">Gusohoka</button>" not in page


def test_rw_one_minute_is_umunota(app):
    kiosk = device_client(app, "kiosk")
    labels = _json_block(kiosk.get("/live/kiosk?lang=rw").get_data(as_text=True), "kiosk-data")["labels"]
    assert labels["minutes_one"] == "hafi umunota %(minutes)s"
    assert labels["minutes"] == "hafi iminota %(minutes)s"


def test_rw_the_device_message_has_no_english(app, login):
    officer = login("rw-immigration-1")
    _in(officer, "rw", "/desk")
    response = open_device_link(officer, make_device(app, "board"))
    assert response.status_code == 409
    page = html_module.unescape(response.get_data(as_text=True))
    assert "Winjiye nka rw-immigration-1. Banza usohoke muri konti, hanyuma ufungure aderesi y'igikoresho." in page
    [message] = re.findall(r"Winjiye nka[^<]*", page)
    assert "link" not in message
