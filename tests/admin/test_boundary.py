"""The admin boundary: every admin operation refuses members (403) and the signed-out (401).

The operations come from the app's own OpenAPI document (every path under /api/v1/admin),
so an admin endpoint added later is covered without anyone remembering to list it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.admin.conftest import Account, account
from tests.helpers import client_of, make_settings, sign_in

DOCUMENT = create_app(make_settings("sqlite:///:memory:")).openapi()
ADMIN_OPERATIONS = sorted(
    (method.upper(), path)
    for path, operations in DOCUMENT["paths"].items()
    if path.startswith("/api/v1/admin/")
    for method in operations
)
PATH_PARAMETER = re.compile(r"\{(\w+)\}")
# A valid body per request schema, so a refusal is about who asks, not about the body.
BODIES: dict[str, dict[str, Any]] = {
    "MemberUpdate": {"is_admin": True},
    "InviteCreate": {"note": "for me", "expires_in_days": 7},
}


def test_the_admin_operations_are_found_in_the_openapi_document() -> None:
    assert ("GET", "/api/v1/admin/users") in ADMIN_OPERATIONS
    assert ("POST", "/api/v1/admin/invites") in ADMIN_OPERATIONS
    assert len(ADMIN_OPERATIONS) >= 6


def test_every_admin_operation_documents_401_and_403() -> None:
    for method, path in ADMIN_OPERATIONS:
        responses = DOCUMENT["paths"][path][method.lower()]["responses"]
        assert {"401", "403"} <= set(responses), (method, path)


def body_of(method: str, path: str) -> dict[str, Any] | None:
    operation = DOCUMENT["paths"][path][method.lower()]
    if "requestBody" not in operation:
        return None
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return BODIES.get(schema.get("$ref", "").rsplit("/", 1)[-1], {})


async def real_ids(client: httpx.AsyncClient, admin: Account) -> dict[str, str]:
    """Ids of objects that exist, so a refusal cannot be a 404 in disguise."""
    invite = await client.post("/api/v1/admin/invites", json={}, headers=admin.headers)
    assert invite.status_code == 201, invite.text
    return {"user_id": admin.id, "invite_id": invite.json()["id"]}


def filled(path: str, ids: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in ids:
            pytest.fail(f"{path}: teach real_ids() to make a {{{match.group(1)}}}")
        return ids[match.group(1)]

    return PATH_PARAMETER.sub(fill, path)


async def everything_the_admin_sees(client: httpx.AsyncClient, admin: Account) -> Any:
    users = await client.get("/api/v1/admin/users", headers=admin.headers)
    invites = await client.get("/api/v1/admin/invites", headers=admin.headers)
    return users.json(), invites.json()


@pytest.mark.parametrize(
    ("method", "path"), ADMIN_OPERATIONS, ids=[" ".join(op) for op in ADMIN_OPERATIONS]
)
async def test_a_member_is_refused_every_admin_operation_with_a_403(
    app: Any, client: httpx.AsyncClient, method: str, path: str
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    ids = await real_ids(client, admin)
    before = await everything_the_admin_sees(client, admin)
    url, body = filled(path, ids), body_of(method, path)

    by_token = await client.request(method, url, json=body, headers=member.headers)
    async with client_of(app) as browser:
        csrf = {"X-CSRF-Token": await sign_in(browser, member.email)}
        by_session = await browser.request(method, url, json=body, headers=csrf)

    for response in (by_token, by_session):
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 403
    assert await everything_the_admin_sees(client, admin) == before


@pytest.mark.parametrize(
    ("method", "path"), ADMIN_OPERATIONS, ids=[" ".join(op) for op in ADMIN_OPERATIONS]
)
async def test_the_signed_out_are_refused_every_admin_operation_with_a_401(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    ids = await real_ids(client, admin)
    before = await everything_the_admin_sees(client, admin)
    response = await client.request(method, filled(path, ids), json=body_of(method, path))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await everything_the_admin_sees(client, admin) == before


async def test_the_admin_page_is_a_403_page_to_a_member_and_absent_from_their_nav(
    app: Any, client: httpx.AsyncClient
) -> None:
    await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    async with client_of(app) as browser:
        await sign_in(browser, member.email)
        page = await browser.get("/admin", headers={"Accept": "text/html"})
        assert page.status_code == 403
        assert page.headers["content-type"].startswith("text/html")
        assert "ada@example.com" not in page.text
        today = await browser.get("/", headers={"Accept": "text/html"})
        assert 'href="/admin"' not in today.text


async def test_the_admin_page_lists_members_and_invites_and_is_in_the_admins_nav(
    app: Any, client: httpx.AsyncClient
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    await account(client, "bob@example.com", "Bob Member")
    await client.post("/api/v1/admin/invites", json={"note": "Dana"}, headers=admin.headers)
    async with client_of(app) as browser:
        await sign_in(browser, admin.email)
        page = await browser.get("/admin", headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        assert "bob@example.com" in page.text and "Dana" in page.text
        assert 'href="/admin"' in page.text
        signed_out = await client.get("/admin", headers={"Accept": "text/html"})
        assert signed_out.status_code == 303
        assert signed_out.headers["location"].startswith("/login")
