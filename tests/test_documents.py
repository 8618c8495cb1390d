"""The region's document types as data (osbp/agencies/immigration/document_types.toml) and their rules."""

from __future__ import annotations

from datetime import date

import pytest

from osbp.agencies.immigration import documents
from osbp.agencies.immigration.documents import DocumentTypesError, UnknownDocumentType, Validity
from osbp.workflow.models import CATEGORIES

STORED_CODES = ("passport", "national_id", "cepgl_pass", "laissez_passer", "emergency_travel_document")
TODAY = date(2026, 12, 1)

GOOD_TYPE = """
[[type]]
code = "passport"
directions = ["RW-CD", "CD-RW"]
categories = ["traveller"]
mrz = "required"
mrz_formats = ["TD3"]
expiry_required = true
grace_days = 0
"""


# --- the data ------------------------------------------------------------------------------------------------------


def test_the_data_file_loads_with_every_type_of_the_region():
    codes = documents.CODES
    assert codes == (*STORED_CODES, "jeton")
    assert documents.load(documents.DATA_FILE) == documents._TYPES


def test_the_stored_codes_stay_valid_and_the_form_lists_the_data():
    """Identities recorded before the data file keep their codes; the identity form offers every type of the data."""
    from osbp.agencies.immigration.operations import DOCUMENT_TYPES

    assert set(STORED_CODES) <= set(DOCUMENT_TYPES)
    assert DOCUMENT_TYPES == documents.CODES


def test_every_type_has_a_label_in_the_ui():
    from osbp.i18n import DOCUMENT_TYPE_LABELS

    assert set(DOCUMENT_TYPE_LABELS) == set(documents.CODES)


def test_every_type_names_real_categories_and_formats():
    for code in documents.CODES:
        document = documents.document_type(code)
        assert set(document.categories) <= set(CATEGORIES), code
        assert set(document.directions) <= {"RW-CD", "CD-RW"}, code
        assert set(document.mrz_formats) <= {"TD1", "TD2", "TD3"}, code


def test_machine_readable_zones_by_type():
    passport = documents.document_type("passport")
    assert (passport.mrz, passport.mrz_formats, passport.has_mrz) == ("required", ("TD3",), True)
    assert documents.document_type("national_id").mrz_formats == ("TD1",)
    for code in ("cepgl_pass", "jeton"):
        assert documents.document_type(code).has_mrz is False
        assert documents.document_type(code).mrz_formats == ()


def test_an_unknown_code_names_no_type():
    for code in ("visa", "", None, "PASSPORT"):
        with pytest.raises(UnknownDocumentType):
            documents.document_type(code)


# --- acceptance ----------------------------------------------------------------------------------------------------


def test_a_passport_is_accepted_for_every_crossing():
    for direction in ("RW-CD", "CD-RW"):
        for category in CATEGORIES:
            assert documents.accepted("passport", direction, category)
            assert documents.refusal("passport", direction, category) is None


def test_resident_documents_are_for_residents_and_traders_only():
    for code in ("cepgl_pass", "jeton"):
        assert documents.accepted(code, "RW-CD", "resident")
        assert documents.accepted(code, "CD-RW", "trader")
        assert not documents.accepted(code, "RW-CD", "driver")
        assert not documents.accepted(code, "CD-RW", "traveller")
        assert documents.refusal(code, "RW-CD", "driver") == "not_accepted_category"


def test_an_emergency_travel_document_is_for_travellers_only():
    assert documents.accepted("emergency_travel_document", "CD-RW", "traveller")
    assert not documents.accepted("emergency_travel_document", "CD-RW", "trader")


def test_acceptance_denies_by_default():
    assert not documents.accepted("visa", "RW-CD", "traveller")
    assert not documents.accepted(None, "RW-CD", "traveller")
    assert not documents.accepted("passport", "RW-BI", "traveller")
    assert not documents.accepted("passport", "RW-CD", "pilgrim")
    assert documents.refusal("visa", "RW-CD", "traveller") == "unknown_document_type"
    assert documents.refusal("passport", "RW-BI", "traveller") == "not_accepted_direction"


def test_the_simulated_days_use_only_accepted_documents():
    """The bilateral simulation's document mix (osbp/bilateral/sim_arrivals.py) is refused by none of the rules."""
    from osbp.bilateral.sim_arrivals import DOCUMENTS

    for category, mix in DOCUMENTS.items():
        for code, _share in mix:
            for direction in ("RW-CD", "CD-RW"):
                assert documents.accepted(code, direction, category), (code, direction, category)


