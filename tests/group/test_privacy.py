"""The board's privacy matrix: for each sharing level, exactly what another member (and an
admin) sees, and that nothing else of a member leaks through the API or the page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.deps import get_now
from tests.group.factories import Member, board, followups_of, interview, mark, member

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
MEMBER_KEYS = {"display_name", "sharing", "is_you", "streak", "weeks", "totals"}
WEEK_KEYS = {
    "starts_on",
    "interviews",
    "thank_yous_sent",
    "thank_yous_on_time",
    "thank_yous_on_time_share",
    "check_ins_sent",
    "check_ins_on_time",
    "companies",
}


def secrets_of(level: str) -> dict[str, str]:
    """A marker per private field of a member sharing `level`; none may ever be shown."""
    return {
        field: f"zq{field.replace('_', '')}{level}x"
        for field in (
            "role",
            "stage",
            "location",
            "notes",
            "highlight",
            "excitement",
            "person_name",
            "person_email",
            "person_title",
            "subject",
            "body",
            "email",
        )
    }


async def secretive_member(client: httpx.AsyncClient, name: str, level: str) -> Member:
    """A member sharing `level`, with an interview this week full of private markers, a
    thank-you sent with an edited draft, and a company named after the level."""
    s = secrets_of(level)
    who = await member(client, name, sharing=level, email=f"{s['email']}@example.com")
    made = await interview(
        client,
        who,
        NOW - timedelta(days=1),
        company=f"Company-{level}",
        role=s["role"],
        stage=s["stage"],
        location=s["location"],
        notes=s["notes"],
        highlight=s["highlight"],
        excitement=s["excitement"],
        people=[
            {
                "name": s["person_name"],
                "email": f"{s['person_email']}@example.com",
                "title": s["person_title"],
                "role": "interviewer",
            }
        ],
    )
    (thanks,) = followups_of(made, "thank_you")
    await mark(client, who, thanks, subject=s["subject"], body=s["body"])
    await mark(client, who, thanks, status="sent", sent_at=NOW - timedelta(hours=2))
    return who


@pytest.fixture
async def group(app: Any, client: httpx.AsyncClient) -> dict[str, Member]:
    app.dependency_overrides[get_now] = lambda: NOW
    admin = await member(client, "Ada Admin")  # the first account: the admin
    members = {
        "admin": admin,
        "none": await secretive_member(client, "Nora None", "none"),
        "counts": await secretive_member(client, "Cora Counts", "counts"),
        "companies": await secretive_member(client, "Cami Companies", "companies"),
        "viewer": await member(client, "Vic Viewer"),
    }
    me = (await client.get("/api/v1/me", headers=admin.headers)).json()
    assert me["is_admin"] is True
    return members


def forbidden_markers() -> list[str]:
    """Everything no other member may see: all private markers of every level, and the
    companies of members who do not share them."""
    markers = [m for level in ("none", "counts", "companies") for m in secrets_of(level).values()]
    return [*markers, "Company-none", "Company-counts", "Nora None"]


def assert_no_marker(text: str, where: str) -> None:
    lowered = text.lower()
    leaked = [m for m in forbidden_markers() if m.lower() in lowered]
    assert leaked == [], f"{where} shows {leaked}"


@pytest.mark.parametrize("viewer", ["viewer", "admin"])
async def test_each_sharing_level_shows_exactly_what_it_promises(
    client: httpx.AsyncClient, group: dict[str, Member], viewer: str
) -> None:
    seen = await board(client, group[viewer])

    by_name = {m["display_name"]: m for m in seen["members"]}
    # "none" appears nowhere, the viewer and admin share nothing either: only counted.
    assert sorted(by_name) == ["Cami Companies", "Cora Counts"]
    assert seen["members_not_sharing"] == 3
    for row in seen["members"]:
        assert set(row) == MEMBER_KEYS
        for week in row["weeks"]:
            assert set(week) == WEEK_KEYS
    counts, companies = by_name["Cora Counts"], by_name["Cami Companies"]
    assert (counts["sharing"], companies["sharing"]) == ("counts", "companies")
    this_week = -1
    for row in (counts, companies):
        assert row["weeks"][this_week]["interviews"] == 1
        assert row["weeks"][this_week]["thank_yous_sent"] == 1
        assert row["weeks"][this_week]["thank_yous_on_time"] == 1
        assert row["streak"] == 1
        assert row["is_you"] is False
    # Company names only at "companies", only in the week of the interview.
    assert all(week["companies"] is None for week in counts["weeks"])
    assert companies["weeks"][this_week]["companies"] == ["Company-companies"]
    assert all(week["companies"] == [] for week in companies["weeks"][:this_week])
    assert_no_marker(json.dumps(seen), "the board's JSON")


@pytest.mark.parametrize("viewer", ["viewer", "admin"])
async def test_nothing_private_leaks_through_the_page_the_fragments_or_the_templates(
    client: httpx.AsyncClient, group: dict[str, Member], viewer: str
) -> None:
    headers = group[viewer].headers
    published = await client.post(
        "/api/v1/group/templates",
        json={
            "kind": "thank_you",
            "name": "Warm",
            "subject": "Thanks, {recipient_first_name}",
            "body": "Thank you.",
        },
        headers=group["admin"].headers,
    )
    assert published.status_code == 201, published.text
    template_id = published.json()["id"]
    answers = {
        "the /group page": await client.get("/group", headers={**headers, "Accept": "text/html"}),
        "the board fragment": await client.get(
            "/api/v1/group/board", headers={**headers, "HX-Request": "true"}
        ),
        "the board for 26 weeks": await client.get(
            "/api/v1/group/board", params={"weeks": 26}, headers=headers
        ),
        "the templates list": await client.get("/api/v1/group/templates", headers=headers),
        "the templates fragment": await client.get(
            "/api/v1/group/templates", headers={**headers, "HX-Request": "true"}
        ),
        "the template preview": await client.get(
            f"/api/v1/group/templates/{template_id}/preview", headers=headers
        ),
        "the template preview fragment": await client.get(
            f"/api/v1/group/templates/{template_id}/preview",
            headers={**headers, "HX-Request": "true"},
        ),
        "the group settings": await client.get("/api/v1/group/settings", headers=headers),
    }
    for where, response in answers.items():
        assert response.status_code == 200, (where, response.text)
        assert_no_marker(response.text, where)
    page = answers["the /group page"].text
    assert "Cora Counts" in page and "Cami Companies" in page and "Company-companies" in page
    # The author is shown by display name, never by email.
    listed = answers["the templates list"].json()["items"]
    assert [t["author"] for t in listed] == ["Ada Admin"]
    assert "ada.admin@example.com" not in answers["the templates list"].text


async def test_a_member_who_shares_sees_themselves_marked_as_such(
    client: httpx.AsyncClient, group: dict[str, Member]
) -> None:
    seen = await board(client, group["counts"])
    mine = [m for m in seen["members"] if m["is_you"]]
    assert [m["display_name"] for m in mine] == ["Cora Counts"]
    assert seen["your_sharing"] == "counts"


async def test_choosing_none_again_takes_a_member_off_the_board_at_once(
    client: httpx.AsyncClient, group: dict[str, Member]
) -> None:
    changed = await client.patch(
        "/api/v1/me", json={"board_sharing": "none"}, headers=group["companies"].headers
    )
    assert changed.status_code == 200 and changed.json()["board_sharing"] == "none"
    seen = await board(client, group["viewer"])
    assert [m["display_name"] for m in seen["members"]] == ["Cora Counts"]
    assert seen["members_not_sharing"] == 4
    assert "Company-companies" not in json.dumps(seen)
    # Group totals hold only the members shown.
    assert seen["totals"]["overall"]["interviews"] == 1


async def test_a_deactivated_member_is_neither_shown_nor_counted(
    app: Any, client: httpx.AsyncClient, group: dict[str, Member]
) -> None:
    from sqlalchemy import update

    from app.accounts.models import User

    async with app.state.sessionmaker() as session:
        await session.execute(
            update(User).where(User.display_name == "Cora Counts").values(is_active=False)
        )
        await session.commit()
    seen = await board(client, group["viewer"])
    assert [m["display_name"] for m in seen["members"]] == ["Cami Companies"]
    assert seen["members_not_sharing"] == 3
