"""Settings for one Followup instance, read from the environment and an optional `.env`."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.outbound import OUTBOUND_DEADLINE_SECONDS

DATA_DIR = Path("data")


class Registration(StrEnum):
    OPEN = "open"
    INVITE = "invite"
    CLOSED = "closed"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default=f"sqlite:///./{DATA_DIR}/followup.db", validation_alias="DATABASE_URL"
    )
    secret_key: str | None = Field(default=None, validation_alias="SECRET_KEY")
    # Where a generated SECRET_KEY is kept when none is set.
    data_dir: Path = Field(default=DATA_DIR, validation_alias="FOLLOWUP_DATA_DIR")
    base_url: str = Field(default="http://127.0.0.1:8000", validation_alias="FOLLOWUP_BASE_URL")
    registration: Registration = Field(
        default=Registration.INVITE, validation_alias="FOLLOWUP_REGISTRATION"
    )
    smtp_host: str | None = Field(default=None, validation_alias="SMTP_HOST")
    smtp_port: int = Field(default=587, validation_alias="SMTP_PORT")
    smtp_username: str | None = Field(default=None, validation_alias="SMTP_USERNAME")
    smtp_password: str | None = Field(default=None, validation_alias="SMTP_PASSWORD")
    smtp_from: str | None = Field(default=None, validation_alias="SMTP_FROM")
    smtp_starttls: bool = Field(default=True, validation_alias="SMTP_STARTTLS")
    webhook_allow: str = Field(default="", validation_alias="FOLLOWUP_WEBHOOK_ALLOW")
    # Private hosts or networks users' mailboxes (IMAP and SMTP) may be on, comma-separated.
    mail_allow: str = Field(default="", validation_alias="FOLLOWUP_MAIL_ALLOW")
    # How often the worker looks for new messages in each watched mailbox.
    mail_poll_seconds: float = Field(
        default=300, ge=1, validation_alias="FOLLOWUP_MAIL_POLL_SECONDS"
    )
    # The overall deadline of one SMTP send or webhook POST (see app/outbound.py).
    outbound_timeout_seconds: float = Field(
        default=OUTBOUND_DEADLINE_SECONDS,
        gt=0,
        validation_alias="FOLLOWUP_OUTBOUND_TIMEOUT_SECONDS",
    )
    # Login throttling: failures allowed per window, per account and per client address.
    login_failures_per_account: int = Field(default=5, validation_alias="FOLLOWUP_LOGIN_LIMIT")
    login_failures_per_address: int = Field(
        default=20, validation_alias="FOLLOWUP_LOGIN_ADDRESS_LIMIT"
    )
    login_window_seconds: int = Field(default=900, validation_alias="FOLLOWUP_LOGIN_WINDOW")
    session_days: int = Field(default=30, validation_alias="FOLLOWUP_SESSION_DAYS")
    # Retention (app/retention.py): how long the worker keeps what is done; 0 keeps it all.
    retention_outbox_days: int = Field(
        default=30, ge=0, validation_alias="FOLLOWUP_RETENTION_OUTBOX_DAYS"
    )
    retention_deliveries_days: int = Field(
        default=30, ge=0, validation_alias="FOLLOWUP_RETENTION_DELIVERIES_DAYS"
    )
    retention_idempotency_hours: int = Field(
        default=48, ge=0, validation_alias="FOLLOWUP_RETENTION_IDEMPOTENCY_HOURS"
    )
    # The largest request body read, in bytes; a larger one is a 413 (app/body_limit.py).
    body_limit_bytes: int = Field(default=1024 * 1024, gt=0, validation_alias="FOLLOWUP_BODY_LIMIT")
    import_body_limit_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, validation_alias="FOLLOWUP_IMPORT_BODY_LIMIT"
    )

    # Docker and Kubernetes secrets: a *_FILE variable names a file holding the value (a
    # trailing newline is dropped); setting both the variable and its *_FILE is an error.
    secret_key_file: str | None = Field(default=None, validation_alias="SECRET_KEY_FILE")
    database_url_file: str | None = Field(default=None, validation_alias="DATABASE_URL_FILE")
    smtp_password_file: str | None = Field(default=None, validation_alias="SMTP_PASSWORD_FILE")
    # The first admin, created by `followup serve` when the instance has no account yet.
    admin_email: str | None = Field(default=None, validation_alias="FOLLOWUP_ADMIN_EMAIL")
    admin_password: str | None = Field(default=None, validation_alias="FOLLOWUP_ADMIN_PASSWORD")
    admin_password_file: str | None = Field(
        default=None, validation_alias="FOLLOWUP_ADMIN_PASSWORD_FILE"
    )
    # `followup serve` applies pending migrations first; 0 makes it refuse an old schema.
    migrate_on_start: bool = Field(default=True, validation_alias="FOLLOWUP_MIGRATE")
    # How long serve and the worker wait for the database (and the worker for its schema).
    db_wait_seconds: float = Field(default=60, ge=0, validation_alias="FOLLOWUP_DB_WAIT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", validation_alias="LOG_LEVEL"
    )
    log_format: Literal["text", "json"] = Field(default="text", validation_alias="LOG_FORMAT")
    # One line per request (calendar feed tokens redacted), through the app's logging.
    access_log: bool = Field(default=False, validation_alias="FOLLOWUP_ACCESS_LOG")
    # Prometheus metrics at /metrics (app/metrics.py).
    metrics: bool = Field(default=False, validation_alias="FOLLOWUP_METRICS")

    @field_validator(
        "secret_key_file", "database_url_file", "smtp_password_file", "admin_password_file"
    )
    @classmethod
    def _read_file(cls, path: str | None) -> str | None:
        """The file's content replaces its name here; _apply_files moves it into place."""
        if path is None:
            return None
        try:
            return Path(path).read_text().removesuffix("\n").removesuffix("\r")
        except OSError as error:
            raise ValueError(f"cannot read {path}: {error.strerror}") from None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _apply_files(self) -> Settings:
        for name, alias in SECRET_FILES.items():
            content = getattr(self, f"{name}_file")
            if content is None:
                continue
            if name in self.model_fields_set:
                raise ValueError(f"{alias} and {alias}_FILE are both set; keep one")
            setattr(self, name, content)
            setattr(self, f"{name}_file", None)  # the value, not the file's name: never echo it
        return self

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @cached_property
    def secret(self) -> str:
        """The instance secret: SECRET_KEY, else one generated once into the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_FILES = {
    "secret_key": "SECRET_KEY",
    "database_url": "DATABASE_URL",
    "smtp_password": "SMTP_PASSWORD",
    "admin_password": "FOLLOWUP_ADMIN_PASSWORD",
}


def project_path(name: str) -> Path:
    """A top-level project file or folder (templates, alembic.ini): inside the `app` package
    when installed from the wheel (setup.py puts them there), beside it in a checkout, else
    in the working directory."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_project" / name, package.parent / name):
        if candidate.exists():
            return candidate
    return Path.cwd() / name
