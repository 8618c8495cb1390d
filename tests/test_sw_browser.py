"""Kiswahili in a real browser (headless Chromium via Playwright): the traders' kiosk and the phone page in sw, and the
display board with its fourth language. Literal Kiswahili, not computed with the app's gettext. Screenshots land in
test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from osbp.post.seed import DEMO_PASSWORDS
from tests.test_browser import base_url  # noqa: F401
from tests.test_browser_live import (  # noqa: F401  (fixtures)
    BOARD_SCREEN,
    KIOSK_SCREEN,
    PORTRAIT_KIOSK,
    browser,
    in_viewport,
    new_page,
    open_device,
    shot,
)
from tests.test_counter_browser import _real_socket_server, _server_idle  # noqa: F401  (autouse: real Socket.IO sends)
from tests.test_kiosk_browser import PHONE
from tests.test_live import _fresh_limits, call, issue, seat  # noqa: F401

pytestmark = pytest.mark.browser


def _overflowing(page, selector: str) -> list[str]:
    """Texts under ``selector`` wider than their box (cut or spilling over)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
            .map((el) => el.textContent.trim())""",
        selector,
    )


@pytest.mark.parametrize("screen", [KIOSK_SCREEN, PORTRAIT_KIOSK], ids=["landscape", "portrait"])
def test_the_kiosk_in_kiswahili(app, new_page, api, screen):  # noqa: F811
    issue(api("supervisor-1"))
    kiosk = new_page(screen, locale="en-GB")  # the browser asks for English; the kiosk is switched to Kiswahili
    open_device(kiosk, app, "kiosk", f"kiosk-sw-{screen['width']}")
    kiosk.locator(".kiosk-langs a[data-lang=sw]").click()
    kiosk.wait_for_selector("body[data-live=yes]")
    assert kiosk.locator("html").get_attribute("lang") == "sw"
    assert kiosk.locator(".kiosk-langs a[data-lang=sw]").inner_text() == "Kiswahili"
    assert kiosk.locator(".kiosk-langs a[data-lang=sw]").get_attribute("aria-current") == "true"
    expect(kiosk.locator(".take h1")).to_have_text("Chukua tiketi")
    expect(kiosk.locator(".check h1")).to_have_text("Angalia tiketi yangu")
    expect(kiosk.get_by_text("Unakwenda wapi?")).to_be_visible()
    expect(kiosk.locator("#categories-hint")).to_have_text("Kwanza chagua unakokwenda.")
    expect(kiosk.locator(".direction-to")).to_have_text(["DR Kongo", "Rwanda"])
    for name in ("Msafiri", "Mfanyabiashara", "Mkazi wa mpakani (pasi ya CEPGL)", "Dereva"):
        expect(kiosk.get_by_role("button", name=name)).to_be_visible()
    expect(kiosk.locator(".keypad .ok")).to_have_text("Angalia")
    expect(kiosk.locator(".rights-strip h2")).to_have_text("Haki zako")
    expect(kiosk.locator("#rights-strip").get_by_text("Unapewa risiti kwa kila malipo.")).to_be_visible()
    for selector in (".kiosk-langs", ".categories", ".keypad .ok"):
        assert in_viewport(kiosk, selector), selector
    assert not _overflowing(kiosk, ".category-name, .kiosk-langs a, .keypad .ok, .take h1, .check h1")
    shot(kiosk, f"kiosk-home-sw-{screen['width']}")

    # An error of the lookup comes in Kiswahili, whatever the browser's language.
    kiosk.locator("#code").fill("T-999")
    kiosk.locator(".keypad .ok").click()
    expect(kiosk.locator("#lookup-error")).to_have_text("Hakuna tiketi T-999 leo.")

    kiosk.locator("#code").fill("t1")
    kiosk.get_by_role("button", name="Angalia", exact=True).click()
    expect(kiosk.locator("#status")).to_have_attribute("data-status", "waiting")
    expect(kiosk.locator("#s-code")).to_have_text("T-001")
    expect(kiosk.locator("#s-position")).to_have_text("Na.\u00a01")  # the script's text, in the page's language
    expect(kiosk.locator("#s-direction")).to_contain_text("Rwanda → DR Kongo")
    expect(kiosk.get_by_text("Tafadhali subiri. Namba yako itaitwa kwenye skrini.")).to_be_visible()
    expect(kiosk.locator("#s-wait")).to_have_text("Bado hakuna afisa kwenye Dirisha 1 / Dirisha 2.")  # nobody seated
    assert kiosk.locator("html").get_attribute("lang") == "sw"
    assert "ticket=T-001" in kiosk.locator(".kiosk-langs a[data-lang=fr]").get_attribute("href")
    shot(kiosk, f"kiosk-status-sw-{screen['width']}", full_page=True)

    kiosk.get_by_role("link", name="Rudi").click()
    kiosk.wait_for_selector("body[data-live=yes]")
    kiosk.get_by_text("DR Kongo → Rwanda").click()
    expect(kiosk.get_by_role("button", name="Mfanyabiashara")).to_be_enabled()
    kiosk.get_by_role("button", name="Mfanyabiashara").click()
    kiosk.wait_for_url("**ticket=T-002**")
    expect(kiosk.get_by_text("Hii ndiyo tiketi yako. Tunza namba hii na uangalie skrini.")).to_be_visible()
    expect(kiosk.locator("#s-direction")).to_contain_text("DR Kongo → Rwanda")
    assert kiosk.locator("html").get_attribute("lang") == "sw"
    shot(kiosk, f"kiosk-ticket-sw-{screen['width']}", full_page=True)
    unexpected = [error for error in kiosk.errors if error and "T-999" not in error]  # the 404 looked up on purpose
    assert not unexpected, unexpected


def test_the_phone_page_in_kiswahili(app, new_page, api, station_id):  # noqa: F811
    issue(api("supervisor-1"))
    phone = new_page(PHONE, locale="sw-TZ")  # Accept-Language: sw-TZ
    phone.goto("/t/T-001")
    assert phone.locator("html").get_attribute("lang") == "sw"
    expect(phone.locator("#p-code")).to_have_text("T-001")
    expect(phone.locator("#p-headline")).to_have_text("Wewe ndiye unayefuata.")
    expect(phone.locator("#p-message")).to_have_text("Tafadhali subiri. Namba yako itaitwa kwenye skrini.")
    expect(phone.locator(".phone-direction-name")).to_have_text("Rwanda → DR Kongo")
    expect(phone.locator("#p-detail")).to_have_text("Bado hakuna afisa kwenye Dirisha 1 / Dirisha 2.")
    expect(phone.locator(".phone-langs a[data-lang=sw]")).to_have_attribute("aria-current", "true")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "phone-waiting-sw", full_page=True)

    rw = api("rw-immigration-1")
    seat(rw, station_id("C1"))
    call(rw, station_id("C1"))
    phone.reload()
    expect(phone.locator("#p-headline")).to_have_text("Nenda kwenye Dirisha 1 sasa.")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "phone-called-sw")
    assert not any(phone.errors), phone.errors


def test_the_board_shows_kiswahili_as_its_fourth_language(app, new_page, api, station_id):  # noqa: F811
    issue(api("supervisor-1"))  # waiting at Counters 1 and 2, where nobody sits yet
    board = new_page(BOARD_SCREEN)
    open_device(board, app, "board", "board-sw")
    nobody = board.locator(".waits-list .wait-none span[lang=sw]")
    expect(nobody.first).to_have_text("Bado hakuna afisa")  # no minutes for a line nobody serves
    shot(board, "board-four-languages-unstaffed")
    heading = board.locator("section.now h1 span")
    assert [heading.nth(i).get_attribute("lang") for i in range(heading.count())] == ["rw", "fr", "sw", "en"]
    expect(board.locator("section.now h1 span[lang=sw]")).to_have_text("Anayeitwa sasa")
    expect(board.locator("section.history h2 span[lang=sw]")).to_have_text("Walioitwa hivi karibuni")
    expect(board.locator("section.waits h2 span[lang=sw]")).to_have_text("Muda wa kusubiri")

    officer = api("rw-immigration-1")
    seat(officer, station_id("C1"))
    call(officer, station_id("C1"))
    expect(board.locator("#now-code")).to_have_text("T-001")
    # The counter's name: the first language big, the others (sw among them) on one line below it.
    expect(board.locator("#now-station .now-others > span[lang=sw]")).to_have_text("Dirisha 1")
    for selector in ("section.now h1", "section.history h2", "section.waits h2", "#now-code"):
        assert in_viewport(board, selector), selector
    assert not _overflowing(board, "section.now h1, section.history h2, section.waits h2, .waits-list li")
    assert not any(board.errors), board.errors
    shot(board, "board-four-languages")


def test_the_counter_page_in_kiswahili(app, new_page, api):  # noqa: F811
    """An officer logs in in Kiswahili at the counter PC's 1366×768, takes Counter 1 and calls a ticket."""
    issue(api("supervisor-1"))
    officer = new_page({"width": 1366, "height": 768}, locale="en-GB")
    officer.goto("/login")
    officer.locator("form.languages button[value=sw]").click()
    expect(officer.locator("h1")).to_have_text("Ingia")
    officer.get_by_label("Jina la mtumiaji").fill("rw-immigration-1")
    officer.get_by_label("Nenosiri").fill(DEMO_PASSWORDS["officer"])
    officer.get_by_role("button", name="Ingia").click()
    expect(officer.locator(".topbar .who")).to_have_text("rw-immigration-1 · RW Uhamiaji")
    expect(officer.get_by_role("button", name="Ondoka kwenye akaunti")).to_be_visible()
    officer.get_by_role("link", name="Madirisha").click()
    officer.locator(".station-button", has_text="Dirisha 1").click()
    officer.wait_for_url("**/counters/*")
    expect(officer.locator("h1")).to_have_text("Dirisha 1")
    officer.get_by_role("button", name="Ita anayefuata").click()
    expect(officer.get_by_text("Utambulisho na hati ya kusafiria")).to_be_visible()
    expect(officer.get_by_role("button", name="Hifadhi utambulisho")).to_be_visible()
    assert officer.locator("html").get_attribute("lang") == "sw"
    assert not _overflowing(officer, "button, .topbar a")
    shot(officer, "counter-sw-1366")
    assert not any(officer.errors), officer.errors
    officer.context.close()
    _server_idle()  # the page's last live requests end before the next test resets the database
