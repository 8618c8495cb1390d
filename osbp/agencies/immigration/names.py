"""People's names folded for matching: the same person typed at a desk, read from an MRZ or listed in a CSV.

``name_key("Nsengimana  Éric-Jean")`` and ``name_key("ERIC JEAN<<NSENGIMANA")`` are both ``"ERIC JEAN NSENGIMANA"``:
accents removed (NFKD, combining marks dropped), upper case, MRZ fillers ``<``, hyphens, apostrophes, commas and dots
as spaces, the name parts sorted (the order of surname and given names differs between documents and lists).
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[<\-'’`´.,;/_]+")
_NOT_LETTER = re.compile(r"[^A-Z0-9 ]+")
KEY_LENGTH = 160


def fold(text: str) -> str:
    """Upper case ASCII letters, digits and single spaces; accents removed (É → E), other marks dropped."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = plain.upper().replace("ß", "SS")
    plain = _SEPARATORS.sub(" ", plain)
    plain = _NOT_LETTER.sub("", plain)
    return " ".join(plain.split())


def name_key(text: str) -> str:
    """The matching key of a name: folded, its parts sorted; "" when nothing is left."""
    return " ".join(sorted(fold(text).split()))[:KEY_LENGTH]
