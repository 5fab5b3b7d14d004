"""Reading interviews from a CSV file: one row each, every problem named by line and column."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from pydantic import ValidationError

from app.errors import Invalid
from app.followups.schedule import Role
from app.interviews.schemas import InterviewCreate
from app.portability.schemas import CsvPerson, CsvRow, CsvRowError

MAX_ROWS = 1000
MAX_CSV_BYTES = 2 * 1024 * 1024  # the request body, enforced by app/body_limit.py
REQUIRED = ("company", "role", "date", "time")
OPTIONAL = ("timezone", "people", "stage", "duration_minutes", "location", "notes")
COLUMNS = REQUIRED + OPTIONAL
SAMPLE = (
    "company,role,date,time,timezone,people,stage,duration_minutes,location,notes\r\n"
    "Acme Corp,Backend Engineer,2026-12-01,15:00,Europe/Berlin,"
    '"Jane Doe <jane@acme.example> (hiring_manager); Sam Lee (interviewer)",'
    "Onsite,90,Berlin office,Bring the portfolio\r\n"
    "Globex,Platform Engineer,2026-12-03,09:30,,Ann Lee <ann@globex.example> (recruiter),"
    "Phone screen,30,,\r\n"
)
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_TIME = re.compile(r"(\d{1,2}):(\d\d)")
_ROLES = ", ".join(role.value for role in Role)
_TIMEZONES = frozenset(available_timezones())


@dataclass(frozen=True)
class ParsedRow:
    row: CsvRow
    create: InterviewCreate | None  # None when the row has errors


def _person(piece: str) -> tuple[str, str | None, str | None] | None:
    """`Name <email> (role)` as (name, email, role); None when it does not read so.
    Parsed from the ends, in linear time whatever the cell holds."""
    rest, email, role = piece.strip(), None, None
    if rest.endswith(")") and "(" in rest:
        rest, _, role = rest[:-1].rpartition("(")
        rest = rest.rstrip()
    if rest.endswith(">") and "<" in rest:
        rest, _, email = rest[:-1].rpartition("<")
    name = rest.strip()
    if (
        not name
        or any(mark in name for mark in "<>()")
        or any(mark in part for part in (email or "", role or "") for mark in "<>()")
    ):
        return None
    return name, (email or "").strip() or None, role


def _people(text: str) -> tuple[list[CsvPerson], list[str]]:
    people: list[CsvPerson] = []
    problems: list[str] = []
    pieces = [piece.strip() for piece in text.split(";")]
    for number, piece in enumerate([p for p in pieces if p], start=1):
        parsed = _person(piece)
        if parsed is None:
            problems.append(
                f"person {number}: write it as Name <email> (role), e.g. "
                "Jane Doe <jane@example.com> (hiring_manager)"
            )
            continue
        name, email, raw_role = parsed
        role = (raw_role or "").strip().lower().replace(" ", "_").replace("-", "_") or None
        people.append(CsvPerson(name=name, email=email, role=role))
        if role is None:
            problems.append(
                f"person {number} ({name}): add a role in parentheses, e.g. (interviewer)"
            )
        elif role not in Role.__members__.values():
            problems.append(f"person {number} ({name}): unknown role {role!r}; use one of {_ROLES}")
    return people, problems


def _local_date(text: str) -> tuple[date | None, str | None]:
    if not _DATE.fullmatch(text):
        return None, "must be a date as YYYY-MM-DD, e.g. 2026-12-01"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, "is not a date in the calendar"
    if not 1900 <= day.year <= 2999:
        return None, "must be between the years 1900 and 2999"
    return day, None


def _local_time(text: str) -> tuple[tuple[int, int] | None, str | None]:
    match = _TIME.fullmatch(text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        return None, "must be a time as HH:MM (24-hour clock), e.g. 15:00"
    return (int(match[1]), int(match[2])), None


def _column_of(loc: tuple[Any, ...]) -> tuple[str, str]:
    """The CSV column an InterviewCreate error belongs to, and a prefix for its message."""
    field = str(loc[0]) if loc else "row"
    if field == "people" and len(loc) > 2:
        return "people", f"person {int(loc[1]) + 1}, {loc[2]}: "
    if field == "starts_at":
        return "date", ""
    return (field if field in COLUMNS else "row"), ""


def _row(line: int, values: dict[str, str], default_timezone: str) -> ParsedRow:
    errors: list[CsvRowError] = []

    def value(name: str) -> str:
        return values.get(name, "").strip()

    day, problem = _local_date(value("date"))
    if problem:
        errors.append(CsvRowError(column="date", msg=problem))
    clock, problem = _local_time(value("time"))
    if problem:
        errors.append(CsvRowError(column="time", msg=problem))
    zone = value("timezone") or default_timezone
    if zone not in _TIMEZONES:
        errors.append(
            CsvRowError(column="timezone", msg=f"unknown time zone {zone!r}; use e.g. Europe/Paris")
        )
    people, problems = _people(value("people"))
    errors.extend(CsvRowError(column="people", msg=p) for p in problems)
    duration: int | None = None
    if value("duration_minutes"):
        if value("duration_minutes").isdigit():
            duration = int(value("duration_minutes"))
        else:
            errors.append(CsvRowError(column="duration_minutes", msg="must be a whole number"))

    starts_at = None
    if day is not None and clock is not None and zone in _TIMEZONES:
        # fold=0: a wall time skipped by a DST change moves forward by the gap, a repeated
        # one is its first occurrence (as the schedule reads local times).
        local = datetime(day.year, day.month, day.day, *clock, tzinfo=ZoneInfo(zone), fold=0)
        starts_at = local.astimezone(UTC)
    fields: dict[str, Any] = {
        "company": value("company"),
        "role": value("role"),
        # A stand-in when the date or time is wrong, so the other columns are still checked.
        "starts_at": starts_at or datetime(2000, 1, 1, tzinfo=UTC),
        "stage": value("stage") or None,
        "location": value("location") or None,
        "notes": value("notes") or None,
        "people": [
            {"name": p.name, "email": p.email, "role": p.role}
            for p in people
            if p.role in Role.__members__.values()
        ],
    }
    if duration is not None:
        fields["duration_minutes"] = duration
    create: InterviewCreate | None = None
    try:
        create = InterviewCreate.model_validate(fields)
    except ValidationError as error:
        for item in error.errors():
            column, prefix = _column_of(tuple(item["loc"]))
            msg = str(item["msg"]).removeprefix("Value error, ")
            errors.append(CsvRowError(column=column, msg=prefix + msg))
    row = CsvRow(
        line=line,
        company=value("company") or None,
        role=value("role") or None,
        starts_at=starts_at,
        local_date=day,
        local_time=f"{clock[0]:02d}:{clock[1]:02d}" if clock else None,
        timezone=zone,
        stage=value("stage") or None,
        duration_minutes=duration,
        location=value("location") or None,
        notes=value("notes") or None,
        people=people,
        errors=errors,
    )
    return ParsedRow(row=row, create=None if errors else create)


def _header(fields: list[str]) -> list[str]:
    names = [name.strip().lower() for name in fields]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise Invalid(
            ["body", 1, "header"],
            f"unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}",
        )
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise Invalid(["body", 1, "header"], f"the column {missing[0]!r} is missing")
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated is not None:
        raise Invalid(["body", 1, "header"], f"the column {repeated!r} is listed twice")
    return names


def parse(text: str, *, default_timezone: str) -> list[ParsedRow]:
    """Every row of a comma-separated file with a header line (any order, any case)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(part.strip() for part in header):
            raise Invalid(["body"], "the file is empty; the first line names the columns")
        names = _header(header)
        parsed: list[ParsedRow] = []
        line = reader.line_num + 1
        for fields in reader:
            start, line = line, reader.line_num + 1
            if not any(field.strip() for field in fields):
                continue
            if len(parsed) == MAX_ROWS:
                raise Invalid(["body"], f"at most {MAX_ROWS:,} rows per file; split it")
            if len(fields) > len(names):
                error = CsvRowError(
                    column="row",
                    msg=f"has {len(fields)} fields but the header names {len(names)} "
                    "(is a comma missing its quotes?)",
                )
                parsed.append(ParsedRow(row=_empty_row(start, error), create=None))
                continue
            values = dict(zip(names, fields, strict=False))
            parsed.append(_row(start, values, default_timezone))
    except csv.Error as error:
        raise Invalid(["body", reader.line_num, "row"], f"not readable as CSV: {error}") from None
    return parsed


def _empty_row(line: int, error: CsvRowError) -> CsvRow:
    return CsvRow(
        line=line,
        company=None,
        role=None,
        starts_at=None,
        local_date=None,
        local_time=None,
        timezone=None,
        stage=None,
        duration_minutes=None,
        location=None,
        notes=None,
        people=[],
        errors=[error],
    )


def to_create(parsed: ParsedRow) -> InterviewCreate:
    assert parsed.create is not None, "only rows without errors are created"
    return parsed.create
