"""The admin through the REST API: invites, members, deactivation, the admin role, resets."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app import clock
from app.deps import get_now
from tests.admin.conftest import Account, account, patch_member
from tests.helpers import PASSWORD, client_of, create_interview, sign_in, tampered


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def signup(email: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "password": PASSWORD, "display_name": email.split("@")[0], **extra}


async def new_invite(client: httpx.AsyncClient, admin: Account, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/admin/invites", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def invite_statuses(client: httpx.AsyncClient, admin: Account) -> dict[str, str]:
    listed = await client.get("/api/v1/admin/invites", headers=admin.headers)
    assert listed.status_code == 200, listed.text
    return {i["id"]: i["status"] for i in listed.json()["items"]}


# Invites


async def test_an_invite_link_admits_one_person_in_invite_mode(make_app: Any) -> None:
    async with client_of(make_app(registration="invite")) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        invite = await new_invite(client, admin, note="Dana, May cohort")

        assert re.fullmatch(r"http://testserver/register\?invite=[A-Za-z0-9_-]{32}", invite["link"])
        assert invite["link"].endswith(invite["code"])
        assert (invite["status"], invite["note"]) == ("pending", "Dana, May cohort")
        joined = await client.post(
            "/api/v1/auth/register", json=signup("dana@example.com", invite_code=invite["code"])
        )
        assert joined.status_code == 201, joined.text
        assert joined.json()["is_admin"] is False

        listed = (await client.get("/api/v1/admin/invites", headers=admin.headers)).json()
        (row,) = listed["items"]
        assert (row["status"], row["used_by"]) == ("used", joined.json()["id"])
        assert "code" not in row and "link" not in row  # shown only when created


async def test_a_used_invite_admits_nobody_else(make_app: Any) -> None:
    async with client_of(make_app(registration="invite")) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        code = (await new_invite(client, admin))["code"]
        first = await client.post(
            "/api/v1/auth/register", json=signup("dana@example.com", invite_code=code)
        )
        assert first.status_code == 201
        again = await client.post(
            "/api/v1/auth/register", json=signup("eve@example.com", invite_code=code)
        )
        assert problem(again, 422)["errors"][0]["loc"] == ["body", "invite_code"]


async def test_an_expired_invite_admits_nobody_and_is_listed_as_expired(make_app: Any) -> None:
    app = make_app(registration="invite")
    async with client_of(app) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        invite = await new_invite(client, admin, expires_in_days=1)
        later = clock.now() + timedelta(days=1, minutes=1)
        app.dependency_overrides[get_now] = lambda: later
        late = await client.post(
            "/api/v1/auth/register", json=signup("dana@example.com", invite_code=invite["code"])
        )
        assert problem(late, 422)["errors"][0]["loc"] == ["body", "invite_code"]
        assert await invite_statuses(client, admin) == {invite["id"]: "expired"}


async def test_a_wrong_invite_code_admits_nobody(make_app: Any) -> None:
    async with client_of(make_app(registration="invite")) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        code = (await new_invite(client, admin))["code"]
        wrong = await client.post(
            "/api/v1/auth/register", json=signup("dana@example.com", invite_code=tampered(code))
        )
        assert problem(wrong, 422)["errors"][0]["loc"] == ["body", "invite_code"]


async def test_a_revoked_invite_admits_nobody(make_app: Any) -> None:
    async with client_of(make_app(registration="invite")) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        invite = await new_invite(client, admin)
        revoked = await client.delete(
            f"/api/v1/admin/invites/{invite['id']}", headers=admin.headers
        )
        assert (revoked.status_code, revoked.content) == (204, b"")
        refused = await client.post(
            "/api/v1/auth/register", json=signup("dana@example.com", invite_code=invite["code"])
        )
        assert problem(refused, 422)["errors"][0]["loc"] == ["body", "invite_code"]
        assert await invite_statuses(client, admin) == {}
        again = await client.delete(f"/api/v1/admin/invites/{invite['id']}", headers=admin.headers)
        problem(again, 404)


async def test_invite_mode_admits_only_invite_holders(make_app: Any) -> None:
    async with client_of(make_app(registration="invite")) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        problem(await client.post("/api/v1/auth/register", json=signup("eve@example.com")), 403)
        code = (await new_invite(client, admin))["code"]
        held = await client.post(
            "/api/v1/auth/register", json=signup("dana@example.com", invite_code=code)
        )
        assert held.status_code == 201
        users = (await client.get("/api/v1/admin/users", headers=admin.headers)).json()["items"]
        assert [u["email"] for u in users] == ["ada@example.com", "dana@example.com"]


async def test_the_store_keeps_only_a_hash_of_an_invite_code(make_app: Any) -> None:
    app = make_app(registration="invite")
    async with client_of(app) as client:
        admin = await account(client, "ada@example.com", "Ada Admin")
        code = (await new_invite(client, admin))["code"]
    from sqlalchemy import text

    async with app.state.sessionmaker() as session:
        stored = " ".join(
            str(v)
            for row in (await session.execute(text("SELECT * FROM invites"))).all()
            for v in row
        )
    assert code not in stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 91}, "expires_in_days"),
        ({"expires_in_days": "7"}, "expires_in_days"),
        ({"note": "x" * 201}, "note"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_an_invalid_invite_is_422_naming_the_field_and_makes_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    response = await client.post("/api/v1/admin/invites", json=body, headers=admin.headers)
    assert problem(response, 422)["errors"][0]["loc"] == ["body", field]
    assert await invite_statuses(client, admin) == {}


async def test_an_invite_expires_after_the_days_asked_for(client: httpx.AsyncClient) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    invite = await new_invite(client, admin, expires_in_days=30)
    made = datetime.fromisoformat(invite["created_at"])
    assert datetime.fromisoformat(invite["expires_at"]) - made == timedelta(days=30)
    default = await new_invite(client, admin)
    made = datetime.fromisoformat(default["created_at"])
    assert datetime.fromisoformat(default["expires_at"]) - made == timedelta(days=7)


# Members


async def test_the_member_list_shows_accounts_and_nothing_of_their_data(
    client: httpx.AsyncClient,
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    await create_interview(client, member.headers, company="Secret Corp")
    response = await client.get("/api/v1/admin/users", headers=admin.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [set(u) for u in items] == [
        {"id", "email", "display_name", "is_admin", "is_active", "created_at"}
    ] * 2
    assert [(u["email"], u["is_admin"], u["is_active"]) for u in items] == [
        ("ada@example.com", True, True),
        ("bob@example.com", False, True),
    ]
    assert "Secret Corp" not in response.text and "argon2" not in response.text


async def test_the_member_list_pages_with_a_cursor(client: httpx.AsyncClient) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    for n in range(4):
        await account(client, f"m{n}@example.com", f"Member {n}")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/api/v1/admin/users", params=params, headers=admin.headers)
        ).json()
        seen += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["ada@example.com"] + [f"m{n}@example.com" for n in range(4)]
    garbage = await client.get(
        "/api/v1/admin/users", params={"cursor": "nope"}, headers=admin.headers
    )
    assert problem(garbage, 422)["errors"][0]["loc"] == ["query", "cursor"]


async def test_deactivated_member_token_and_session_are_refused_at_once(
    app: Any, client: httpx.AsyncClient
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    interview = await create_interview(client, member.headers)
    async with client_of(app) as browser:
        await sign_in(browser, member.email)
        assert (await browser.get("/api/v1/me")).status_code == 200

        response = await patch_member(client, admin, member.id, is_active=False)
        assert response.status_code == 200, response.text
        assert response.json()["is_active"] is False

        problem(await browser.get("/api/v1/me"), 401)
        problem(await client.get("/api/v1/me", headers=member.headers), 401)
        signing_in = await client.post(
            "/api/v1/auth/login", json={"email": member.email, "password": PASSWORD}
        )
        problem(signing_in, 401)

        # Their data stays, and reactivation lets them back in.
        assert (await patch_member(client, admin, member.id, is_active=True)).status_code == 200
        again = await client.get(f"/api/v1/interviews/{interview['id']}", headers=member.headers)
        assert again.status_code == 200 and again.json()["company"] == interview["company"]
        # The old session ended for good; signing in again works.
        problem(await browser.get("/api/v1/me"), 401)
        await sign_in(browser, member.email)
        assert (await browser.get("/api/v1/me")).status_code == 200


async def test_an_admin_cannot_deactivate_themselves(client: httpx.AsyncClient) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    await account(client, "bob@example.com", "Bob Member")
    refused = await patch_member(client, admin, admin.id, is_active=False)
    assert "yourself" in problem(refused, 409)["detail"]
    assert (await client.get("/api/v1/me", headers=admin.headers)).status_code == 200


async def test_the_last_admin_cannot_remove_their_own_admin_role(
    client: httpx.AsyncClient,
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    refused = await patch_member(client, admin, admin.id, is_admin=False)
    assert "last active admin" in problem(refused, 409)["detail"]
    assert (await client.get("/api/v1/me", headers=admin.headers)).json()["is_admin"] is True

    # With a second admin, stepping down is allowed, and then the admin endpoints refuse.
    assert (await patch_member(client, admin, member.id, is_admin=True)).status_code == 200
    stepped_down = await patch_member(client, admin, admin.id, is_admin=False)
    assert stepped_down.status_code == 200 and stepped_down.json()["is_admin"] is False
    problem(await client.get("/api/v1/admin/users", headers=admin.headers), 403)
    # And now Bob is the last one.
    problem(await patch_member(client, member, member.id, is_admin=False), 409)


async def test_a_deactivated_admin_does_not_count_as_the_other_admin(
    client: httpx.AsyncClient,
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    other = await account(client, "bob@example.com", "Bob Admin")
    assert (await patch_member(client, admin, other.id, is_admin=True)).status_code == 200
    assert (await patch_member(client, admin, other.id, is_active=False)).status_code == 200
    problem(await patch_member(client, admin, admin.id, is_admin=False), 409)


async def test_an_admin_can_make_a_member_admin(client: httpx.AsyncClient) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    problem(await client.get("/api/v1/admin/users", headers=member.headers), 403)
    made = await patch_member(client, admin, member.id, is_admin=True)
    assert made.status_code == 200 and made.json()["is_admin"] is True
    assert (await client.get("/api/v1/admin/users", headers=member.headers)).status_code == 200
    assert (await client.get("/api/v1/me", headers=member.headers)).json()["is_admin"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_active": None}, "is_active"),
        ({"is_admin": "yes"}, "is_admin"),
        ({"email": "x@example.com"}, "email"),
    ],
)
async def test_an_invalid_member_change_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    response = await client.patch(
        f"/api/v1/admin/users/{member.id}", json=body, headers=admin.headers
    )
    assert problem(response, 422)["errors"][0]["loc"] == ["body", field]


async def test_an_unknown_or_malformed_member_id_is_a_404(client: httpx.AsyncClient) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    for member_id in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        problem(await patch_member(client, admin, member_id, is_admin=True), 404)
        reset = await client.post(
            f"/api/v1/admin/users/{member_id}/password-reset", headers=admin.headers
        )
        problem(reset, 404)


async def test_a_stale_if_match_on_a_member_is_412_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    first = await client.patch(
        f"/api/v1/admin/users/{member.id}", json={"is_admin": True}, headers=admin.headers
    )
    etag = first.headers["etag"]
    await patch_member(client, admin, member.id, is_admin=False)
    stale = await client.patch(
        f"/api/v1/admin/users/{member.id}",
        json={"is_active": False},
        headers={**admin.headers, "If-Match": etag},
    )
    problem(stale, 412)
    assert (await client.get("/api/v1/me", headers=member.headers)).status_code == 200


# Password-reset links


async def test_an_admin_reset_link_sets_a_new_password_once(client: httpx.AsyncClient) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    response = await client.post(
        f"/api/v1/admin/users/{member.id}/password-reset", headers=admin.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user_id"] == member.id and body["emailed"] is False
    found = re.fullmatch(r"http://testserver/reset-password\?token=([A-Za-z0-9_-]+)", body["link"])
    assert found, body["link"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=23) < expires - clock.now() <= timedelta(hours=24)

    new = {"token": found.group(1), "password": "a brand new passphrase"}
    used = await client.post("/api/v1/auth/password-reset/confirm", json=new)
    assert used.status_code == 204, used.text
    signed_in = await client.post(
        "/api/v1/auth/login", json={"email": member.email, "password": new["password"]}
    )
    assert signed_in.status_code == 200
    problem(await client.post("/api/v1/auth/password-reset/confirm", json=new), 422)


async def test_no_reset_link_for_a_deactivated_member(client: httpx.AsyncClient) -> None:
    admin = await account(client, "ada@example.com", "Ada Admin")
    member = await account(client, "bob@example.com", "Bob Member")
    await patch_member(client, admin, member.id, is_active=False)
    response = await client.post(
        f"/api/v1/admin/users/{member.id}/password-reset", headers=admin.headers
    )
    assert "reactivate" in problem(response, 409)["detail"]
