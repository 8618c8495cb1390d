"""Names folded for matching alert lists and persons (osbp/agencies/immigration/names.py)."""

import pytest

from osbp.agencies.immigration.names import fold, name_key


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Nsengimana Éric-Jean", "ERIC JEAN NSENGIMANA"),
        ("ERIC JEAN<<NSENGIMANA", "ERIC JEAN NSENGIMANA"),
        ("nsengimana, eric jean", "ERIC JEAN NSENGIMANA"),
        ("  Mukamana   Françoise ", "FRANCOISE MUKAMANA"),
        ("O'Brien Zoë", "BRIEN O ZOE"),
        ("ERIKSSON<<ANNA<MARIA", "ANNA ERIKSSON MARIA"),
        ("", ""),
        ("<<<", ""),
    ],
)
def test_name_key_ignores_accents_order_and_fillers(typed, key):
    assert name_key(typed) == key


def test_fold_keeps_order():
    assert fold("Kabila-Kabange Joseph") == "KABILA KABANGE JOSEPH"
