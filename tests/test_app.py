"""Application-wide behaviour: health, unexpected errors, problem details."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app import __version__
from app.db import async_url
from app.main import create_app
from tests.helpers import (
    PASSWORD,
    POSTGRES,
    client_of,
    create_interview,
    interview_body,
    make_settings,
)


async def test_healthz_is_ok_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


async def test_healthz_is_503_when_the_database_does_not_answer() -> None:
    app = create_app(make_settings("postgresql://nobody@127.0.0.1:1/none"))
    async with client_of(app) as client:
        response = await client.get("/healthz")
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_unexpected_error_is_a_500_problem_without_internals(database_url: str) -> None:
    app = create_app(make_settings(database_url))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("SELECT secret FROM internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/boom")
    await app.state.engine.dispose()
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 500
    assert "SELECT" not in response.text and "Traceback" not in response.text


async def test_concurrent_registrations_of_one_email_make_one_account(
    client: httpx.AsyncClient,
) -> None:
    async def attempt() -> int:
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": "race@example.com", "password": PASSWORD, "display_name": "Race"},
        )
        return response.status_code

    statuses = sorted(await asyncio.gather(*(attempt() for _ in range(6))))
    assert statuses == [201, 409, 409, 409, 409, 409]


async def test_concurrent_writes_all_succeed(
    client: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    interview = await create_interview(client, jane)

    async def write(n: int) -> tuple[int, int]:
        created = await client.post(
            "/api/v1/interviews", json=interview_body(company=f"Co {n}"), headers=jane
        )
        patched = await client.patch(
            f"/api/v1/interviews/{interview['id']}", json={"notes": f"n{n}"}, headers=jane
        )
        return created.status_code, patched.status_code

    assert set(await asyncio.gather(*(write(n) for n in range(20)))) == {(201, 200)}


def test_a_libpq_sslmode_in_the_url_reaches_the_async_driver() -> None:
    url = async_url("postgresql://u:p@db.example.org/followup?sslmode=require")
    assert url == "postgresql+asyncpg://u:p@db.example.org/followup?ssl=require"
    assert async_url("postgresql+psycopg://db/f").startswith("postgresql+asyncpg://db/f")


@pytest.mark.skipif(not POSTGRES, reason="needs Postgres: set TEST_DATABASE_URL")
async def test_a_postgres_url_with_sslmode_serves(database_url: str) -> None:
    """Hosted Postgres URLs carry libpq's sslmode; the app must still connect with it."""
    app = create_app(make_settings(f"{database_url}?sslmode=disable"))
    async with client_of(app) as client:
        response = await client.get("/healthz")
    await app.state.engine.dispose()
    assert response.status_code == 200, response.text
