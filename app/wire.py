"""Wire types shared by every schema: instants in UTC, bounded strings, pages, cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from datetime import UTC, date, datetime
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
    WithJsonSchema,
)

from app.errors import Invalid, PreconditionFailed

T = TypeVar("T")


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _format_instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
_DAY = re.compile(r"\d{4}-\d\d-\d\d")
# Sane years for what people send (1900 to 2999, documented as a `pattern`); it also keeps
# the schedule's arithmetic (days and weeks added, offsets applied) far from the ends of
# `datetime`, which would otherwise overflow.
_YEARS = r"^(19|2\d)\d\d-"


def _check_year(text: str) -> None:
    if not re.match(_YEARS, text):
        raise ValueError("must be between the years 1900 and 2999")


def _rfc3339(value: Any) -> Any:
    # Pydantic would also take Unix seconds ("0.5", 1700000000) and dates without a time;
    # the contract (and `format: date-time`) says RFC 3339 with an offset, and only that.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2026-12-01T15:00:00Z")
    _check_year(value)
    return value


# An instant: RFC 3339 with an offset on input (naive is refused), UTC with `Z` on output.
# Only what comes off the wire is checked; instants the service computes are not.
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339),
    AfterValidator(_to_utc),
    PlainSerializer(_format_instant, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _YEARS}, mode="validation"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


def _iso_day(value: Any) -> Any:
    # Pydantic would also take Unix seconds (0 is 1970-01-01); `format: date` is YYYY-MM-DD.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD, e.g. 2026-12-20")
    _check_year(value)
    return value


# A calendar day: YYYY-MM-DD on input and output.
Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _YEARS}, mode="validation"),
]


def _json_integer(value: Any) -> Any:
    # Pydantic would also take "60" and true; JSON Schema's integer is a number without a
    # fraction (60 or 60.0), and only that.
    if isinstance(value, str | bool):
        raise ValueError("must be a JSON integer")
    return value


# An integer in a request body.
Integer = Annotated[int, BeforeValidator(_json_integer)]


def _storable(value: str) -> str:
    # Postgres text cannot hold NUL and no database takes an unpaired surrogate: refused
    # here, the same on both databases, instead of failing in the driver as a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (an unpaired surrogate)") from None
    return value


# For every string that comes in.
Storable = AfterValidator(_storable)


def _trim(value: str) -> str:
    # Trimmed after the length check, so the documented `maxLength` holds for what was sent.
    trimmed = value.strip()
    if not trimmed:
        raise ValueError("must not be blank")
    return trimmed


def _blank_to_none(max_length: int) -> BeforeValidator:
    def blank_to_none(value: Any) -> Any:
        if isinstance(value, str) and len(value) <= max_length and not value.strip():
            return None
        return value

    return BeforeValidator(blank_to_none)


Trimmed = AfterValidator(_trim)

# Required strings: 1..N characters, not blank, trimmed.
Str200 = Annotated[str, StringConstraints(min_length=1, max_length=200), Storable, Trimmed]
Str300 = Annotated[str, StringConstraints(min_length=1, max_length=300), Storable, Trimmed]
# Optional strings: up to N characters, trimmed; blank (documented as "") means absent (null).
OptStr200 = Annotated[
    Annotated[str, StringConstraints(max_length=200), Storable, Trimmed] | None, _blank_to_none(200)
]
OptStr2000 = Annotated[
    Annotated[str, StringConstraints(max_length=2000), Storable, Trimmed] | None,
    _blank_to_none(2000),
]
OptStr5000 = Annotated[
    Annotated[str, StringConstraints(max_length=5000), Storable, Trimmed] | None,
    _blank_to_none(5000),
]
OptStr20000 = Annotated[
    Annotated[str, StringConstraints(max_length=20000), Storable, Trimmed] | None,
    _blank_to_none(20000),
]
# A draft body may be empty, but not longer than 20,000 characters.
Body = Annotated[str, StringConstraints(max_length=20000), Storable]


def _refuse_null(value: T) -> T:
    if value is None:
        raise ValueError("is required and cannot be null")
    return value


def _documented_not_null(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    options = schema.pop("anyOf", None)
    if options is not None:
        (kept,) = [option for option in options if option != {"type": "null"}]
        schema.update(kept)


# A PATCH field that may be left out but not set to null (DESIGN.md: null on a required
# field is a 422). Refused while the request is parsed, so before any If-Match or lookup,
# and documented without null. Declare it `NotNull[Str200] = None`.
NotNull = Annotated[
    T | None,
    AfterValidator(_refuse_null),
    Field(json_schema_extra=_documented_not_null),
]


_TIMEZONES = frozenset(available_timezones())


def city_of(zone: str) -> str:
    """The place an IANA zone is named after, as people write it: "America/New_York" ->
    "New York", "America/Argentina/Buenos_Aires" -> "Buenos Aires"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def _squeeze(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("/", " ").split()).casefold()


# A city name as typed ("new york", "Kolkata") -> its zone; "UTC" and friends name themselves.
_BY_CITY = {_squeeze(city_of(zone)): zone for zone in sorted(_TIMEZONES, reverse=True)}


def zone_for_city(text: str) -> str | None:
    """The IANA zone a city name (any case, spaces or underscores) stands for, if one does."""
    return _BY_CITY.get(_squeeze(text))


def _check_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        near = zone_for_city(value)
        hint = f"did you mean {near}?" if near else "use an IANA name such as Europe/Paris"
        raise ValueError(f"unknown time zone {value!r}; {hint}")
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


def keyset_cursor(at: datetime, row_id: uuid.UUID | str) -> str:
    """The cursor after a row of a list ordered by (an instant, id)."""
    return encode_cursor(at.isoformat(), str(row_id))


def parse_keyset_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (instant, id) a `keyset_cursor` names, None for no cursor, or a 422 on `cursor`."""
    if cursor is None:
        return None
    at, row_id = decode_cursor(cursor, 2)
    try:
        after = (datetime.fromisoformat(at), uuid.UUID(row_id))
    except ValueError:
        raise Invalid(["query", "cursor"], "not a cursor this API returned") from None
    if after[0].tzinfo is None:
        raise Invalid(["query", "cursor"], "not a cursor this API returned")
    return after


def strong_etag(payload: bytes) -> str:
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def check_if_match(if_match: str | None, current: str) -> None:
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" not in tags and current not in tags:
        raise PreconditionFailed("The object changed since you read it (If-Match is stale).")
