"""A real `followup serve` on a free port, and a headless Debian Chromium driven by
Playwright: shared by the browser tests and `make screenshots` (no pytest in here)."""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
STARTUP_SECONDS = 60
PASSWORD = "correct horse battery staple"


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def followup_command() -> list[str]:
    script = Path(sys.executable).with_name("followup")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def _wait_until_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"`followup serve` exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            response = httpx.get(f"{server.base_url}/healthz", timeout=1, trust_env=False)
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"`followup serve` did not become healthy:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def serve(database_url: str, workdir: Path, **env: str) -> Iterator[LiveServer]:
    """`followup serve` with open registration on `database_url`, until the block ends."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FOLLOWUP_REGISTRATION": "open",
        "FOLLOWUP_BASE_URL": base_url,
        "SECRET_KEY": "browser-secret",
        **env,
    }
    log = workdir / f"server-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*followup_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(base_url=base_url, database_url=database_url, process=process, log=log)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        _stop(process)


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium; Playwright never downloads a browser here."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# Durations (seconds) that tests record; the browser tests' conftest prints them.
TIMINGS: dict[str, float] = {}

_serial = itertools.count(1)


@dataclass(frozen=True)
class User:
    name: str
    email: str


def unique_user(name: str = "Jane Doe") -> User:
    tag = f"{uuid.uuid4().hex[:8]}{next(_serial)}"
    return User(name=name, email=f"jane.{tag}@example.com")


def sign_up(page: Page, user: User | None = None, *, timezone: str | None = "UTC") -> User:
    """Sign up through /register as a person would, and land on Today.

    The page sends the browser's zone (America/New_York in these tests); `timezone` puts
    another in its place, UTC unless told, so that a page showing times in the browser's zone
    instead of the account's is caught. None keeps what the page detected."""
    user = user or unique_user()
    page.goto("/register")
    if timezone is not None:
        page.locator('input[name="timezone"]').evaluate(
            "(field, zone) => field.value = zone", timezone
        )
    page.get_by_label("Name", exact=True).fill(user.name)
    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign up", exact=True).click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    return user


def api(page: Page, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """The JSON API with the page's session cookie and CSRF token (for setting things up)."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token, "no CSRF token in the page: sign in first"
    response = page.request.fetch(
        path,
        method=method,
        data=body,
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.status != 204 else None


class Stopwatch:
    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()

    def stop(self) -> float:
        TIMINGS[self.name] = time.monotonic() - self.started
        print(f"{self.name}: {TIMINGS[self.name]:.1f} s")
        return TIMINGS[self.name]
