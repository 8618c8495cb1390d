"""Typed, frozen configuration read from the environment and validated at start-up."""

from __future__ import annotations

import os
import secrets
import ssl
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 (refused in production by validate())
SUPPORTED_LOCALES = ("en", "fr", "rw", "sw")
PRIORITY_KINDS = ("elderly", "pregnant", "disabled", "with_infant")
NO_SHOW_POLICIES = ("requeue", "cancel")
INTERPOL_COUNTRIES = ("rw", "cd")


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely."""


@dataclass(frozen=True)
class Config:
    env: str = "development"
    secret_key: str = DEFAULT_SECRET_KEY
    database_url: str = ""
    socketio_message_queue: str = ""
    socketio_channel: str = "osbp"  # the message queue's pub/sub channel: one per deployment sharing a Redis server
    default_locale: str = "en"
    timezone: str = "Africa/Kigali"
    max_content_length: int = 1024 * 1024
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    # Login limits (docs/login.md): failed logins per account per minute before the account is locked for
    # login_lockout_minutes; failed logins per remote address per minute; argon2id hashes computed at once per process
    # (46 MiB each) and how long a login waits for one before 429; proxies in front whose X-Forwarded-For is trusted.
    login_attempts_per_minute: int = 5  # also the TOTP codes one account may try per minute
    login_lockout_minutes: int = 5
    login_attempts_per_address_per_minute: int = 30
    password_hash_slots: int = 4
    password_hash_wait_seconds: float = 2.0
    trusted_proxies: int = 0
    # Supervisors and admins must enrol a TOTP second factor before they reach anything (docs/security.md).
    totp_required: bool = True
    status_rate_per_minute: int = 30  # public ticket status lookups per client (kiosk device or address)
    wait_target_minutes: int = 30  # a queue waiting longer raises an alert in the supervisors' live view
    # Queues (docs/queues.md): priority boost with ageing, recalls and no-shows, the wait estimator.
    priority_boost_minutes: int = 15
    priority_boosts: dict = field(default_factory=dict)  # per-kind overrides of priority_boost_minutes
    max_recalls: int = 3
    no_show_policy: str = "requeue"
    wait_window_minutes: int = 120
    wait_samples: int = 20
    default_service_seconds: int = 180
    wait_cache_seconds: int = 30
    # The interpreter's thread switch interval in a server process (osbp/wsgi.py): a thread back from the database
    # waits up to this long for a computing thread to let it run (Python's default is 5 ms; docs/performance.md).
    switch_interval_ms: float = 1.0
    # glibc malloc arenas of a server process (osbp/memory.py): every thread that allocates gets an arena of its own,
    # up to 8 per core, and each keeps its fragments, so a threaded server's RSS crept (the soak, docs/performance.md).
    # 0 leaves glibc's default.
    malloc_arena_max: int = 2
    # Bilateral report (docs/reports.md): the agreed release target, the outlier rule, the baseline to compare with.
    release_target_minutes: int = 30
    report_outlier_hours: int = 12
    release_baseline_hours: float | None = 3.38
    release_baseline_date: str = "2016"
    release_baseline_source: str = "Customs and immigration clearance time, Rusizi/Ruzizi, 2016"
    # INTERPOL I-24/7 checks through each country's NCB gateway (docs/agencies.md): the gateway's https base URL,
    # its credentials as client_id:secret (sent as HTTP Basic; never logged), a CA bundle file (empty: the system's).
    # A country without URL and credentials has no checks: every check is unavailable (not_configured).
    interpol_rw_url: str = ""
    interpol_rw_credentials: str = field(default="", repr=False)
    interpol_rw_ca_bundle: str = ""
    interpol_cd_url: str = ""
    interpol_cd_credentials: str = field(default="", repr=False)
    interpol_cd_ca_bundle: str = ""
    interpol_timeout_seconds: float = 2.0  # the whole check, retries included
    interpol_retries: int = 1  # more attempts after a connection error or a 5xx, within the time budget
    interpol_clear_when_unavailable: bool = False  # may an officer clear when the check is unavailable
    extra: dict = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, instance_path: str, environ: dict | None = None) -> Config:
        """Each field from ``OSBP_<FIELD NAME>`` (``extra`` excepted); a field whose variable is unset has its default.

        Without OSBP_DATABASE_URL the database is SQLite under the instance folder; without OSBP_SECRET_KEY outside
        production the key is the checkout's own random one (production refuses the built-in key in validate()).
        """
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(f"OSBP_{f.name.upper()}")
            if f.name == "extra" or raw is None or (raw == "" and f.name in _EMPTY_MEANS_UNSET):
                continue
            values[f.name] = (_PARSERS.get(f.name) or type(f.default))(raw)
        values.setdefault("database_url", _sqlite_url(instance_path))
        if "secret_key" not in values and values.get("env", cls.env) != "production":
            values["secret_key"] = _instance_secret(instance_path)
        return cls(**values)

    def replace(self, **changes) -> Config:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ConfigError(f"unknown configuration keys: {sorted(unknown)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Config(**values)

    def validate(self) -> None:
        if self.env not in ("development", "testing", "production"):
            raise ConfigError(f"OSBP_ENV must be development, testing or production, not {self.env!r}")
        if self.production and (self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32):
            raise ConfigError("OSBP_SECRET_KEY must be set to a random value of 32+ characters in production")
        if self.default_locale not in SUPPORTED_LOCALES:
            raise ConfigError(f"OSBP_DEFAULT_LOCALE must be one of {SUPPORTED_LOCALES}")
        if self.status_rate_per_minute < 1 or self.wait_target_minutes < 1:
            raise ConfigError("OSBP_STATUS_RATE_PER_MINUTE and OSBP_WAIT_TARGET_MINUTES must be 1 or more")
        if not 0.1 <= self.switch_interval_ms <= 100:
            raise ConfigError("OSBP_SWITCH_INTERVAL_MS must be between 0.1 and 100")
        if not 0 <= self.malloc_arena_max <= 64:
            raise ConfigError("OSBP_MALLOC_ARENA_MAX must be between 0 (glibc's default) and 64")
        if not self.database_url.startswith(("sqlite:", "postgresql")):
            raise ConfigError("OSBP_DATABASE_URL must be an sqlite: or postgresql:// URL")
        self._validate_queues()
        self._validate_login()
        if not 1 <= self.release_target_minutes <= 24 * 60 or not 1 <= self.report_outlier_hours <= 72:
            raise ConfigError("OSBP_RELEASE_TARGET_MINUTES must be 1–1440 and OSBP_REPORT_OUTLIER_HOURS 1–72")
        if self.release_baseline_hours is not None and not 0 < self.release_baseline_hours < 1000:
            raise ConfigError("OSBP_RELEASE_BASELINE_HOURS must be a positive number of hours (or empty for none)")
        self._validate_interpol()

    def _validate_interpol(self) -> None:
        if not 0.1 <= self.interpol_timeout_seconds <= 10:
            raise ConfigError("OSBP_INTERPOL_TIMEOUT_SECONDS must be between 0.1 and 10")
        if self.interpol_retries < 0:
            raise ConfigError("OSBP_INTERPOL_RETRIES must be 0 or more (the time budget bounds them)")
        for country in INTERPOL_COUNTRIES:
            name = f"OSBP_INTERPOL_{country.upper()}"
            url = getattr(self, f"interpol_{country}_url")
            credentials = getattr(self, f"interpol_{country}_credentials")
            ca_bundle = getattr(self, f"interpol_{country}_ca_bundle")
            if bool(url) != bool(credentials):
                raise ConfigError(f"{name}_URL and {name}_CREDENTIALS are set together (or neither)")
            if url and not _gateway_url_ok(url):
                raise ConfigError(
                    f"{name}_URL must be an https:// URL without user or password (http only on 127.0.0.1/localhost)"
                )
            client_id, sep, secret = credentials.partition(":")
            if credentials and not (client_id and sep and secret):
                raise ConfigError(f"{name}_CREDENTIALS must be client_id:secret")
            if ca_bundle and not _ca_bundle_ok(ca_bundle):
                raise ConfigError(f"{name}_CA_BUNDLE must be the path of a readable PEM file of CA certificates")

    def _validate_login(self) -> None:
        if self.login_attempts_per_minute < 1 or self.login_attempts_per_address_per_minute < 1:
            raise ConfigError(
                "OSBP_LOGIN_ATTEMPTS_PER_MINUTE and OSBP_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE must be 1+"
            )
        if not 1 <= self.login_lockout_minutes <= 24 * 60:
            raise ConfigError("OSBP_LOGIN_LOCKOUT_MINUTES must be 1–1440")
        if not 1 <= self.password_hash_slots <= 1024 or not 0 <= self.password_hash_wait_seconds <= 30:
            raise ConfigError("OSBP_PASSWORD_HASH_SLOTS must be 1–1024 and OSBP_PASSWORD_HASH_WAIT_SECONDS 0–30")
        if self.trusted_proxies < 0:
            raise ConfigError("OSBP_TRUSTED_PROXIES must be 0 or more (the number of proxies in front of the app)")

    def _validate_queues(self) -> None:
        if self.no_show_policy not in NO_SHOW_POLICIES:
            raise ConfigError(f"OSBP_NO_SHOW_POLICY must be one of {NO_SHOW_POLICIES}, not {self.no_show_policy!r}")
        unknown = set(self.priority_boosts) - set(PRIORITY_KINDS)
        if unknown:
            raise ConfigError(f"OSBP_PRIORITY_BOOSTS: unknown priority kinds {sorted(unknown)}; use {PRIORITY_KINDS}")
        boosts = [self.priority_boost_minutes, *self.priority_boosts.values()]
        if any(not isinstance(m, int) or not 0 <= m <= 24 * 60 for m in boosts):
            raise ConfigError("priority boosts must be whole minutes between 0 and 1440")
        if self.max_recalls < 0 or self.wait_cache_seconds < 0:
            raise ConfigError("OSBP_MAX_RECALLS and OSBP_WAIT_CACHE_SECONDS must be 0 or more")
        if self.wait_window_minutes < 1 or self.wait_samples < 1 or self.default_service_seconds < 1:
            raise ConfigError("OSBP_WAIT_WINDOW_MINUTES, OSBP_WAIT_SAMPLES and OSBP_DEFAULT_SERVICE_SECONDS must be 1+")

    def priority_boost(self, kind: str | None) -> int:
        """Minutes a ticket of this priority kind is ranked ahead of its arrival time (0 for none)."""
        if kind is None:
            return 0
        return self.priority_boosts.get(kind, self.priority_boost_minutes)

    def flask_settings(self) -> dict:
        settings = {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(self.database_url),
            "MAX_CONTENT_LENGTH": self.max_content_length,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.production,
            "SESSION_COOKIE_NAME": "osbp_session",
            "REMEMBER_COOKIE_DURATION": 0,
            "WTF_CSRF_CHECK_DEFAULT": False,
            "WTF_CSRF_TIME_LIMIT": None,
            "BABEL_DEFAULT_LOCALE": self.default_locale,
            "BABEL_DEFAULT_TIMEZONE": self.timezone,
            "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
            "TESTING": self.env == "testing",
        }
        settings.update(self.extra)
        return settings


def _parse_boosts(value: str) -> dict:
    """``"pregnant=20,elderly=10"`` → {"pregnant": 20, "elderly": 10}; kinds left out use the common boost."""
    boosts = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        kind, sep, minutes = item.partition("=")
        if not sep or not minutes.strip().isdigit():
            raise ConfigError(f"OSBP_PRIORITY_BOOSTS: {item!r} is not kind=minutes")
        boosts[kind.strip()] = int(minutes)
    return boosts


def _gateway_url_ok(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return False
    if not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"))


def _ca_bundle_ok(path: str) -> bool:
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ValueError):  # missing, unreadable, or no certificate in it (ssl.SSLError is an OSError)
        return False
    return True


def _flag(value: str) -> bool:
    """``true``/``1``/``yes``/``on`` or ``false``/``0``/``no``/``off`` (any case)."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"not a yes/no value: {value!r}")


def _optional_float(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"not a number: {value!r}") from None


# How a variable's text becomes a field's value, when not by the type of the field's default (int, float, str).
_PARSERS = {
    "priority_boosts": _parse_boosts,
    "release_baseline_hours": _optional_float,
    "totp_required": _flag,
    "interpol_clear_when_unavailable": _flag,
}
# Variables that, set but empty, count as unset (the other empty ones are read as they are, and validated).
_EMPTY_MEANS_UNSET = frozenset({"secret_key", "database_url", "socketio_channel"})


def _sqlite_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'osbp.sqlite3'}"


def _instance_secret(instance_path: str) -> str:
    """A per-checkout random key for development, kept under instance/ (never in the repo)."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Writers wait for each other instead of failing; call-next relies on one UPDATE … RETURNING.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
