"""Reading a calendar invite (.ics, or the text/calendar part of an .eml) into interview facts.

Pure: bytes in, `ParsedInvite` out, or an `Invalid` naming what is wrong. The iCalendar syntax,
Windows time-zone names and VTIMEZONE blocks are the `icalendar` package's job; the email
envelope is the standard library's. What is decided here is what the invite *means* for an
interview: which time, which company and role, where, and who.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import EmailStr, TypeAdapter, ValidationError

from app.errors import Invalid
from app.followups.schedule import Role
from app.interviews.schemas import INVITE_UID_MAX, MAX_PEOPLE

if TYPE_CHECKING:
    from icalendar import Calendar, Event

DEFAULT_DURATION: Final = 60
MAX_DURATION: Final = 1440
_NAME_MAX: Final = 200
_LOCATION_MAX: Final = 2000

# Links that open a video meeting: the first one in URL or DESCRIPTION is the location.
_MEETING_LINK: Final = re.compile(
    r"https?://[^\s<>\"'()\[\]]*(?:zoom\.us|zoomgov\.com|teams\.microsoft\.com|teams\.live\.com"
    r"|meet\.google\.com|webex\.com)[^\s<>\"'\[\]]*",
    re.IGNORECASE,
)
# Prefixes calendar tools put before the title of an event they forward or change.
_TITLE_PREFIX: Final = re.compile(
    r"^\s*(?:(?:updated\s+)?invitation|updated|invite|canceled|cancelled|canceled event"
    r"|cancelled event|fw|fwd|re)\s*:\s*",
    re.IGNORECASE,
)
_INTERVIEW_WORDS: Final = (
    r"(?:interview|phone\s+screen|screening\s+call|on-?site|technical\s+call|final\s+round"
    r"|vorstellungsgespr(?:ä|ae)ch|entretien|entrevista|colloquio)"
)
# "Interview: Backend Engineer at Acme", "Interview for Backend Engineer at Acme",
# "Backend Engineer interview at Acme", "Backend Engineer @ Acme".
_ROLE_AT_COMPANY: Final = re.compile(
    rf"^(?:{_INTERVIEW_WORDS}\s*(?:for|with|:|[-–—])?\s*)?(?P<role>.+?)"
    rf"(?:\s+{_INTERVIEW_WORDS})?\s+(?:at|@)\s+(?P<company>[^()]+?)\s*(?:\(.*\))?$",
    re.IGNORECASE,
)
# "Acme – Backend Engineer interview", "Acme: Backend Engineer (Onsite)".
_COMPANY_DASH_ROLE: Final = re.compile(
    rf"^(?P<company>[^:–—-]+?)\s*(?:[–—:]|\s-)\s*(?P<role>.+?)(?:\s+{_INTERVIEW_WORDS})?"
    r"\s*(?:\(.*\))?$",
    re.IGNORECASE,
)
# "Acme interview".
_COMPANY_INTERVIEW: Final = re.compile(
    rf"^(?P<company>.+?)\s+{_INTERVIEW_WORDS}\s*(?:\(.*\))?$", re.IGNORECASE
)
# Whoever sends from these can be thanked by name but not written to.
_NO_REPLY: Final = re.compile(
    r"^(?:(?:no-?reply|do-?not-?reply|notifications?|calendar-notification|mailer-daemon)"
    r"(?:[+.-][^@]*)?@|[^@]*@(?:[^@]*\.)?(?:no-?reply|bounces?)\.)",
    re.IGNORECASE,
)
# Domains that say nothing about the employer: scheduling tools, mail hosts.
_NOT_AN_EMPLOYER: Final = frozenset(
    {
        "calendly.com",
        "goodtime.io",
        "greenhouse.io",
        "lever.co",
        "ashbyhq.com",
        "workday.com",
        "myworkday.com",
        "smartrecruiters.com",
        "google.com",
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "microsoft.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "zoom.us",
        "calendar.google.com",
        "resource.calendar.google.com",
    }
)
_ADDRESS: Final = TypeAdapter(EmailStr)

# What the API manual shows: an invite as Outlook sends one, trimmed to what is read.
EXAMPLE_INVITE: Final = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "METHOD:REQUEST",
        "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0",
        "BEGIN:VEVENT",
        "UID:040000008200E00074C5B7101A82E008000000001234",
        "SEQUENCE:0",
        "SUMMARY:Interview: Backend Engineer at Acme",
        "DTSTART;TZID=Pacific Standard Time:20261208T100000",
        "DTEND;TZID=Pacific Standard Time:20261208T110000",
        "LOCATION:https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc",
        "ORGANIZER;CN=Rita Recruiter:mailto:rita@acme.example",
        "ATTENDEE;CN=Ann Lee;ROLE=REQ-PARTICIPANT:mailto:ann.lee@acme.example",
        "ATTENDEE;CN=Jane Doe;ROLE=REQ-PARTICIPANT:mailto:jane@example.com",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


@dataclass(frozen=True)
class InvitePerson:
    name: str
    email: str | None
    role: Role


@dataclass(frozen=True)
class ParsedInvite:
    """What an invite says about an interview, ready for the interview rules."""

    uid: str
    sequence: int
    cancelled: bool
    starts_at: datetime  # aware, UTC
    duration_minutes: int
    company: str
    role: str
    location: str | None
    people: list[InvitePerson]
    # What came from where, in words for the person checking the form.
    sources: list[str] = field(default_factory=list)


def _invalid(prop: str, msg: str) -> Invalid:
    return Invalid(["body", prop], msg)


# --- the calendar out of what was sent ------------------------------------------------------


def calendar_bytes(body: bytes, media_type: str) -> bytes:
    """The iCalendar text of what was sent: an .ics as is, or an .eml's text/calendar part
    (or .ics attachment). An upload or a paste is recognised by how it starts."""
    if media_type == "text/calendar" or _looks_like_ics(body):
        return body
    return _calendar_part(body)


def _looks_like_ics(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper() == b"BEGIN:VCALENDAR"


def _calendar_part(raw: bytes) -> bytes:
    # Here, not at the top: the email parser and its policy stay out of a worker until used.
    import email
    import email.policy
    from email.message import EmailMessage

    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not message.keys():
        raise _invalid("message", "not an email message (.eml) nor an iCalendar file (.ics)")
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if kind in ("text/calendar", "application/ics") or filename.endswith(".ics"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload.strip():
                return payload
    raise _invalid("message", "the email holds no calendar invite (no text/calendar part)")


# --- the event ------------------------------------------------------------------------------


def parse_invite(
    data: bytes, *, own_addresses: Iterable[str], default_tz: ZoneInfo
) -> ParsedInvite:
    """The interview an invite describes. Floating times are read in the calendar's
    X-WR-TIMEZONE, else in `default_tz` (the user's); `own_addresses` are not people met."""
    # Here, not at the top: icalendar (~80 modules) would sit in every worker from its start.
    from icalendar import Calendar, Event

    text = _decode(data)
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as error:
        raise _invalid("VCALENDAR", f"not a readable iCalendar file ({_short(error)})") from None
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise _invalid("VCALENDAR", "not an iCalendar file: it must start with BEGIN:VCALENDAR")
    events = [c for c in calendar.walk("VEVENT") if isinstance(c, Event)]
    if not events:
        raise _invalid("VEVENT", "the invite has no event (no VEVENT): nothing to import")
    event = events[0]
    sources: list[str] = []

    uid = _text(event.get("UID"))
    if not uid:
        raise _invalid("UID", "the event has no UID, so a later update could not find it")
    if len(uid) > INVITE_UID_MAX:
        raise _invalid("UID", f"is longer than {INVITE_UID_MAX} characters")
    if event.get("RRULE") is not None:
        raise _invalid(
            "RRULE", "a recurring event is a series, not one interview: send the single one"
        )
    sequence = _sequence(event)
    method = _text(calendar.get("METHOD")).upper()
    status = _text(event.get("STATUS")).upper()
    cancelled = method == "CANCEL" or status == "CANCELLED"
    if cancelled:
        sources.append("Cancelled by the organizer.")

    fallback = _x_wr_timezone(calendar) or default_tz
    starts_at, zone_words = _instant(event, "DTSTART", fallback, default_tz)
    sources.append(f"Time: {zone_words}.")
    duration = _duration_minutes(event, starts_at, fallback, default_tz, sources)

    own = {a.strip().lower() for a in own_addresses if a}
    people, people_words = _people(event, own)
    sources.extend(people_words)
    company, role, title_words = _company_and_role(event, people)
    sources.append(title_words)
    location, where_words = _location(event)
    if where_words:
        sources.append(where_words)
    return ParsedInvite(
        uid=uid,
        sequence=sequence,
        cancelled=cancelled,
        starts_at=starts_at,
        duration_minutes=duration,
        company=company,
        role=role,
        location=location,
        people=people,
        sources=sources,
    )


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise _invalid("VCALENDAR", "the invite is empty")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Older Outlook versions write Windows-1252; every byte is something there.
        return data.decode("cp1252", errors="replace")


def _short(error: Exception) -> str:
    words = str(error).split(": ")[0]
    return words[:120] or error.__class__.__name__


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    # Postgres text cannot hold NUL; nothing a person reads needs it.
    return str(value).replace("\x00", "").strip()


def _sequence(event: Event) -> int:
    raw = event.get("SEQUENCE")
    if raw is None:
        return 0
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise _invalid("SEQUENCE", "must be a whole number") from None
    if number < 0:
        raise _invalid("SEQUENCE", "must not be negative")
    return number


def _x_wr_timezone(calendar: Calendar) -> ZoneInfo | None:
    """Google Calendar names the calendar's zone in X-WR-TIMEZONE; its floating times are in
    it. A name that is not a zone is ignored (the user's zone is the better guess)."""
    name = _text(calendar.get("X-WR-TIMEZONE"))
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _instant(
    event: Event, prop: str, floating_tz: tzinfo, user_tz: ZoneInfo
) -> tuple[datetime, str]:
    """The property's instant in UTC, with words saying which zone it was read in."""
    raw = event.get(prop)
    if raw is None:
        raise _invalid(prop, "the event has no start time" if prop == "DTSTART" else "missing")
    value = getattr(raw, "dt", None)
    if value is None:
        raise _invalid(prop, "is not a date and time the invite can be read with")
    if not isinstance(value, datetime):
        if isinstance(value, date):
            raise _invalid(
                prop, "an all-day event has no start time: an interview needs one (add a time)"
            )
        raise _invalid(prop, "is not a date and time")
    tzid = _text(getattr(raw, "params", {}).get("TZID"))
    if value.tzinfo is None and tzid:
        raise _invalid(prop, f"unknown time zone {tzid!r}: no VTIMEZONE in the invite defines it")
    if value.tzinfo is None:
        value = value.replace(tzinfo=floating_tz)
        where = getattr(floating_tz, "key", str(floating_tz))
        whose = "your time zone" if floating_tz is user_tz else "the calendar's X-WR-TIMEZONE"
        words = f"a floating time, read in {whose} ({where})"
    elif tzid:
        words = f"time zone {tzid}"
    else:
        words = "UTC"
    if not 1900 <= value.year <= 2999:
        raise _invalid(prop, "must be between the years 1900 and 2999")
    # fold=0: a wall time in a DST gap moves forward by the gap, as the schedule's own do.
    return value.astimezone(UTC), words


def _duration_minutes(
    event: Event, starts_at: datetime, floating_tz: tzinfo, user_tz: ZoneInfo, sources: list[str]
) -> int:
    if event.get("DTEND") is not None:
        ends_at, _words = _instant(event, "DTEND", floating_tz, user_tz)
        length, prop = ends_at - starts_at, "DTEND"
    elif event.get("DURATION") is not None:
        value = getattr(event["DURATION"], "dt", None)
        if not isinstance(value, timedelta):
            raise _invalid("DURATION", "is not a duration")
        length, prop = value, "DURATION"
    else:
        sources.append(f"Duration: not in the invite, so {DEFAULT_DURATION} minutes.")
        return DEFAULT_DURATION
    minutes = int(length.total_seconds() // 60)
    if length < timedelta(0):
        raise _invalid(prop, "the event ends before it starts")
    if minutes > MAX_DURATION:
        raise _invalid(prop, "the event lasts more than a day: that is not one interview")
    if minutes < 1:
        sources.append(f"Duration: the event has none, so {DEFAULT_DURATION} minutes.")
        return DEFAULT_DURATION
    return minutes


# --- people ---------------------------------------------------------------------------------


def _address(value: Any) -> str | None:
    raw = _text(value)
    if raw.lower().startswith("mailto:"):
        raw = raw[len("mailto:") :]
    raw = raw.strip()
    try:
        return str(_ADDRESS.validate_python(raw)).lower()
    except ValidationError:
        return None


def _name(value: Any, address: str | None) -> str | None:
    params = getattr(value, "params", {})
    name = _text(params.get("CN")).strip("\"' ")
    return (name or address or "")[:_NAME_MAX] or None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _people(event: Event, own: set[str]) -> tuple[list[InvitePerson], list[str]]:
    """The organizer as recruiter, then each attendee as interviewer: one per address, never
    the user, never a room; a no-reply address is kept as a name to thank, without the address."""
    people: list[InvitePerson] = []
    seen: set[str] = set()
    words: list[str] = []
    skipped_rooms = 0
    organizer = event.get("ORGANIZER")
    candidates = [(organizer, Role.RECRUITER)] if organizer is not None else []
    candidates += [(a, Role.INTERVIEWER) for a in _as_list(event.get("ATTENDEE"))]
    for value, role in candidates:
        params = getattr(value, "params", {})
        if _text(params.get("CUTYPE")).upper() in ("ROOM", "RESOURCE"):
            skipped_rooms += 1
            continue
        address = _address(value)
        if address is not None and address in own:
            continue
        if address is not None and address in seen:
            continue  # an organizer listed as an attendee too stays the recruiter
        name = _name(value, address)
        if name is None:
            continue
        if address is not None:
            seen.add(address)
            if _NO_REPLY.match(address):
                words.append(f"{name}: a no-reply address, left out ({address}).")
                address = None
        people.append(InvitePerson(name=name, email=address, role=role))
    if len(people) > MAX_PEOPLE:
        raise _invalid(
            "ATTENDEE",
            f"the invite lists {len(people)} people besides you; an interview takes at most "
            f"{MAX_PEOPLE}",
        )
    recruiters = sum(1 for p in people if p.role is Role.RECRUITER)
    interviewers = len(people) - recruiters
    summary = []
    if recruiters:
        summary.append("the organizer as recruiter")
    if interviewers:
        summary.append(
            "1 attendee as interviewer"
            if interviewers == 1
            else f"{interviewers} attendees as interviewers"
        )
    line = "People: " + (" and ".join(summary) if summary else "nobody besides you")
    if skipped_rooms:
        line += f" ({skipped_rooms} room{'s' if skipped_rooms != 1 else ''} left out)"
    return people, [line + ".", *words]


# --- company, role, location ----------------------------------------------------------------


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" -–—:|\"'")


def _company_and_role(event: Event, people: list[InvitePerson]) -> tuple[str, str, str]:
    summary = _clean(_TITLE_PREFIX.sub("", _text(event.get("SUMMARY"))))
    for pattern in (_ROLE_AT_COMPANY, _COMPANY_DASH_ROLE):
        match = pattern.match(summary)
        if match:
            company, role = _clean(match["company"]), _clean(match["role"])
            if company and role and not re.fullmatch(_INTERVIEW_WORDS, role, re.IGNORECASE):
                return company[:_NAME_MAX], role[:_NAME_MAX], "Company and role: from the title."
    found = _company_from_addresses(event, people)
    match = _COMPANY_INTERVIEW.match(summary)
    if match and (named := _clean(match["company"])):
        # "Acme interview" names the company; "Product Designer interview" from someone at
        # pied-piper.example names the role.
        if found is None or _squashed(found)[:4] in _squashed(named):
            return (
                named[:_NAME_MAX],
                summary[:_NAME_MAX],
                "Company: from the title; role: the title (check it).",
            )
        return (
            found,
            named[:_NAME_MAX],
            "Company: from the email addresses in the invite; role: from the title.",
        )
    role = summary[:_NAME_MAX] or "Interview"
    if found is None:
        return "Unknown company", role, "Company: not in the invite (fill it in); role: the title."
    return found, role, "Company: from the email addresses in the invite; role: the title."


def _squashed(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _company_from_addresses(event: Event, people: list[InvitePerson]) -> str | None:
    organizer = event.get("ORGANIZER")
    addresses = [_address(organizer)] if organizer is not None else []
    addresses += [p.email for p in people]
    for address in addresses:
        if not address:
            continue
        domain = address.rsplit("@", 1)[1]
        if domain in _NOT_AN_EMPLOYER or any(domain.endswith("." + d) for d in _NOT_AN_EMPLOYER):
            continue
        labels = domain.split(".")
        # The label before the public suffix: talent.acme.com -> Acme, acme.co.uk -> Acme.
        core = labels[-3] if len(labels) >= 3 and len(labels[-2]) <= 3 else labels[-2]
        if len(labels) < 2 or not core:
            continue
        return " ".join(word[:1].upper() + word[1:] for word in core.split("-"))[:_NAME_MAX]
    return None


def _location(event: Event) -> tuple[str | None, str | None]:
    location = _text(event.get("LOCATION"))
    if location:
        return location[:_LOCATION_MAX], "Location: from the invite's location."
    for prop in ("URL", "DESCRIPTION"):
        found = _MEETING_LINK.search(_text(event.get(prop)))
        if found:
            link = found.group(0).rstrip(".,;>")
            where = "link" if prop == "URL" else "description"
            return link[:_LOCATION_MAX], f"Location: the meeting link in the invite's {where}."
    return None, None
