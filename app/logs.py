"""Logging for `followup serve` and `followup worker`: LOG_LEVEL, LOG_FORMAT (text or json),
a request id on every line logged while a request runs, and the optional access log."""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from app.config import Settings

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

access_log = logging.getLogger("followup.access")

# A client's or proxy's own id is kept when it looks like one (no spaces, no markup).
_INCOMING_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Calendar feed URLs carry their secret in the path: it never reaches a log.
_SECRET_PATHS = [(re.compile(r"^/calendar/[^/]+\.ics$"), "/calendar/[redacted].ics")]
# What every LogRecord has; anything else was passed with `extra=` and goes into JSON lines.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


def loggable_path(path: str) -> str:
    """The path as it may be logged: secret-bearing segments redacted (no query string)."""
    for pattern, replacement in _SECRET_PATHS:
        if pattern.match(path):
            return replacement
    return path


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        current = getattr(record, "request_id", None)
        record.request = f" [{current}]" if current else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then any
    `extra=` fields; a message that is itself a JSON object (the worker's) is merged in."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        current = getattr(record, "request_id", None)
        if current:
            line["request_id"] = current
        if message.startswith("{"):
            try:
                fields = json.loads(message)
            except ValueError:
                fields = None
            if isinstance(fields, dict):
                line.update({k: v for k, v in fields.items() if k not in line})
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def log_config(settings: Settings) -> dict[str, Any]:
    """A dictConfig for the process (uvicorn applies it in each of its workers too)."""
    formatter = (
        "app.logs.JsonFormatter" if settings.log_format == "json" else "app.logs.TextFormatter"
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "app.logs.RequestIdFilter"}},
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": settings.log_level},
        "loggers": {
            # uvicorn's own lines go through the root handler, in the same format.
            "uvicorn": {"handlers": [], "level": settings.log_level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": settings.log_level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure(settings: Settings) -> None:
    logging.config.dictConfig(log_config(settings))


class RequestLog:
    """Pure ASGI middleware: gives each request an id (the caller's `X-Request-ID` when it
    sent a sane one), returns it as `X-Request-ID`, and writes the access log line."""

    def __init__(self, app: ASGIApp, *, access: bool = False) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        current = incoming if incoming and _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id.set(current)
        started = time.monotonic()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", current.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access:
                path = loggable_path(scope["path"])
                elapsed = round((time.monotonic() - started) * 1000, 1)
                access_log.info(
                    "%s %s %s %sms",
                    scope["method"],
                    path,
                    status,
                    elapsed,
                    extra={
                        "request_id": current,
                        "method": scope["method"],
                        "path": path,
                        "status": status,
                        "duration_ms": elapsed,
                        "client": (scope.get("client") or ("-",))[0],
                    },
                )
            request_id.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None
