"""Backups of a whole instance: SQLite's online backup API, or pg_dump / pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.db import sqlite_file, sync_url


class BackupError(Exception):
    """Something the operator must fix; the message says what. `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL in libpq's form (no driver), the password passed in the environment."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on the PATH: install the PostgreSQL client tools "
            f"(e.g. apt-get install postgresql-client) in the same major version as the server.",
            code=2,
        )
    return found


def _sqlite_path(url: str) -> Path:
    path = sqlite_file(url)
    if path is None:
        raise BackupError("An in-memory SQLite database cannot be backed up.", code=2)
    return Path(path)


def backup(database_url: str, target: Path) -> str:
    """Write a consistent copy of the whole database to `target`, while the app runs."""
    if make_url(database_url).get_backend_name() == "sqlite":
        source = _sqlite_path(database_url)
        if not source.exists():
            raise BackupError(f"There is no database at {source}.")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        # One step (pages=-1) under one read transaction: a snapshot, whatever the app
        # writes meanwhile (WAL lets it go on writing).
        try:
            with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
                src.backup(dst)
            src.close()
            dst.close()
        except sqlite3.Error as error:
            partial.unlink(missing_ok=True)
            raise BackupError(f"Could not write {target}: {error}.") from None
        os.replace(partial, target)  # a half-written file never carries the backup's name
        return f"Backed up {source} to {target} ({target.stat().st_size:,} bytes)."
    pg_dump = _tool("pg_dump")
    url, env = _libpq(database_url)
    # pg_dump reads in one repeatable-read snapshot: consistent while the app writes.
    done = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", "--file", str(target), "--dbname", url],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return f"Backed up the PostgreSQL database to {target} ({target.stat().st_size:,} bytes)."


def user_count(database_url: str) -> int:
    """How many accounts the database holds (0 when it has no tables yet)."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("users"):
                return 0
            return int(connection.execute(text("SELECT count(*) FROM users")).scalar_one())
    except OperationalError as error:
        raise BackupError(f"Cannot open the database: {error.orig or error}".strip()) from None
    finally:
        engine.dispose()


def restore(database_url: str, source: Path) -> str:
    """Bring a backup back into an empty database (no accounts); refuse anything else."""
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}.")
    if database_url.startswith("sqlite") and not _sqlite_path(database_url).exists():
        users = 0
    else:
        users = user_count(database_url)
    if users:
        raise BackupError(
            f"Not restoring: the database already holds {users} account(s). Restore only "
            "into an empty database (a new SQLite file, or a freshly created PostgreSQL "
            "database), then point DATABASE_URL at it."
        )
    if make_url(database_url).get_backend_name() == "sqlite":
        target = _sqlite_path(database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
                src.execute("SELECT count(*) FROM sqlite_master").fetchone()
                with sqlite3.connect(target) as dst:
                    src.backup(dst)
                dst.close()
            src.close()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is not an SQLite backup: {error}.") from None
        return f"Restored {source} into {target}."
    pg_restore = _tool("pg_restore")
    url, env = _libpq(database_url)
    # --clean drops what `followup migrate` may have created in the empty database first;
    # one transaction, so a failed restore leaves it as it was.
    done = subprocess.run(
        [
            pg_restore,
            "--no-owner",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            url,
            str(source),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    return f"Restored {source} into the PostgreSQL database."
