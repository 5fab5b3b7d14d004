"""`followup backup` and `followup restore`: the whole instance out and back, consistently."""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import stat
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import clock
from app.cli import main
from app.config import Settings
from tests.helpers import POSTGRES, migrate, user_headers
from tests.portability.conftest import seed_everything, table_rows


async def followup(monkeypatch: pytest.MonkeyPatch, database_url: str, *argv: str) -> int:
    """Run `followup ARGV…` against `database_url`, in a thread (it runs its own loop)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return await asyncio.to_thread(main, list(argv))


async def test_backup_then_restore_into_an_empty_database_gives_back_every_row(
    app: Any,
    client: httpx.AsyncClient,
    database_url: str,
    empty_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jane = await user_headers(client)
    await seed_everything(client, jane)
    await user_headers(client, "bob@example.com", "Bob Brown")
    backup = tmp_path / "followup.backup"

    assert await followup(monkeypatch, database_url, "backup", str(backup)) == 0
    assert f"to {backup}" in capsys.readouterr().out
    assert await followup(monkeypatch, empty_database, "restore", str(backup)) == 0
    out = capsys.readouterr().out
    assert "Restored" in out and "2 account(s)" in out

    restored = table_rows(empty_database)
    assert restored == table_rows(database_url)
    assert len(restored["followups"]) >= 20 and len(restored["users"]) == 2


async def test_restore_into_a_migrated_but_empty_database_works_too(
    app: Any,
    client: httpx.AsyncClient,
    database_url: str,
    empty_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What `followup serve` leaves before anyone registers: tables, but no accounts."""
    await seed_everything(client, await user_headers(client))
    backup = tmp_path / "followup.backup"
    assert await followup(monkeypatch, database_url, "backup", str(backup)) == 0
    migrate(empty_database)
    assert await followup(monkeypatch, empty_database, "restore", str(backup)) == 0
    assert table_rows(empty_database) == table_rows(database_url)


