"""Isolation: on every route that takes an id, another user's id is a 404 that changes nothing
(on the admin's routes, a member gets a 403 before any lookup, whoever's the id).

The routes come from the app's own OpenAPI document, so a route added later is covered
without anyone remembering to list it, and one with an id this file cannot fill fails."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from app.main import create_app
from tests.helpers import PASSWORD, create_interview, make_settings, register

PATH_PARAMETER = re.compile(r"\{(\w+)\}")
DOCUMENT = create_app(make_settings("sqlite:///:memory:")).openapi()
# The calendar feed's path holds a secret, not an object id: whoever has the URL reads the
# feed by design (calendar apps send no credentials). tests/calendar covers its secrecy.
SECRET_URLS = {"/calendar/{feed_token}.ics"}
# Templates published to the group belong to everyone in it by design: any member previews
# and adopts them, only the author or an admin deletes them (403 to others, since the list
# shows them to all). test_a_shared_template_is_the_groups_but_only_its_author_deletes_it
# below covers these routes.
SHARED_WITH_THE_GROUP = {
    "/api/v1/group/templates/{template_id}",
    "/api/v1/group/templates/{template_id}/preview",
    "/api/v1/group/templates/{template_id}/adopt",
}
ROUTES_WITH_IDS = sorted(
    (method.upper(), path)
    for path, operations in DOCUMENT["paths"].items()
    if PATH_PARAMETER.search(path) and path not in SECRET_URLS | SHARED_WITH_THE_GROUP
    for method in operations
)

# Pages (left out of the document) with an id: each gets the same treatment below.
PAGE_ROUTES_WITH_IDS = sorted(
    (method, route.path_format)
    for route in iter_route_contexts(create_app(make_settings("sqlite:///:memory:")).routes)
    if PATH_PARAMETER.search(route.path_format or "")
    and not getattr(route, "include_in_schema", True)
    for method in sorted(route.methods or [])
    if method != "HEAD"
)

# A plausible, valid body per request schema, so a 404 is about whose object it is and not
# about the body. Schemas not listed get `{}`.
BODIES: dict[str, dict[str, Any]] = {
    "InterviewUpdate": {"notes": "x"},
    "FollowupUpdate": {"status": "sent"},
    "FollowupCreate": {"subject": "One more thing", "due_at": "2030-06-10T12:00:00Z"},
    "MemberUpdate": {"is_active": False},
}
# Operations for admins only: Bob, a member, is refused them whatever the id (tests/admin
# checks the boundary on every admin operation, with and without ids).
ADMIN_PREFIX = "/api/v1/admin/"


@dataclass
class Alice:
    headers: dict[str, str]
    ids: dict[str, str]  # path parameter name -> one of Alice's ids


async def new_token(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await client.post("/api/v1/tokens", json={"name": "tests"}, auth=(email, PASSWORD))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def alice_with_an_interview(client: httpx.AsyncClient) -> Alice:
    """Alice (the instance's admin), her token, an invite she made, and an interview with
    people, generated and custom follow-ups."""
    alice = await register(client, "alice@example.com", "Alice Adams")
    token = await new_token(client, "alice@example.com")
    headers = {"Authorization": f"Bearer {token['token']}"}
    # Far ahead, so nothing time-derived (`due_state`) moves while the test runs.
    interview = await create_interview(client, headers, starts_at="2030-06-03T10:00:00+02:00")
    assert interview["people"] and interview["followups"]
    custom = await client.post(
        f"/api/v1/interviews/{interview['id']}/followups",
        json={"subject": "Portfolio link", "due_at": "2030-06-20T12:00:00Z"},
        headers=headers,
    )
    assert custom.status_code == 201, custom.text
    # A public address literal: saving it needs no DNS.
    webhook = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/hook", "events": ["followup.sent"]},
        headers=headers,
    )
    assert webhook.status_code == 201, webhook.text
    invite = await client.post("/api/v1/admin/invites", json={}, headers=headers)
    assert invite.status_code == 201, invite.text
    return Alice(
        headers=headers,
        ids={
            "interview_id": interview["id"],
            "followup_id": interview["followups"][0]["id"],
            "token_id": token["id"],
            "webhook_id": webhook.json()["id"],
            "user_id": alice["id"],
            "invite_id": invite.json()["id"],
        },
    )


async def bob(client: httpx.AsyncClient) -> dict[str, str]:
    await register(client, "bob@example.com", "Bob Brown")
    token = await new_token(client, "bob@example.com")
    return {"Authorization": f"Bearer {token['token']}"}


async def everything_of(client: httpx.AsyncClient, alice: Alice) -> dict[str, Any]:
    """All Alice can see of her data, as she sees it (with the ETags of single objects)."""
    seen: dict[str, Any] = {}
    interview = await client.get(
        f"/api/v1/interviews/{alice.ids['interview_id']}", headers=alice.headers
    )
    assert interview.status_code == 200, interview.text
    seen["interview"] = (interview.json(), interview.headers["etag"])
    for followup in interview.json()["followups"]:
        one = await client.get(f"/api/v1/followups/{followup['id']}", headers=alice.headers)
        assert one.status_code == 200, one.text
        seen[f"followup {followup['id']}"] = (one.json(), one.headers["etag"])
    webhook = f"/api/v1/webhooks/{alice.ids['webhook_id']}/deliveries"
    for path in (
        "/api/v1/interviews",
        "/api/v1/followups",
        "/api/v1/tokens",
        "/api/v1/me",
        "/api/v1/webhooks",
        webhook,
        "/api/v1/admin/users",
        "/api/v1/admin/invites",
    ):
        listed = await client.get(path, headers=alice.headers)
        assert listed.status_code == 200, listed.text
        seen[path] = listed.json()
    return seen


def request_body(method: str, path: str) -> dict[str, Any] | None:
    operation = DOCUMENT["paths"][path][method.lower()]
    if "requestBody" not in operation:
        return None
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return BODIES.get(schema.get("$ref", "").rsplit("/", 1)[-1], {})


def with_ids(path: str, ids: dict[str, str], method: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(
                f"{method} {path}: no way to fill {{{name}}} with another user's id; "
                "teach alice_with_an_interview() to make one"
            )
        return ids[name]

    return PATH_PARAMETER.sub(fill, path)


def test_routes_with_ids_are_found_in_the_openapi_document() -> None:
    assert ("GET", "/api/v1/interviews/{interview_id}") in ROUTES_WITH_IDS
    assert ("DELETE", "/api/v1/tokens/{token_id}") in ROUTES_WITH_IDS
    assert ("PATCH", "/api/v1/followups/{followup_id}") in ROUTES_WITH_IDS


def test_every_route_with_an_id_is_in_the_openapi_document() -> None:
    # A route left out of the document (a page, say) would escape the test below.
    routes = list(iter_route_contexts(create_app(make_settings("sqlite:///:memory:")).routes))
    with_ids = [r for r in routes if PATH_PARAMETER.search(r.path_format or "")]
    assert {r.path_format for r in with_ids} - SECRET_URLS - SHARED_WITH_THE_GROUP >= {
        p for _m, p in ROUTES_WITH_IDS
    }
    hidden = {
        (method, r.path_format)
        for r in with_ids
        if not getattr(r, "include_in_schema", False)
        for method in r.methods or []
        if method != "HEAD"
    }
    assert hidden <= set(PAGE_ROUTES_WITH_IDS), "cover these routes in tests/test_isolation.py"


@pytest.mark.parametrize(
    ("method", "path"), ROUTES_WITH_IDS, ids=[" ".join(r) for r in ROUTES_WITH_IDS]
)
async def test_another_users_id_is_a_404_that_changes_nothing(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    alice = await alice_with_an_interview(client)
    bob_headers = await bob(client)
    before = await everything_of(client, alice)

    headers = dict(bob_headers)
    if method in ("PATCH", "DELETE"):
        headers["If-Match"] = "*"  # a precondition that any version meets
    body = request_body(method, path)
    response = await client.request(
        method, with_ids(path, alice.ids, method), json=body, headers=headers
    )

    status = 403 if path.startswith(ADMIN_PREFIX) else 404
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    # Alice's id answers exactly like an id nobody has: nothing tells Bob it exists.
    unknown = {name: str(uuid.uuid4()) for name in alice.ids}
    nobodys = await client.request(
        method, with_ids(path, unknown, method), json=body, headers=headers
    )
    assert (nobodys.status_code, nobodys.json()) == (status, response.json())

    assert await everything_of(client, alice) == before
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 200


async def test_lists_show_nothing_of_another_user(client: httpx.AsyncClient) -> None:
    alice = await alice_with_an_interview(client)
    bob_headers = await bob(client)
    await create_interview(client, bob_headers, company="Bob's own")

    interviews = (await client.get("/api/v1/interviews", headers=bob_headers)).json()["items"]
    followups = (await client.get("/api/v1/followups", headers=bob_headers)).json()["items"]
    tokens = (await client.get("/api/v1/tokens", headers=bob_headers)).json()

    assert [i["company"] for i in interviews] == ["Bob's own"]
    assert followups and {f["interview_id"] for f in followups} == {interviews[0]["id"]}
    assert alice.ids["token_id"] not in {t["id"] for t in tokens} and len(tokens) == 1
    filtered = await client.get(
        "/api/v1/followups",
        params={"interview_id": alice.ids["interview_id"]},
        headers=bob_headers,
    )
    assert filtered.status_code == 200 and filtered.json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path"), PAGE_ROUTES_WITH_IDS, ids=[" ".join(r) for r in PAGE_ROUTES_WITH_IDS]
)
async def test_another_users_id_on_a_page_is_a_404_that_shows_nothing(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    alice = await alice_with_an_interview(client)
    headers = {**(await bob(client)), "Accept": "text/html"}
    before = await everything_of(client, alice)
    response = await client.request(method, with_ids(path, alice.ids, method), headers=headers)
    assert response.status_code == 404, response.text
    assert "Acme Corp" not in response.text and "Ann Lee" not in response.text
    assert await everything_of(client, alice) == before


async def test_an_export_holds_nothing_of_another_user_and_an_import_touches_only_its_account(
    client: httpx.AsyncClient,
) -> None:
    alice = await alice_with_an_interview(client)
    bob_headers = await bob(client)
    await create_interview(client, bob_headers, company="Bob's own")
    before = await everything_of(client, alice)

    exported = await client.get("/api/v1/export", headers=bob_headers)
    assert [i["company"] for i in exported.json()["interviews"]] == ["Bob's own"]
    assert not any(value in exported.text for value in alice.ids.values())
    # Bob's document names Alice's ids: the import still writes only into Bob's account.
    document = exported.json()
    document["interviews"][0]["id"] = alice.ids["interview_id"]
    document["interviews"][0]["followups"][0]["id"] = alice.ids["followup_id"]
    imported = await client.post(
        "/api/v1/import", json=document, headers=bob_headers, params={"profile": "true"}
    )
    assert imported.status_code == 201, imported.text
    assert alice.ids["interview_id"] not in imported.text
    assert await everything_of(client, alice) == before


async def test_a_shared_template_is_the_groups_but_only_its_author_deletes_it(
    client: httpx.AsyncClient,
) -> None:
    alice = await alice_with_an_interview(client)  # the first account: an admin
    bob_headers = await bob(client)
    published = await client.post(
        "/api/v1/group/templates",
        json={"kind": "check_in", "name": "Nudge", "subject": "News?", "body": "Any news?"},
        headers=alice.headers,
    )
    assert published.status_code == 201, published.text
    template = f"/api/v1/group/templates/{published.json()['id']}"
    before = await everything_of(client, alice)

    assert (await client.get(f"{template}/preview", headers=bob_headers)).status_code == 200
    assert (await client.post(f"{template}/adopt", headers=bob_headers)).status_code == 200
    refused = await client.delete(template, headers=bob_headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    listed = await client.get("/api/v1/group/templates", headers=bob_headers)
    assert [t["name"] for t in listed.json()["items"]] == ["Nudge"]
    # Adopting copied the words into Bob's own templates; Alice's data did not move.
    assert await everything_of(client, alice) == before
    unknown = f"/api/v1/group/templates/{uuid.uuid4()}"
    for method, path in (
        ("GET", f"{unknown}/preview"),
        ("POST", f"{unknown}/adopt"),
        ("DELETE", unknown),
    ):
        response = await client.request(method, path, headers=bob_headers)
        assert response.status_code == 404, (method, path)


async def test_the_board_shows_nothing_of_a_member_who_shares_nothing(
    client: httpx.AsyncClient,
) -> None:
    await alice_with_an_interview(client)
    bob_headers = await bob(client)
    seen = await client.get("/api/v1/group/board", headers=bob_headers)
    assert seen.status_code == 200
    assert seen.json()["members"] == [] and seen.json()["members_not_sharing"] == 2
    assert "Alice" not in seen.text and "Acme" not in seen.text
