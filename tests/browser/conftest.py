"""Browser tests: a live `followup serve`, headless Debian Chromium through Playwright's sync
API, a fresh browser context per test, and helpers that sign up a new user per test.

Skipped when /usr/bin/chromium is missing, except in CI (`CI` set), where they fail: a
broken install must not pass as green.

Playwright's sync API marks its own event loop as the thread's running loop for as long as
it is started (`asyncio._set_running_loop` after every call), so a Playwright kept for the
whole session would break every pytest-asyncio test collected after this directory
("Cannot run the event loop while another loop is running"). The browser therefore lives
for this package only and is stopped before the rest of the suite goes on; the tests here
are plain sync functions, which pytest-asyncio leaves alone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, expect

from tests.browser.live import CHROMIUM, TIMINGS, LiveServer, User, launch_chromium, serve, sign_up
from tests.helpers import POSTGRES, wipe

HERE = Path(__file__).resolve().parent
IN_CI = bool(os.environ.get("CI"))
HAVE_CHROMIUM = Path(CHROMIUM).exists()
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)  # a loaded CI machine is slower than a laptop


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAVE_CHROMIUM or IN_CI:
        return
    skip = pytest.mark.skip(
        reason=f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    )
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.section("browser timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")


@pytest.fixture(scope="session")
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server for all browser tests: its own SQLite file, or the Postgres test database
    (left empty afterwards, as every other test leaves it)."""
    workdir = tmp_path_factory.mktemp("browser")
    url = request.getfixturevalue("database_url") if POSTGRES else f"sqlite:///{workdir / 'web.db'}"
    try:
        with serve(url, workdir) as server:
            yield server
    finally:
        if POSTGRES:
            wipe(url)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server on an empty SQLite database of its own (also when testing on Postgres: the
    empty-instance flow is the same on both)."""
    with serve(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path) as server:
        yield server


@pytest.fixture(scope="package")
def browser(live_server: LiveServer) -> Iterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail(f"CI is set but {CHROMIUM} is missing: .ci/run should have installed it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@dataclass
class Problems:
    """What went wrong in the page's JavaScript: uncaught errors and CSP violations."""

    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.csp.append(message.text)

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"{error.name}: {error.message}")


@dataclass
class Browsing:
    """A signed-out browser context on the live server; `new_page()` watches for problems."""

    context: BrowserContext
    server: LiveServer
    problems: Problems = field(default_factory=Problems)

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("console", self.problems.on_console)
        page.on("pageerror", self.problems.on_page_error)
        return page


def new_context(browser: Browser, server: LiveServer, *, width: int = 1000) -> BrowserContext:
    context = browser.new_context(
        base_url=server.base_url,
        viewport={"width": width, "height": 800},
        # Not the user's zone (UTC by default): pages must use the account's zone, not the
        # browser's.
        timezone_id="America/New_York",
        locale="en-US",
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def browsing(browser: Browser, live_server: LiveServer) -> Iterator[Browsing]:
    context = new_context(browser, live_server)
    session = Browsing(context, live_server)
    yield session
    context.close()
    assert not session.problems.errors, f"uncaught JavaScript errors: {session.problems.errors}"
    assert not session.problems.csp, f"Content Security Policy violations: {session.problems.csp}"


@pytest.fixture
def page(browsing: Browsing) -> Page:
    return browsing.new_page()


@pytest.fixture
def signed_up(page: Page) -> User:
    return sign_up(page)
