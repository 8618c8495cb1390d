"""What the kiosk and the boards say: documents to have ready, traders' rights, and labels in four languages.

Strings are lazy (``_l``) so they are translated when shown, in the language of the page or of each column of a
board. The rights follow the Charter for Cross-Border Traders (EAC/COMESA).
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from osbp.config import SUPPORTED_LOCALES

# The board shows every label in the post's languages side by side: the two countries' (Kinyarwanda first), then
# Kiswahili (the EAC's, spoken by many traders from Goma and Bukavu), then English. Four fit a 1920×1080 board.
BOARD_LOCALES = ("rw", "fr", "sw", "en")

IDENTITY_DOCUMENT = _l("Your passport, national identity card or laissez-passer")
RESIDENT_DOCUMENT = _l("Your CEPGL pass (border residents)")
HEALTH_DOCUMENT = _l(
    "Your yellow fever vaccination card, if you have one: no other health certificate may be asked for"
)
GOODS_DOCUMENT = _l("The list of your goods and their value (invoice or receipt)")
STR_DOCUMENT = _l(
    "Goods worth up to USD 2,000 on the common list: the simplified trade regime (STR) document, "
    "no certificate of origin"
)
DRIVER_DOCUMENT = _l("Your driving licence, the vehicle's registration card and the cargo manifest")

RIGHTS = (
    _l("You get a receipt for every payment."),
    _l("All fees are published. Ask to see the list; pay nothing that is not on it."),
    _l("Only officers of the approved agencies may check you, in uniform or showing their ID."),
    _l("Women are searched by women, in private. Every physical check is recorded with its reason."),
    _l("Nobody may harass you or ask you for a favour."),
)
COMPLAINTS = _l("To complain, go to the supervisors' office in this hall or to the trade information desk.")

BOARD_LABELS = {
    "now_calling": _l("Now calling"),
    "last_calls": _l("Last calls"),
    "queues": _l("Waiting times"),
    "waiting": _l("Waiting"),
    "wait": _l("Estimated wait"),
    "closed": _l("Closed"),
    "paused": _l("Paused"),
    "no_officer": _l("No officer yet"),  # a counter's line with nobody seated to serve it: no minutes
    "again": _l("Again"),  # a recalled ticket, on the board beside its code
    "go_to": _l("Go to"),
    "sound": _l("Tap to turn the sound on"),
    "offline": _l("Connection lost. Reconnecting…"),
}


def documents_for(category: str, agency_kinds: set[str]) -> list[str]:
    """The documents to have ready for a crossing of ``category`` whose route has these agency kinds."""
    documents = [str(RESIDENT_DOCUMENT if category == "resident" else IDENTITY_DOCUMENT)]
    if "health" in agency_kinds:
        documents.append(str(HEALTH_DOCUMENT))
    if "customs" in agency_kinds:
        documents.append(str(GOODS_DOCUMENT))
        if category == "trader":
            documents.append(str(STR_DOCUMENT))
    if category == "driver":
        documents.append(str(DRIVER_DOCUMENT))
    return documents


def in_each_language(text, locales=BOARD_LOCALES) -> list[dict]:
    """``[{"lang", "text"}]`` for each locale, the same text once (untranslated strings are not repeated)."""
    seen, out = set(), []
    for locale in locales:
        if locale not in SUPPORTED_LOCALES:
            continue
        with force_locale(locale):
            value = text() if callable(text) else str(text)
        if value not in seen:
            seen.add(value)
            out.append({"lang": locale, "text": value})
    return out


def translations_of(text, locales=BOARD_LOCALES) -> dict[str, str]:
    """``{locale: text}`` for every locale (for the board's station names)."""
    out = {}
    for locale in locales:
        with force_locale(locale):
            out[locale] = text() if callable(text) else str(text)
    return out
