"""The account's time zone from the browser: given at sign-up, taken at sign-in while the
account is still on the default UTC nobody chose, never over a zone the user picked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app import clock
from tests.auth.test_api import error_locs, me, registration
from tests.helpers import PASSWORD, create_interview, login, register, sign_in


async def test_registering_with_a_time_zone_starts_the_account_in_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/auth/register", json=registration(timezone="Asia/Kolkata")
    )
    assert response.status_code == 201, response.text
    assert response.json()["timezone"] == "Asia/Kolkata"


async def test_registering_without_a_time_zone_starts_the_account_in_utc(
    client: httpx.AsyncClient,
) -> None:
    assert (await register(client, "bob@example.com"))["timezone"] == "UTC"


@pytest.mark.parametrize("zone", ["New York", "Mars/Olympus", "", "x" * 65])
async def test_an_unknown_time_zone_at_registration_is_422_naming_it_and_creates_nothing(
    client: httpx.AsyncClient, zone: str
) -> None:
    response = await client.post("/api/v1/auth/register", json=registration(timezone=zone))
    assert response.status_code == 422
    assert ["body", "timezone"] in error_locs(response)
    assert (await login(client, "bob@example.com")).status_code == 401


async def test_a_city_name_is_refused_with_the_zone_it_stands_for(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/auth/register", json=registration(timezone="New York"))
    assert "did you mean America/New_York?" in response.text


async def test_signing_in_from_a_browser_moves_an_account_still_on_the_default_utc(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "bob@example.com")
    response = await login(client, "bob@example.com", timezone="Asia/Kolkata")
    assert response.status_code == 200, response.text
    signed = response.json()
    assert signed["user"]["timezone"] == "Asia/Kolkata"
    assert (await me(client))["timezone"] == "Asia/Kolkata"


async def test_the_zone_taken_at_sign_in_moves_what_is_still_to_come(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "bob@example.com")
    token = await client.post(
        "/api/v1/tokens", json={"name": "t"}, auth=("bob@example.com", PASSWORD)
    )
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    starts = (clock.now() - timedelta(days=2)).replace(microsecond=0)
    interview = await create_interview(client, headers, starts_at=starts.isoformat())
    check_in = next(f for f in interview["followups"] if f["kind"] == "check_in")
    assert check_in["not_before"].endswith("T09:00:00Z")  # send hour 9, in UTC
    assert (await login(client, "bob@example.com", timezone="Asia/Kolkata")).status_code == 200
    moved = await client.get(f"/api/v1/followups/{check_in['id']}", headers=headers)
    assert moved.json()["not_before"].endswith("T03:30:00Z")  # 9:00 in Kolkata


async def test_signing_in_keeps_a_time_zone_the_user_chose_even_utc(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "bob@example.com")
    headers = {"X-CSRF-Token": await sign_in(client, "bob@example.com")}
    chosen = await client.patch("/api/v1/me", json={"timezone": "UTC"}, headers=headers)
    assert chosen.status_code == 200, chosen.text
    signed = await login(client, "bob@example.com", timezone="Asia/Kolkata")
    assert signed.status_code == 200, signed.text
    assert signed.json()["user"]["timezone"] == "UTC"


async def test_signing_in_from_another_zone_keeps_a_zone_already_set(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/api/v1/auth/register", json=registration(timezone="Europe/Berlin"))
    signed = await login(client, "bob@example.com", timezone="Asia/Kolkata")
    assert signed.status_code == 200, signed.text
    assert signed.json()["user"]["timezone"] == "Europe/Berlin"


async def test_putting_back_the_default_zone_lets_the_next_sign_in_detect_it_again(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/api/v1/auth/register", json=registration(timezone="Europe/Berlin"))
    headers = {"X-CSRF-Token": await sign_in(client, "bob@example.com")}
    reset = await client.patch("/api/v1/me", json={"timezone": None}, headers=headers)
    assert reset.json()["timezone"] == "UTC"
    signed = await login(client, "bob@example.com", timezone="Asia/Kolkata")
    assert signed.status_code == 200, signed.text
    assert signed.json()["user"]["timezone"] == "Asia/Kolkata"


async def test_an_unknown_time_zone_at_sign_in_is_422_naming_it(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "bob@example.com")
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": "bob@example.com", "password": PASSWORD, "timezone": "Nowhere/Land"},
    )
    assert response.status_code == 422
    assert ["body", "timezone"] in error_locs(response)


async def test_registration_documents_the_optional_time_zone(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schema: dict[str, Any] = document["components"]["schemas"]["RegisterIn"]
    assert "timezone" in schema["properties"]
    assert "timezone" not in schema.get("required", [])
