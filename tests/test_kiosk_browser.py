"""The kiosk, the printed ticket and the phone page in a real browser (headless Chromium driven by Playwright).

- the kiosk chooses no direction: the trader taps where she is going (flags and names), then who she is, and the
  ticket screen shows the direction; its lookup errors come in the kiosk's language whatever the browser's;
- the entrance desk's Print button prints, and on paper only the ticket slip shows (print media emulated);
- a kiosk set up for printing (its link opened with ?print=1) prints each new ticket once and says so;
- the phone page (/t/<code>, 360×800) opens without login in the phone's language, switches language, and changes
  when the ticket is called without reloading.

``window.print`` is replaced before the page's scripts run (Playwright's init script) to count the calls. Screenshots
land in test-artifacts/ (kiosk portrait and landscape, the slip as printed, the phone page).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from osbp.config import SUPPORTED_LOCALES
from osbp.live import controllers
from tests.test_browser import ARTIFACTS, log_in
from tests.test_browser_live import (  # noqa: F401  (fixtures)
    KIOSK_SCREEN,
    PORTRAIT_KIOSK,
    base_url,
    browser,
    new_page,
    open_device,
    still_same_page,
)
from tests.test_live import _fresh_limits, call, issue, make_device, seat  # noqa: F401

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 800}
COUNT_PRINTS = "window.osbpPrints = 0; window.print = function () { window.osbpPrints += 1; };"
# What the trader reads, written out (never computed with the app's gettext).
NO_TICKET = {"fr": "Aucun ticket T-999 aujourd'hui.", "rw": "Nta tike T-999 ihari uyu munsi."}
TOO_MANY = {
    "fr": "Trop de requêtes. Patientez un instant puis réessayez.",
    "rw": "Ibyifuzo ni byinshi cyane. Tegereza gato wongere ugerageze.",
}
PLEASE_WAIT = {
    "fr": "Veuillez patienter. Votre numéro sera appelé sur les écrans.",
    "rw": "Tegereza gato. Nomero yawe izahamagarwa kuri za mugaragaza.",
}


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _choose_then_take(kiosk, direction_label: str, category: str) -> None:
    kiosk.get_by_text(direction_label).click()
    expect(kiosk.get_by_role("button", name=category)).to_be_enabled()
    kiosk.get_by_role("button", name=category).click()


# -- the kiosk ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("screen", "name"), [(PORTRAIT_KIOSK, "portrait"), (KIOSK_SCREEN, "landscape")])
def test_the_trader_chooses_the_direction_before_the_category(app, new_page, screen, name):  # noqa: F811
    kiosk = new_page(screen)
    open_device(kiosk, app, "kiosk", f"kiosk-{name}")
    # Nothing chosen for her: no direction checked, the categories wait for one.
    assert kiosk.locator("input[name=direction]:checked").count() == 0
    expect(kiosk.locator("#categories")).to_have_js_property("disabled", True)
    expect(kiosk.get_by_role("button", name="Trader")).to_be_disabled()
    expect(kiosk.locator("#categories-hint")).to_have_text("First choose where you are going.")
    for direction in ("RW-CD", "CD-RW"):  # both countries' flags, drawn in the page
        card = kiosk.locator(f".direction[data-direction={direction}]")
        expect(card.locator("svg.flag")).to_have_count(2)
    expect(kiosk.locator(".direction-to")).to_have_text(["DR Congo", "Rwanda"])
    shot(kiosk, f"kiosk-direction-{name}")

    kiosk.get_by_role("button", name="Trader").click(force=True)  # a tap on a greyed picture takes nothing
    assert "ticket=" not in kiosk.url

    kiosk.get_by_text("DR Congo → Rwanda").click()
    expect(kiosk.locator("#categories-hint")).to_be_hidden()
    assert kiosk.locator("input[name=direction]:checked").get_attribute("value") == "CD-RW"
    for selector in (".kiosk-langs", ".directions", ".categories"):
        box = kiosk.locator(selector).bounding_box()
        assert box["y"] + box["height"] <= screen["height"], selector  # no scrolling on either kiosk
    shot(kiosk, f"kiosk-direction-chosen-{name}")
    kiosk.get_by_role("button", name="Trader").click()
    kiosk.wait_for_url("**ticket=T-001**")
    expect(kiosk.locator("#s-direction")).to_contain_text("DR Congo → Rwanda")
    expect(kiosk.locator("#s-direction svg.flag")).to_have_count(2)
    expect(kiosk.locator("#status")).to_have_attribute("data-status", "waiting")
    shot(kiosk, f"kiosk-ticket-{name}", full_page=True)

    # A ticket looked up on the keypad shows its direction too.
    kiosk.get_by_role("link", name="Back").click()
    kiosk.wait_for_selector("body[data-live=yes]")
    kiosk.locator("#code").fill("T-001")
    kiosk.get_by_role("button", name="Check").click()
    expect(kiosk.locator("#s-direction")).to_contain_text("DR Congo → Rwanda")
    assert not any(kiosk.errors), kiosk.errors


@pytest.mark.parametrize("lang", ["fr", "rw"])
def test_the_kiosks_errors_come_in_its_language(app, new_page, lang):  # noqa: F811
    kiosk = new_page(KIOSK_SCREEN, locale="en-GB")  # the browser asks for English; the kiosk shows another language
    config = app.config["OSBP"]
    app.config["OSBP"] = config.replace(status_rate_per_minute=1)  # one look-up a minute: the second is one too many
    try:
        open_device(kiosk, app, "kiosk", f"kiosk-errors-{lang}", path=f"/live/kiosk?lang={lang}")
        kiosk.locator("#code").fill("T-999")
        kiosk.locator(".keypad .ok").click()
        expect(kiosk.locator("#lookup-error")).to_have_text(NO_TICKET[lang])
        kiosk.locator(".keypad .ok").click()
        expect(kiosk.locator("#lookup-error")).to_have_text(TOO_MANY[lang])
    finally:
        app.config["OSBP"] = config
    shot(kiosk, f"kiosk-error-{lang}")


def test_a_kiosk_set_up_for_printing_prints_each_ticket_once(app, new_page):  # noqa: F811
    kiosk = new_page(PORTRAIT_KIOSK)
    kiosk.context.add_init_script(COUNT_PRINTS)
    token = make_device(app, "kiosk", "kiosk-printer")
    kiosk.goto(f"/live/device?print=1#{token}")
    kiosk.wait_for_url("**/live/kiosk")
    kiosk.wait_for_selector("body[data-live=yes]")
    assert kiosk.evaluate("window.osbpPrints") == 0

    _choose_then_take(kiosk, "Rwanda → DR Congo", "Trader")
    kiosk.wait_for_url("**ticket=T-001**")
    expect(kiosk.locator("body")).to_have_attribute("data-printed", "yes")
    assert kiosk.evaluate("window.osbpPrints") == 1
    expect(kiosk.locator("#printing")).to_have_text("Your ticket is printing. Take it from the printer.")

    # What the printer gets: the slip alone.
    kiosk.emulate_media(media="print")
    slip = kiosk.locator("#printed-ticket")
    expect(slip).to_be_visible()
    for hidden in (".kiosk-head", "#status", "#home", "#rights-strip"):
        expect(kiosk.locator(hidden)).to_be_hidden()
    expect(slip.locator(".pt-code")).to_have_text("T-001")
    expect(slip.locator(".pt-direction")).to_have_text("Rwanda → DR Congo")
    expect(slip.locator(".pt-counter strong")).to_have_text("Counter 1 / Counter 2")
    expect(slip.locator(".pt-qr")).to_be_visible()
    assert re.fullmatch(r"Issued \w{3} \d{1,2}, \d{4} \d{1,2}:\d{2}\u202f[AP]M", slip.locator(".pt-time").inner_text())
    shot(kiosk, "kiosk-print")
    kiosk.emulate_media(media="screen")

    assert "issued=1" not in kiosk.url  # a reload does not print it again
    kiosk.reload()
    kiosk.wait_for_selector("body[data-live=yes]")
    assert kiosk.evaluate("window.osbpPrints") == 0
    expect(kiosk.locator("#printing")).to_have_count(0)


def test_a_kiosk_without_a_printer_does_not_print(app, new_page):  # noqa: F811
    kiosk = new_page(KIOSK_SCREEN)
    kiosk.context.add_init_script(COUNT_PRINTS)
    open_device(kiosk, app, "kiosk", "kiosk-no-printer")
    _choose_then_take(kiosk, "Rwanda → DR Congo", "Traveller")
    kiosk.wait_for_url("**ticket=P-001**")
    expect(kiosk.locator("#status")).to_have_attribute("data-status", "waiting")
    assert kiosk.evaluate("window.osbpPrints") == 0
    expect(kiosk.locator("#printing")).to_have_count(0)


# -- the entrance desk --------------------------------------------------------------------------------------------------


def test_the_desk_prints_only_the_ticket(app, new_page):  # noqa: F811
    desk = new_page({"width": 1366, "height": 768})
    desk.context.add_init_script(COUNT_PRINTS)
    log_in(desk, "supervisor-1")
    desk.get_by_role("link", name="Entrance desk").click()
    desk.get_by_label("DR Congo → Rwanda").check()
    desk.get_by_label("Trader", exact=True).check()
    desk.get_by_role("button", name="Issue ticket").click()
    expect(desk.locator(".ticket-issued .ticket-code")).to_have_text("T-001")
    expect(desk.locator("#printed-ticket")).to_be_hidden()  # on screen: the panel, not the slip

    desk.get_by_role("button", name="Print").click()
    assert desk.evaluate("window.osbpPrints") == 1

    desk.emulate_media(media="print")
    slip = desk.locator("#printed-ticket")
    expect(slip).to_be_visible()
    for hidden in (".topbar", ".ticket-form", ".ticket-issued", ".flash"):
        expect(desk.locator(hidden)).to_be_hidden()
    expect(slip.locator(".pt-code")).to_have_text("T-001")
    expect(slip.locator(".pt-direction")).to_have_text("DR Congo → Rwanda")
    expect(slip.locator(".pt-counter strong")).to_have_text("Counter 1 / Counter 2")
    box = slip.locator(".pt-code").bounding_box()
    assert box["height"] >= 60  # the code in large type
    shot(desk, "desk-print")
    assert not any(desk.errors), desk.errors


# -- the phone ----------------------------------------------------------------------------------------------------------


def test_the_phone_page_follows_the_ticket_without_login_or_reload(app, new_page, api, station_id, monkeypatch):  # noqa: F811
    monkeypatch.setattr(controllers, "PHONE_REFRESH_SECONDS", 1)
    issue(api("supervisor-1"))
    phone = new_page(PHONE, locale="fr-FR")  # Accept-Language: fr-FR
    phone.goto("/t/T-001")
    assert "/login" not in phone.url
    assert phone.locator("html").get_attribute("lang") == "fr"
    expect(phone.locator("#p-code")).to_have_text("T-001")
    expect(phone.locator("#p-message")).to_have_text(PLEASE_WAIT["fr"])
    expect(phone.locator(".phone-direction-name")).to_have_text("Rwanda → RD Congo")
    expect(phone.locator("#p-detail")).to_contain_text("Guichet 1 / Guichet 2")  # nobody seated: no minutes
    _no_horizontal_scroll(phone)
    shot(phone, "phone-waiting-fr", full_page=True)

    phone.locator(".phone-langs a[data-lang=rw]").click()
    expect(phone.locator("html")).to_have_attribute("lang", "rw")
    expect(phone.locator("#p-message")).to_have_text(PLEASE_WAIT["rw"])
    expect(phone.locator(".phone-langs a[data-lang=rw]")).to_have_attribute("aria-current", "true")
    phone.evaluate("window.osbpNoReload = true")

    rw = api("rw-immigration-1")
    seat(rw, station_id("C1"))
    expect(phone.locator("#p-detail")).to_have_text(re.compile(r"^hafi \w+ \d+$"))  # minutes once someone sits
    call(rw, station_id("C1"))
    expect(phone.locator("body")).to_have_attribute("data-tone", "called")
    expect(phone.locator("#p-headline")).to_have_text("Jya kuri Konteri 1 ubu.")
    expect(phone.locator("#p-station")).to_have_text("Konteri 1")
    assert still_same_page(phone)
    _no_horizontal_scroll(phone)
    headline = phone.locator("#p-headline").bounding_box()
    assert headline["y"] + headline["height"] <= PHONE["height"]  # what to do is on the first screen
    shot(phone, "phone-called-rw")
    assert not any(phone.errors), phone.errors


def test_the_phone_page_of_an_unknown_ticket_is_translated(app, new_page):  # noqa: F811
    phone = new_page(PHONE, locale="rw")
    response = phone.goto("/t/T-999")
    assert response.status == 404
    expect(phone.locator(".phone-error")).to_have_text(NO_TICKET["rw"])
    expect(phone.locator(".phone-langs a")).to_have_count(len(SUPPORTED_LOCALES))
    _no_horizontal_scroll(phone)
    shot(phone, "phone-404-rw")