# --- validity ------------------------------------------------------------------------------------------------------


def test_a_document_is_valid_through_its_expiry_day_and_refused_after():
    assert documents.validity("passport", date(2026, 12, 2), TODAY) == Validity(True, None)
    assert documents.validity("passport", TODAY, TODAY) == Validity(True, "expires_today")
    assert documents.validity("passport", date(2026, 11, 30), TODAY) == Validity(False, "expired")
    assert documents.validity("jeton", date(2026, 11, 30), TODAY).ok is False


def test_a_document_without_its_expiry_date_is_refused():
    assert documents.validity("cepgl_pass", None, TODAY) == Validity(False, "expiry_missing")


def test_a_grace_period_accepts_an_expired_document_for_its_days(tmp_path, monkeypatch):
    path = tmp_path / "types.toml"
    path.write_text(
        GOOD_TYPE.replace("grace_days = 0", "grace_days = 3").replace(
            "expiry_required = true", "expiry_required = false"
        )
    )
    monkeypatch.setattr(documents, "_TYPES", documents.load(path))
    assert documents.validity("passport", date(2026, 11, 28), TODAY) == Validity(True, "in_grace")  # 3 days after
    assert documents.validity("passport", date(2026, 11, 27), TODAY) == Validity(False, "expired")  # 4 days after
    assert documents.validity("passport", None, TODAY) == Validity(True, None)  # no expiry date required


def test_validity_of_an_unknown_type_is_an_error():
    with pytest.raises(UnknownDocumentType):
        documents.validity("visa", TODAY, TODAY)


def test_stay_limits_of_resident_documents():
    assert documents.stay_limit("cepgl_pass") == 90
    assert documents.stay_limit("jeton") == 0  # back the same day
    assert documents.stay_limit("passport") is None
    with pytest.raises(UnknownDocumentType):
        documents.stay_limit("visa")


def test_the_minimum_age_of_a_national_identity_card():
    assert documents.old_enough("national_id", date(2010, 12, 1), TODAY)  # 16 today
    assert not documents.old_enough("national_id", date(2010, 12, 2), TODAY)  # 16 tomorrow
    assert documents.old_enough("passport", date(2026, 11, 30), TODAY)  # no minimum


# --- ages ----------------------------------------------------------------------------------------------------------


def test_the_18th_birthday_itself_is_an_adult():
    assert documents.is_minor(date(2008, 12, 2), TODAY)  # 18 tomorrow
    assert not documents.is_minor(date(2008, 12, 1), TODAY)  # 18 today
    assert not documents.is_minor(date(2008, 11, 30), TODAY)
    assert documents.is_minor(TODAY, TODAY)  # born today


def test_born_on_29_february_comes_of_age_on_1_march_of_a_common_year():
    born = date(2008, 2, 29)
    assert documents.is_minor(born, date(2026, 2, 28))
    assert not documents.is_minor(born, date(2026, 3, 1))
    assert documents.age(born, date(2026, 2, 28)) == 17


def test_born_on_29_february_has_a_birthday_on_29_february_of_a_leap_year():
    born = date(2012, 2, 29)
    assert documents.age(born, date(2028, 2, 28)) == 15
    assert documents.age(born, date(2028, 2, 29)) == 16
    assert documents.age(born, date(2030, 3, 1)) == 18
    assert documents.is_minor(date(2010, 2, 28), date(2028, 2, 27))
    assert not documents.is_minor(date(2010, 2, 28), date(2028, 2, 28))


def test_a_birth_after_the_day_is_an_error():
    with pytest.raises(ValueError, match="born after"):
        documents.is_minor(date(2026, 12, 2), TODAY)


@pytest.mark.parametrize(
    ("years", "band"),
    [
        (0, "0-17"),
        (17, "0-17"),
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (34, "25-34"),
        (35, "35-44"),
        (44, "35-44"),
        (45, "45-54"),
        (54, "45-54"),
        (55, "55-64"),
        (64, "55-64"),
        (65, "65+"),
        (104, "65+"),
    ],
)
def test_age_band_edges(years, band):
    assert documents.age_band(date(TODAY.year - years, TODAY.month, TODAY.day), TODAY) == band
    if years:  # the day before the birthday, one year younger
        younger = documents.age_band(date(TODAY.year - years, TODAY.month, TODAY.day + 1), TODAY)
        assert younger == documents.age_band(date(TODAY.year - years + 1, TODAY.month, TODAY.day), TODAY)


