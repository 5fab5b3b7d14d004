"""Accounts through HTTP, as a client sees them: registration, sign-in, CSRF, tokens and /me."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app import clock
from app.accounts import service
from app.deps import get_now
from tests.helpers import (
    PASSWORD,
    client_of,
    create_interview,
    login,
    register,
    sign_in,
    tampered,
    token_for,
)

COOKIE = "followup_session"
EVIL = "https://evil.example"


async def signed_in(client: httpx.AsyncClient, email: str = "jane@example.com") -> str:
    """Register and sign in through the client's cookie jar; return the CSRF token."""
    await register(client, email)
    return await sign_in(client, email)


async def me(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def stored_values(app: Any, table: str) -> str:
    """Every value stored in `table`, as one string to search for secrets."""
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
    assert rows, f"{table} is empty"
    return " ".join(str(value) for row in rows for value in row)


async def new_invite(app: Any) -> str:
    async with app.state.sessionmaker() as session:
        code = await service.create_invite(session, created_by=None, now=clock.now())
        await session.commit()
    return code


async def bob_token(client: httpx.AsyncClient) -> str:
    await register(client, "bob@example.com", "Bob Stone")
    return await token_for(client, "bob@example.com")


def registration(email: str = "bob@example.com", **extra: Any) -> dict[str, Any]:
    return {"email": email, "password": PASSWORD, "display_name": "Bob", **extra}


def error_locs(response: httpx.Response) -> list[list[str | int]]:
    assert response.headers["content-type"] == "application/problem+json"
    return [error["loc"] for error in response.json()["errors"]]


def cookie_attributes(response: httpx.Response) -> dict[str, str]:
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE)]
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value.lower()
    return attributes


# Registration


async def test_first_account_is_admin_and_the_second_is_not(client: httpx.AsyncClient) -> None:
    first = await register(client, "jane@example.com")
    second = await register(client, "bob@example.com")
    assert first["is_admin"] is True
    assert second["is_admin"] is False


async def test_registration_answers_the_new_user_with_its_location(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/auth/register", json=registration())
    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/me"
    user = response.json()
    assert user["email"] == "bob@example.com"
    assert user["display_name"] == "Bob"
    assert "password" not in str(user).lower()


async def test_a_taken_email_in_any_case_is_a_409_problem(client: httpx.AsyncClient) -> None:
    await register(client, "Jane.Doe@Example.com")
    for email in ("jane.doe@example.com", "JANE.DOE@EXAMPLE.COM", "Jane.Doe@example.COM"):
        response = await client.post("/api/v1/auth/register", json=registration(email))
        assert response.status_code == 409, email
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 409


async def test_email_is_compared_without_regard_to_case_when_signing_in(
    client: httpx.AsyncClient,
) -> None:
    registered = await register(client, "Jane.Doe@Example.com")
    assert registered["email"] == "jane.doe@example.com"
    assert (await login(client, "JANE.DOE@example.COM")).status_code == 200
    assert await token_for(client, "jane.DOE@EXAMPLE.com")


async def test_registering_the_same_email_twice_at_once_makes_one_account(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "jane@example.com")
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/auth/register", json=registration("bob@example.com"))
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409]


async def test_people_registering_at_once_on_a_new_instance_make_one_admin(
    make_app: Any,
) -> None:
    async with client_of(make_app(registration="invite")) as client:
        responses = await asyncio.gather(
            *(
                client.post("/api/v1/auth/register", json=registration(f"p{n}@example.com"))
                for n in range(4)
            )
        )
    assert sorted(r.status_code for r in responses) == [201, 403, 403, 403], [
        r.text for r in responses
    ]


@pytest.mark.parametrize("mode", ["invite", "closed"])
async def test_the_first_account_can_always_register(make_app: Any, mode: str) -> None:
    async with client_of(make_app(registration=mode)) as client:
        first = await register(client, "jane@example.com")
    assert first["is_admin"] is True


async def test_invite_mode_refuses_registration_without_an_invite(make_app: Any) -> None:
    async with client_of(make_app(registration="invite")) as client:
        await register(client, "jane@example.com")
        refused = await client.post("/api/v1/auth/register", json=registration())
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert (await login(client, "bob@example.com")).status_code == 401


