"""The one clock: every part of Followup reads the time from app.clock, which the tests set,
so the suite means the same whatever day it runs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app import clock as app_clock
from tests.helpers import NOW, PASSWORD, ROOT, register

EMAIL = "jane@example.com"

# Calls that read the machine's clock for a date or an instant. Durations (time.monotonic,
# time.perf_counter) are not the domain's time and stay free.
WALL_CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def _wall_clock_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr) in WALL_CLOCK_READS
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_app_reads_the_time_only_through_app_clock() -> None:
    sources = [*(ROOT / "app").rglob("*.py"), *(ROOT / "alembic").rglob("*.py")]
    reads = [
        place
        for path in sources
        if path != ROOT / "app" / "clock.py"
        for place in _wall_clock_reads(path)
    ]
    assert reads == [], "read the time through app.clock.now(): " + ", ".join(reads)


def test_each_test_starts_at_now_and_the_clock_ticks(clock: app_clock.Clock) -> None:
    first = app_clock.now()
    assert NOW <= first < NOW + timedelta(minutes=1)
    assert app_clock.now() >= first


def test_a_frozen_clock_stands_still_until_advanced(clock: app_clock.Clock) -> None:
    moment = NOW + timedelta(days=3)
    clock.freeze(moment)
    assert app_clock.now() == moment == app_clock.now()
    clock.advance(timedelta(hours=2))
    assert app_clock.now() == moment + timedelta(hours=2)


def test_the_clock_takes_aware_instants_only(clock: app_clock.Clock) -> None:
    with pytest.raises(ValueError):
        clock.freeze(datetime(2026, 11, 25, 12, 0))


async def test_requests_and_stored_instants_follow_the_clock(
    client: httpx.AsyncClient, clock: app_clock.Clock
) -> None:
    clock.freeze(NOW + timedelta(days=400))
    await register(client)
    made = await client.post("/api/v1/tokens", json={"name": "later"}, auth=(EMAIL, PASSWORD))
    assert made.json()["created_at"] == "2027-12-30T12:00:00Z"


def _clock_in_a_child(env: dict[str, str]) -> datetime:
    done = subprocess.run(
        [sys.executable, "-c", "from app import clock; print(clock.now().isoformat())"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return datetime.fromisoformat(done.stdout.strip())


def test_a_process_the_tests_start_shares_their_timeline() -> None:
    before = app_clock.now()
    child = _clock_in_a_child(dict(os.environ))
    assert before <= child <= app_clock.now()


def test_followup_now_alone_starts_the_clock_when_the_process_starts() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FOLLOWUP_NOW")}
    env[app_clock.ENVIRONMENT_VARIABLE] = "2030-01-01T09:00:00+01:00"
    child = _clock_in_a_child(env)
    start = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
    assert start <= child < start + timedelta(minutes=1)


def test_without_followup_now_the_clock_is_the_machines() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FOLLOWUP_NOW")}
    # The machine's clock, as this process sees it (faketime moves both alike).
    machine = datetime.fromtimestamp(float(_machine_time()), UTC)
    assert abs(_clock_in_a_child(env) - machine) < timedelta(minutes=1)


def _machine_time() -> str:
    done = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()
