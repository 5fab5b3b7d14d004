"""Helpers for the tests (and bench/): the frozen instant, settings, clients, sign-in,
users and interviews. Fixtures stay in conftest.py."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import clock as app_clock
from app.cli import alembic_config
from app.config import Settings
from app.db import sync_url
from app.tables import metadata

PASSWORD = "correct horse battery staple"
POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))

# Every test starts at this instant, whatever day the suite runs: dates written in the tests
# are relative to it.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
# Also for processes that session-scoped fixtures start before any test's clock.
os.environ.update(app_clock.environment(NOW, datetime.now(UTC)))


def reset_postgres(url: str) -> None:
    engine = create_engine(sync_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrate(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")  # type: ignore[arg-type]


def wipe(url: str) -> None:
    engine = create_engine(sync_url(url))
    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for name in reversed(tables):
                connection.execute(text(f"DELETE FROM {name}"))
    engine.dispose()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "test-secret",
        "registration": "open",
        "base_url": "http://testserver",
    }
    values.update(overrides)
    return Settings(**values)


def client_of(app: Any) -> httpx.AsyncClient:
    """A client of `app` over ASGI; use it as `async with client_of(app) as client:`."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def register(
    client: httpx.AsyncClient, email: str = "jane@example.com", name: str = "Jane Doe"
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": name},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def token_for(client: httpx.AsyncClient, email: str) -> str:
    response = await client.post("/api/v1/tokens", json={"name": "tests"}, auth=(email, PASSWORD))
    assert response.status_code == 201, response.text
    return response.json()["token"]  # type: ignore[no-any-return]


async def user_headers(
    client: httpx.AsyncClient, email: str = "jane@example.com", name: str = "Jane Doe"
) -> dict[str, str]:
    """Register a user and return the headers that authenticate as them."""
    await register(client, email, name)
    return {"Authorization": f"Bearer {await token_for(client, email)}"}


def interview_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "company": "Acme Corp",
        "role": "Backend Engineer",
        "starts_at": "2026-12-01T15:00:00+01:00",
        "people": [
            {"name": "Ann Lee", "email": "ann@example.com", "role": "interviewer"},
            {"name": "Bob Stone", "email": "bob@example.com", "role": "recruiter"},
        ],
        "highlight": "the event-sourcing migration",
        "excitement": "owning the billing platform",
    }
    body.update(overrides)
    return body


async def create_interview(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/interviews", json=interview_body(**overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


ROOT = Path(__file__).resolve().parent.parent


async def login(
    client: httpx.AsyncClient,
    email: str = "jane@example.com",
    password: str = PASSWORD,
    **extra: Any,
) -> httpx.Response:
    """One sign-in attempt with a web session (`extra`: e.g. the browser's `timezone`)."""
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": password, **extra}
    )


async def sign_in(
    client: httpx.AsyncClient,
    email: str = "jane@example.com",
    password: str = PASSWORD,
    **extra: Any,
) -> str:
    """Sign `client` in through its cookie jar; the CSRF token unsafe requests then need."""
    response = await login(client, email, password, **extra)
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]  # type: ignore[no-any-return]


@contextmanager
def new_databases(workdir: Path) -> Iterator[Callable[[], str]]:
    """Makes databases of their own: new SQLite files in `workdir`, or new Postgres databases
    beside the test one (dropped when the block ends)."""
    base = os.environ.get("TEST_DATABASE_URL")
    made: list[str] = []

    def make() -> str:
        name = f"followup_{len(made)}_{uuid.uuid4().hex[:8]}"
        made.append(name)
        if not base:
            return f"sqlite:///{workdir}/{name}.db"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return make_url(base).set(database=name).render_as_string(hide_password=False)

    admin = create_engine(sync_url(base), isolation_level="AUTOCOMMIT") if base else None
    try:
        yield make
    finally:
        if admin is not None:
            with admin.connect() as connection:
                for name in made:
                    connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()


def tampered(secret: str) -> str:
    """`secret` with its last character changed: always a different string (replacing it
    with a fixed character would give the same one when it already ends in that)."""
    return secret[:-1] + ("y" if secret.endswith("x") else "x")
