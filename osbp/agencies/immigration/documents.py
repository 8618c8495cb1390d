"""The region's travel documents and their rules, read from document_types.toml; the holder's age on the day.

- The data is read and checked once, when this module is imported (so at the application's startup): a malformed
  file raises ``DocumentTypesError`` naming the file, the type and the field, and the application does not start.
- ``accepted(code, direction, category)``: deny by default (an unknown code, direction or category is not accepted).
- ``validity(code, expiry, today)``: a document is valid up to and including its expiry date; after it, refused
  unless the type's ``grace_days`` still cover the day. ``Validity.reason_code`` names what the officer should know, also
  when the document is accepted (``expires_today``, ``in_grace``); ``reason_message`` gives its translated text.
- Ages are counted in whole years on the day, with exact birthday arithmetic: one turns N on one's birthday itself.
  Someone born on 29 February has their birthday on 1 March in a common year (they are still 17 on 28 February of
  the year they turn 18, and 18 on 1 March) — the rule of most civil codes; to confirm with DGIE/DGM.
- Age bands for the joint border committee's figures (``AGE_BANDS``): 0–17 (minors), 18–24, 25–34, 35–44, 45–54,
  55–64, 65+; each band holds both its ends in whole years (a person aged 24 is in 18–24, aged 25 in 25–34).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask_babel import gettext as _

from osbp.workflow.models import CATEGORIES

DATA_FILE = Path(__file__).with_name("document_types.toml")
MRZ_PRESENCE = ("required", "optional", "none")
MRZ_FORMATS = ("TD1", "TD2", "TD3")
ADULT_AGE = 18
AGE_BANDS = ((0, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, None))
REASONS = (
    "unknown_document_type",
    "not_accepted_direction",
    "not_accepted_category",
    "expiry_missing",
    "expired",
    "in_grace",
    "expires_today",
    "under_minimum_age",
)
_REQUIRED = ("code", "directions", "categories", "mrz", "mrz_formats", "expiry_required", "grace_days")
_OPTIONAL = ("stay_limit_days", "minimum_age", "note")
_CODE = re.compile(r"^[a-z][a-z_]{1,31}$")
_DIRECTION = re.compile(r"^([A-Z]{2})-([A-Z]{2})$")


class DocumentTypesError(ValueError):
    """The document types file is malformed (raised at import, so the application does not start)."""


class UnknownDocumentType(KeyError):
    """A code that names no document type of the data file."""


@dataclass(frozen=True)
class DocumentType:
    code: str
    directions: tuple[str, ...]
    categories: tuple[str, ...]
    mrz: str
    mrz_formats: tuple[str, ...]
    expiry_required: bool
    grace_days: int
    stay_limit_days: int | None = None
    minimum_age: int | None = None
    note: str = ""

    @property
    def has_mrz(self) -> bool:
        """Some documents of this type carry a machine-readable zone (``mrz`` required or optional)."""
        return self.mrz != "none"


@dataclass(frozen=True)
class Validity:
    """``ok``: the document may be used today. ``reason_code``: a code of ``REASONS`` or None (nothing to say)."""

    ok: bool
    reason_code: str | None = None


def load(path: Path) -> dict[str, DocumentType]:
    """The document types of a TOML file by code, in the file's order; DocumentTypesError if anything is wrong."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentTypesError(f"{path}: cannot be read: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise DocumentTypesError(f"{path}: not valid TOML: {error}") from error
    extra = sorted(set(data) - {"type"})
    if extra:
        raise DocumentTypesError(f"{path}: unknown top-level key(s) {', '.join(extra)} (only [[type]] tables)")
    entries = data.get("type")
    if not isinstance(entries, list) or not entries:
        raise DocumentTypesError(f"{path}: no [[type]] table")
    types: dict[str, DocumentType] = {}
    for number, entry in enumerate(entries, start=1):
        document = _document_type(path, number, entry)
        if document.code in types:
            raise DocumentTypesError(f"{path}: type {number} ({document.code}): code: the same code twice")
        types[document.code] = document
    return types


