"""Translations at two levels (SecureDrop habit): the catalogs themselves, and pages rendered in each language.

Also the written locale order (user's choice → session → Accept-Language → default), malformed locales, and the
Babel number and date formatting helpers.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.numbers import get_decimal_symbol
from sqlalchemy import select

from osbp.config import SUPPORTED_LOCALES
from osbp.extensions import db
from tests.conftest import csrf_from

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
# Every language but the source language: a new one in SUPPORTED_LOCALES is checked here without editing this file.
LOCALES = tuple(locale for locale in SUPPORTED_LOCALES if locale != "en")

# %(name)s, %(name)d … and positional %s, %d; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\d+|\*)?(?:\.\d+)?(?P<kind>[diouxXeEfFgGcrsa%])")


def _po(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file, locale=locale)


def _placeholders(text: str) -> Counter:
    found = Counter()
    for match in PLACEHOLDER.finditer(text):
        if match["kind"] != "%":
            found[(match["name"], match["kind"])] += 1
    return found


def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _keywords_from_makefile() -> dict:
    """The keywords `make messages` passes to pybabel extract (-k), on top of Babel's defaults."""
    keywords = dict(DEFAULT_KEYWORDS)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for name in re.findall(r"(?<!\S)-k\s+(\w+)", makefile):
        keywords.setdefault(name, None)
    return keywords