async def test_invite_mode_accepts_a_valid_invite_exactly_once(make_app: Any) -> None:
    app = make_app(registration="invite")
    async with client_of(app) as client:
        await register(client, "jane@example.com")
        code = await new_invite(app)
        accepted = await client.post(
            "/api/v1/auth/register", json=registration("bob@example.com", invite_code=code)
        )
        assert accepted.status_code == 201
        assert accepted.json()["is_admin"] is False
        reused = await client.post(
            "/api/v1/auth/register", json=registration("carol@example.com", invite_code=code)
        )
        assert reused.status_code == 422
        assert error_locs(reused) == [["body", "invite_code"]]
        assert (await login(client, "carol@example.com")).status_code == 401


async def test_an_invite_used_by_two_registrations_at_once_admits_only_one(
    make_app: Any,
) -> None:
    app = make_app(registration="invite")
    async with client_of(app) as client:
        await register(client, "jane@example.com")
        code = await new_invite(app)
        responses = await asyncio.gather(
            *(
                client.post("/api/v1/auth/register", json=registration(email, invite_code=code))
                for email in ("bob@example.com", "carol@example.com")
            )
        )
        assert sorted(r.status_code for r in responses) == [201, 422]


async def test_an_invite_whose_email_is_taken_stays_usable(make_app: Any) -> None:
    app = make_app(registration="invite")
    async with client_of(app) as client:
        await register(client, "jane@example.com")
        code = await new_invite(app)
        taken = await client.post(
            "/api/v1/auth/register", json=registration("JANE@example.com", invite_code=code)
        )
        assert taken.status_code == 409
        accepted = await client.post(
            "/api/v1/auth/register", json=registration("bob@example.com", invite_code=code)
        )
        assert accepted.status_code == 201


async def test_an_unknown_invite_code_is_422_naming_it(make_app: Any) -> None:
    async with client_of(make_app(registration="invite")) as client:
        await register(client, "jane@example.com")
        response = await client.post(
            "/api/v1/auth/register", json=registration(invite_code="made-up")
        )
        assert response.status_code == 422
        assert error_locs(response) == [["body", "invite_code"]]


