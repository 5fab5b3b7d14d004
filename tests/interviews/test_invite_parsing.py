"""Reading invites, as a property: any invite the `icalendar` package can write comes back as
the same start instant and the same attendees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event, vCalAddress

from app.followups.schedule import Role
from app.interviews.invites import parse_invite

OWN = "jane@example.com"
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
WINDOWS_ZONES = {
    "Pacific Standard Time": "America/Los_Angeles",
    "Tokyo Standard Time": "Asia/Tokyo",
}

# iCalendar times are to the second.
local_times = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)
addresses = st.from_regex(
    r"[a-z][a-z0-9_]{0,7}(\.[a-z0-9]{1,7})?@[a-z]{1,10}\.example", fullmatch=True
)
names = st.text(
    # Without a backslash: icalendar 7.3 does not read back a parameter value it wrote with one.
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\\"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s.strip("\"'") == s)  # quotes and spaces around a CN: not the name


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    return address


@settings(max_examples=150, deadline=None)
@given(
    wall=local_times,
    zone=st.sampled_from([*ZONES, *WINDOWS_ZONES, "floating", "Z"]),
    minutes=st.integers(min_value=1, max_value=1440),
    organizer=st.tuples(addresses, names),
    attendees=st.lists(st.tuples(addresses, names), max_size=12),
    with_me=st.booleans(),
)
def test_any_invite_icalendar_writes_round_trips_to_its_instant_and_attendees(
    wall: datetime,
    zone: str,
    minutes: int,
    organizer: tuple[str, str],
    attendees: list[tuple[str, str]],
    with_me: bool,
) -> None:
    user_tz = ZoneInfo("Europe/Paris")
    event = Event()
    event.add("UID", "round-trip@example.com")
    event.add("SUMMARY", "Interview: Backend Engineer at Acme")
    if zone == "floating":
        start, expected = wall, wall.replace(tzinfo=user_tz).astimezone(UTC)
    elif zone == "Z":
        start = wall.replace(tzinfo=UTC)
        expected = start
    else:
        start = wall.replace(tzinfo=ZoneInfo(WINDOWS_ZONES.get(zone, zone)))
        # iCalendar has no fold: a repeated wall time is its first occurrence, a skipped one
        # moves forward by the gap (fold=0 either way).
        expected = start.replace(fold=0).astimezone(UTC)
    event.add("DTSTART", start)
    event.add("DURATION", timedelta(minutes=minutes))
    if zone in WINDOWS_ZONES:
        event["DTSTART"].params["TZID"] = zone
    event.add("ORGANIZER", _address(*organizer))
    for email, name in attendees + ([(OWN, "Jane Doe")] if with_me else []):
        event.add("ATTENDEE", _address(email, name))
    calendar = Calendar()
    calendar.add("PRODID", "-//round trip//EN")
    calendar.add("VERSION", "2.0")
    calendar.add_component(event)
    if zone not in ("floating", "Z", *WINDOWS_ZONES):
        calendar.add_missing_timezones()

    parsed = parse_invite(calendar.to_ical(), own_addresses={OWN}, default_tz=user_tz)

    assert parsed.starts_at == expected
    assert parsed.duration_minutes == minutes
    wanted = {organizer[0]} | {email for email, _name in attendees}
    wanted.discard(OWN)
    assert {p.email for p in parsed.people} == wanted
    organizer_person = [p for p in parsed.people if p.role is Role.RECRUITER]
    if organizer[0] != OWN:
        assert [(p.email, p.name) for p in organizer_person] == [organizer]
    by_email = {email: name for email, name in reversed(attendees)}
    for person in parsed.people:
        if person.role is Role.INTERVIEWER:
            assert person.name == by_email[person.email]  # CN, the first listing of the address
