"""The pure scheduling rules: who gets which follow-up after an interview, and when."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo


class Role(StrEnum):
    INTERVIEWER = "interviewer"
    RECRUITER = "recruiter"
    HIRING_MANAGER = "hiring_manager"
    HR = "hr"
    OTHER = "other"


class Kind(StrEnum):
    THANK_YOU = "thank_you"
    CHECK_IN = "check_in"
    CUSTOM = "custom"


class Status(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class DueState(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Policy:
    thank_you_within_hours: int = 48
    check_in_after_days: int = 14
    check_in_grace_days: int = 1
    send_hour: int = 9
    skip_weekends: bool = True
    second_check_in_after_days: int | None = None


# The words for each kind, in one place: the pages, Today's cards, the calendar feed.
KIND_WORDS: Final = {
    Kind.THANK_YOU: "Thank-you note",
    Kind.CHECK_IN: "Check-in",
    Kind.CUSTOM: "Follow-up",
}
KIND_SHORT_WORDS: Final = {
    Kind.THANK_YOU: "thank-you",
    Kind.CHECK_IN: "check-in",
    Kind.CUSTOM: "follow-up",
}


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int


# The one source of the policy's numbers: these defaults (the dataclass above) and ranges
# feed the API's schemas, the users table's defaults and the Settings form.
DEFAULT_POLICY: Final = Policy()
POLICY_BOUNDS: Final = {
    "thank_you_within_hours": Bounds(1, 720),
    "check_in_after_days": Bounds(1, 365),
    "check_in_grace_days": Bounds(0, 365),
    "send_hour": Bounds(0, 23),
    "second_check_in_after_days": Bounds(1, 365),
}


@dataclass(frozen=True)
class PersonFacts:
    key: str
    name: str
    email: str | None
    role: Role


@dataclass(frozen=True)
class InterviewFacts:
    starts_at: datetime
    duration_minutes: int
    response_promised_by: date | None


@dataclass(frozen=True)
class Planned:
    plan_key: str
    kind: Kind
    person_key: str | None
    recipient_name: str | None
    recipient_email: str | None
    not_before: datetime
    due_at: datetime


THANK_YOU_FALLBACK_KEY: Final = "thank_you"
CHECK_IN_KEY: Final = "check_in"
SECOND_CHECK_IN_KEY: Final = "check_in:2"

_CHECK_IN_DUE_AFTER_DAYS: Final = 3
_CHECK_IN_PRECEDENCE: Final = (Role.HIRING_MANAGER, Role.RECRUITER, Role.HR, Role.INTERVIEWER)
_SATURDAY: Final = 5


def thank_you_key(person_key: str) -> str:
    return f"{THANK_YOU_FALLBACK_KEY}:{person_key}"


def check_in_recipient(people: Sequence[PersonFacts]) -> PersonFacts | None:
    for role in _CHECK_IN_PRECEDENCE:
        for person in people:
            if person.role == role:
                return person
    return None


def local_send_time(day: date, hour: int, tz: ZoneInfo) -> datetime:
    # fold=0 reads a skipped wall time with the offset before the change (so it lands
    # later by the gap) and a repeated one as its first occurrence.
    local = datetime(day.year, day.month, day.day, hour, tzinfo=tz, fold=0)
    return local.astimezone(UTC)


def check_in_day(earliest: date, policy: Policy) -> date:
    weekday = earliest.weekday()
    if policy.skip_weekends and weekday >= _SATURDAY:
        return earliest + timedelta(days=7 - weekday)
    return earliest


def plan_followups(
    interview: InterviewFacts,
    people: Sequence[PersonFacts],
    policy: Policy,
    tz: ZoneInfo,
) -> list[Planned]:
    # Converted to UTC first: adding a timedelta to a zoned datetime is wall-clock
    # arithmetic, and the rules count elapsed time.
    end = _as_utc(interview.starts_at, "starts_at") + timedelta(minutes=interview.duration_minutes)
    thank_you_due_at = end + timedelta(hours=policy.thank_you_within_hours)
    recipient = check_in_recipient(people)

    interviewers = [person for person in people if person.role == Role.INTERVIEWER]
    if interviewers:
        thank_yous = [
            _planned(thank_you_key(person.key), Kind.THANK_YOU, person, end, thank_you_due_at)
            for person in interviewers
        ]
    else:
        # Someone should still be thanked: whoever the check-in goes to, or nobody yet.
        thank_yous = [
            _planned(THANK_YOU_FALLBACK_KEY, Kind.THANK_YOU, recipient, end, thank_you_due_at)
        ]

    earliest = end.astimezone(tz).date() + timedelta(days=policy.check_in_after_days)
    if interview.response_promised_by is not None:
        earliest = max(
            earliest,
            interview.response_promised_by + timedelta(days=policy.check_in_grace_days),
        )
    return [*thank_yous, _planned_check_in(CHECK_IN_KEY, earliest, recipient, policy, tz)]


def plan_second_check_in(
    first_sent_at: datetime,
    recipient: PersonFacts | None,
    policy: Policy,
    tz: ZoneInfo,
) -> Planned | None:
    if policy.second_check_in_after_days is None:
        return None
    sent_day = _as_utc(first_sent_at, "first_sent_at").astimezone(tz).date()
    earliest = sent_day + timedelta(days=policy.second_check_in_after_days)
    return _planned_check_in(SECOND_CHECK_IN_KEY, earliest, recipient, policy, tz)


def due_state(
    status: Status, not_before: datetime, due_at: datetime, now: datetime
) -> DueState | None:
    if status != Status.SCHEDULED:
        return None
    # Compared in UTC: datetimes sharing a tzinfo compare by wall clock, wrong across DST.
    moment = _as_utc(now, "now")
    if moment < _as_utc(not_before, "not_before"):
        return DueState.UPCOMING
    if moment <= _as_utc(due_at, "due_at"):
        return DueState.DUE
    return DueState.OVERDUE


def _planned_check_in(
    plan_key: str,
    earliest: date,
    recipient: PersonFacts | None,
    policy: Policy,
    tz: ZoneInfo,
) -> Planned:
    day = check_in_day(earliest, policy)
    # The due day is counted from the (possibly moved) send day and is not moved itself.
    due_day = day + timedelta(days=_CHECK_IN_DUE_AFTER_DAYS)
    return _planned(
        plan_key,
        Kind.CHECK_IN,
        recipient,
        local_send_time(day, policy.send_hour, tz),
        local_send_time(due_day, policy.send_hour, tz),
    )


def _planned(
    plan_key: str,
    kind: Kind,
    recipient: PersonFacts | None,
    not_before: datetime,
    due_at: datetime,
) -> Planned:
    return Planned(
        plan_key=plan_key,
        kind=kind,
        person_key=recipient.key if recipient is not None else None,
        recipient_name=recipient.name if recipient is not None else None,
        recipient_email=recipient.email if recipient is not None else None,
        not_before=not_before,
        due_at=due_at,
    )


def _as_utc(moment: datetime, name: str) -> datetime:
    # A naive datetime would silently be read as the server's local time.
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)
