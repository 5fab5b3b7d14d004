"""The calendar feed: a secret URL per user, rotatable, serving scheduled follow-ups."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from icalendar import Calendar

from app import clock
from tests.helpers import create_interview, user_headers


async def feed_path(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    me = (await client.get("/api/v1/me", headers=headers)).json()
    url: str = me["calendar_url"]
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
    return url.removeprefix("http://testserver")


async def test_the_feed_lists_scheduled_follow_ups_and_upcoming_interviews(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    starts = clock.now() + timedelta(days=2)
    interview = await create_interview(
        client, jane, company="Acme; Corp, \\Ltd", starts_at=starts.isoformat(), location="HQ"
    )
    thank_you, check_in = interview["followups"]
    await client.patch(
        f"/api/v1/followups/{check_in['id']}", json={"status": "skipped"}, headers=jane
    )
    response = await client.get(await feed_path(client, jane))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "max-age" in response.headers["cache-control"]
    assert b"Acme\\; Corp\\, \\\\Ltd" in response.content  # RFC 5545 text escaping

    events = Calendar.from_ical(response.content).walk("VEVENT")
    summaries = sorted(str(e["SUMMARY"]) for e in events)
    assert summaries == [
        "Interview: Backend Engineer at Acme; Corp, \\Ltd",
        "Thank-you note to Ann Lee (Acme; Corp, \\Ltd)",
    ]
    note = next(e for e in events if str(e["SUMMARY"]).startswith("Thank-you"))
    sent_from = datetime.fromisoformat(thank_you["not_before"]).replace(microsecond=0)
    assert note.decoded("DTSTART") == sent_from
    assert f"/followups/{thank_you['id']}" in str(note["URL"])
    assert note.walk("VALARM"), "each follow-up reminds"


async def test_polling_with_the_etag_is_a_304(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    await create_interview(client, jane)
    path = await feed_path(client, jane)
    first = await client.get(path)
    again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


async def test_a_new_feed_url_makes_the_old_one_a_404(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    old = await feed_path(client, jane)
    rotated = await client.post("/api/v1/me/calendar-token", headers=jane)
    assert rotated.status_code == 200
    new = rotated.json()["calendar_url"].removeprefix("http://testserver")
    assert new != old
    assert (await client.get(old)).status_code == 404
    assert (await client.get(new)).status_code == 200


async def test_forged_and_other_users_feed_urls_are_404(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    bob = await user_headers(client, "bob@example.com", "Bob")
    jane_path = await feed_path(client, jane)
    bob_path = await feed_path(client, bob)
    jane_secret = jane_path.removeprefix("/calendar/").removesuffix(".ics")
    bob_secret = bob_path.removeprefix("/calendar/").removesuffix(".ics")
    forged = f"/calendar/{bob_secret[:32]}{jane_secret[32:]}.ics"
    for path in (forged, "/calendar/nonsense.ics", f"/calendar/{jane_secret[:-1]}x.ics"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


async def test_the_feed_url_is_not_stored(client: httpx.AsyncClient, jane: dict[str, str]) -> None:
    from sqlalchemy import text

    secret = (await feed_path(client, jane)).removeprefix("/calendar/").removesuffix(".ics")
    async with client._transport.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        rows = (await connection.execute(text("SELECT * FROM users"))).all()
    assert secret[32:] not in repr(rows)


async def test_settings_shows_the_feed_link_and_makes_a_new_one_in_place(
    client: httpx.AsyncClient,
) -> None:
    from tests.test_web import HTMX, browser_session

    csrf = await browser_session(client)
    page = await client.get("/settings")
    old = (await client.get("/api/v1/me")).json()["calendar_url"]
    assert old in page.text and "New calendar link" in page.text
    fragment = await client.post("/api/v1/me/calendar-token", headers={**csrf, **HTMX})
    assert fragment.status_code == 200
    assert '<div id="calendar-feed">' in fragment.text and old not in fragment.text
    assert "the old one no longer works" in fragment.text


async def test_a_retried_rotation_answers_the_new_url_and_rotates_once(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    retry = {**jane, "Idempotency-Key": "rotate-1"}
    first = await client.post("/api/v1/me/calendar-token", headers=retry)
    again = await client.post("/api/v1/me/calendar-token", headers=retry)
    assert first.status_code == again.status_code == 200
    url = first.json()["calendar_url"]
    assert again.json()["calendar_url"] == url
    assert (await client.get("/api/v1/me", headers=jane)).json()["calendar_url"] == url
