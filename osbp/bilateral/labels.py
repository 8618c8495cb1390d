"""Labels and number formats of a bilateral report, in one language or two side by side.

A report is in one language or two (any two of en/fr/rw; the RW–CD default is French | English). The rules:

- **Words** (headings, column headers, category and agency names, weekday names) are given in each language, the
  first language first; a string that reads the same in both (or is not translated yet, so falls back to English in
  both) is shown once.
- **Numbers, shares, durations and dates** are written once, the way the FIRST language writes them (Babel, with the
  post's territory when CLDR has it: ``fr_RW``, ``en_RW`` write dates day/month/year): a figure is read the same by
  both readers, and writing it twice would double every table. So an fr+en report writes ``1 234,5`` and an en+fr
  report ``1,234.5``.
- Tables give durations in minutes with one decimal (the header says "min"), shares in percent with one decimal (the
  header says "%"), hours with one decimal; counts as whole numbers; a small cell stays ``< 5``; a missing figure is
  an em dash. In running text a duration is ``12.5 min`` below an hour and ``h:mm`` from an hour (``3:23 h``).

Table cells carry their kind as a small wrapper (:class:`Minutes`, :class:`Share`, :class:`Hours`, :class:`Mean`,
:class:`Weekday`, :class:`Hour`, :class:`StationName`); plain ``int`` is a count, ``"< 5"`` a small cell, ``None``
missing, a lazy string a label, ``date`` a local date, any other ``str`` data text shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton, get_day_names, get_month_names
from babel.numbers import format_decimal, format_percent, get_decimal_symbol
from flask_babel import LazyString, force_locale, gettext
from flask_babel import lazy_gettext as _l

from osbp.config import SUPPORTED_LOCALES
from osbp.errors import Invalid
from osbp.i18n import AGENCY_KIND_LABELS, CATEGORY_LABELS, CONTROL_LABELS, COUNTRY_NAMES, LANGUAGE_NAMES

DEFAULT_LANGS = ("fr", "en")  # the RW–CD committee's default: French | English
SMALL = "< 5"
MISSING = "—"

STAGE_LABELS = {"primary": _l("Counter"), "secondary": _l("Secondary inspection")}


def category_label(code: str):
    return CATEGORY_LABELS.get(code, code)


def agency_label(kind: str):
    return AGENCY_KIND_LABELS.get(kind, kind)


def stage_label(stage: str):
    return STAGE_LABELS.get(stage) or CONTROL_LABELS.get(stage) or stage


def direction_label(code: str) -> str:
    """``RW-CD`` → ``RW → CD`` (country codes read the same in every language)."""
    return code.replace("-", " → ")


def parse_langs(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"fr,en"`` or ``["fr", "en"]`` → ``("fr", "en")``: one or two different supported languages.

    ``None`` or empty gives :data:`DEFAULT_LANGS`; anything else raises :class:`osbp.errors.Invalid`.
    """
    if value is None or value == "" or value == ():
        return DEFAULT_LANGS
    items = value.split(",") if isinstance(value, str) else list(value)
    langs = tuple(str(item).strip().lower() for item in items)
    if (
        not 1 <= len(langs) <= 2
        or len(set(langs)) != len(langs)
        or any(lang not in SUPPORTED_LOCALES for lang in langs)
    ):
        raise Invalid(
            gettext(
                "Choose one or two different languages among: %(languages)s.", languages=", ".join(SUPPORTED_LOCALES)
            ),
            code="invalid_languages",
        )
    return langs


def _format_locale(lang: str, territory: str | None) -> Locale:
    if territory:
        try:
            return Locale.parse(f"{lang}_{territory}")
        except (ValueError, UnknownLocaleError):
            pass
    return Locale.parse(lang)


# -- table cell kinds ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Minutes:
    """A duration given in seconds, shown in minutes."""

    seconds: float | None


@dataclass(frozen=True)
class Share:
    """A fraction 0–1, shown in percent."""

    value: float | None


@dataclass(frozen=True)
class Hours:
    value: float | None
    digits: int = 1


@dataclass(frozen=True)
class Mean:
    """A mean count (persons per day): one decimal."""

    value: float | None


@dataclass(frozen=True)
class Weekday:
    index: int


