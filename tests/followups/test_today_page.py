"""Today's page over HTTP: the week's counter, Coming up by day, *Add email* on a card with
no address, and the Undo of a snooze putting the follow-up back as it was."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app import clock
from tests.helpers import create_interview, sign_in
from tests.helpers import register as register_user

HTMX = {"HX-Request": "true", "HX-Target": "today"}


async def signed_in(client: httpx.AsyncClient, timezone: str | None = None) -> dict[str, str]:
    """A browser-like session (the cookie stays in `client`); the CSRF header."""
    await register_user(client, "jane@example.com")
    csrf = {"X-CSRF-Token": await sign_in(client)}
    if timezone is not None:
        response = await client.patch("/api/v1/me", json={"timezone": timezone}, headers=csrf)
        assert response.status_code == 200, response.text
    return csrf


async def patch(
    client: httpx.AsyncClient, csrf: dict[str, str], followup_id: str, **changes: Any
) -> httpx.Response:
    response = await client.patch(f"/api/v1/followups/{followup_id}", json=changes, headers=csrf)
    assert response.status_code == 200, response.text
    return response


def week_count(page: str) -> str:
    found = re.search(r'<p class="week" id="week-count">([^<]*)</p>', page)
    assert found, "no week counter"
    return found.group(1)


async def test_the_week_counter_counts_what_went_out_since_monday_and_what_was_on_time(
    client: httpx.AsyncClient,
) -> None:
    # Auckland is ahead of UTC: its Monday starts on Sunday, UTC.
    tz = ZoneInfo("Pacific/Auckland")
    csrf = await signed_in(client, "Pacific/Auckland")
    now = clock.now()
    local_today = now.astimezone(tz).date()
    monday = datetime.combine(
        local_today - timedelta(days=local_today.weekday()), time(0), tzinfo=tz
    ).astimezone(UTC)

    people = [
        {"name": f"P{n}", "email": f"p{n}@example.com", "role": "interviewer"} for n in range(3)
    ]
    # Ended 3 hours ago: the thank-yous are due for two more days.
    fresh = await create_interview(
        client, csrf, starts_at=(now - timedelta(hours=4)).isoformat(), people=people
    )
    on_time, last_week, at_monday = fresh["followups"][:3]
    await patch(client, csrf, on_time["id"], status="sent")  # now, within its window
    # Before this week's Monday (in Auckland): not counted.
    before = (monday - timedelta(minutes=1)).isoformat()
    await patch(client, csrf, last_week["id"], status="sent", sent_at=before)
    # At the very start of Monday in Auckland (still Sunday in UTC): counted.
    await patch(client, csrf, at_monday["id"], status="sent", sent_at=monday.isoformat())
    page = await client.get("/")
    assert week_count(page.text) == "2 sent this week · 2 on time"


async def test_a_follow_up_sent_after_its_due_time_is_sent_but_not_on_time(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client)
    now = clock.now()
    # Ended five days ago: the thank-you was due three days ago (48 hours after the end).
    old = await create_interview(client, csrf, starts_at=(now - timedelta(days=5)).isoformat())
    thank_you = next(f for f in old["followups"] if f["kind"] == "thank_you")
    await patch(client, csrf, thank_you["id"], status="sent")
    page = await client.get("/")
    assert week_count(page.text) == "1 sent this week · 0 on time"
    # A check-in marked sent before its due time is on time.
    check_in = next(f for f in old["followups"] if f["kind"] == "check_in")
    await patch(client, csrf, check_in["id"], status="sent")
    page = await client.get("/")
    assert week_count(page.text) == "2 sent this week · 1 on time"


async def test_coming_up_is_grouped_under_a_heading_per_day_in_the_users_zone(
    client: httpx.AsyncClient,
) -> None:
    tz = ZoneInfo("America/New_York")
    csrf = await signed_in(client, "America/New_York")
    now = clock.now()
    tomorrow_noon = datetime.combine(
        now.astimezone(tz).date() + timedelta(days=1), time(12), tzinfo=tz
    )
    interview = await create_interview(client, csrf, starts_at=tomorrow_noon.isoformat())
    check_in = next(f for f in interview["followups"] if f["kind"] == "check_in")
    check_in_day = datetime.fromisoformat(check_in["not_before"]).astimezone(tz).date()
    expected = f"{check_in_day.strftime('%A')} {check_in_day.day} {check_in_day.strftime('%B')}"
    if check_in_day.year != now.astimezone(tz).year:
        expected += f" {check_in_day.year}"

    page = (await client.get("/")).text
    upcoming = page[page.index('id="upcoming-list"') :]
    headings = re.findall(r"<h3>([^<]*)</h3>", upcoming)
    assert headings == ["Tomorrow", expected]
    # Each card sits under its day: the thank-you under Tomorrow, the check-in under its day.
    tomorrow = upcoming[upcoming.index("<h3>Tomorrow</h3>") : upcoming.index(f"<h3>{expected}")]
    assert "Thank-you note to Ann Lee" in tomorrow and "Check-in" not in tomorrow
    assert f'id="followup-{check_in["id"]}"' in upcoming[upcoming.index(f"<h3>{expected}") :]


async def test_a_card_with_no_address_offers_add_email_where_the_address_is_added(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client)
    started = (clock.now() - timedelta(hours=3)).isoformat()
    interview = await create_interview(
        client,
        csrf,
        starts_at=started,
        people=[
            {"name": "Ann Lee", "role": "interviewer"},
            {"name": "Bob Stone", "email": "bob@example.com", "role": "recruiter"},
        ],
    )
    ann = next(p for p in interview["people"] if p["name"] == "Ann Lee")
    thank_you = next(f for f in interview["followups"] if f["kind"] == "thank_you")
    page = (await client.get("/")).text
    card = re.search(
        rf'<li class="card followup" id="followup-{thank_you["id"]}".*?</li>', page, re.S
    )
    assert card, page
    url = f"/interviews/{interview['id']}/edit?person={ann['id']}"
    assert f'href="{url}" aria-label="Add email for thank-you to Ann Lee">Add email</a>' in (
        card.group(0)
    )
    assert "Open in mail" not in card.group(0)
    assert 'data-copy-mailto="mailto:?subject=' in card.group(0)  # Copy still has the draft

    form = (await client.get(url)).text
    email_input = re.search(r'<input id="people-0-email"[^>]*>', form)
    assert email_input and "autofocus" in email_input.group(0)
    assert "autofocus" not in re.search(r'<input id="people-1-email"[^>]*>', form).group(0)  # type: ignore[union-attr]

    # The card of the recruiter's check-in (with an address) keeps *Open in mail*.
    check_in = next(f for f in interview["followups"] if f["kind"] == "check_in")
    fragment = (await client.get(f"/api/v1/followups/{check_in['id']}", headers=HTMX)).text
    assert "Add email" not in fragment


async def test_undo_of_a_snooze_puts_the_times_back_and_clears_snoozed(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client)
    started = (clock.now() - timedelta(hours=3)).isoformat()
    interview = await create_interview(client, csrf, starts_at=started)
    thank_you = next(f for f in interview["followups"] if f["kind"] == "thank_you")
    assert thank_you["snoozed"] is False

    async def snooze_then_undo(not_before: datetime) -> dict[str, Any]:
        snoozed = await client.patch(
            f"/api/v1/followups/{thank_you['id']}",
            json={"not_before": not_before.isoformat()},
            headers={**csrf, **HTMX},
        )
        assert snoozed.status_code == 200, snoozed.text
        undo = re.search(r"hx-vals='([^']*)'[^>]*>Undo</button>", snoozed.text)
        assert undo, snoozed.text
        moved = (await client.get(f"/api/v1/followups/{thank_you['id']}")).json()
        assert moved["snoozed"] is True
        back = await patch(
            client, csrf, thank_you["id"], **json.loads(html.unescape(undo.group(1)))
        )
        return back.json()  # type: ignore[no-any-return]

    back = await snooze_then_undo(clock.now() + timedelta(days=1))
    assert (back["not_before"], back["due_at"]) == (thank_you["not_before"], thank_you["due_at"])
    assert back["snoozed"] is False
    # Following the schedule again: moving the interview moves it.
    later = (clock.now() - timedelta(hours=2)).isoformat()
    moved = await client.patch(
        f"/api/v1/interviews/{interview['id']}", json={"starts_at": later}, headers=csrf
    )
    moved_thank_you = next(f for f in moved.json()["followups"] if f["id"] == thank_you["id"])
    assert moved_thank_you["not_before"] != thank_you["not_before"]

    # One already snoozed stays snoozed after undoing a second snooze: as it was before it.
    first = await patch(
        client, csrf, thank_you["id"], not_before=(clock.now() + timedelta(hours=5)).isoformat()
    )
    thank_you = first.json()
    back = await snooze_then_undo(clock.now() + timedelta(days=1))
    assert (back["not_before"], back["due_at"]) == (thank_you["not_before"], thank_you["due_at"])
    assert back["snoozed"] is True
