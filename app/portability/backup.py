"""Backups of a whole instance: SQLite's online backup API, or pg_dump / pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.db import sqlite_file, sync_url

if TYPE_CHECKING:
    from app.config import Settings

# A generated SECRET_KEY travels inside an SQLite backup in this table (restore takes it out),
# so a restore onto a new data folder keeps calendar URLs and sessions.
SECRET_TABLE = "followup_backup_secret"


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


def _generated_secret(settings: Settings | None) -> str | None:
    """The secret key generated into the data folder (None when SECRET_KEY is set)."""
    if settings is None or settings.secret_key:
        return None
    return settings.secret


def _private_file(path: Path) -> None:
    """An empty file only its owner may read: a backup holds every account."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def backup(database_url: str, target: Path, *, settings: Settings | None = None) -> str:
    """Write a consistent copy of the whole database to `target` (mode 0600), while the app
    runs; an SQLite backup carries the generated secret key too."""
    partial = target.with_name(target.name + ".partial")
    try:
        _private_file(partial)
    except OSError as error:
        raise BackupError(f"Could not write {target}: {error.strerror}.") from None
    if make_url(database_url).get_backend_name() == "sqlite":
        source = _sqlite_path(database_url)
        if not source.exists():
            partial.unlink(missing_ok=True)
            raise BackupError(f"There is no database at {source}.")
        secret = _generated_secret(settings)
        # One step (pages=-1) under one read transaction: a snapshot, whatever the app
        # writes meanwhile (WAL lets it go on writing).
        try:
            with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
                src.backup(dst)
                if secret is not None:
                    dst.execute(f"CREATE TABLE {SECRET_TABLE} (secret_key TEXT NOT NULL)")
                    dst.execute(f"INSERT INTO {SECRET_TABLE} VALUES (?)", (secret,))
            src.close()
            dst.close()
        except sqlite3.Error as error:
            partial.unlink(missing_ok=True)
            raise BackupError(f"Could not write {target}: {error}.") from None
        os.replace(partial, target)  # a half-written file never carries the backup's name
        with_secret = ", with the generated secret key" if secret is not None else ""
        return f"Backed up {source} to {target} ({target.stat().st_size:,} bytes{with_secret})."
    try:
        pg_dump = _tool("pg_dump")
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    url, env = _libpq(database_url)
    # pg_dump reads in one repeatable-read snapshot: consistent while the app writes.
    done = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", "--file", str(partial), "--dbname", url],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(_pg_dump_failure(pg_dump, done.stderr.strip()))
    os.replace(partial, target)
    message = f"Backed up the PostgreSQL database to {target} ({target.stat().st_size:,} bytes)."
    if _generated_secret(settings) is not None:
        message += (
            f" The secret key generated in {settings.data_dir if settings else ''}/secret_key"
            " is not in it: keep a copy with your backups, or set SECRET_KEY."
        )
    return message


def _pg_dump_failure(pg_dump: str, stderr: str) -> str:
    if "version mismatch" not in stderr:
        return f"pg_dump failed: {stderr}"
    return (
        f"pg_dump failed: {stderr}\n"
        "pg_dump must be at least the server's major version (the Docker image ships "
        "PostgreSQL 15's). Install the matching postgresql-client, or dump with the server's "
        "own pg_dump, e.g. `docker compose exec -T db pg_dump -U followup --format=custom "
        "followup > followup.backup`: `followup restore` reads that file too."
    )


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


def restore(database_url: str, source: Path, *, settings: Settings | None = None) -> str:
    """Bring a backup back into an empty database (no accounts); refuse anything else. The
    secret key an SQLite backup carries goes back into the data folder (no SECRET_KEY set)."""
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
                    secret = _take_secret(dst)
                dst.close()
            src.close()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is not an SQLite backup: {error}.") from None
        return f"Restored {source} into {target}.{_restore_secret(secret, settings)}"
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


def _take_secret(connection: sqlite3.Connection) -> str | None:
    """The secret key a backup carries, its table dropped from the restored database."""
    found = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (SECRET_TABLE,)
    ).fetchone()
    if found is None:
        return None
    row = connection.execute(f"SELECT secret_key FROM {SECRET_TABLE}").fetchone()
    connection.execute(f"DROP TABLE {SECRET_TABLE}")
    return str(row[0]) if row else None


def _restore_secret(secret: str | None, settings: Settings | None) -> str:
    """Puts the backup's generated key back (the database was empty: nothing depended on the
    key there before); says what it did."""
    if secret is None or settings is None:
        return ""
    if settings.secret_key:
        if settings.secret_key == secret:
            return ""
        return (
            " The backup carries the secret key its instance generated, but SECRET_KEY is set"
            " here: calendar URLs change and sessions end unless SECRET_KEY is that key"
            f" (it is in the backup's {SECRET_TABLE} table)."
        )
    path = settings.data_dir / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    path.write_text(secret)
    return f" Its secret key is back in {path}."
