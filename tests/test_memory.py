"""A worker's memory (issue 13's T6): the server asks glibc to give memory back
(app/memory.py), the settings reach the process and the workers it starts, and an operator's
own values win; and a worker starts without the libraries only some requests use."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import memory
from app.main import create_served_app


def _on_glibc() -> bool:
    return sys.platform.startswith("linux") and "glibc" in (os.confstr("CS_GNU_LIBC_VERSION") or "")


glibc = pytest.mark.skipif(not _on_glibc(), reason="glibc only")


@glibc
def test_the_allocator_settings_reach_the_process_and_its_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in memory.DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # an operator's choice
    assert memory.tune_allocator()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == memory.DEFAULTS["MALLOC_MMAP_THRESHOLD_"]
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ['MALLOC_TRIM_THRESHOLD_'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.strip() == memory.DEFAULTS["MALLOC_TRIM_THRESHOLD_"]


@glibc
def test_a_value_glibc_cannot_read_is_left_to_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in memory.DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "lots")
    assert memory.tune_allocator()


async def test_a_served_worker_sets_its_startup_heap_aside_from_the_collector(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = create_served_app()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
        await app.state.engine.dispose()


# What only the calendar feed (icalendar), invites (icalendar, email's parser), the mailbox
# (imapclient, cryptography) and sending mail (aiosmtplib, email's policies) use: the code
# using each imports it when it first runs. Together ~11 MB of every worker's resident size.
LOADED_WHEN_USED = (
    "icalendar",
    "imapclient",
    "imaplib",
    "aiosmtplib",
    "cryptography",
    "email.policy",
    "email.headerregistry",
    "app.mailbox.imap_connection",
)
STARTED_WORKER = """
import asyncio, sys
import uvicorn
from app.main import create_served_app

async def start_and_stop(app):
    async with app.router.lifespan_context(app):
        pass

app = create_served_app()
asyncio.run(start_and_stop(app))
print("\\n".join(sorted(sys.modules)))
"""


def test_a_served_worker_starts_without_the_libraries_only_some_requests_use(
    database_url: str, tmp_path: Path
) -> None:
    # A process of its own: this one has imported everything the suite tests.
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "FOLLOWUP_DATA_DIR": str(tmp_path),
    }
    started = subprocess.run(
        [sys.executable, "-c", STARTED_WORKER],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(started.stdout.split())
    assert "app.main" in modules and "app.mailbox.imap" in modules
    assert {name for name in LOADED_WHEN_USED if name in modules} == set()