def test_age_bands_in_order():
    assert documents.age_band_labels() == ("0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")


# --- reasons -------------------------------------------------------------------------------------------------------


def test_every_reason_has_a_message(app):
    with app.test_request_context():
        messages = {reason: documents.reason_message(reason) for reason in documents.REASONS}
    assert all(isinstance(text, str) and text.endswith(".") for text in messages.values())
    assert len(set(messages.values())) == len(documents.REASONS)
    assert messages["expired"] == "The document has expired: it cannot be accepted."


# --- a malformed file ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t + "\n[[type]\n", "not valid TOML"),
        (lambda t: "", "no [[type]] table"),
        (lambda t: "types = 1\n" + t, "unknown top-level key(s) types"),
        (lambda t: t.replace('code = "passport"\n', ""), "type 1 (?): code: missing"),
        (lambda t: t.replace('"passport"', '"Passport"'), "code: 2 to 32 lower-case"),
        (lambda t: t + t, "type 2 (passport): code: the same code twice"),
        (lambda t: t.replace('"traveller"', '"pilgrim"'), "categories: 'pilgrim' is not one of traveller"),
        (lambda t: t.replace('["traveller"]', "[]"), "categories: a non-empty list"),
        (lambda t: t.replace('"CD-RW"', '"CD-CD"'), "directions: 'CD-CD' is not a direction"),
        (lambda t: t.replace('"CD-RW"', '"RW-CD"'), "directions: a non-empty list of distinct strings"),
        (lambda t: t.replace('mrz = "required"', 'mrz = "yes"'), "mrz: one of required, optional, none"),
        (lambda t: t.replace('["TD3"]', '["TD4"]'), "mrz_formats: a list of distinct formats"),
        (lambda t: t.replace('mrz = "required"', 'mrz = "none"'), 'mrz_formats: empty exactly when mrz = "none"'),
        (lambda t: t.replace('["TD3"]', "[]"), 'mrz_formats: empty exactly when mrz = "none"'),
        (lambda t: t.replace("expiry_required = true", 'expiry_required = "yes"'), "expiry_required: true or false"),
        (lambda t: t.replace("grace_days = 0", "grace_days = -1"), "grace_days: a whole number from 0"),
        (lambda t: t.replace("grace_days = 0", "grace_days = true"), "grace_days: a whole number from 0"),
        (lambda t: t + "stay_limit_days = 1.5\n", "stay_limit_days: a whole number from 0"),
        (lambda t: t + "minimum_age = 200\n", "minimum_age: a whole number from 0 to 120"),
        (lambda t: t + "note = 3\n", "note: text"),
        (lambda t: t + "stay_days = 3\n", "stay_days: unknown field"),
    ],
)
def test_a_malformed_file_is_a_clear_error(tmp_path, change, message):
    path = tmp_path / "types.toml"
    path.write_text(change(GOOD_TYPE))
    with pytest.raises(DocumentTypesError) as error:
        documents.load(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_the_good_sample_loads(tmp_path):
    """The malformed cases above are each one change away from a file that loads."""
    path = tmp_path / "types.toml"
    path.write_text(GOOD_TYPE)
    assert tuple(documents.load(path)) == ("passport",)


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    with pytest.raises(DocumentTypesError, match="cannot be read"):
        documents.load(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe code")
    with pytest.raises(DocumentTypesError, match="cannot be read"):
        documents.load(binary)


# --- the identity form ---------------------------------------------------------------------------------------------


def test_the_identity_takes_a_jeton_and_still_refuses_an_unknown_type(app):
    from osbp.agencies.immigration.operations import validate_identity
    from osbp.errors import Invalid

    with app.test_request_context():
        values = validate_identity("Jeanne Uwase", "RWA", "jeton", "J-20261201-17", "1990-05-04")
        assert values["document_type"] == "jeton"
        with pytest.raises(Invalid) as error:
            validate_identity("Jeanne Uwase", "RWA", "visa", "J-20261201-17", "1990-05-04")
    assert error.value.code == "invalid_document_type"