async def test_closed_registration_refuses_everyone_after_the_first(make_app: Any) -> None:
    async with client_of(make_app(registration="closed")) as client:
        await register(client, "jane@example.com")
        refused = await client.post("/api/v1/auth/register", json=registration())
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert (await login(client, "bob@example.com")).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "jane@"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 1025}, "password"),
        ({"display_name": None}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "x" * 201}, "display_name"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_an_invalid_registration_is_422_naming_the_field_and_creates_nothing(
    client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    body = {**registration("jane@example.com"), **change}
    body = {key: value for key, value in body.items() if value is not None}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert ["body", field] in error_locs(response)
    # Nothing was created: the next account is still the first one, the admin.
    assert (await register(client, "bob@example.com"))["is_admin"] is True


async def test_a_1000_character_password_works_and_is_never_truncated(
    client: httpx.AsyncClient,
) -> None:
    password = "p" * 999 + "1"
    response = await client.post(
        "/api/v1/auth/register", json=registration("jane@example.com", password=password)
    )
    assert response.status_code == 201
    assert (await login(client, "jane@example.com", password)).status_code == 200
    assert (await login(client, "jane@example.com", "p" * 72)).status_code == 401
    assert (await login(client, "jane@example.com", "p" * 999 + "2")).status_code == 401


# Signing in and out


async def test_login_sets_an_httponly_samesite_lax_cookie_and_returns_a_csrf_token(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    response = await login(client)
    assert response.status_code == 200
    assert response.json()["csrf_token"]
    assert response.json()["user"]["email"] == "jane@example.com"
    attributes = cookie_attributes(response)
    assert "httponly" in attributes
    assert attributes["samesite"] == "lax"
    assert attributes["path"] == "/"
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back


async def test_the_session_cookie_is_secure_when_the_instance_is_served_over_https(
    make_app: Any,
) -> None:
    async with client_of(make_app(base_url="https://followup.example")) as client:
        await register(client)
        response = await login(client)
    assert "secure" in cookie_attributes(response)


async def test_the_database_stores_only_a_hash_of_the_session_cookie(
    app: Any, client: httpx.AsyncClient
) -> None:
    await register(client)
    cookie = (await login(client)).cookies[COOKIE]
    assert len(cookie) >= 32
    assert cookie not in await stored_values(app, "web_sessions")


async def test_each_login_gets_its_own_session_and_csrf_token(client: httpx.AsyncClient) -> None:
    await register(client)
    first, second = await login(client), await login(client)
    assert first.cookies[COOKIE] != second.cookies[COOKIE]
    assert first.json()["csrf_token"] != second.json()["csrf_token"]


async def test_a_wrong_password_and_an_unknown_email_fail_alike(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    wrong_password = await login(client, "jane@example.com", "not the password")
    unknown_email = await login(client, "nobody@example.com", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.headers["content-type"] == "application/problem+json"
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.headers.get("www-authenticate") == unknown_email.headers.get(
        "www-authenticate"
    )
    assert COOKIE not in wrong_password.cookies


async def test_after_five_failures_an_account_is_throttled_even_with_the_right_password(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    for _ in range(5):
        assert (await login(client, "jane@example.com", "wrong password")).status_code == 401
    throttled = await login(client)
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == "application/problem+json"
    retry_after = throttled.headers["retry-after"]
    assert retry_after.isdigit() and 0 < int(retry_after) <= 900
    # Whatever the letter case of the email.
    assert (await login(client, "JANE@example.com")).status_code == 429
    assert COOKIE not in throttled.cookies


async def test_the_account_limit_follows_the_setting(make_app: Any) -> None:
    async with client_of(make_app(login_failures_per_account=2)) as client:
        await register(client)
        for _ in range(2):
            assert (await login(client, "jane@example.com", "wrong password")).status_code == 401
        assert (await login(client)).status_code == 429


async def test_a_throttled_account_does_not_lock_out_another(client: httpx.AsyncClient) -> None:
    await register(client, "jane@example.com")
    await register(client, "bob@example.com")
    for _ in range(5):
        await login(client, "jane@example.com", "wrong password")
    assert (await login(client, "jane@example.com")).status_code == 429
    assert (await login(client, "bob@example.com")).status_code == 200


async def test_failures_from_one_address_throttle_every_account_signing_in_from_it(
    make_app: Any,
) -> None:
    async with client_of(make_app(login_failures_per_address=3)) as client:
        await register(client)
        for email in ("a@example.com", "b@example.com", "c@example.com"):
            assert (await login(client, email, "guess")).status_code == 401
        throttled = await login(client)
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0


async def test_a_successful_login_forgets_earlier_failures_of_the_account(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    for _ in range(4):
        await login(client, "jane@example.com", "wrong password")
    assert (await login(client)).status_code == 200
    for _ in range(4):
        assert (await login(client, "jane@example.com", "wrong password")).status_code == 401
    assert (await login(client)).status_code == 200


async def test_an_invalid_login_body_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": "jane@example.com"})
    assert response.status_code == 422
    assert error_locs(response) == [["body", "password"]]


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    csrf = await signed_in(client)
    cookie = client.cookies[COOKIE]
    response = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert response.content == b""
    client.cookies.set(COOKIE, cookie)  # a client that kept the old cookie
    ended = await client.get("/api/v1/me")
    assert ended.status_code == 401
    assert ended.headers["content-type"] == "application/problem+json"


async def test_logout_with_the_cookie_needs_the_csrf_token(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    assert (await client.post("/api/v1/auth/logout")).status_code == 403
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_the_csrf_token_may_come_as_a_form_field(client: httpx.AsyncClient) -> None:
    csrf = await signed_in(client)
    cookie = client.cookies[COOKIE]
    response = await client.post("/api/v1/auth/logout", data={"csrf_token": csrf})
    assert response.status_code == 204
    client.cookies.set(COOKIE, cookie)
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_session_ends_after_the_configured_days(make_app: Any) -> None:
    app = make_app(session_days=1)
    async with client_of(app) as client:
        await signed_in(client)
        assert (await client.get("/api/v1/me")).status_code == 200
        later = clock.now() + timedelta(days=1, minutes=1)
        app.dependency_overrides[get_now] = lambda: later
        assert (await client.get("/api/v1/me")).status_code == 401


# The session cookie, CSRF and cross-site requests


async def test_the_session_cookie_authenticates_reads(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    assert (await me(client))["email"] == "jane@example.com"


async def test_an_unsafe_cookie_request_without_the_csrf_token_is_403_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client)
    for headers in ({}, {"X-CSRF-Token": tampered(csrf)}, {"X-CSRF-Token": ""}):
        response = await client.patch(
            "/api/v1/me", json={"display_name": "Mallory"}, headers=headers
        )
        assert response.status_code == 403, headers
        assert response.headers["content-type"] == "application/problem+json"
    assert (await me(client))["display_name"] == "Jane Doe"


async def test_an_unsafe_cookie_request_with_the_csrf_token_succeeds(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client)
    response = await client.patch(
        "/api/v1/me", json={"display_name": "Jane Q. Doe"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 200
    assert (await me(client))["display_name"] == "Jane Q. Doe"


def page_csrf_token(page: httpx.Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def test_every_page_masks_the_csrf_token_afresh_and_each_masked_form_works(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client)
    first, second = await client.get("/settings"), await client.get("/settings")
    masked = [page_csrf_token(first), page_csrf_token(second)]
    assert masked[0] != masked[1]
    # Nothing stable for compression to match against (BREACH): the token itself is absent.
    assert csrf not in first.text and csrf not in second.text
    assert f'"X-CSRF-Token": "{masked[0]}"' in first.text  # what htmx sends
    for name, token in zip(("Jane A", "Jane B"), masked, strict=True):
        response = await client.patch(
            "/api/v1/me", json={"display_name": name}, headers={"X-CSRF-Token": token}
        )
        assert response.status_code == 200
        assert (await me(client))["display_name"] == name
    cookie = client.cookies[COOKIE]
    logout = await client.post("/api/v1/auth/logout", data={"csrf_token": masked[1]})
    assert logout.status_code == 204
    client.cookies.set(COOKIE, cookie)
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_forged_or_garbled_masked_csrf_token_is_the_same_403(
    app: Any, client: httpx.AsyncClient
) -> None:
    await signed_in(client)
    masked = page_csrf_token(await client.get("/settings"))
    while "-" not in masked:  # a pad whose form has a "-" to turn into the standard alphabet's "+"
        masked = page_csrf_token(await client.get("/settings"))
    async with client_of(app) as other:
        await signed_in(other, "bob@example.com")
        bobs = page_csrf_token(await other.get("/settings"))
    flipped = masked[:10] + ("A" if masked[10] != "A" else "B") + masked[11:]
    missing = await client.patch("/api/v1/me", json={"display_name": "Mallory"})
    assert missing.status_code == 403
    for forged in (flipped, masked[:-4], masked + "AAAA", masked.replace("-", "+"), bobs, "é" * 4):
        response = await client.patch(
            "/api/v1/me",
            json={"display_name": "Mallory"},
            headers={"X-CSRF-Token": forged.encode()},
        )
        assert response.status_code == 403, forged
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == missing.json()
    assert (await me(client))["display_name"] == "Jane Doe"


async def test_the_csrf_token_of_one_session_does_not_work_for_another(
    client: httpx.AsyncClient,
) -> None:
    first_csrf = await signed_in(client)
    await login(client)  # the jar now holds the second session's cookie
    response = await client.patch(
        "/api/v1/me", json={"display_name": "X"}, headers={"X-CSRF-Token": first_csrf}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "cross_site",
    [
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
    ],
)
async def test_cross_site_unsafe_requests_are_403_and_change_nothing_even_with_a_bearer_token(
    client: httpx.AsyncClient, jane: dict[str, str], cross_site: dict[str, str]
) -> None:
    headers = {**jane, **cross_site}
    patched = await client.patch("/api/v1/me", json={"display_name": "Mallory"}, headers=headers)
    posted = await client.post("/api/v1/tokens", json={"name": "stolen"}, headers=headers)
    created = await client.post(
        "/api/v1/interviews",
        json={"company": "Evil", "role": "Spy", "starts_at": "2026-12-01T10:00:00Z"},
        headers=headers,
    )
    for response in (patched, posted, created):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 403
    assert (await me(client, jane))["display_name"] == "Jane Doe"
    assert len((await client.get("/api/v1/tokens", headers=jane)).json()) == 1
    assert (await client.get("/api/v1/interviews", headers=jane)).json()["items"] == []


async def test_cross_site_requests_with_the_session_cookie_and_csrf_token_are_refused(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client)
    response = await client.patch(
        "/api/v1/me",
        json={"display_name": "Mallory"},
        headers={"X-CSRF-Token": csrf, "Origin": EVIL},
    )
    assert response.status_code == 403
    assert (await me(client))["display_name"] == "Jane Doe"


async def test_cross_site_login_is_refused(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": "jane@example.com", "password": PASSWORD},
        headers={"Origin": EVIL},
    )
    assert response.status_code == 403
    assert COOKIE not in response.cookies


@pytest.mark.parametrize(
    "same_site",
    [{"Origin": "http://testserver"}, {"Sec-Fetch-Site": "same-origin"}, {}],
)
async def test_same_origin_unsafe_requests_are_allowed(
    client: httpx.AsyncClient, jane: dict[str, str], same_site: dict[str, str]
) -> None:
    response = await client.patch(
        "/api/v1/me", json={"display_name": "Jane Q. Doe"}, headers={**jane, **same_site}
    )
    assert response.status_code == 200


async def test_cross_site_reads_are_not_refused(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    response = await client.get("/api/v1/me", headers={**jane, "Origin": EVIL})
    assert response.status_code == 200


async def test_bearer_token_requests_need_no_csrf_token(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    response = await client.patch("/api/v1/me", json={"display_name": "Jane Q."}, headers=jane)
    assert response.status_code == 200
    assert (await me(client, jane))["display_name"] == "Jane Q."


async def test_requests_without_credentials_are_401_problems(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/api/v1/me"),
        await client.patch("/api/v1/me", json={"display_name": "X"}),
        await client.get("/api/v1/tokens"),
        await client.get("/api/v1/me", headers={"Authorization": "Bearer fu_unknown"}),
        await client.get("/api/v1/me", headers={"Authorization": "Basic amFuZTpwYXNz"}),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "Bearer" in response.headers["www-authenticate"]


# API tokens


async def test_a_token_made_with_http_basic_is_shown_once_with_at_least_128_random_bits(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    response = await client.post(
        "/api/v1/tokens", json={"name": "calendar sync"}, auth=("jane@example.com", PASSWORD)
    )
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {"id", "name", "created_at", "token"}
    assert created["name"] == "calendar sync"
    assert re.fullmatch(r"fu_[A-Za-z0-9_-]{43}", created["token"])
    assert created["created_at"].endswith("Z")
    assert response.headers["location"] == f"/api/v1/tokens/{created['id']}"
    auth = {"Authorization": f"Bearer {created['token']}"}
    assert (await me(client, auth))["email"] == "jane@example.com"


async def test_tokens_are_different_every_time(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = {await token_for(client, "jane@example.com") for _ in range(3)}
    assert len(tokens) == 3


async def test_a_token_can_be_made_with_the_session_cookie_and_csrf_token(
    client: httpx.AsyncClient,
) -> None:
    csrf = await signed_in(client)
    without_csrf = await client.post("/api/v1/tokens", json={"name": "cli"})
    assert without_csrf.status_code == 403
    response = await client.post(
        "/api/v1/tokens", json={"name": "cli"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 201
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {response.json()['token']}"}
    assert (await me(client, auth))["email"] == "jane@example.com"
    assert [t["name"] for t in (await client.get("/api/v1/tokens", headers=auth)).json()] == ["cli"]


async def test_a_token_cannot_make_another_token(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    response = await client.post("/api/v1/tokens", json={"name": "more"}, headers=jane)
    assert response.status_code == 401
    assert "Basic" in response.headers["www-authenticate"]


async def test_tokens_are_stored_only_as_hashes(app: Any, client: httpx.AsyncClient) -> None:
    await register(client)
    token = await token_for(client, "jane@example.com")
    stored = await stored_values(app, "api_tokens")
    assert token not in stored
    assert token.removeprefix("fu_") not in stored


async def test_tokens_are_listed_without_their_secret_and_show_when_last_used(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    used = await token_for(client, "jane@example.com")
    unused = await client.post(
        "/api/v1/tokens", json={"name": "spare"}, auth=("jane@example.com", PASSWORD)
    )
    assert unused.status_code == 201
    before = clock.now() - timedelta(seconds=1)
    await me(client, {"Authorization": f"Bearer {used}"})

    listed = await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {used}"})
    assert listed.status_code == 200
    assert used not in listed.text and unused.json()["token"] not in listed.text
    tokens = {t["name"]: t for t in listed.json()}
    assert set(tokens) == {"tests", "spare"}
    assert set(tokens["tests"]) == {"id", "name", "created_at", "last_used_at"}
    last_used_at = datetime.fromisoformat(tokens["tests"]["last_used_at"])
    assert before <= last_used_at <= clock.now()
    assert tokens["spare"]["last_used_at"] is None


async def test_a_revoked_token_no_longer_works(client: httpx.AsyncClient) -> None:
    await register(client)
    keep = {"Authorization": f"Bearer {await token_for(client, 'jane@example.com')}"}
    revoked = {"Authorization": f"Bearer {await token_for(client, 'jane@example.com')}"}
    token_id = (await client.get("/api/v1/tokens", headers=keep)).json()[1]["id"]
    response = await client.delete(f"/api/v1/tokens/{token_id}", headers=keep)
    assert response.status_code == 204
    assert response.content == b""
    refused = await client.get("/api/v1/me", headers=revoked)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert len((await client.get("/api/v1/tokens", headers=keep)).json()) == 1


async def test_a_token_can_revoke_itself(client: httpx.AsyncClient, jane: dict[str, str]) -> None:
    (token,) = (await client.get("/api/v1/tokens", headers=jane)).json()
    assert (await client.delete(f"/api/v1/tokens/{token['id']}", headers=jane)).status_code == 204
    assert (await client.get("/api/v1/me", headers=jane)).status_code == 401


async def test_revoking_an_unknown_or_another_users_token_is_404_and_revokes_nothing(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    bob = {"Authorization": f"Bearer {await bob_token(client)}"}
    (bobs_token,) = (await client.get("/api/v1/tokens", headers=bob)).json()
    for token_id in (bobs_token["id"], "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = await client.delete(f"/api/v1/tokens/{token_id}", headers=jane)
        assert response.status_code == 404, token_id
        assert response.headers["content-type"] == "application/problem+json"
    assert (await me(client, bob))["email"] == "bob@example.com"


async def test_basic_auth_with_a_wrong_password_is_401_and_counts_toward_throttling(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    for _ in range(5):
        response = await client.post(
            "/api/v1/tokens", json={"name": "x"}, auth=("jane@example.com", "wrong password")
        )
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "Basic" in response.headers["www-authenticate"]
    by_basic = await client.post(
        "/api/v1/tokens", json={"name": "x"}, auth=("jane@example.com", PASSWORD)
    )
    assert by_basic.status_code == 429
    assert int(by_basic.headers["retry-after"]) > 0
    assert (await login(client)).status_code == 429


async def test_a_token_name_is_required(client: httpx.AsyncClient) -> None:
    await register(client)
    for body in ({}, {"name": ""}, {"name": "x" * 201}):
        response = await client.post(
            "/api/v1/tokens", json=body, auth=("jane@example.com", PASSWORD)
        )
        assert response.status_code == 422, body
        assert ["body", "name"] in error_locs(response)


# /me


async def test_me_shows_the_profile_and_the_default_settings(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    profile = await me(client, jane)
    assert profile["email"] == "jane@example.com"
    assert profile["display_name"] == "Jane Doe"
    assert profile["is_admin"] is True
    assert profile["timezone"] == "UTC"
    assert profile["policy"] == {
        "thank_you_within_hours": 48,
        "check_in_after_days": 14,
        "check_in_grace_days": 1,
        "send_hour": 9,
        "skip_weekends": True,
        "second_check_in_after_days": None,
    }
    assert profile["templates"] == {
        "thank_you_subject": None,
        "thank_you_body": None,
        "check_in_subject": None,
        "check_in_body": None,
    }
    assert profile["notifications"] == {"daily_digest": True, "due_now": False}
    assert "calendar_url" in profile
    assert profile["created_at"].endswith("Z")
    assert "password_hash" not in profile


async def test_policy_merges_key_by_key(client: httpx.AsyncClient, jane: dict[str, str]) -> None:
    first = await client.patch("/api/v1/me", json={"policy": {"send_hour": 7}}, headers=jane)
    assert first.status_code == 200
    second = await client.patch(
        "/api/v1/me", json={"policy": {"check_in_after_days": 10}}, headers=jane
    )
    assert second.status_code == 200
    policy = (await me(client, jane))["policy"]
    assert policy["send_hour"] == 7
    assert policy["check_in_after_days"] == 10
    assert policy["thank_you_within_hours"] == 48


async def test_null_on_a_policy_key_puts_back_its_default(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    await client.patch(
        "/api/v1/me",
        json={"policy": {"send_hour": 7, "skip_weekends": False, "second_check_in_after_days": 7}},
        headers=jane,
    )
    response = await client.patch(
        "/api/v1/me",
        json={"policy": {"send_hour": None, "second_check_in_after_days": None}},
        headers=jane,
    )
    assert response.status_code == 200
    policy = (await me(client, jane))["policy"]
    assert policy["send_hour"] == 9
    assert policy["second_check_in_after_days"] is None
    assert policy["skip_weekends"] is False


async def test_a_null_policy_puts_back_every_default(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    defaults = (await me(client, jane))["policy"]
    await client.patch(
        "/api/v1/me",
        json={"policy": {"send_hour": 7, "thank_you_within_hours": 24, "skip_weekends": False}},
        headers=jane,
    )
    response = await client.patch("/api/v1/me", json={"policy": None}, headers=jane)
    assert response.status_code == 200
    assert response.json()["policy"] == defaults
    assert (await me(client, jane))["policy"] == defaults


async def test_a_patch_leaves_what_it_does_not_name(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    await client.patch(
        "/api/v1/me",
        json={"timezone": "Europe/Paris", "policy": {"send_hour": 8}},
        headers=jane,
    )
    response = await client.patch("/api/v1/me", json={"display_name": "J. Doe"}, headers=jane)
    assert response.status_code == 200
    profile = await me(client, jane)
    assert profile["display_name"] == "J. Doe"
    assert profile["timezone"] == "Europe/Paris"
    assert profile["policy"]["send_hour"] == 8


@pytest.mark.parametrize(
    ("policy", "key"),
    [
        ({"send_hour": 24}, "send_hour"),
        ({"send_hour": -1}, "send_hour"),
        ({"thank_you_within_hours": 0}, "thank_you_within_hours"),
        ({"thank_you_within_hours": 721}, "thank_you_within_hours"),
        ({"check_in_after_days": 366}, "check_in_after_days"),
        ({"check_in_grace_days": -1}, "check_in_grace_days"),
        ({"second_check_in_after_days": 0}, "second_check_in_after_days"),
        ({"skip_weekends": "sometimes"}, "skip_weekends"),
        ({"send_hour": "nine"}, "send_hour"),
        ({"weekly": True}, "weekly"),
    ],
)
async def test_an_invalid_policy_value_is_422_naming_the_key_and_changes_nothing(
    client: httpx.AsyncClient, jane: dict[str, str], policy: dict[str, Any], key: str
) -> None:
    before = await me(client, jane)
    response = await client.patch(
        "/api/v1/me", json={"display_name": "Changed", "policy": policy}, headers=jane
    )
    assert response.status_code == 422
    assert error_locs(response) == [["body", "policy", key]]
    assert await me(client, jane) == before


async def test_the_time_zone_takes_an_iana_name_and_null_puts_back_utc(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    response = await client.patch("/api/v1/me", json={"timezone": "America/New_York"}, headers=jane)
    assert response.status_code == 200
    assert (await me(client, jane))["timezone"] == "America/New_York"
    await client.patch("/api/v1/me", json={"timezone": None}, headers=jane)
    assert (await me(client, jane))["timezone"] == "UTC"


@pytest.mark.parametrize("timezone", ["Mars/Olympus_Mons", "", "europe/paris", "x" * 65, 5])
async def test_an_unknown_time_zone_is_422_naming_it(
    client: httpx.AsyncClient, jane: dict[str, str], timezone: Any
) -> None:
    response = await client.patch("/api/v1/me", json={"timezone": timezone}, headers=jane)
    assert response.status_code == 422
    assert error_locs(response) == [["body", "timezone"]]
    assert (await me(client, jane))["timezone"] == "UTC"


async def test_templates_merge_key_by_key_and_null_puts_back_the_default(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    body = "Hi {recipient_first_name}, thanks for the {role} chat. {{Literal}} — {sender_name}"
    await client.patch("/api/v1/me", json={"templates": {"thank_you_body": body}}, headers=jane)
    await client.patch(
        "/api/v1/me", json={"templates": {"check_in_subject": "About {role}"}}, headers=jane
    )
    templates = (await me(client, jane))["templates"]
    assert templates["thank_you_body"] == body
    assert templates["check_in_subject"] == "About {role}"
    await client.patch("/api/v1/me", json={"templates": {"thank_you_body": None}}, headers=jane)
    templates = (await me(client, jane))["templates"]
    assert templates["thank_you_body"] is None
    assert templates["check_in_subject"] == "About {role}"


@pytest.mark.parametrize(
    "template",
    ["Hi {first_name}", "Hi {recipient_name.__class__}", "Hi {", "{{ config }} {salary}"],
)
async def test_a_template_with_an_unknown_placeholder_is_422_naming_it_and_saves_nothing(
    client: httpx.AsyncClient, jane: dict[str, str], template: str
) -> None:
    before = await me(client, jane)
    response = await client.patch(
        "/api/v1/me",
        json={
            "display_name": "Changed",
            "policy": {"send_hour": 7},
            "templates": {"check_in_subject": "Fine {role}", "thank_you_body": template},
        },
        headers=jane,
    )
    assert response.status_code == 422, template
    assert error_locs(response) == [["body", "templates", "thank_you_body"]]
    assert await me(client, jane) == before


async def test_display_name_cannot_be_null_or_blank(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    for name in (None, "", "  "):
        response = await client.patch("/api/v1/me", json={"display_name": name}, headers=jane)
        assert response.status_code == 422, name
        assert error_locs(response) == [["body", "display_name"]]
    assert (await me(client, jane))["display_name"] == "Jane Doe"


async def test_notifications_merge_key_by_key(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    await client.patch("/api/v1/me", json={"notifications": {"due_now": True}}, headers=jane)
    await client.patch("/api/v1/me", json={"notifications": {"daily_digest": False}}, headers=jane)
    assert (await me(client, jane))["notifications"] == {"daily_digest": False, "due_now": True}
    await client.patch("/api/v1/me", json={"notifications": None}, headers=jane)
    assert (await me(client, jane))["notifications"] == {"daily_digest": True, "due_now": False}


async def test_read_only_and_unknown_fields_cannot_be_patched(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    for field, value in (("email", "x@example.com"), ("is_admin", False), ("calendar_url", "x")):
        response = await client.patch("/api/v1/me", json={field: value}, headers=jane)
        assert response.status_code == 422, field
        assert error_locs(response) == [["body", field]]
    profile = await me(client, jane)
    assert profile["email"] == "jane@example.com"
    assert profile["is_admin"] is True


async def test_changing_the_policy_or_time_zone_moves_the_scheduled_check_in(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)
    assert interview["followups"][-1]["not_before"] == "2026-12-15T09:00:00Z"
    await client.patch("/api/v1/me", json={"policy": {"send_hour": 7}}, headers=jane)
    await client.patch("/api/v1/me", json={"timezone": "Europe/Berlin"}, headers=jane)
    followups = (await client.get("/api/v1/followups", headers=jane)).json()["items"]
    check_in = next(f for f in followups if f["kind"] == "check_in")
    # 07:00 in Berlin (UTC+1 in December).
    assert check_in["not_before"] == "2026-12-15T06:00:00Z"


async def test_me_carries_an_etag_and_a_stale_if_match_is_412_changing_nothing(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    etag = (await client.get("/api/v1/me", headers=jane)).headers["etag"]
    fresh = await client.patch(
        "/api/v1/me", json={"display_name": "Jane Q."}, headers={**jane, "If-Match": etag}
    )
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    stale = await client.patch(
        "/api/v1/me", json={"display_name": "Mallory"}, headers={**jane, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert (await me(client, jane))["display_name"] == "Jane Q."