@dataclass(frozen=True)
class Hour:
    """A local hour 0–23, shown ``07:00``."""

    value: int


@dataclass(frozen=True)
class StationName:
    """A station's name: data, translated when it is in the catalogs (the demo names are)."""

    name: str


class Text:
    """A msgid with placeholders, filled after translation: ``Text(_l("Longer than %(hours)s h"), hours=12)``."""

    __slots__ = ("msgid", "variables")

    def __init__(self, msgid: LazyString, **variables):
        self.msgid = msgid
        self.variables = variables


class Joined:
    """Parts (data strings and msgids) joined by a space in each language: ``Joined("RW → CD", _l("Trader"))``."""

    __slots__ = ("parts",)

    def __init__(self, *parts):
        self.parts = parts


NUMERIC = (int, float, Minutes, Share, Hours, Mean)


def is_numeric(value) -> bool:
    """A figure (or a date): right-aligned in the PDF's tables."""
    return value == SMALL or (isinstance(value, (*NUMERIC, date, Hour)) and not isinstance(value, bool))


class Labels:
    """Translations and formats for a report in ``langs`` (first language first) at a post in ``territory``."""

    def __init__(self, langs: str | Iterable[str] | None = None, territory: str | None = None):
        self.langs = parse_langs(langs)
        self.lang = self.langs[0]
        self.locale = _format_locale(self.lang, territory)
        self._cache: dict[tuple[int, str], tuple[LazyString, str]] = {}

    # -- words ---------------------------------------------------------------------------------------------------

    def each(self, text, **variables) -> list[str]:
        """``text`` (a lazy msgid, or a callable taking no argument) in each language, each distinct string once."""
        out: list[str] = []
        for lang in self.langs:
            value = self._translate(text, lang, variables)
            if value not in out:
                out.append(value)
        return out

    def pairs(self, text, **variables) -> list[tuple[str, str]]:
        """``[(lang, text)]`` for each distinct translation (templates mark the second language)."""
        out: list[tuple[str, str]] = []
        for lang in self.langs:
            value = self._translate(text, lang, variables)
            if value not in (v for _, v in out):
                out.append((lang, value))
        return out

    def text(self, text, sep: str = " / ", **variables) -> str:
        return sep.join(self.each(text, **variables))

    def _translate(self, text, lang: str, variables: dict) -> str:
        """One string in ``lang``: a lazy msgid translated (placeholders filled after translation), a callable
        called with the locale forced, anything else as it is."""
        if isinstance(text, LazyString):
            key = (id(text), lang)
            if key not in self._cache:  # the entry keeps ``text`` alive, so its id is not reused
                with force_locale(lang):
                    self._cache[key] = (text, str(text))
            value = self._cache[key][1]
            return value % variables if variables else value
        if isinstance(text, Text):
            return self._translate(text.msgid, lang, {**text.variables, **variables})
        if isinstance(text, Joined):
            return " ".join(self._translate(part, lang, {}) for part in text.parts)
        if callable(text):
            with force_locale(lang):
                return str(text())
        return str(text)

    def in_lang(self, lang: str, function, *args, **kwargs):
        """Call ``function`` with the app's locale forced to ``lang`` (for Babel helpers that read it)."""
        with force_locale(lang):
            return function(*args, **kwargs)

    def language_names(self) -> list[str]:
        return [LANGUAGE_NAMES.get(lang, lang) for lang in self.langs]

    def country(self, code: str) -> list[str]:
        return self.each(COUNTRY_NAMES[code]) if code in COUNTRY_NAMES else [code]

    @staticmethod
    def direction(code: str) -> str:
        return direction_label(code)

    def weekday(self, index: int, width: str = "abbreviated") -> list[str]:
        out: list[str] = []
        for lang in self.langs:
            name = get_day_names(width, locale=_format_locale(lang, self.locale.territory))[index]
            if name not in out:
                out.append(name)
        return out

    def month(self, index: int, width: str = "wide") -> list[str]:
        """Month ``index`` 1–12 in each language."""
        out: list[str] = []
        for lang in self.langs:
            name = get_month_names(width, locale=_format_locale(lang, self.locale.territory))[index]
            if name not in out:
                out.append(name)
        return out

    # -- numbers, in the first language -------------------------------------------------------------------------

    def count(self, value) -> str:
        if value is None:
            return MISSING
        if isinstance(value, str):
            return value  # "< 5"
        return format_decimal(value, "#,##0", locale=self.locale)

    def decimal(self, value, digits: int = 1) -> str:
        if value is None:
            return MISSING
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
        return format_decimal(value, pattern, locale=self.locale)

    def minutes(self, seconds) -> str:
        """Seconds as minutes with one decimal, no unit (tables: the header says "min")."""
        return MISSING if seconds is None else self.decimal(seconds / 60)

    def percent_value(self, share) -> str:
        """A fraction as a percent number with one decimal, no sign (tables: the header says "%")."""
        return MISSING if share is None else self.decimal(share * 100)

    def share(self, share) -> str:
        """A fraction as the locale writes a percentage, one decimal: ``87.3%``, ``87,3 %``."""
        if share is None:
            return MISSING
        pattern = self.locale.percent_formats[None].pattern
        integer_end = pattern.rfind("0") + 1
        pattern = pattern[:integer_end] + ".0" + pattern[integer_end:]
        return format_percent(share, pattern, locale=self.locale)

    def duration(self, seconds) -> str:
        """Running text: ``12.5 min`` below an hour, ``3:23 h`` from an hour."""
        if seconds is None:
            return MISSING
        if seconds < 3600:
            return f"{self.decimal(seconds / 60)}\u00a0min"
        minutes = round(seconds / 60)
        return f"{minutes // 60}:{minutes % 60:02d}\u00a0h"

    def hours(self, hours) -> str:
        return MISSING if hours is None else self.decimal(hours)

    def date(self, value, format: str = "short") -> str:
        if value is None:
            return MISSING
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return format_date(value, format, locale=self.locale)

    def day_month(self, value) -> str:
        """A short day and month for a chart axis: ``01/12`` (``12-01`` in Kinyarwanda)."""
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return format_skeleton("dM", value, locale=self.locale)

    def datetime(self, value: datetime, timezone: str = "UTC", format: str = "medium") -> str:
        return format_datetime(value, format, tzinfo=ZoneInfo(timezone), locale=self.locale)

    def period(self, first, last) -> str:
        return f"{self.date(first, 'long')} – {self.date(last, 'long')}"

    # -- table cells -----------------------------------------------------------------------------------------------

    def cell(self, value) -> list[str]:
        """A table cell as printed: a list of one string (a figure) or one per language (a label)."""
        if value is None:
            return [MISSING]
        if isinstance(value, bool):
            return [str(value)]
        if isinstance(value, int):
            return [self.count(value)]
        if isinstance(value, float):
            return [self.decimal(value)]
        if isinstance(value, Minutes):
            return [self.minutes(value.seconds)]
        if isinstance(value, Share):
            return [self.percent_value(value.value)]
        if isinstance(value, Hours):
            return [self.decimal(value.value, value.digits)]
        if isinstance(value, Mean):
            return [self.decimal(value.value)]
        if isinstance(value, Weekday):
            return self.weekday(value.index)
        if isinstance(value, Hour):
            return [f"{value.value:02d}:00"]
        if isinstance(value, date):
            return [self.date(value)]
        if isinstance(value, StationName):
            return self.each(lambda: gettext(value.name))
        if isinstance(value, (LazyString, Text, Joined)):
            return self.each(value)
        return [str(value)]

    def csv_cell(self, value) -> str:
        """A table cell in a CSV annex: figures without grouping, in the first language's decimal mark; dates ISO;
        labels in each language joined by " / "."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return self._plain(value)
        if isinstance(value, Minutes):
            return "" if value.seconds is None else self._plain(value.seconds / 60)
        if isinstance(value, Share):
            return "" if value.value is None else self._plain(value.value * 100)
        if isinstance(value, Hours):
            return "" if value.value is None else self._plain(value.value, value.digits)
        if isinstance(value, Mean):
            return "" if value.value is None else self._plain(value.value)
        if isinstance(value, date):
            return value.isoformat()
        return " / ".join(self.cell(value))

    @property
    def decimal_mark(self) -> str:
        return get_decimal_symbol(self.locale)

    def _plain(self, value: float, digits: int = 1) -> str:
        return f"{value:.{digits}f}".replace(".", self.decimal_mark)
