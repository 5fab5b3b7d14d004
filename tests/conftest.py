"""Test fixtures: a migrated database (SQLite, or Postgres from TEST_DATABASE_URL), the app
over ASGI; the helpers they use are in tests/helpers.py."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from app import clock as app_clock
from app.config import Settings
from app.main import create_app
from tests.helpers import (
    NOW,
    client_of,
    make_settings,
    migrate,
    new_databases,
    reset_postgres,
    user_headers,
    wipe,
)

# The real IMAP server (the `dovecot` and `mail_user` fixtures), for any folder's tests.
pytest_plugins = ["tests.mailbox.dovecot", "tests.statements"]

# CI replays the same examples every run, so a red build always means a change broke it.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def clock() -> Iterator[app_clock.Clock]:
    """The app's clock, started at NOW for each test (it then ticks); `clock.freeze(…)` or
    `clock.advance(…)` move it. Processes the test starts (servers, workers, the CLI) inherit
    the same timeline through the environment."""
    since = datetime.now(UTC)
    os.environ.update(app_clock.environment(NOW, since))
    app_clock.clock.start_at(NOW, since=since)
    yield app_clock.clock
    app_clock.clock.reset()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'followup.db'}"
    migrate(url)
    yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()
    wipe(settings.database_url)


@pytest.fixture
async def make_app(database_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Apps with other settings, e.g. `make_app(registration="invite")`; wiped afterwards."""
    made: list[Any] = []

    def make(**overrides: Any) -> Any:
        made.append(create_app(make_settings(database_url, **overrides)))
        return made[-1]

    yield make
    for application in made:
        await application.state.engine.dispose()
    wipe(database_url)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as c:
        yield c


@pytest.fixture
async def jane(client: httpx.AsyncClient) -> dict[str, str]:
    return await user_headers(client)


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """New databases for one test (see `tests.helpers.new_databases`)."""
    with new_databases(tmp_path) as make:
        yield make


@pytest.fixture
def empty_database(new_database: Callable[[], str]) -> str:
    """A database of its own, empty (not migrated)."""
    return new_database()
