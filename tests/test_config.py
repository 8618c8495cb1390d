"""Configuration from the environment: every field has one default (the dataclass's) and one variable."""

from __future__ import annotations

from dataclasses import fields

from osbp.config import DEFAULT_SECRET_KEY, Config
from tests.test_interpol import self_signed_certificate


def test_unset_variables_keep_the_dataclass_defaults(tmp_path):
    read = Config.from_env(str(tmp_path), {})
    assert read.database_url == f"sqlite:///{tmp_path / 'osbp.sqlite3'}"
    assert read.secret_key == (tmp_path / "secret_key").read_text().strip() != DEFAULT_SECRET_KEY
    assert read.replace(database_url="", secret_key=DEFAULT_SECRET_KEY) == Config()
    assert Config.from_env(str(tmp_path), {"OSBP_ENV": "production"}).secret_key == DEFAULT_SECRET_KEY  # refused


def test_every_field_is_read_from_its_variable(tmp_path):
    ca_bundle = str(self_signed_certificate(tmp_path)[0])  # a CA bundle of one certificate
    environ = {
        "OSBP_ENV": "testing",
        "OSBP_SECRET_KEY": "s" * 40,
        "OSBP_DATABASE_URL": "postgresql://db/osbp",
        "OSBP_SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
        "OSBP_SOCKETIO_CHANNEL": "osbp-rusizi",
        "OSBP_DEFAULT_LOCALE": "fr",
        "OSBP_TIMEZONE": "Africa/Lubumbashi",
        "OSBP_PRIORITY_BOOSTS": "pregnant=20, elderly=10",
        "OSBP_NO_SHOW_POLICY": "cancel",
        "OSBP_SWITCH_INTERVAL_MS": "0.5",
        "OSBP_PASSWORD_HASH_WAIT_SECONDS": "1.5",
        "OSBP_RELEASE_BASELINE_HOURS": "",
        "OSBP_RELEASE_BASELINE_DATE": "2019",
        "OSBP_RELEASE_BASELINE_SOURCE": "Time release study, 2019",
        "OSBP_TOTP_REQUIRED": "false",
        "OSBP_INTERPOL_RW_URL": "https://ncb.example.rw/i247",
        "OSBP_INTERPOL_RW_CREDENTIALS": "osbp-rusizi:secret",
        "OSBP_INTERPOL_RW_CA_BUNDLE": ca_bundle,
        "OSBP_INTERPOL_CD_URL": "https://ncb.example.cd/i247",
        "OSBP_INTERPOL_CD_CREDENTIALS": "osbp-ruzizi:secret",
        "OSBP_INTERPOL_CD_CA_BUNDLE": ca_bundle,
        "OSBP_INTERPOL_TIMEOUT_SECONDS": "1.5",
        "OSBP_INTERPOL_CLEAR_WHEN_UNAVAILABLE": "true",
    }
    whole = [f.name for f in fields(Config) if type(f.default) is int]
    environ |= {f"OSBP_{name.upper()}": str(40 + n) for n, name in enumerate(whole)}
    read = Config.from_env(str(tmp_path), environ)
    read.validate()
    changed = {f.name for f in fields(Config) if getattr(read, f.name) != getattr(Config(), f.name)}
    assert changed == {f.name for f in fields(Config)} - {"extra"}
    assert read.priority_boosts == {"pregnant": 20, "elderly": 10}
    assert read.release_baseline_hours is None  # empty: no baseline
    assert [getattr(read, name) for name in whole] == [40 + n for n in range(len(whole))]
