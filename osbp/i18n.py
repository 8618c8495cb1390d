"""Locale choice, translated labels for domain words, and Babel formatting helpers."""

from __future__ import annotations

from babel import Locale
from babel.core import UnknownLocaleError
from flask import current_app, has_request_context, request, session
from flask_babel import format_currency, format_date, format_datetime, get_locale, gettext, pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from osbp.config import SUPPORTED_LOCALES

# In this order on every language switch: the two countries' languages, then Kiswahili (EAC), then English.
LANGUAGE_NAMES = {"rw": "Ikinyarwanda", "fr": "Français", "sw": "Kiswahili", "en": "English"}

CATEGORY_LABELS = {
    "traveller": _l("Traveller"),
    "trader": _l("Trader"),
    "resident": _l("Border resident (CEPGL pass)"),
    "driver": _l("Driver"),
}
CONTROL_LABELS = {
    "exit": _l("exit"),
    "entry": _l("entry"),
    "export": _l("export"),
    "import": _l("import"),
    "screening": _l("screening"),
}
AGENCY_KIND_LABELS = {"immigration": _l("Immigration"), "customs": _l("Customs"), "health": _l("Health")}
STEP_STATUS_LABELS = {
    "pending": _l("pending"),
    "waiting": _l("waiting"),
    "called": _l("called"),
    "in_progress": _l("in progress"),
    "referred": _l("referred"),
    "cleared": _l("cleared"),
    "refused": _l("refused"),
    "cancelled": _l("cancelled"),
}
CROSSING_STATUS_LABELS = {
    "in_progress": _l("in progress"),
    "cleared": _l("cleared"),
    "refused": _l("refused"),
    "no_show": _l("no-show"),
}
PRIORITY_LABELS = {
    "elderly": _l("Elderly person"),
    "pregnant": _l("Pregnant woman"),
    "disabled": _l("Person with a disability"),
    "with_infant": _l("Person with an infant"),
}
STATION_STATE_LABELS = {"open": _l("Open"), "paused": _l("Paused"), "closed": _l("Closed")}
OUTCOME_LABELS = {"cleared": _l("Cleared"), "referred": _l("Referred"), "refused": _l("Refused")}
DOCUMENT_TYPE_LABELS = {
    "passport": _l("Passport"),
    "national_id": _l("National identity card"),
    "cepgl_pass": _l("CEPGL pass"),
    "laissez_passer": _l("Laissez-passer"),
    "emergency_travel_document": _l("Emergency travel document"),
    "jeton": _l("Border-resident token (jeton)"),
}
COUNTRY_NAMES = {"RW": _l("Rwanda"), "CD": _l("DR Congo")}


def normalise_locale(value) -> str | None:
    """A supported language code from user input, or None. Never raises."""
    if not isinstance(value, str) or len(value) > 35:
        return None
    try:
        language = Locale.parse(value.replace("-", "_")).language
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return language if language in SUPPORTED_LOCALES else None


def select_locale() -> str:
    """User's stored choice → session → Accept-Language → the post's default."""
    if not has_request_context():  # CLI commands and background work
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    stored = normalise_locale(current_user.locale) if getattr(current_user, "is_authenticated", False) else None
    if stored:
        return stored
    chosen = normalise_locale(session.get("locale"))
    if chosen:
        return chosen
    best = request.accept_languages.best_match(SUPPORTED_LOCALES)
    if best:
        return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def N_(message: str) -> str:
    """Mark a data string (seeded station names) for extraction without translating it at import."""
    return message


def station_name(station) -> str:
    """Station names are data; the demo names are in the catalogs, others show as entered."""
    return gettext(station.name)


def agency_label(agency) -> str:
    """The one name every page gives an agency: its country and its kind in the UI language ("CD Migration").

    Agency.label returns this; the agency's own name (DGM, RRA…) is data and is not shown beside it.
    """
    return f"{agency.country} {AGENCY_KIND_LABELS[agency.kind]}"


def step_label(step_kind) -> str:
    return f"{agency_label(step_kind.agency)} — {CONTROL_LABELS[step_kind.control]}"


def category_for_person(category: str) -> str:
    """A category as the person it names picks it (the kiosk's "Who are you?"): French gives the feminine too."""
    if category == "trader":
        return pgettext("a person choosing her category", "Trader")
    return str(CATEGORY_LABELS[category])


def money(amount, currency: str) -> str:
    """RWF has no decimals in use; CDF and USD keep two."""
    return format_currency(amount, currency)


def when(value) -> str:
    return format_datetime(value, "short") if value else "—"


def day(value) -> str:
    """A calendar date in the UI language (e.g. 1 nov. 2026)."""
    return format_date(value, "medium") if value else "—"


def template_helpers() -> dict:
    return {
        "get_locale": get_locale,
        "LANGUAGE_NAMES": LANGUAGE_NAMES,
        "CATEGORY_LABELS": CATEGORY_LABELS,
        "STEP_STATUS_LABELS": STEP_STATUS_LABELS,
        "CROSSING_STATUS_LABELS": CROSSING_STATUS_LABELS,
        "PRIORITY_LABELS": PRIORITY_LABELS,
        "STATION_STATE_LABELS": STATION_STATE_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "DOCUMENT_TYPE_LABELS": DOCUMENT_TYPE_LABELS,
        "COUNTRY_NAMES": COUNTRY_NAMES,
        "step_label": step_label,
        "category_for_person": category_for_person,
        "station_name": station_name,
        "when": when,
        "day": day,
        "money": money,
    }
