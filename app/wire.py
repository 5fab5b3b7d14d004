"""Wire types shared by every schema: instants in UTC, bounded strings, pages, cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from app.errors import Invalid, PreconditionFailed


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _format_instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# An instant: RFC 3339 with an offset on input (naive is refused), UTC with `Z` on output.
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    PlainSerializer(_format_instant, return_type=str, when_used="json"),
]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _required(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


# Required strings: trimmed, 1..N characters.
Str200 = Annotated[str, _required(200)]
Str300 = Annotated[str, _required(300)]
# Optional strings: blank means absent (null).
OptStr200 = Annotated[Annotated[str, _required(200)] | None, BeforeValidator(_blank_to_none)]
OptStr2000 = Annotated[Annotated[str, _required(2000)] | None, BeforeValidator(_blank_to_none)]
OptStr5000 = Annotated[Annotated[str, _required(5000)] | None, BeforeValidator(_blank_to_none)]
OptStr20000 = Annotated[Annotated[str, _required(20000)] | None, BeforeValidator(_blank_to_none)]
# A draft body may be empty, but not longer than 20,000 characters.
Body = Annotated[str, StringConstraints(max_length=20000)]


_TIMEZONES = frozenset(available_timezones())


def _check_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris")
    return value


TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_check_timezone),
    Field(examples=["Europe/Berlin"]),
]


class Input(BaseModel):
    """A request body: unknown fields are refused, so a typo is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


def encode_cursor(*parts: str) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[str]:
    """The parts of a cursor made by `encode_cursor`, or a 422 on `cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        parts = None
    if (
        not isinstance(parts, list)
        or len(parts) != arity
        or not all(isinstance(p, str) for p in parts)
    ):
        raise Invalid(["query", "cursor"], "not a cursor this API returned")
    return parts


def strong_etag(payload: bytes) -> str:
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def check_if_match(if_match: str | None, current: str) -> None:
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" not in tags and current not in tags:
        raise PreconditionFailed("The object changed since you read it (If-Match is stale).")