def _extract_from_source() -> dict:
    """Every translatable string in the code and templates, extracted now with babel.cfg (as `make messages` does)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file, "babel.cfg")
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=_keywords_from_makefile()
    ):
        first = _as_tuple(message)[0]
        if first:
            found.setdefault((context, first), f"{filename}:{lineno}")
    return found


# -- level 1: the catalogs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete_and_placeholders_intact(locale):
    catalog = _po(locale)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids, strings = _as_tuple(message.id), _as_tuple(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(s and s.strip() for s in strings):
            problems.append(f"not translated: {ids[0]!r}")
            continue
        expected = _placeholders(ids[-1])
        for string in strings:
            if set(_placeholders(string)) != set(expected):
                problems.append(f"placeholders differ: {ids[0]!r} → {string!r}")
    for message, errors in catalog.check():
        problems += [f"babel check: {message.id!r}: {error}" for error in errors]
    assert not problems, f"{locale} catalog:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_header(locale):
    catalog = _po(locale)
    assert str(catalog.locale) == locale
    assert catalog.fuzzy is False
    assert catalog.charset.lower() == "utf-8"
    if locale in ("rw", "sw"):  # Babel has no plural rule for rw: the header must say it; sw: one is 1 only
        assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    header = dict(catalog.mime_headers)
    assert header["Language"] == locale
    assert "Plural-Forms" in header


def test_catalogs_hold_every_string_in_the_source():
    """Fails when a string was added to the code or a template and `make messages` was not run (or not translated)."""
    source = _extract_from_source()
    assert len(source) > 50, "extraction found almost nothing — is babel.cfg right?"
    with open(TRANSLATIONS / "messages.pot", "rb") as file:
        template = read_po(file)
    stale_template = sorted(msgid for (context, msgid) in source if template.get(msgid, context) is None)
    for locale in LOCALES:
        catalog = _po(locale)
        missing = sorted(
            f"{msgid!r} ({where})" for (context, msgid), where in source.items() if catalog.get(msgid, context) is None
        )
        missing += [repr(m.id) for m in template if m.id and catalog.get(m.id, m.context) is None]
        assert not missing, f"run `make messages` and translate; missing from {locale}:\n" + "\n".join(missing)
    assert not stale_template, "translations/messages.pot is out of date; run `make messages`:\n" + "\n".join(
        stale_template
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_the_app_serves_every_translation_in_the_po(app, locale):
    """What a user reads: for every entry of the .po, the catalog the running app loaded (its translation directory,
    its domain, the .mo found there) gives the .po's text.

    `make test` compiles the .mo files just before, so a stale .mo fails only outside it (a .po edited without
    `make translations`); what fails under it too: the app looking elsewhere than `make translations` compiles to, a
    domain mismatch, an entry the compiler drops (fuzzy), a translation not applied per request.
    """
    from flask_babel import force_locale, get_translations

    with app.test_request_context(), force_locale(locale):
        served = get_translations()
    assert (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").exists(), "run `make translations`"
    wrong = []
    for message in _po(locale):
        if not message.id:
            continue
        context = message.context
        if message.pluralizable:  # fr: n > 1, rw and sw: n != 1 — all give form 0 for 1 and form 1 for 2
            singular, plural = message.id[:2]
            if context is None:
                got = [served.ungettext(singular, plural, n) for n in (1, 2)]
            else:
                got = [served.unpgettext(context, singular, plural, n) for n in (1, 2)]
            want = list(message.string[:2])
        else:
            got = served.ugettext(message.id) if context is None else served.upgettext(context, message.id)
            want = message.string
        if got != want:
            wrong.append(f"{_as_tuple(message.id)[0]!r}: served {got!r}, the .po says {want!r}")
    assert not wrong, f"the app does not serve the {locale} .po (run `make translations`?):\n" + "\n".join(wrong[:20])


# -- level 2: pages rendered per locale -------------------------------------------------------------------------------


class _Text(HTMLParser):
    """Visible text of a page: text nodes plus the attributes a user reads or hears."""

    READABLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self):
        super().__init__()
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in self.READABLE_ATTRIBUTES and value:
                self.nodes.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.nodes.append(data)


def _visible_pieces(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    pieces = []
    for node in parser.nodes:
        node = " ".join(node.split())
        pieces += [piece.strip() for piece in re.split(r" [·—] ", node) if piece.strip()]
    return pieces


def _english_left(html: str, locale: str) -> list[str]:
    """Pieces of the page that are an English source string whose translation differs."""
    patterns = []
    for message in _po(locale):
        if not message.id or not isinstance(message.id, str) or message.string == message.id:
            continue
        parts = PLACEHOLDER.split(message.id)[::3]  # the fixed text between placeholders
        if not re.search(r"[A-Za-z]{2}", "".join(parts)):
            continue  # "%(station)s: %(state)s." is no English word: it would match any "X : Y." sentence
        patterns.append(re.compile(".+?".join(re.escape(" ".join(p.split())) for p in parts)))
    return [piece for piece in _visible_pieces(html) if any(p.fullmatch(piece) for p in patterns)]


def _html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]*)"', html)
    assert match, "no <html lang>"
    return match.group(1)


def _post(client, path, **data):
    data["csrf_token"] = client.csrf
    return client.post(path, data=data)


def _choose_language(client, locale, back="/"):
    response = _post(client, "/language", locale=locale, next=back)
    assert response.status_code == 302
    return response


EXPECTED = {
    "en": {
        "before_call": ["Call next", "Waiting for this counter: 1", "Leave this counter", "Log out"],
        "identity": ["Identity and travel document", "Save identity", "Passport", "CEPGL pass"],
        "decision": ["Clear", "Refuse", "Refer to secondary inspection", "RW Immigration — exit"],
    },
    "fr": {
        "before_call": [
            "Appeler le suivant",
            "En attente à ce guichet\u00a0: 1",
            "Quitter ce guichet",
            "Se déconnecter",
        ],
        "identity": ["Identité et document de voyage", "Enregistrer l'identité", "Passeport", "Laissez-passer CEPGL"],
        "decision": ["Autoriser", "Refuser", "Orienter vers le contrôle approfondi", "RW Migration — sortie"],
    },
    "rw": {
        "before_call": [
            "Guhamagara ukurikira",
            "Abategereje iyi konteri: 1",
            "Kuva kuri iyi konteri",
            "Gusohoka muri konti",
        ],
        "identity": ["Umwirondoro n'urupapuro rw'inzira", "Kubika umwirondoro", "Pasiporo", "rwa CEPGL"],
        "decision": ["Kwemeza", "Kwanga", "Kohereza mu igenzura ryimbitse", "RW Abinjira n'Abasohoka — gusohoka"],
    },
    "sw": {
        "before_call": ["Ita anayefuata", "Wanaosubiri dirisha hili: 1", "Acha dirisha hili", "Ondoka kwenye akaunti"],
        "identity": ["Utambulisho na hati ya kusafiria", "Hifadhi utambulisho", "Pasipoti", "Pasi ya CEPGL"],
        "decision": ["Idhinisha", "Kataa", "Peleka kwenye ukaguzi wa kina", "RW Uhamiaji — kutoka"],
    },
}


def _page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _assert_in_language(html: str, locale: str, key: str):
    import html as html_module

    text = html_module.unescape(html)
    assert _html_lang(html) == locale
    for expected in EXPECTED[locale][key]:
        assert expected in text, f"{expected!r} missing from the {locale} page"
    if locale != "en":
        left = _english_left(html, locale)
        assert not left, f"English left on the {locale} page: {left}"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_counter_page_in_each_language(login, station_id, locale):
    officer = login("rw-immigration-1")
    c1 = station_id("C1")
    counter = f"/counters/{c1}"
    _choose_language(officer, locale, back=counter)
    assert _post(officer, f"/counters/{c1}/seat").status_code == 302
    assert _post(officer, "/desk/tickets", direction="RW-CD", category="trader").status_code == 302

    _assert_in_language(_page(officer, counter), locale, "before_call")

    assert _post(officer, f"/counters/{c1}/call-next").status_code == 302
    page = _page(officer, counter)
    _assert_in_language(page, locale, "identity")

    step_id = re.search(r"/steps/(\d+)/identity", page).group(1)
    response = _post(
        officer,
        f"/steps/{step_id}/identity",
        holder_name="Anna Eriksson",
        nationality="RWA",
        document_type="passport",
        document_number="L898902C3",
        birth_date="1974-08-12",
        back=counter,
    )
    assert response.status_code == 302
    _assert_in_language(_page(officer, counter), locale, "decision")


@pytest.mark.parametrize("locale", LOCALES)
def test_other_pages_have_no_english_left(login, locale):
    desk = login("supervisor-1")
    _choose_language(desk, locale)
    response = _post(desk, "/desk/tickets", direction="CD-RW", category="resident")
    ticket_page = _page(desk, response.headers["Location"])
    for html in (ticket_page, _page(desk, "/stations")):
        assert _html_lang(html) == locale
        assert not _english_left(html, locale), _english_left(html, locale)
    anonymous = desk.application.test_client()
    csrf = csrf_from(anonymous)
    anonymous.post("/language", data={"locale": locale, "csrf_token": csrf})
    login_page = _page(anonymous, "/login")
    assert _html_lang(login_page) == locale
    assert not _english_left(login_page, locale), _english_left(login_page, locale)


# -- the locale order -------------------------------------------------------------------------------------------------


def _lang_of(client, path="/login", **headers) -> str:
    return _html_lang(_page(client, path) if not headers else client.get(path, headers=headers).get_data(True))


def _anonymous(app):
    client = app.test_client()
    client.csrf = csrf_from(client)
    return client


def test_default_locale_when_nothing_is_known(app, client, monkeypatch):
    assert _lang_of(client) == "en"
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "fr")
    assert _lang_of(app.test_client()) == "fr"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr", "fr"),
        ("fr-CD,fr;q=0.9,en;q=0.5", "fr"),
        ("rw-RW", "rw"),
        ("sw, rw;q=0.4, fr;q=0.2", "sw"),
        ("sw-TZ,sw;q=0.9,en;q=0.5", "sw"),
        ("ln, rw;q=0.4, fr;q=0.2", "rw"),
        ("de-DE, xx", "en"),
    ],
)
def test_accept_language_beats_default(client, header, expected):
    assert _lang_of(client, **{"Accept-Language": header}) == expected


def test_session_choice_beats_accept_language(app):
    client = _anonymous(app)
    _choose_language(client, "rw")
    assert _lang_of(client, **{"Accept-Language": "fr"}) == "rw"


def test_user_choice_beats_session_and_accept_language(app, login):
    from osbp.auth.models import User

    officer = login("rw-immigration-1")
    _choose_language(officer, "fr")
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.username == "rw-immigration-1")) == "fr"
        db.session.remove()
    with officer.session_transaction() as session:
        session["locale"] = "rw"
    assert _lang_of(officer, "/desk", **{"Accept-Language": "en"}) == "fr"
    # the stored choice follows the user to another device
    assert _lang_of(login("rw-immigration-1"), "/desk", **{"Accept-Language": "rw"}) == "fr"


def test_choice_made_before_login_is_kept(app, login):
    client = _anonymous(app)
    _choose_language(client, "rw")
    from osbp.post.seed import DEMO_PASSWORDS

    response = client.post(
        "/login",
        data={"username": "rw-immigration-1", "password": DEMO_PASSWORDS["officer"], "csrf_token": csrf_from(client)},
    )
    assert response.status_code == 302
    assert _lang_of(client, "/desk", **{"Accept-Language": "fr"}) == "rw"


BAD_LOCALES = ["xx", "../../etc", "x" * 5000, "", " ", "fr\x00", "<script>alert(1)</script>", "zz_ZZ"]


@pytest.mark.parametrize("value", BAD_LOCALES)
def test_bad_locale_on_the_language_form_never_raises(app, value):
    """Rejected: the previous choice (French) stays and the user is told why, in French."""
    client = _anonymous(app)
    _choose_language(client, "fr")
    response = _post(client, "/language", locale=value, next="/login")
    if "\x00" in value:  # refused at the edge (osbp/edge.py), in the language chosen before
        assert response.status_code == 400
        assert "caractères de contrôle" in response.get_data(as_text=True)
        assert _html_lang(_page(client, "/login")) == "fr"
        return
    assert response.status_code == 302
    html = _page(client, "/login")
    assert _html_lang(html) == "fr"
    assert "Langue inconnue." in html
    assert "<script>alert" not in html


def test_a_locale_with_a_region_and_junk_is_read_as_its_language(app):
    """``fr_FR@@`` parses as French: chosen after Kinyarwanda, the page turns French with no error."""
    client = _anonymous(app)
    _choose_language(client, "rw")
    assert _post(client, "/language", locale="fr_FR@@", next="/login").status_code == 302
    html = _page(client, "/login")
    assert _html_lang(html) == "fr"
    assert "Langue inconnue." not in html and "Ururimi rutazwi." not in html


@pytest.mark.parametrize(
    ("value", "lang", "error"),
    [
        ("xx", "rw", "Ururimi rutazwi."),  # rejected: Kinyarwanda stays, the error in Kinyarwanda
        ("x" * 5000, "rw", "Ururimi rutazwi."),
        ("fr_FR@@", "fr", None),  # read as French: taken, no error
    ],
)
def test_bad_locale_from_a_logged_in_user_keeps_their_language(app, login, value, lang, error):
    from osbp.auth.models import User

    officer = login("rw-immigration-1")
    _choose_language(officer, "rw")
    response = _post(officer, "/language", locale=value, next="/desk")
    assert response.status_code == 302
    html = _page(officer, "/desk")
    assert _html_lang(html) == lang
    if error:
        assert error in html
    else:
        assert "Ururimi rutazwi." not in html and "Langue inconnue." not in html
    with app.app_context():  # the stored choice, which follows the user to other devices
        assert db.session.scalar(select(User.locale).where(User.username == "rw-immigration-1")) == lang
        db.session.remove()


def test_language_form_without_a_locale(app):
    client = _anonymous(app)
    response = client.post("/language", data={"csrf_token": client.csrf})
    assert response.status_code == 302
    assert "Unknown language." in _page(client, "/login")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("xx", "en"),  # nothing supported: the post's default
        ("../../etc", "en"),
        ("x" * 5000, "en"),
        (";;;,,q=abc", "en"),
        ("\u00e9\u00e8", "en"),
        ("*", "en"),  # anything: the first supported, English
        ("en;q=nan, fr;q=-1", "en"),  # q values out of range: both dropped, the default
        ("fr_FR@@", "fr"),  # the language part is read
    ],
)
def test_malformed_accept_language_falls_back(client, header, expected):
    response = client.get("/login", headers={"Accept-Language": header.encode("utf-8").decode("latin-1")})
    assert response.status_code == 200
    assert _html_lang(response.get_data(as_text=True)) == expected


def test_malformed_accept_language_falls_back_to_the_posts_default(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "rw")
    assert _lang_of(client, **{"Accept-Language": "xx"}) == "rw"
    assert _lang_of(client, **{"Accept-Language": ";;;,,q=abc"}) == "rw"
    assert _lang_of(client, **{"Accept-Language": "en;q=nan, fr;q=-1"}) == "rw"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("../../etc", "rw"), ("xx", "rw"), (42, "rw"), (None, "rw"), ("x" * 5000, "rw"), ("fr_FR@@", "fr")],
)
def test_tampered_session_locale_falls_back(app, value, expected):
    """An unreadable session locale is ignored (Accept-Language decides: rw); ``fr_FR@@`` still reads as French."""
    client = _anonymous(app)
    with client.session_transaction() as session:
        session["locale"] = value
    assert _lang_of(client, **{"Accept-Language": "rw"}) == expected


@pytest.mark.parametrize(("value", "expected"), [("xx", "rw"), ("../etc", "rw"), ("fr-FR", "fr"), ("FR", "fr")])
def test_odd_stored_user_locale_never_raises(app, login, value, expected):
    """An unreadable stored locale is ignored (Accept-Language decides: rw); a region or capitals still read."""
    from osbp.auth.models import User

    officer = login("rw-immigration-1")
    with app.app_context():
        db.session.scalars(select(User).where(User.username == "rw-immigration-1")).one().locale = value
        db.session.commit()
        db.session.remove()
    response = officer.get("/desk", headers={"Accept-Language": "rw"})
    assert response.status_code == 200
    assert _html_lang(response.get_data(as_text=True)) == expected


# -- Babel formatting -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ("rw", "fr", "sw", "en"))
def test_money_decimals_per_currency(app, locale):
    from flask_babel import force_locale

    from osbp.i18n import money

    decimal = re.escape(get_decimal_symbol(locale))
    with app.test_request_context(), force_locale(locale):
        rwf, cdf, usd = money(1500, "RWF"), money(1500, "CDF"), money(1500, "USD")
    assert "1" in rwf and "500" in rwf
    assert not re.search(decimal + r"\d", rwf), rwf  # RWF: no decimals
    assert "RWF" in rwf or "RF" in rwf
    for amount in (cdf, usd):
        assert re.search(decimal + r"00(?!\d)", amount), amount  # two decimals


def test_money_rounds_rwf_to_whole_francs(app):
    from flask_babel import force_locale

    from osbp.i18n import money

    with app.test_request_context(), force_locale("en"):
        assert money(1500.4, "RWF") == "RWF1,500"
        assert money(2.5, "USD") == "$2.50"


def test_money_in_kiswahili_written_out(app):
    """sw (East African standard, CLDR ``sw``): the ISO code before the amount, a comma for thousands."""
    from flask_babel import force_locale

    from osbp.i18n import money

    with app.test_request_context(), force_locale("sw"):
        assert money(1500, "RWF") == "RWF\u00a01,500"
        assert money(1500, "CDF") == "CDF\u00a01,500.00"
        assert money(2.5, "USD") == "US$\u00a02.50"


@pytest.mark.parametrize(
    ("locale", "long_date", "short_datetime"),
    [
        ("en", "March 5, 2026", "3/5/26, 2:30\u202fPM"),
        ("fr", "5 mars 2026", "05/03/2026 14:30"),
        ("rw", "2026 Werurwe 5", "2026-03-05 14:30"),
        ("sw", "5 Machi 2026", "05/03/2026 14:30"),
    ],
)
def test_dates_format_per_locale_in_post_time(app, locale, long_date, short_datetime):
    from flask_babel import force_locale, format_date

    from osbp.i18n import when

    with app.test_request_context(), force_locale(locale):
        assert format_date(date(2026, 3, 5), "long") == long_date
        # stored in UTC, shown in the post's time zone (Africa/Kigali, UTC+2)
        assert when(datetime(2026, 3, 5, 12, 30, tzinfo=UTC)) == short_datetime
        assert when(None) == "—"