async def test_restore_refuses_a_database_that_has_accounts(
    app: Any,
    client: httpx.AsyncClient,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await user_headers(client)
    backup = tmp_path / "followup.backup"
    assert await followup(monkeypatch, database_url, "backup", str(backup)) == 0
    before = table_rows(database_url)
    assert await followup(monkeypatch, database_url, "restore", str(backup)) == 1
    assert "already holds 1 account(s)" in capsys.readouterr().err
    assert table_rows(database_url) == before


async def test_restore_of_a_missing_or_foreign_file_says_so(
    tmp_path: Path,
    empty_database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await followup(monkeypatch, empty_database, "restore", str(tmp_path / "nope")) == 1
    assert "no backup file" in capsys.readouterr().err
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a backup" * 100)
    assert await followup(monkeypatch, empty_database, "restore", str(junk)) == 1
    assert "Restore failed" in capsys.readouterr().err


async def test_backup_of_postgres_without_pg_dump_on_the_path_exits_2_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    url = "postgresql://followup@127.0.0.1:1/followup"
    assert await followup(monkeypatch, url, "backup", str(tmp_path / "x.backup")) == 2
    error = capsys.readouterr().err
    assert "pg_dump is not on the PATH" in error and "postgresql-client" in error
    assert not (tmp_path / "x.backup").exists()


async def test_a_backup_into_a_missing_folder_or_a_restore_into_an_unreachable_server_says_so(
    app: Any,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not POSTGRES:
        nowhere = tmp_path / "no" / "such" / "folder" / "x.backup"
        assert await followup(monkeypatch, database_url, "backup", str(nowhere)) == 1
        assert f"Could not write {nowhere}" in capsys.readouterr().err
    backup = tmp_path / "x.backup"
    assert await followup(monkeypatch, database_url, "backup", str(backup)) == 0
    unreachable = "postgresql://followup@127.0.0.1:1/followup"
    assert await followup(monkeypatch, unreachable, "restore", str(backup)) == 1
    assert "Cannot open the database" in capsys.readouterr().err


@pytest.mark.skipif(POSTGRES, reason="SQLite's online backup; pg_dump reads one snapshot")
def test_a_sqlite_backup_taken_while_the_app_writes_is_consistent(tmp_path: Path) -> None:
    """A writer adds an interview and its two people in one transaction, again and again,
    while backups are taken: every backup holds whole transactions only."""
    source = f"sqlite:///{tmp_path / 'busy.db'}"
    migrate(source)
    user_id = uuid.uuid4().hex
    writer = sqlite3.connect(tmp_path / "busy.db", timeout=30, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL")
    now = clock.now().replace(tzinfo=None).isoformat(" ")
    writer.execute(
        "INSERT INTO users (id, email, password_hash, display_name, is_admin, is_active, "
        "timezone, created_at, updated_at, thank_you_within_hours, check_in_after_days, "
        "check_in_grace_days, send_hour, skip_weekends, daily_digest, due_now, board_sharing) "
        "VALUES (?, 'w@example.com', 'x', 'W', 0, 1, 'UTC', ?, ?, 48, 14, 1, 9, 1, 1, 0, 'none')",
        (user_id, now, now),
    )
    writer.commit()
    stop = threading.Event()
    written = [0]

    def write() -> None:
        while not stop.is_set():
            interview = uuid.uuid4().hex
            with writer:
                writer.execute(
                    "INSERT INTO interviews (id, user_id, company, role, starts_at, "
                    "duration_minutes, outcome, created_at, updated_at) "
                    "VALUES (?, ?, 'Acme', 'Eng', ?, 60, 'pending', ?, ?)",
                    (interview, user_id, now, now, now),
                )
                for position in range(2):
                    writer.execute(
                        "INSERT INTO people (id, user_id, interview_id, position, name, role) "
                        "VALUES (?, ?, ?, ?, 'P', 'interviewer')",
                        (uuid.uuid4().hex, user_id, interview, position),
                    )
            written[0] += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        sizes = []
        for n in range(5):
            wait_until_written = written[0] + 20
            deadline = time.monotonic() + 30
            while written[0] < wait_until_written and time.monotonic() < deadline:
                time.sleep(0.005)
            target = tmp_path / f"busy-{n}.backup"
            assert main_with(source, "backup", str(target)) == 0
            copy = sqlite3.connect(target)
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            interviews = copy.execute("SELECT count(*) FROM interviews").fetchone()[0]
            people = copy.execute("SELECT count(*) FROM people").fetchone()[0]
            copy.close()
            assert people == 2 * interviews
            sizes.append(interviews)
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert sizes[-1] > sizes[0] > 0, "the writer was writing while the backups ran"


def main_with(database_url: str, *argv: str) -> int:
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = database_url
    try:
        return main(list(argv))
    finally:
        if previous is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = previous


async def test_a_backup_is_readable_by_its_owner_only(
    app: Any,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backup = tmp_path / "followup.backup"
    backup.write_text("an older, world-readable file")
    backup.chmod(0o644)
    assert await followup(monkeypatch, database_url, "backup", str(backup)) == 0
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".partial")]


@pytest.mark.skipif(POSTGRES, reason="the secret key travels inside SQLite backups")
async def test_an_sqlite_backup_carries_the_generated_secret_key_back_to_a_new_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    source = f"sqlite:///{tmp_path / 'old' / 'followup.db'}"
    migrate(source)
    monkeypatch.setenv("FOLLOWUP_DATA_DIR", str(tmp_path / "old"))
    generated = Settings(database_url=source).secret
    backup = tmp_path / "followup.backup"
    assert await followup(monkeypatch, source, "backup", str(backup)) == 0
    assert "with the generated secret key" in capsys.readouterr().out

    target = f"sqlite:///{tmp_path / 'new' / 'followup.db'}"
    monkeypatch.setenv("FOLLOWUP_DATA_DIR", str(tmp_path / "new"))
    assert await followup(monkeypatch, target, "restore", str(backup)) == 0
    assert "Its secret key is back in" in capsys.readouterr().out
    key = tmp_path / "new" / "secret_key"
    assert key.read_text() == generated and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert table_rows(target) == table_rows(source), "the key's table is not left behind"


async def test_backup_and_restore_never_migrate(
    new_database: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A pre-upgrade backup is taken with the new version's command before it migrates."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from app.cli import alembic_config, schema_revisions

    old, empty = new_database(), new_database()
    config = alembic_config(old)
    head = ScriptDirectory.from_config(config).get_revision("head")  # type: ignore[arg-type]
    assert head is not None
    command.upgrade(config, str(head.down_revision))  # type: ignore[arg-type]
    backup = tmp_path / "old.backup"
    assert await followup(monkeypatch, old, "backup", str(backup)) == 0
    assert schema_revisions(Settings(database_url=old))[0] == head.down_revision

    assert await followup(monkeypatch, empty, "restore", str(backup)) == 0
    assert schema_revisions(Settings(database_url=empty))[0] == head.down_revision
    assert "`followup migrate` brings it to this version's" in capsys.readouterr().out


async def test_a_pg_dump_older_than_the_server_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "pg_dump"
    fake.write_text(
        "#!/bin/sh\necho 'pg_dump: error: aborting because of server version mismatch' >&2\n"
        "echo 'pg_dump: detail: server version: 17.2; pg_dump version: 15.10' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    url = "postgresql://followup@127.0.0.1:1/followup"
    assert await followup(monkeypatch, url, "backup", str(tmp_path / "x.backup")) == 1
    error = capsys.readouterr().err
    assert "server version: 17.2" in error and "at least the server's major version" in error
    assert "docker compose exec -T db pg_dump" in error
    assert not [name for name in os.listdir(tmp_path) if name.startswith("x.backup")]
