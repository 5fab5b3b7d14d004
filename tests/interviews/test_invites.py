"""Calendar invites in: each invite of the fixture corpus becomes the interview a person reading
it would record; updates, cancellations and older copies of an invite do what they say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import create_interview

INVITES = Path(__file__).resolve().parent.parent / "fixtures" / "invites"
URL = "/api/v1/interviews/import-invite"


def invite(name: str) -> bytes:
    return (INVITES / name).read_bytes()


def media_of(name: str) -> str:
    return "message/rfc822" if name.endswith(".eml") else "text/calendar"


async def send(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    name: str,
    *,
    dry_run: bool = False,
    expected: int | None = None,
) -> httpx.Response:
    response = await client.post(
        URL,
        content=invite(name),
        headers={**headers, "Content-Type": media_of(name)},
        params={"dry_run": "true"} if dry_run else {},
    )
    if expected is not None:
        assert response.status_code == expected, response.text
    return response


def people(interview: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(p["name"], p["email"], p["role"]) for p in interview["people"]]


def thank_yous(interview: dict[str, Any]) -> list[str]:
    return [f["recipient_name"] for f in interview["followups"] if f["kind"] == "thank_you"]


# Each fixture and the interview it must give (the user is jane@example.com, in UTC).
EXPECTED: dict[str, dict[str, Any]] = {
    "google_calendar.ics": {
        "company": "Acme",
        "role": "Backend Engineer",
        "starts_at": "2026-12-03T13:00:00Z",  # 14:00 Europe/Berlin
        "duration_minutes": 60,
        "location": "https://meet.google.com/abc-defg-hij",
        "people": [
            ("Rita Recruiter", "rita@acme.example", "recruiter"),
            ("Ann Lee", "ann.lee@acme.example", "interviewer"),
            ("Bob Stone", "bob.stone@acme.example", "interviewer"),
        ],
        "invite_sequence": 0,
    },
    "google_floating.ics": {  # floating, read in the calendar's X-WR-TIMEZONE
        "company": "Initech",
        "role": "Support Engineer",
        "starts_at": "2026-12-04T15:30:00Z",  # 10:30 America/New_York
        "duration_minutes": 45,
        "location": None,
        "people": [("Priya Patel", "priya.patel@initech.example", "recruiter")],
        "invite_sequence": 0,
    },
    "outlook.ics": {  # Windows zone name with its VTIMEZONE; Teams in LOCATION
        "company": "Globex",
        "role": "Staff Engineer",
        "starts_at": "2026-12-08T18:00:00Z",  # 10:00 Pacific
        "duration_minutes": 75,
        "location": "Microsoft Teams Meeting",
        "people": [
            ("Carla Gomez", "carla.gomez@globex.example", "recruiter"),
            ("Dev Sharma", "dev.sharma@globex.example", "interviewer"),
            ("Erin Walsh", "erin.walsh@globex.example", "interviewer"),
        ],
        "invite_sequence": 0,
    },
    "outlook_windows_zone.ics": {  # a Windows zone name and no VTIMEZONE
        "company": "Hooli",
        "role": "Platform Engineer",
        "starts_at": "2026-12-07T08:30:00Z",  # 09:30 W. Europe
        "duration_minutes": 60,
        "location": "Hooli Campus, Gebäude 2, Raum 2.14",
        "people": [
            ("Lukas Berger", "lukas.berger@hooli.example", "recruiter"),
            ("Mia Schulz", "mia.schulz@hooli.example", "interviewer"),
        ],
        "invite_sequence": 0,
    },
    "teams.eml": {  # an Outlook email: the text/calendar part, base64; the link in DESCRIPTION
        "company": "Initrode",
        "role": "Initrode interview",
        "starts_at": "2026-12-14T11:00:00Z",  # GMT Standard Time in winter
        "duration_minutes": 45,
        "location": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_ZmYxMjM0%40thread.v2/0"
        "?context=%7b%22Tid%22%3a%22def%22%7d",
        "people": [
            ("Grace Kim", "grace.kim@initrode.example", "recruiter"),
            ("Henry Ford", "henry.ford@initrode.example", "interviewer"),
        ],
        "invite_sequence": 0,
    },
    "zoom.ics": {  # UTC; the Zoom link in DESCRIPTION; the company from the organizer
        "company": "Pied Piper",
        "role": "Product Designer",
        "starts_at": "2026-12-10T17:00:00Z",
        "duration_minutes": 45,
        "location": "https://us02web.zoom.us/j/87654321098?pwd=QWxhZGRpbjpvcGVuIHNlc2FtZQ.1",
        "people": [
            ("Nadia Okafor", "nadia@pied-piper.example", "recruiter"),
            ("Tom Reyes", "tom.reyes@pied-piper.example", "interviewer"),
        ],
        "invite_sequence": 0,
    },
    "greenhouse.ics": {  # an ATS: a no-reply organizer is thanked by name, never written to
        "company": "Umbrella Corp",
        "role": "Data Scientist",
        "starts_at": "2026-12-11T19:00:00Z",  # 13:00 Chicago
        "duration_minutes": 210,
        "location": "Umbrella Corp HQ, 500 W Madison St, Chicago, IL — ask for Reception on 12",
        "people": [
            ("Umbrella Corp Recruiting", None, "recruiter"),
            ("Oscar Nunez", "oscar.nunez@umbrella.example", "interviewer"),
            ("Kim Park", "kim.park@umbrella.example", "interviewer"),
            ("Luis Ortega", "luis.ortega@umbrella.example", "interviewer"),
        ],
        "invite_sequence": 0,
    },
    "calendly.ics": {  # DURATION; the link in DESCRIPTION; the company from an attendee
        "company": "Vandelay",
        "role": "30 Minute Meeting between Jane Doe and Sam Rivera",
        "starts_at": "2026-12-02T16:00:00Z",
        "duration_minutes": 30,
        "location": "https://meet.google.com/xyz-abcd-efg",
        "people": [
            ("Calendly", None, "recruiter"),
            ("Sam Rivera", "sam.rivera@vandelay.example", "interviewer"),
        ],
        "invite_sequence": 0,
    },
    "goodtime.eml": {  # an .ics attached to an email; SEQUENCE 3; a Webex link
        "company": "Soylent",
        "role": "Site Reliability Engineer",
        "starts_at": "2026-12-15T14:00:00Z",
        "duration_minutes": 60,
        "location": "https://soylent.webex.com/meet/kwame.mensah",
        "people": [
            ("Soylent Talent Team", None, "recruiter"),
            ("Kwame Mensah", "kwame.mensah@soylent.example", "interviewer"),
            ("Olga Ivanova", "olga.ivanova@soylent.example", "interviewer"),
        ],
        "invite_sequence": 3,
    },
    "floating.ics": {  # Apple Calendar, floating: read in the user's zone (UTC here)
        "company": "Wayne Enterprises",
        "role": "Wayne Enterprises interview",
        "starts_at": "2026-12-16T09:00:00Z",
        "duration_minutes": 30,
        "location": "Wayne Tower, 1007 Mountain Drive",
        "people": [
            ("Alfred Pennyworth", "alfred@wayne.example", "recruiter"),
            ("Lucius Fox", "lucius.fox@wayne.example", "interviewer"),
        ],
        "invite_sequence": 0,
    },
    "dst_gap.ics": {  # 02:30 does not exist in New York that night: moved forward by the gap
        "company": "Tyrell",
        "role": "Replicant Designer",
        "starts_at": "2027-03-14T07:30:00Z",  # 03:30 EDT
        "duration_minutes": 30,  # to 04:00 EDT, in elapsed time
        "location": None,
        "people": [("Rachael Tyrell", "rachael@tyrell.example", "recruiter")],
        "invite_sequence": 0,
    },
    "room_resource.ics": {  # rooms and resources are not people; the organizer stays recruiter
        "company": "Stark Industries",
        "role": "Robotics Engineer",
        "starts_at": "2026-12-17T15:00:00Z",
        "duration_minutes": 60,
        "location": "NYC-12-Ironworks (8) [Zoom Room]",
        "people": [
            ("Stark Recruiting", "pepper.potts@stark.example", "recruiter"),
            ("Happy Hogan", "happy.hogan@stark.example", "interviewer"),
        ],
        "invite_sequence": 0,
    },
}

BROKEN = {
    "all_day.ics": ("DTSTART", "all-day"),
    "recurring.ics": ("RRULE", "recurring"),
    "no_vevent.ics": ("VEVENT", "no VEVENT"),
    "garbage.ics": ("VCALENDAR", "not a readable iCalendar file"),
    "unknown_zone.ics": ("DTSTART", "unknown time zone 'Customized Time Zone 1'"),
    "sixty_attendees.ics": ("ATTENDEE", "at most 50"),
}


def test_every_fixture_has_its_expected_interview() -> None:
    on_disk = {p.name for p in INVITES.iterdir() if p.suffix in (".ics", ".eml")}
    updates = {"outlook_update.ics", "outlook_cancel.ics"}  # tested as a sequence below
    assert on_disk == set(EXPECTED) | set(BROKEN) | updates


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_an_invite_becomes_the_interview_it_describes(
    client: httpx.AsyncClient, jane: dict[str, str], name: str
) -> None:
    response = await send(client, jane, name, expected=201)
    interview = response.json()
    assert response.headers["location"] == f"/api/v1/interviews/{interview['id']}"
    want = EXPECTED[name]
    got = {key: interview[key] for key in want if key != "people"}
    assert got == {key: value for key, value in want.items() if key != "people"}
    assert people(interview) == want["people"]
    assert interview["outcome"] == "pending"
    assert interview["invite_uid"]
    interviewers = [n for n, _e, role in want["people"] if role == "interviewer"]
    assert sorted(thank_yous(interview)) == sorted(interviewers or [want["people"][0][0]])
    stored = await client.get(f"/api/v1/interviews/{interview['id']}", headers=jane)
    assert stored.json() == interview


@pytest.mark.parametrize("name", sorted(BROKEN))
async def test_a_broken_invite_is_a_422_naming_what_is_wrong(
    client: httpx.AsyncClient, jane: dict[str, str], name: str
) -> None:
    response = await send(client, jane, name, expected=422)
    assert response.headers["content-type"] == "application/problem+json"
    prop, words = BROKEN[name]
    problem = response.json()
    assert problem["errors"][0]["loc"] == ["body", prop]
    assert words in problem["errors"][0]["msg"]
    listed = await client.get("/api/v1/interviews", headers=jane)
    assert listed.json()["items"] == []


async def test_an_invite_over_1_mb_is_a_413(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    padding = "DESCRIPTION:" + "x" * 70 + "\r\n"
    body = invite("outlook.ics").replace(b"END:VEVENT", (padding * 30_000).encode() + b"END:VEVENT")
    assert len(body) > 2_000_000
    response = await client.post(
        URL, content=body, headers={**jane, "Content-Type": "text/calendar"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_another_media_type_is_a_415(client: httpx.AsyncClient, jane: dict[str, str]) -> None:
    response = await client.post(URL, json={"ics": "BEGIN:VCALENDAR"}, headers=jane)
    assert response.status_code == 415
    assert "text/calendar" in response.json()["detail"]


async def test_an_email_without_a_calendar_part_is_a_422(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    email = b"From: a@b.example\r\nTo: jane@example.com\r\nSubject: hi\r\n\r\nNo invite here.\r\n"
    response = await client.post(
        URL, content=email, headers={**jane, "Content-Type": "message/rfc822"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "message"]


async def test_a_multipart_upload_or_pasted_text_in_file_works_like_the_body(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    uploaded = await client.post(
        URL,
        files={"file": ("invite.eml", invite("teams.eml"), "message/rfc822")},
        headers=jane,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["company"] == "Initrode"
    pasted = await client.post(
        URL, data={"file": invite("zoom.ics").decode()}, files={"other": ("x", b"")}, headers=jane
    )
    assert pasted.status_code == 201, pasted.text
    assert pasted.json()["company"] == "Pied Piper"
    empty = await client.post(
        URL, files={"file": ("invite.ics", b"", "text/calendar")}, headers=jane
    )
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["loc"] == ["body", "file"]


async def test_the_users_own_address_is_never_a_person_in_any_case(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = (await send(client, jane, "goodtime.eml", expected=201)).json()  # JANE@EXAMPLE.COM
    assert all(p["email"] != "jane@example.com" for p in interview["people"])
    assert "Jane Doe" not in [p["name"] for p in interview["people"]]


async def test_a_floating_time_is_read_in_the_users_time_zone(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    moved = await client.patch("/api/v1/me", json={"timezone": "Europe/Paris"}, headers=jane)
    assert moved.status_code == 200
    interview = (await send(client, jane, "floating.ics", expected=201)).json()
    assert interview["starts_at"] == "2026-12-16T08:00:00Z"  # 09:00 in Paris


# Updates, older copies and cancellations


async def test_an_update_moves_the_interview_and_its_schedule_and_keeps_its_people(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    first = (await send(client, jane, "outlook.ics", expected=201)).json()
    assert sorted(thank_yous(first)) == ["Dev Sharma", "Erin Walsh"]
    check_in = next(f for f in first["followups"] if f["kind"] == "check_in")
    assert check_in["recipient_name"] == "Carla Gomez"

    again = (await send(client, jane, "outlook.ics", expected=200)).json()  # equal SEQUENCE
    assert again["id"] == first["id"]
    assert again["starts_at"] == first["starts_at"]

    updated = (await send(client, jane, "outlook_update.ics", expected=200)).json()
    assert updated["id"] == first["id"]
    assert updated["starts_at"] == "2026-12-09T23:00:00Z"  # Tue 9 Dec 15:00 Pacific
    assert updated["invite_sequence"] == 1
    assert [p["id"] for p in updated["people"]] == [p["id"] for p in first["people"]]
    moved_thanks = [f for f in updated["followups"] if f["kind"] == "thank_you"]
    assert {f["id"] for f in moved_thanks} == {
        f["id"] for f in first["followups"] if f["kind"] == "thank_you"
    }
    assert {f["not_before"] for f in moved_thanks} == {"2026-12-10T00:15:00Z"}
    new_check_in = next(f for f in updated["followups"] if f["kind"] == "check_in")
    assert new_check_in["id"] == check_in["id"]
    assert new_check_in["not_before"] > check_in["not_before"]

    listed = await client.get("/api/v1/interviews", headers=jane)
    assert len(listed.json()["items"]) == 1


async def test_an_older_sequence_is_a_409_and_changes_nothing(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    await send(client, jane, "outlook.ics", expected=201)
    updated = (await send(client, jane, "outlook_update.ics", expected=200)).json()
    stale = await send(client, jane, "outlook.ics", expected=409)
    assert stale.headers["content-type"] == "application/problem+json"
    assert "SEQUENCE 0" in stale.json()["detail"] and "SEQUENCE 1" in stale.json()["detail"]
    after = await client.get(f"/api/v1/interviews/{updated['id']}", headers=jane)
    assert after.json() == updated


async def test_a_person_matched_by_email_keeps_the_role_and_the_sent_thank_you(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    first = (await send(client, jane, "outlook.ics", expected=201)).json()
    carla, dev, erin = first["people"]
    changed = await client.patch(
        f"/api/v1/interviews/{first['id']}",
        json={
            "people": [
                {**carla, "role": "hiring_manager", "title": "Head of Platform"},
                dev,
                erin,
                {"name": "Zoe Hand", "role": "hr"},  # added by hand, no address
            ]
        },
        headers=jane,
    )
    assert changed.status_code == 200, changed.text
    thanks_dev = next(f for f in changed.json()["followups"] if f["recipient_name"] == "Dev Sharma")
    sent = await client.patch(
        f"/api/v1/followups/{thanks_dev['id']}",
        json={"status": "sent", "sent_at": "2026-11-25T11:00:00Z"},
        headers=jane,
    )
    assert sent.status_code == 200, sent.text

    updated = (await send(client, jane, "outlook_update.ics", expected=200)).json()
    assert [(p["id"], p["role"], p["title"]) for p in updated["people"]] == [
        (carla["id"], "hiring_manager", "Head of Platform"),
        (dev["id"], "interviewer", None),
        (erin["id"], "interviewer", None),
        (changed.json()["people"][3]["id"], "hr", None),
    ]
    still_sent = next(f for f in updated["followups"] if f["id"] == thanks_dev["id"])
    assert still_sent["status"] == "sent"
    assert still_sent["sent_at"] == "2026-11-25T11:00:00Z"


async def test_a_cancellation_cancels_every_follow_up_and_pending_restores_them(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    first = (await send(client, jane, "outlook.ics", expected=201)).json()
    cancelled = (await send(client, jane, "outlook_cancel.ics", expected=200)).json()
    assert cancelled["id"] == first["id"]
    assert cancelled["outcome"] == "cancelled"
    assert {f["status"] for f in cancelled["followups"]} == {"cancelled"}
    assert len(cancelled["followups"]) == 3

    back = await client.patch(
        f"/api/v1/interviews/{first['id']}", json={"outcome": "pending"}, headers=jane
    )
    assert back.status_code == 200
    assert {f["status"] for f in back.json()["followups"]} == {"scheduled"}


async def test_the_cancelled_outcome_works_by_patch_too_custom_follow_ups_included(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    custom = await client.post(
        f"/api/v1/interviews/{interview['id']}/followups",
        json={
            "subject": "Portfolio link",
            "body": "Here it is.",
            "not_before": "2026-12-02T09:00:00Z",
            "due_at": "2026-12-03T09:00:00Z",
        },
        headers=jane,
    )
    assert custom.status_code == 201, custom.text
    cancelled = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"outcome": "cancelled"}, headers=jane
    )
    assert cancelled.status_code == 200
    assert {f["status"] for f in cancelled.json()["followups"]} == {"cancelled"}
    listed = await client.get("/api/v1/interviews", params={"outcome": "cancelled"}, headers=jane)
    assert [i["id"] for i in listed.json()["items"]] == [interview["id"]]
    back = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"outcome": "pending"}, headers=jane
    )
    assert {f["status"] for f in back.json()["followups"]} == {"scheduled"}


async def test_a_cancellation_of_an_unknown_invite_records_it_cancelled(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = (await send(client, jane, "outlook_cancel.ics", expected=201)).json()
    assert interview["outcome"] == "cancelled"
    assert {f["status"] for f in interview["followups"]} == {"cancelled"}


async def test_an_update_after_a_cancellation_puts_the_interview_back_on(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    await send(client, jane, "outlook.ics", expected=201)
    await send(client, jane, "outlook_cancel.ics", expected=200)
    on_again = invite("outlook_update.ics").replace(b"SEQUENCE:1", b"SEQUENCE:3")
    response = await client.post(
        URL, content=on_again, headers={**jane, "Content-Type": "text/calendar"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "pending"
    assert {f["status"] for f in response.json()["followups"]} == {"scheduled"}


# Dry runs


async def test_a_dry_run_answers_the_interview_and_its_plan_and_saves_nothing(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    preview = (await send(client, jane, "outlook.ics", dry_run=True, expected=200)).json()
    assert preview["company"] == "Globex"
    assert sorted(thank_yous(preview)) == ["Dev Sharma", "Erin Walsh"]
    listed = await client.get("/api/v1/interviews", headers=jane)
    assert listed.json()["items"] == []
    missing = await client.get(f"/api/v1/interviews/{preview['id']}", headers=jane)
    assert missing.status_code == 404


async def test_a_dry_run_of_an_update_shows_the_new_time_and_changes_nothing(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    first = (await send(client, jane, "outlook.ics", expected=201)).json()
    preview = (await send(client, jane, "outlook_update.ics", dry_run=True, expected=200)).json()
    assert preview["id"] == first["id"]
    assert preview["starts_at"] == "2026-12-09T23:00:00Z"
    stored = await client.get(f"/api/v1/interviews/{first['id']}", headers=jane)
    assert stored.json() == first
    stale = await send(client, jane, "outlook.ics", dry_run=True, expected=200)
    assert stale.json()["starts_at"] == first["starts_at"]


async def test_a_retry_with_the_same_idempotency_key_makes_nothing_twice(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    headers = {**jane, "Content-Type": "text/calendar", "Idempotency-Key": "invite-1"}
    first = await client.post(URL, content=invite("zoom.ics"), headers=headers)
    again = await client.post(URL, content=invite("zoom.ics"), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()


async def test_creating_a_second_interview_for_the_same_invite_uid_is_a_409(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    imported = (await send(client, jane, "zoom.ics", expected=201)).json()
    response = await client.post(
        "/api/v1/interviews",
        json={
            "company": "Pied Piper",
            "role": "Product Designer",
            "starts_at": "2026-12-10T17:00:00Z",
            "invite_uid": imported["invite_uid"],
            "invite_sequence": 0,
        },
        headers=jane,
    )
    assert response.status_code == 409
    assert "import the invite again" in response.json()["detail"]


async def test_the_same_invite_recorded_twice_at_once_is_a_409_that_writes_nothing(
    client: httpx.AsyncClient, jane: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.interviews import repository

    imported = (await send(client, jane, "zoom.ics", expected=201)).json()

    async def not_seen_yet(*_args: object) -> None:
        return None  # the other request's row is not committed when this one looks

    monkeypatch.setattr(repository, "find_by_invite", not_seen_yet)
    response = await client.post(
        "/api/v1/interviews",
        json={
            "company": "Pied Piper",
            "role": "Product Designer",
            "starts_at": "2026-12-10T17:00:00Z",
            "people": [{"name": "Ann Lee", "email": "ann@example.com", "role": "interviewer"}],
            "invite_uid": imported["invite_uid"],
        },
        headers=jane,
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "An interview from this calendar invite was just recorded."
    listed = (await client.get("/api/v1/interviews", headers=jane)).json()["items"]
    assert [i["id"] for i in listed] == [imported["id"]]
    followups = (await client.get("/api/v1/followups", headers=jane)).json()["items"]
    assert {f["interview_id"] for f in followups} == {imported["id"]}


async def test_another_users_import_of_the_same_invite_is_their_own(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    from tests.helpers import user_headers

    ann = await user_headers(client, "ann.lee@acme.example", "Ann Lee")
    mine = (await send(client, jane, "google_calendar.ics", expected=201)).json()
    theirs = (await send(client, ann, "google_calendar.ics", expected=201)).json()
    assert theirs["id"] != mine["id"]
    # Ann's own address is hers: she met Rita and Bob (and Jane, who is an attendee for her).
    assert [p["name"] for p in theirs["people"]] == ["Rita Recruiter", "Bob Stone", "Jane Doe"]
