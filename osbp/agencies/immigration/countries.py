"""Nationalities: ISO 3166-1 alpha-3 codes (what is stored), named in the UI language; dates of birth as typed.

- The codes: iso3166.tsv (ISO 3166-1, alpha-3 ↔ alpha-2), plus the four codes ICAO Doc 9303 (part 3) gives to people
  without a state's nationality: XXA stateless, XXB refugee (1951 Convention), XXC other refugee, XXX unspecified.
  Germany's one-letter ICAO code ``D`` (``D<<`` in a passport's machine-readable zone) is read as DEU. Nothing else:
  not UTO (the specimen passports' Utopia), not the codes of organisations (UNO, EUE, XOM …): a laissez-passer's
  holder still has a nationality.
- The names: Babel's (CLDR) territory names by alpha-2 in the UI language; where CLDR has none (Kinyarwanda names only
  three territories) the English name. The list puts Rwanda and DR Congo first, then the rest by name.
- Dates: the identity form takes and shows day/month/year (``DATE_PATTERN``) in every UI language: French, Kiswahili
  and CLDR's British and Rwandan English write 12/08/1974; CLDR's plain ``en`` (month first, two-digit year) and
  ``rw`` (1974-08-12) are not what the post's documents print. A typed date may also be ISO (1974-08-12: what a
  scanner or the API sends) or eight digits (12081974).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date
from pathlib import Path

from babel import Locale
from babel.core import UnknownLocaleError
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l

ICAO_CODES = {
    "XXA": _l("Stateless person"),
    "XXB": _l("Refugee (1951 Convention)"),
    "XXC": _l("Refugee (other)"),
    "XXX": _l("Nationality not specified"),
}
ICAO_ALIASES = {"D": "DEU"}  # the machine-readable zone's code for Germany
FIRST = ("RWA", "COD")  # the post's two countries head the list
DATE_PATTERN = "dd/MM/yyyy"
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_EIGHT_DIGITS = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_CODE_IN_NAME = re.compile(r"\(([A-Za-z]{3})\)\s*$")


@functools.cache
def alpha2_by_alpha3() -> dict[str, str]:
    """ISO 3166-1 alpha-3 → alpha-2, from iso3166.tsv."""
    table = {}
    for line in Path(__file__).with_name("iso3166.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("alpha3"):
            continue
        alpha3, alpha2 = line.split("\t")
        table[alpha3] = alpha2
    return table


def is_nationality(code: str) -> bool:
    return code in alpha2_by_alpha3() or code in ICAO_CODES


def _locale_name(locale) -> str:
    return str(locale) if locale is not None else "en"


@functools.cache
def _names(locale_name: str) -> dict[str, str]:
    try:
        territories = Locale.parse(locale_name).territories
    except (ValueError, UnknownLocaleError):
        territories = {}
    english = Locale("en").territories
    return {
        alpha3: territories.get(alpha2) or english.get(alpha2, alpha3) for alpha3, alpha2 in alpha2_by_alpha3().items()
    }


def country_name(code: str | None, locale=None) -> str:
    """The nationality's name in the UI language (the code itself if it is not one)."""
    if not code:
        return ""
    if code in ICAO_CODES:
        return str(ICAO_CODES[code])
    return _names(_locale_name(locale or get_locale())).get(code, code)


def _folded(text: str) -> str:
    """For comparing names: no accents, no case, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def choices(locale=None) -> list[tuple[str, str]]:
    """(code, name) for the form's list: the post's two countries, then every other by name, then ICAO's four."""
    names = _names(_locale_name(locale or get_locale()))
    rest = sorted((code for code in names if code not in FIRST), key=lambda code: _folded(names[code]))
    return [(code, names[code]) for code in (*FIRST, *rest)] + [(code, str(name)) for code, name in ICAO_CODES.items()]


def resolve(text: str | None, locale=None) -> str | None:
    """The stored code for what was typed or picked: a code (``rwa``, ``D<<``), a name in the UI language or in English
    (``Rwanda``, ``congo-kinshasa``), or "Name (XXX)". None if it is none of these."""
    if not isinstance(text, str):
        return None
    typed = text.strip()
    code = typed.upper().rstrip("<")
    code = ICAO_ALIASES.get(code, code)
    if is_nationality(code):
        return code
    inside = _CODE_IN_NAME.search(typed)
    if inside and is_nationality(inside.group(1).upper()):
        return inside.group(1).upper()
    wanted = _folded(typed)
    if not wanted:
        return None
    for names in (_names(_locale_name(locale or get_locale())), _names("en")):
        for known, name in names.items():
            if _folded(name) == wanted:
                return known
    for known, name in ICAO_CODES.items():
        if _folded(str(name)) == wanted:
            return known
    return None


def parse_date(text) -> date | None:
    """A date typed on the form: day/month/year (also with . - or space), ISO year-month-day, or eight digits DDMMYYYY.
    None if it is not a real date."""
    if isinstance(text, date):
        return text
    if not isinstance(text, str):
        return None
    typed = text.strip()
    if match := _ISO_DATE.match(typed):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY_FIRST.match(typed) or _EIGHT_DIGITS.match(typed):
        day, month, year = (int(part) for part in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def show_date(value: date | None) -> str:
    """A date of birth as the form takes it (12/08/1974)."""
    return format_date(value, DATE_PATTERN) if value else ""
