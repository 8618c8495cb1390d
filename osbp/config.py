"""Typed, frozen configuration read from the environment and validated at start-up."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 (refused in production by validate())
SUPPORTED_LOCALES = ("en", "fr", "rw")


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely."""


@dataclass(frozen=True)
class Config:
    env: str = "development"
    secret_key: str = DEFAULT_SECRET_KEY
    database_url: str = ""
    socketio_message_queue: str = ""
    default_locale: str = "en"
    timezone: str = "Africa/Kigali"
    max_content_length: int = 1024 * 1024
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_attempts_per_minute: int = 5
    extra: dict = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, instance_path: str, environ: dict | None = None) -> Config:
        environ = os.environ if environ is None else environ
        env = environ.get("OSBP_ENV", "development")
        database_url = environ.get("OSBP_DATABASE_URL") or _sqlite_url(instance_path)
        secret_key = environ.get("OSBP_SECRET_KEY") or (
            DEFAULT_SECRET_KEY if env == "production" else _instance_secret(instance_path)
        )
        return cls(
            env=env,
            secret_key=secret_key,
            database_url=database_url,
            socketio_message_queue=environ.get("OSBP_SOCKETIO_MESSAGE_QUEUE", ""),
            default_locale=environ.get("OSBP_DEFAULT_LOCALE", "en"),
            timezone=environ.get("OSBP_TIMEZONE", "Africa/Kigali"),
            max_content_length=int(environ.get("OSBP_MAX_CONTENT_LENGTH", 1024 * 1024)),
            session_idle_minutes=int(environ.get("OSBP_SESSION_IDLE_MINUTES", 30)),
            session_absolute_hours=int(environ.get("OSBP_SESSION_ABSOLUTE_HOURS", 12)),
            login_attempts_per_minute=int(environ.get("OSBP_LOGIN_ATTEMPTS_PER_MINUTE", 5)),
        )

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
        if not self.database_url.startswith(("sqlite:", "postgresql")):
            raise ConfigError("OSBP_DATABASE_URL must be an sqlite: or postgresql:// URL")

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