def _document_type(path, number: int, entry: dict) -> DocumentType:
    label = f"{path}: type {number} ({entry.get('code', '?')})"

    def fail(field: str, problem: str):
        raise DocumentTypesError(f"{label}: {field}: {problem}")

    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        fail(missing[0], "missing")
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        fail(unknown[0], f"unknown field (known: {', '.join(_REQUIRED + _OPTIONAL)})")
    code = entry["code"]
    if not isinstance(code, str) or not _CODE.match(code):
        fail("code", "2 to 32 lower-case letters and underscores")
    directions = _string_list(entry["directions"], fail, "directions")
    for direction in directions:
        match = _DIRECTION.match(direction)
        if not match or match.group(1) == match.group(2):
            fail("directions", f"{direction!r} is not a direction such as RW-CD")
    categories = _string_list(entry["categories"], fail, "categories")
    for category in categories:
        if category not in CATEGORIES:
            fail("categories", f"{category!r} is not one of {', '.join(CATEGORIES)}")
    mrz = entry["mrz"]
    if mrz not in MRZ_PRESENCE:
        fail("mrz", f"one of {', '.join(MRZ_PRESENCE)}")
    formats = entry["mrz_formats"]
    if not isinstance(formats, list) or any(f not in MRZ_FORMATS for f in formats) or len(set(formats)) != len(formats):
        fail("mrz_formats", f"a list of distinct formats among {', '.join(MRZ_FORMATS)}")
    if (mrz == "none") != (not formats):
        fail("mrz_formats", 'empty exactly when mrz = "none"')
    if not isinstance(entry["expiry_required"], bool):
        fail("expiry_required", "true or false")
    values = {}
    for key, upper in (("grace_days", 3650), ("stay_limit_days", 3650), ("minimum_age", 120)):
        value = entry.get(key)
        if value is None and key != "grace_days":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
            fail(key, f"a whole number from 0 to {upper}")
        values[key] = value
    note = entry.get("note", "")
    if not isinstance(note, str):
        fail("note", "text")
    return DocumentType(
        code=code,
        directions=directions,
        categories=categories,
        mrz=mrz,
        mrz_formats=tuple(formats),
        expiry_required=entry["expiry_required"],
        note=note,
        **values,
    )


def _string_list(value, fail, field: str) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) for item in value)
        or len(set(value)) != len(value)
    ):
        fail(field, "a non-empty list of distinct strings")
    return tuple(value)


_TYPES = load(DATA_FILE)
CODES: tuple[str, ...] = tuple(_TYPES)


def document_type(code: str) -> DocumentType:
    """The type of this code; UnknownDocumentType if there is none."""
    try:
        return _TYPES[code]
    except (KeyError, TypeError):
        raise UnknownDocumentType(code) from None


def accepted(code: str, direction: str, category: str) -> bool:
    """Whether a document of this type lets a person of this category cross in this direction (deny by default)."""
    document = _TYPES.get(code) if isinstance(code, str) else None
    return document is not None and direction in document.directions and category in document.categories


def refusal(code: str, direction: str, category: str) -> str | None:
    """Why a document of this type is not accepted for this crossing (a code of REASONS), or None when it is."""
    document = _TYPES.get(code) if isinstance(code, str) else None
    if document is None:
        return "unknown_document_type"
    if direction not in document.directions:
        return "not_accepted_direction"
    if category not in document.categories:
        return "not_accepted_category"
    return None


def validity(code: str, expiry: date | None, today: date) -> Validity:
    """Whether the document may be used ``today`` given its expiry date (valid through the expiry day itself)."""
    document = document_type(code)
    if expiry is None:
        return Validity(False, "expiry_missing") if document.expiry_required else Validity(True)
    if today < expiry:
        return Validity(True)
    if today == expiry:
        return Validity(True, "expires_today")
    if today <= expiry + timedelta(days=document.grace_days):
        return Validity(True, "in_grace")
    return Validity(False, "expired")


def stay_limit(code: str) -> int | None:
    """Days a resident document lets its holder stay on the other side (0: back the same day); None: no such limit."""
    return document_type(code).stay_limit_days


def age(birth_date: date, today: date) -> int:
    """Whole years on ``today`` (one's birthday counts; 29 February's birthday is 1 March in a common year)."""
    if birth_date > today:
        raise ValueError("born after the day")
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def is_minor(birth_date: date, today: date) -> bool:
    """Under 18 on the day (on the 18th birthday itself the person is an adult)."""
    return age(birth_date, today) < ADULT_AGE


def old_enough(code: str, birth_date: date, today: date) -> bool:
    """Whether the holder has the document type's minimum age, if it has one."""
    minimum = document_type(code).minimum_age
    return minimum is None or age(birth_date, today) >= minimum


def age_band(birth_date: date, today: date) -> str:
    """The committee's age band on the day: "0-17", "18-24", "25-34", "35-44", "45-54", "55-64" or "65+"."""
    years = age(birth_date, today)
    for low, high in AGE_BANDS:
        if high is None:
            return f"{low}+"
        if low <= years <= high:
            return f"{low}-{high}"
    raise AssertionError("unreachable: the last band is open")  # pragma: no cover


def age_band_labels() -> tuple[str, ...]:
    """Every band's key, youngest first (a report's columns)."""
    return tuple(f"{low}+" if high is None else f"{low}-{high}" for low, high in AGE_BANDS)


def reason_message(reason: str) -> str:
    """The translated sentence the officer sees for a reason code of REASONS."""
    messages = {
        "unknown_document_type": _("Choose a document type from the list."),
        "not_accepted_direction": _("This document is not accepted for crossing in this direction."),
        "not_accepted_category": _("This document is not accepted for this kind of crossing."),
        "expiry_missing": _("Give the document's expiry date."),
        "expired": _("The document has expired: it cannot be accepted."),
        "in_grace": _("The document has expired but is still accepted during its grace period."),
        "expires_today": _("The document expires today."),
        "under_minimum_age": _("The holder is younger than the minimum age for this document."),
    }
    return messages[reason]
