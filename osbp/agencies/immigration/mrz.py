"""The machine-readable zone (MRZ) of a travel document, read exactly as ICAO Doc 9303 writes it (parts 3 to 7).

Pure: no database, no request. ``parse_mrz(text, today=…)`` reads what a keyboard-wedge reader types;
``format_mrz(fields)`` writes the lines back (with every check digit computed), which the tests use.

- Formats: TD1 (3 lines of 30, ID cards: I, A, C), TD2 (2 × 36, ID cards), TD3 (2 × 44, passports: P),
  MRV-A (2 × 44, visas: V) and MRV-B (2 × 36, visas). The format comes from the line count and length, then the
  first character must fit it. Lines are split on newlines/CR and trimmed; blank lines are dropped. The lines may also
  come concatenated without separators: 90 characters are TD1, 88 TD3/MRV-A, 72 TD2/MRV-B.
- Characters: only A–Z, 0–9 and ``<``. A lower-case letter, a space inside a line or any punctuation is an
  ``MrzError`` naming the field. Nothing is corrected: a letter in a date or check-digit position (the O of an
  OCR'd 0 included) is an error, whose message points at the O/0 confusion.
- Check digits (7-3-1 weights; digits count their value, A–Z 10–35, ``<`` 0; sum mod 10): document number, date of
  birth, date of expiry, the personal number of TD3 (``<``-filled: its check digit may be ``<`` or 0, as may an
  all-``<`` date of birth's) and the
  composite one (TD1, TD2, TD3; visas have none). A wrong check digit does not raise: it is listed in the result's
  ``failures`` (field, expected, found) so the caller can ask for an override with a reason; ``strict=True`` raises
  the first one instead.
- Long document numbers (part 5 for TD1, part 6 for TD2): when the number has more than 9 characters, its first 9
  fill the number field, the check-digit position holds ``<``, and the rest of the number followed by the check digit
  (computed on the whole number) opens the optional data, ended by a ``<``.
- Dates (YYMMDD), the century resolved against ``today``:
  - date of birth: the latest century that does not put it after ``today`` (someone older than 100 is read a
    century younger: the MRZ cannot tell);
  - date of expiry: the latest century that does not put it after ``today`` + 20 years, so an expiry lies in
    (``today`` − 80 years, ``today`` + 20 years]: an expired document reads as expired, never as one valid for a
    century;
  - a date of birth whose day and/or month (or year) is unknown is written ``<<`` in those places (Doc 9303 part 3):
    the result then has ``birth_date`` None, ``birth_date_text`` the six characters as printed and ``birth_year``
    the year when known (its century chosen as above). An expiry must be a whole date.
- Sex: M, F, or ``<`` (unspecified) which reads as X. Anything else (an X printed in the MRZ included) is an error.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l

from osbp.errors import Invalid

TD1, TD2, TD3, MRV_A, MRV_B = "TD1", "TD2", "TD3", "MRV-A", "MRV-B"
FILLER = "<"
WEIGHTS = (7, 3, 1)
ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ<")
DIGITS = frozenset("0123456789")
EXPIRY_YEARS_AHEAD = 20

FIELD_LABELS = {
    "document_code": _l("Document code"),
    "issuing_state": _l("Issuing state"),
    "name": _l("Name"),
    "document_number": _l("Document number"),
    "document_number_check": _l("Check digit of the document number"),
    "nationality": _l("Nationality"),
    "birth_date": _l("Date of birth"),
    "birth_date_check": _l("Check digit of the date of birth"),
    "sex": _l("Sex"),
    "expiry_date": _l("Date of expiry"),
    "expiry_date_check": _l("Check digit of the date of expiry"),
    "optional_data": _l("Optional data"),
    "optional_data_check": _l("Check digit of the optional data"),
    "optional_data_2": _l("Optional data"),
    "composite": _l("Composite check digit"),
    "composite_check": _l("Composite check digit"),
}


class MrzError(Invalid):
    """A machine-readable zone that cannot be read: ``code`` says why, ``field`` where (a key of FIELD_LABELS, or
    "mrz" for the whole zone); ``message`` is the translated explanation."""

    code = "mrz_invalid"

    def __init__(self, code: str, field: str, message):
        super().__init__(message, code=code, field=field)
        self.field = field

    @property
    def message(self) -> str:
        return str(self._message)

    @message.setter
    def message(self, value) -> None:
        self._message = value

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CheckFailure:
    field: str  # document_number, birth_date, expiry_date, optional_data or composite
    expected: str
    found: str


@dataclass(frozen=True)
class Mrz:
    format: str
    document_code: str  # "P", "I", "ID", "AC", "V" … (fillers stripped)
    issuing_state: str  # as printed, fillers stripped ("D" for Germany)
    surname: str
    given_names: str
    names_truncated: bool
    document_number: str
    nationality: str
    birth_date: date | None
    sex: str  # M, F or X
    expiry_date: date
    optional_data: str  # TD3: the personal number; TD1: line 1's optional data
    optional_data_2: str = ""  # TD1 only: line 2's optional data
    birth_date_text: str = ""  # the six characters as printed (``74<<<<`` when partial)
    birth_year: int | None = None
    failures: tuple[CheckFailure, ...] = ()
    lines: tuple[str, ...] = field(default=(), compare=False)

    @property
    def valid(self) -> bool:
        return not self.failures

    @property
    def birth_date_partial(self) -> bool:
        return self.birth_date is None


# One layout per format: (field key, line index, start, end), covering every position of every line.
_COMMON_TOP = (("document_code", 0, 0, 2), ("issuing_state", 0, 2, 5))


def _bottom(optional_end: int, composite: bool, personal_check: bool) -> tuple:
    fields = [
        ("document_number", 1, 0, 9),
        ("document_number_check", 1, 9, 10),
        ("nationality", 1, 10, 13),
        ("birth_date", 1, 13, 19),
        ("birth_date_check", 1, 19, 20),
        ("sex", 1, 20, 21),
        ("expiry_date", 1, 21, 27),
        ("expiry_date_check", 1, 27, 28),
        ("optional_data", 1, 28, optional_end),
    ]
    if personal_check:
        fields.append(("optional_data_check", 1, optional_end, optional_end + 1))
    if composite:
        start = optional_end + (1 if personal_check else 0)
        fields.append(("composite_check", 1, start, start + 1))
    return tuple(fields)


LAYOUTS = {
    TD1: (
        *_COMMON_TOP,
        ("document_number", 0, 5, 14),
        ("document_number_check", 0, 14, 15),
        ("optional_data", 0, 15, 30),
        ("birth_date", 1, 0, 6),
        ("birth_date_check", 1, 6, 7),
        ("sex", 1, 7, 8),
        ("expiry_date", 1, 8, 14),
        ("expiry_date_check", 1, 14, 15),
        ("nationality", 1, 15, 18),
        ("optional_data_2", 1, 18, 29),
        ("composite_check", 1, 29, 30),
        ("name", 2, 0, 30),
    ),
    TD2: (*_COMMON_TOP, ("name", 0, 5, 36), *_bottom(35, composite=True, personal_check=False)),
    TD3: (*_COMMON_TOP, ("name", 0, 5, 44), *_bottom(42, composite=True, personal_check=True)),
    MRV_A: (*_COMMON_TOP, ("name", 0, 5, 44), *_bottom(44, composite=False, personal_check=False)),
    MRV_B: (*_COMMON_TOP, ("name", 0, 5, 36), *_bottom(36, composite=False, personal_check=False)),
}
SHAPES = {TD1: (3, 30), TD2: (2, 36), TD3: (2, 44), MRV_A: (2, 44), MRV_B: (2, 36)}
FIRST_LETTERS = {TD1: "IAC", TD2: "IAC", TD3: "P", MRV_A: "V", MRV_B: "V"}
LONG_NUMBER_FORMATS = (TD1, TD2)
# Which characters a field may hold beyond the alphabet check: letters (and <) or digits.
_LETTER_FIELDS = {"document_code", "issuing_state", "nationality", "name"}
_DIGIT_FIELDS = {"birth_date", "expiry_date"}
_CHECK_FIELDS = {"document_number_check", "birth_date_check", "expiry_date_check", "optional_data_check"}


def char_value(char: str) -> int:
    if char in DIGITS:
        return int(char)
    if char == FILLER:
        return 0
    return ord(char) - ord("A") + 10


def check_digit(text: str) -> str:
    """Doc 9303 part 3 §4.9: weights 7, 3, 1 repeated; the sum of the products modulo 10."""
    return str(sum(char_value(char) * WEIGHTS[i % 3] for i, char in enumerate(text)) % 10)


def _label(key: str):
    return FIELD_LABELS.get(key, key)


# ---------------------------------------------------------------------------------------------------- reading lines


def split_lines(text: str) -> list[str]:
    """The reader's text as MRZ lines: split on newlines/CR, each trimmed, blank ones dropped; one line of 90, 88 or 72
    characters is the lines typed without separators."""
    lines = [line.strip() for line in re.split(r"\r\n|\r|\n", text or "")]
    lines = [line for line in lines if line]
    if len(lines) == 1:
        length = len(lines[0])
        for count, width in ((3, 30), (2, 44), (2, 36)):
            if length == count * width:
                return [lines[0][i * width : (i + 1) * width] for i in range(count)]
        raise MrzError(
            "mrz_line_count",
            "mrz",
            _l(
                "The machine-readable zone is one line of %(length)d characters: expected 2 or 3 lines, or 72, 88 "
                "or 90 characters typed without line breaks.",
                length=length,
            ),
        )
    if len(lines) not in (2, 3):
        raise MrzError(
            "mrz_line_count",
            "mrz",
            _l("The machine-readable zone has %(count)d lines: a document's has 2 or 3.", count=len(lines)),
        )
    return lines


def detect_format(lines: list[str]) -> str:
    widths = {30: 3, 36: 2, 44: 2}
    if len(lines[0]) in widths and widths[len(lines[0])] != len(lines):
        raise MrzError(
            "mrz_line_count",
            "mrz",
            _l(
                "The machine-readable zone has %(count)d lines of %(length)d characters; a document with lines of "
                "%(length)d characters has %(expected)d.",
                count=len(lines),
                length=len(lines[0]),
                expected=widths[len(lines[0])],
            ),
        )
    expected = 30 if len(lines) == 3 else (44 if len(lines[0]) == 44 else 36)
    for number, line in enumerate(lines, start=1):
        if len(line) != expected:
            raise MrzError(
                "mrz_line_length",
                "mrz",
                _l(
                    "Line %(line)d of the machine-readable zone has %(length)d characters; expected %(expected)d.",
                    line=number,
                    length=len(line),
                    expected=expected,
                ),
            )
    first = lines[0][0]
    candidates = [name for name, shape in SHAPES.items() if shape == (len(lines), expected)]
    for name in candidates:
        if first in FIRST_LETTERS[name]:
            return name
    raise MrzError(
        "mrz_document_code",
        "document_code",
        _l(
            "Document code: a machine-readable zone of %(count)d lines of %(length)d characters starts with one of "
            "%(letters)s, not “%(char)s”.",
            count=len(lines),
            length=expected,
            letters=", ".join(sorted({letter for name in candidates for letter in FIRST_LETTERS[name]})),
            char=first,
        ),
    )


def _check_characters(fmt: str, lines: list[str]) -> None:
    for key, line, start, end in LAYOUTS[fmt]:
        for position in range(start, end):
            char = lines[line][position]
            where = {"field": _label(key), "line": line + 1, "position": position + 1}
            if char not in ALPHABET:
                if char.isspace():
                    message = _l("%(field)s (line %(line)d, position %(position)d) holds a space.", **where)
                    raise MrzError("mrz_illegal_character", key, message)
                if char.upper() in ALPHABET:
                    message = _l(
                        "%(field)s (line %(line)d, position %(position)d) holds the lower-case “%(char)s”: a "
                        "machine-readable zone has capitals only.",
                        char=char,
                        **where,
                    )
                    raise MrzError("mrz_lower_case", key, message)
                message = _l(
                    "%(field)s (line %(line)d, position %(position)d) holds “%(char)s”: a machine-readable zone has "
                    "only A–Z, 0–9 and <.",
                    char=char,
                    **where,
                )
                raise MrzError("mrz_illegal_character", key, message)
            if key in _LETTER_FIELDS and char not in LETTERS:
                if char == "0":
                    message = _l(
                        "%(field)s (line %(line)d, position %(position)d) must be a letter, not the digit 0: was the "
                        "letter O read as a zero?",
                        **where,
                    )
                else:
                    message = _l(
                        "%(field)s (line %(line)d, position %(position)d) must be a letter or <, not “%(char)s”.",
                        char=char,
                        **where,
                    )
                raise MrzError("mrz_illegal_character", key, message)
            numeric = key in _DIGIT_FIELDS or key in _CHECK_FIELDS or key == "composite_check"
            if numeric and char not in DIGITS and char != FILLER:
                if char == "O":
                    message = _l(
                        "%(field)s (line %(line)d, position %(position)d) must be a digit, not the letter O: was "
                        "the digit 0 read as an O?",
                        **where,
                    )
                else:
                    message = _l(
                        "%(field)s (line %(line)d, position %(position)d) must be a digit, not “%(char)s”.",
                        char=char,
                        **where,
                    )
                raise MrzError("mrz_illegal_character", key, message)


# ---------------------------------------------------------------------------------------------------------- dates


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def _bad_date(key: str, value: str) -> MrzError:
    return MrzError(
        "mrz_bad_date",
        key,
        _l("%(field)s “%(value)s” is not a date (YYMMDD).", field=_label(key), value=value),
    )


def _resolve(key: str, text: str, latest: date) -> date:
    """The date YYMMDD in the latest century that does not put it after ``latest``."""
    if not text.isdigit():
        raise _bad_date(key, text)
    yy, month, day = int(text[:2]), int(text[2:4]), int(text[4:6])
    for century in (2100, 2000, 1900, 1800):
        try:
            candidate = date(century + yy, month, day)
        except ValueError:
            continue
        if candidate <= latest:
            return candidate
    raise _bad_date(key, text)


def resolve_birth_date(text: str, today: date) -> tuple[date | None, int | None]:
    """(the date, its year); (None, the year or None) when day or month is unknown (``<<``)."""
    if FILLER not in text:
        resolved = _resolve("birth_date", text, today)
        return resolved, resolved.year
    pairs = [text[i : i + 2] for i in (0, 2, 4)]
    if any(pair not in ("<<",) and not pair.isdigit() for pair in pairs):
        raise _bad_date("birth_date", text)
    yy, mm, dd = (int(pair) if pair.isdigit() else None for pair in pairs)
    if (mm is not None and not 1 <= mm <= 12) or (dd is not None and not 1 <= dd <= 31):
        raise _bad_date("birth_date", text)
    if yy is None:
        return None, None
    year = 2000 + yy if (2000 + yy, mm or 1) <= (today.year, today.month) else 1900 + yy
    if dd is not None and mm is not None and dd > calendar.monthrange(year, mm)[1]:
        raise _bad_date("birth_date", text)
    return None, year


def resolve_expiry_date(text: str, today: date) -> date:
    return _resolve("expiry_date", text, add_years(today, EXPIRY_YEARS_AHEAD))


# ---------------------------------------------------------------------------------------------------------- parsing


def _names(field_text: str) -> tuple[str, str, bool]:
    truncated = not field_text.endswith(FILLER)
    surname, _sep, given = field_text.partition("<<")
    return (
        surname.strip(FILLER).replace(FILLER, " "),
        given.strip(FILLER).replace(FILLER, " ").strip(),
        truncated,
    )


def _verify(failures: list, key: str, data: str, found: str, *, filler_allowed: bool = False) -> None:
    expected = check_digit(data)
    if filler_allowed and set(data) <= {FILLER} and found in (FILLER, "0"):
        return
    if found != expected:
        failures.append(CheckFailure(key, expected, found))


def parse_mrz(text: str, *, today: date, strict: bool = False) -> Mrz:
    """Read a machine-readable zone. Structure errors raise MrzError; wrong check digits are in ``failures``
    (``strict=True`` raises the first one as MrzError ``mrz_check_digit``)."""
    lines = split_lines(text)
    fmt = detect_format(lines)
    _check_characters(fmt, lines)
    raw = {key: lines[line][start:end] for key, line, start, end in LAYOUTS[fmt]}
    failures: list[CheckFailure] = []

    number, number_check, optional = raw["document_number"], raw["document_number_check"], raw["optional_data"]
    overflow = optional.split(FILLER, 1)[0]
    if (
        fmt in LONG_NUMBER_FORMATS
        and number_check == FILLER
        and FILLER not in number
        and len(overflow) >= 2
        and overflow[-1] in DIGITS
    ):
        number, number_check = number + overflow[:-1], overflow[-1]
        optional = optional[len(overflow) + 1 :]
    _verify(failures, "document_number", number, number_check)
    _verify(failures, "birth_date", raw["birth_date"], raw["birth_date_check"], filler_allowed=True)
    _verify(failures, "expiry_date", raw["expiry_date"], raw["expiry_date_check"])
    if fmt == TD3:
        _verify(failures, "optional_data", raw["optional_data"], raw["optional_data_check"], filler_allowed=True)
    if fmt in (TD1, TD2, TD3):
        if fmt == TD1:
            composite = lines[0][5:30] + lines[1][0:7] + lines[1][8:15] + lines[1][18:29]
        else:
            composite = lines[1][0:10] + lines[1][13:20] + lines[1][21 : 43 if fmt == TD3 else 35]
        _verify(failures, "composite", composite, raw["composite_check"])

    sex = raw["sex"]
    if sex not in ("M", "F", FILLER):
        raise MrzError(
            "mrz_bad_sex", "sex", _l("Sex “%(value)s”: a machine-readable zone has M, F or < (unspecified).", value=sex)
        )
    birth_date, birth_year = resolve_birth_date(raw["birth_date"], today)
    expiry_date = resolve_expiry_date(raw["expiry_date"], today)
    surname, given_names, truncated = _names(raw["name"])
    if strict and failures:
        first = failures[0]
        raise MrzError(
            "mrz_check_digit",
            first.field,
            _l(
                "%(field)s: the check digit is “%(found)s”; the data give %(expected)s.",
                field=_label(first.field),
                found=first.found,
                expected=first.expected,
            ),
        )
    return Mrz(
        format=fmt,
        document_code=raw["document_code"].rstrip(FILLER),
        issuing_state=raw["issuing_state"].rstrip(FILLER),
        surname=surname,
        given_names=given_names,
        names_truncated=truncated,
        document_number=number.rstrip(FILLER),
        nationality=raw["nationality"].rstrip(FILLER),
        birth_date=birth_date,
        sex="X" if sex == FILLER else sex,
        expiry_date=expiry_date,
        optional_data=optional.rstrip(FILLER),
        optional_data_2=raw.get("optional_data_2", "").rstrip(FILLER),
        birth_date_text=raw["birth_date"],
        birth_year=birth_year,
        failures=tuple(failures),
        lines=tuple(lines),
    )


# --------------------------------------------------------------------------------------------------------- writing


def _field(value: str, width: int, key: str) -> str:
    if len(value) > width:
        raise ValueError(f"{key} {value!r} is longer than {width} characters")
    return value.ljust(width, FILLER)


def _date_text(value) -> str:
    return value if isinstance(value, str) else value.strftime("%y%m%d")


def format_mrz(fields: dict) -> list[str]:
    """The lines of a machine-readable zone (the inverse of parse_mrz), every check digit computed.

    ``fields``: format, document_code, issuing_state, surname, given_names, document_number, nationality,
    birth_date (a date, or six characters such as ``74<<<<``), sex (M, F or X), expiry_date, optional_data and
    (TD1) optional_data_2. Names are cut to the field (as a state truncates them). Raises ValueError when a value
    does not fit."""
    fmt = fields["format"]
    count, width = SHAPES[fmt]
    name_width = 30 if fmt == TD1 else width - 5
    name = fields["surname"].replace(" ", FILLER)
    if fields.get("given_names"):
        name += "<<" + fields["given_names"].replace(" ", FILLER)
    name = _field(name[:name_width], name_width, "name")
    top = _field(fields["document_code"], 2, "document_code") + _field(fields["issuing_state"], 3, "issuing_state")
    number = fields["document_number"]
    optional = fields.get("optional_data", "")
    if len(number) > 9 and fmt in LONG_NUMBER_FORMATS:
        optional = number[9:] + check_digit(number) + FILLER + optional
        number_field = number[:9] + FILLER
    else:
        number_field = _field(number, 9, "document_number") + check_digit(_field(number, 9, "document_number"))
    birth = _date_text(fields["birth_date"])
    birth += check_digit(birth)
    expiry = _date_text(fields["expiry_date"])
    expiry += check_digit(expiry)
    sex = FILLER if fields["sex"] == "X" else fields["sex"]
    nationality = _field(fields["nationality"], 3, "nationality")
    if fmt == TD1:
        line1 = top + number_field + _field(optional, 15, "optional_data")
        line2 = birth + sex + expiry + nationality + _field(fields.get("optional_data_2", ""), 11, "optional_data_2")
        line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
        return [line1, line2, name]
    line1 = top + name
    line2 = number_field + nationality + birth + sex + expiry
    if fmt == TD3:
        personal = _field(optional, 14, "optional_data")
        line2 += personal + ("<" if set(personal) == {FILLER} else check_digit(personal))
    else:
        line2 += _field(optional, {TD2: 7, MRV_A: 16, MRV_B: 8}[fmt], "optional_data")
    if fmt in (TD2, TD3):
        line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:])
    return [line1, line2]
