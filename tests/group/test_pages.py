"""The Group page and the Settings choice of what to share, as a browser with htmx sees
them (no real browser; tests/browser/test_group.py drives one)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import httpx

from app import clock
from tests.group.factories import followups_of, interview, mark, member
from tests.helpers import register, sign_in

HTML = {"Accept": "text/html"}


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


async def signed_in(client: httpx.AsyncClient, email: str, name: str) -> str:
    await register(client, email, name)
    return await sign_in(client, email)


async def test_the_group_page_needs_signing_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/group", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_with_nobody_sharing_the_page_explains_how_to_share(
    client: httpx.AsyncClient,
) -> None:
    await signed_in(client, "jane@example.com", "Jane Doe")
    page = await client.get("/group", headers=HTML)
    assert page.status_code == 200
    assert 'id="board-empty"' in page.text
    assert "Settings → Group board" in page.text
    board = page.text.split("<main", 1)[1].split('id="group-templates"')[0]
    assert "<svg" not in board  # no chart (the header's logo is an SVG too)
    assert 'aria-current="page">Group</a>' in page.text


async def test_the_page_draws_the_weeks_as_an_accessible_svg_without_inline_styles(
    client: httpx.AsyncClient,
) -> None:
    sam = await member(client, "Sam Sharer", sharing="counts")
    made = await interview(client, sam, clock.now() - timedelta(days=1))
    (thanks,) = followups_of(made, "thank_you")
    await mark(client, sam, thanks, status="sent")
    await signed_in(client, "vic@example.com", "Vic Viewer")

    page = await client.get("/group", headers=HTML)
    assert page.status_code == 200
    tags = Tags(page.text).tags
    assert not [t for t, attrs in tags if "style" in attrs], "the CSP forbids style attributes"
    assert not [t for t, _attrs in tags if t in ("style", "script") and _attrs.get("src") is None]
    (svg,) = [attrs for tag, attrs in tags if tag == "svg" and attrs.get("role") == "img"]
    assert svg["aria-labelledby"] == "chart-title chart-desc"
    assert "Follow-ups sent by the group per week" in page.text
    on_time = [attrs for tag, attrs in tags if tag == "rect" and attrs.get("class") == "on-time"]
    assert len(on_time) == 1 and float(on_time[0]["height"] or 0) > 0
    assert re.search(r"Week of \d+ \w+: 1 on time, 0 late", page.text)
    assert "Sam Sharer" in page.text and "1 member shares nothing." in page.text
    assert "Vic Viewer" not in page.text.split("<main")[1].split("Shared templates")[0]


async def test_the_weeks_links_change_the_board(client: httpx.AsyncClient) -> None:
    await member(client, "Sam Sharer", sharing="counts")
    await signed_in(client, "vic@example.com", "Vic Viewer")
    page = await client.get("/group", params={"weeks": 4}, headers=HTML)
    assert "Momentum, last 4 weeks" in page.text
    assert page.text.count('<g class="bar">') == 4
    too_many = await client.get("/group", params={"weeks": 27}, headers=HTML)
    assert too_many.status_code == 422


async def test_choosing_what_to_share_in_settings(client: httpx.AsyncClient) -> None:
    csrf = await signed_in(client, "jane@example.com", "Jane Doe")
    settings = await client.get("/settings", headers=HTML)
    assert 'id="settings-sharing"' in settings.text
    for text in ("Nothing", "Counts only", "Counts and company names"):
        assert text in settings.text
    assert re.search(r'value="none"[^>]*checked', settings.text)

    saved = await client.patch(
        "/api/v1/me",
        json={"board_sharing": "companies"},
        headers={"HX-Request": "true", "HX-Target": "settings-sharing", "X-CSRF-Token": csrf},
    )
    assert saved.status_code == 200, saved.text
    assert re.search(r'value="companies"[^>]*checked', saved.text)
    assert "Saved." in saved.text
    assert (await client.get("/api/v1/me")).json()["board_sharing"] == "companies"


async def test_board_sharing_is_one_of_three_values_and_never_null(
    client: httpx.AsyncClient,
) -> None:
    who = await member(client, "Jane Doe")
    me = (await client.get("/api/v1/me", headers=who.headers)).json()
    assert me["board_sharing"] == "none"
    for value in ("everything", None, 1):
        response = await client.patch(
            "/api/v1/me", json={"board_sharing": value}, headers=who.headers
        )
        assert response.status_code == 422, value
        assert response.json()["errors"][0]["loc"] == ["body", "board_sharing"]
    me = (await client.get("/api/v1/me", headers=who.headers)).json()
    assert me["board_sharing"] == "none"


async def test_the_admin_sees_the_publish_switch_and_a_member_does_not(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client, "ada@example.com", "Ada Admin")
    page = await client.get("/group", headers=HTML)
    assert 'id="members_may_publish"' in page.text and "Publish to the group" in page.text
    switched = await client.patch(
        "/api/v1/group/settings",
        json={"members_may_publish": True},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert switched.status_code == 200 and 'id="group-templates"' in switched.text
    await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})

    await signed_in(client, "mia@example.com", "Mia Member")
    page = await client.get("/group", headers=HTML)
    assert 'id="members_may_publish"' not in page.text
    assert "Publish to the group" in page.text  # allowed now


async def test_publishing_from_the_page_answers_with_the_list_and_errors_name_the_field(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client, "ada@example.com", "Ada Admin")
    htmx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    bad = await client.post(
        "/api/v1/group/templates",
        json={"kind": "thank_you", "name": "Oops", "subject": "Hi {nope}", "body": "x"},
        headers=htmx,
    )
    assert bad.status_code == 422
    assert 'id="error-subject"' in bad.text
    good = await client.post(
        "/api/v1/group/templates",
        json={"kind": "thank_you", "name": "Warm", "subject": "Thanks", "body": "Thank you."},
        headers=htmx,
    )
    assert good.status_code == 201
    assert "Warm" in good.text and "Published “Warm” to the group." in good.text
