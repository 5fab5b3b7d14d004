"""Shared templates: who may publish and delete, placeholder checks, preview, and adopting
one into your own templates (unedited drafts follow it, edited ones keep their words)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app import clock
from tests.group.factories import Member, followups_of, interview, mark, member

WARM = {
    "kind": "thank_you",
    "name": "Short and warm",
    "subject": "Thank you, {recipient_first_name}!",
    "body": "Hi {recipient_first_name},\n\nThanks for talking about {highlight}.\n\n{sender_name}",
}


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> Member:
    return await member(client, "Ada Admin")  # the first account


@pytest.fixture
async def mia(client: httpx.AsyncClient, admin: Member) -> Member:
    return await member(client, "Mia Member")


async def publish(client: httpx.AsyncClient, who: Member, **overrides: Any) -> httpx.Response:
    return await client.post(
        "/api/v1/group/templates", json={**WARM, **overrides}, headers=who.headers
    )


async def allow_members(client: httpx.AsyncClient, admin: Member, allowed: bool) -> None:
    response = await client.patch(
        "/api/v1/group/settings", json={"members_may_publish": allowed}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["members_may_publish"] is allowed


async def listed(client: httpx.AsyncClient, who: Member) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/group/templates", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def test_a_member_may_not_publish_until_the_admin_allows_it(
    client: httpx.AsyncClient, admin: Member, mia: Member
) -> None:
    settings = (await client.get("/api/v1/group/settings", headers=mia.headers)).json()
    assert settings == {
        "members_may_publish": False,
        "you_may_publish": False,
        "you_are_admin": False,
    }
    refused = await publish(client, mia)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert await listed(client, mia) == []

    await allow_members(client, admin, True)
    published = await publish(client, mia)
    assert published.status_code == 201, published.text
    assert published.json()["author"] == "Mia Member"

    await allow_members(client, admin, False)
    assert (await publish(client, mia, name="Another")).status_code == 403
    assert [t["name"] for t in await listed(client, admin)] == ["Short and warm"]


async def test_an_admin_may_always_publish(client: httpx.AsyncClient, admin: Member) -> None:
    published = await publish(client, admin)
    assert published.status_code == 201, published.text
    body = published.json()
    assert {k: body[k] for k in WARM} == WARM
    assert body["author"] == "Ada Admin" and body["can_delete"] is True


async def test_only_an_admin_changes_who_may_publish(
    client: httpx.AsyncClient, admin: Member, mia: Member
) -> None:
    refused = await client.patch(
        "/api/v1/group/settings", json={"members_may_publish": True}, headers=mia.headers
    )
    assert refused.status_code == 403
    still = (await client.get("/api/v1/group/settings", headers=admin.headers)).json()
    assert still["members_may_publish"] is False
    bad = await client.patch(
        "/api/v1/group/settings", json={"members_may_publish": "yes"}, headers=admin.headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "members_may_publish"]


@pytest.mark.parametrize(
    ("field", "text"),
    [("subject", "Thanks {first_name}"), ("body", "Hi {recipient_first_name}, {{ok}} {salary}")],
)
async def test_an_unknown_placeholder_is_a_422_naming_the_field_and_nothing_is_published(
    client: httpx.AsyncClient, admin: Member, field: str, text: str
) -> None:
    response = await publish(client, admin, **{field: text})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", field]
    assert await listed(client, admin) == []


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"kind": "custom"}, ["body", "kind"]),
        ({"name": ""}, ["body", "name"]),
        ({"subject": "x" * 301}, ["body", "subject"]),
        ({"body": ""}, ["body", "body"]),
    ],
)
async def test_invalid_fields_are_422s_naming_them(
    client: httpx.AsyncClient, admin: Member, overrides: dict[str, Any], loc: list[str]
) -> None:
    response = await publish(client, admin, **overrides)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == loc


async def test_its_author_or_an_admin_may_delete_a_template_and_nobody_else(
    client: httpx.AsyncClient, admin: Member, mia: Member
) -> None:
    await allow_members(client, admin, True)
    leo = await member(client, "Leo Member")
    mine = (await publish(client, mia, name="Mia's")).json()
    other = (await publish(client, mia, name="Mia's second")).json()
    assert [t["can_delete"] for t in await listed(client, leo)] == [False, False]

    refused = await client.delete(f"/api/v1/group/templates/{mine['id']}", headers=leo.headers)
    assert refused.status_code == 403
    assert len(await listed(client, leo)) == 2
    by_author = await client.delete(f"/api/v1/group/templates/{mine['id']}", headers=mia.headers)
    assert by_author.status_code == 204
    by_admin = await client.delete(f"/api/v1/group/templates/{other['id']}", headers=admin.headers)
    assert by_admin.status_code == 204
    assert await listed(client, leo) == []
    gone = await client.delete(f"/api/v1/group/templates/{mine['id']}", headers=admin.headers)
    assert gone.status_code == 404


async def test_a_template_is_previewed_with_sample_values_and_you_as_the_sender(
    client: httpx.AsyncClient, admin: Member, mia: Member
) -> None:
    template = (await publish(client, admin)).json()
    response = await client.get(
        f"/api/v1/group/templates/{template['id']}/preview", headers=mia.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "kind": "thank_you",
        "subject": "Thank you, Ann!",
        "body": "Hi Ann,\n\nThanks for talking about the event-sourcing migration.\n\nMia Member",
    }
    fragment = await client.get(
        f"/api/v1/group/templates/{template['id']}/preview",
        headers={**mia.headers, "HX-Request": "true"},
    )
    assert "Thank you, Ann!" in fragment.text and "Mia Member" in fragment.text
    unknown = await client.get(
        "/api/v1/group/templates/00000000-0000-0000-0000-000000000000/preview",
        headers=mia.headers,
    )
    assert unknown.status_code == 404


async def test_adopting_rewrites_unedited_drafts_and_leaves_edited_ones(
    client: httpx.AsyncClient, admin: Member, mia: Member
) -> None:
    template = (await publish(client, admin)).json()
    starts = clock.now() + timedelta(days=3)
    made = await interview(
        client,
        mia,
        starts,
        highlight="the billing migration",
        people=[
            {"name": "Ann Lee", "role": "interviewer"},
            {"name": "Carl Diaz", "role": "interviewer"},
        ],
    )
    ann, carl = followups_of(made, "thank_you")
    await mark(client, mia, carl, subject="My own words", body="Dear Carl, as I wrote.")
    (check_in,) = followups_of(made, "check_in")

    adopted = await client.post(
        f"/api/v1/group/templates/{template['id']}/adopt", headers=mia.headers
    )
    assert adopted.status_code == 200, adopted.text
    mine = adopted.json()["templates"]
    assert mine["thank_you_subject"] == WARM["subject"] and mine["thank_you_body"] == WARM["body"]
    assert mine["check_in_subject"] is None and mine["check_in_body"] is None

    after = (await client.get(f"/api/v1/interviews/{made['id']}", headers=mia.headers)).json()
    by_id = {f["id"]: f for f in after["followups"]}
    assert by_id[ann["id"]]["subject"] == "Thank you, Ann!"
    assert "Thanks for talking about the billing migration." in by_id[ann["id"]]["body"]
    assert by_id[carl["id"]]["subject"] == "My own words"
    assert by_id[carl["id"]]["body"] == "Dear Carl, as I wrote."
    assert by_id[check_in["id"]]["subject"] == check_in["subject"]  # another kind: untouched


async def test_adopting_a_check_in_fills_only_the_check_in_templates(
    client: httpx.AsyncClient, admin: Member, mia: Member
) -> None:
    template = (
        await publish(
            client,
            admin,
            kind="check_in",
            name="Gentle nudge",
            subject="Checking in on {role}",
            body="Hello {recipient_first_name}, any news?",
        )
    ).json()
    response = await client.post(
        f"/api/v1/group/templates/{template['id']}/adopt", headers=mia.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["templates"] == {
        "thank_you_subject": None,
        "thank_you_body": None,
        "check_in_subject": "Checking in on {role}",
        "check_in_body": "Hello {recipient_first_name}, any news?",
    }


async def test_a_deleted_template_stays_with_those_who_adopted_it(
    client: httpx.AsyncClient, admin: Member, mia: Member
) -> None:
    template = (await publish(client, admin)).json()
    await client.post(f"/api/v1/group/templates/{template['id']}/adopt", headers=mia.headers)
    await client.delete(f"/api/v1/group/templates/{template['id']}", headers=admin.headers)
    me = (await client.get("/api/v1/me", headers=mia.headers)).json()
    assert me["templates"]["thank_you_subject"] == WARM["subject"]


async def test_templates_are_listed_newest_first_a_page_at_a_time(
    client: httpx.AsyncClient, admin: Member
) -> None:
    for n in range(3):
        assert (await publish(client, admin, name=f"T{n}")).status_code == 201
    first = await client.get("/api/v1/group/templates", params={"limit": 2}, headers=admin.headers)
    page = first.json()
    assert [t["name"] for t in page["items"]] == ["T2", "T1"]
    second = await client.get(
        "/api/v1/group/templates",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=admin.headers,
    )
    assert [t["name"] for t in second.json()["items"]] == ["T0"]
    assert second.json()["next_cursor"] is None
    garbage = await client.get(
        "/api/v1/group/templates", params={"cursor": "nope"}, headers=admin.headers
    )
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["loc"] == ["query", "cursor"]


async def test_publishing_with_an_idempotency_key_makes_one_template(
    client: httpx.AsyncClient, admin: Member
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "publish-1"}
    first = await client.post("/api/v1/group/templates", json=WARM, headers=headers)
    again = await client.post("/api/v1/group/templates", json=WARM, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert len(await listed(client, admin)) == 1
