"""Alembic environment: runs migrations on the synchronous driver for DATABASE_URL."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import create_engine, event, pool, text

from app.config import Settings
from app.db import check_foreign_keys, install_sqlite_pragmas, sqlite_file, sync_url
from app.tables import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = config.attributes.get("database_url") or Settings().database_url

# Several app replicas (and workers) may start at once against one Postgres: the first to
# take this transaction-scoped lock migrates, the others wait and then find nothing to do.
MIGRATION_LOCK = 0x466F6C6C6F777570  # "Followup"


def run_migrations_offline() -> None:
    context.configure(
        url=sync_url(url),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    path = sqlite_file(url)
    if path:
        from pathlib import Path

        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    # SQLite alters a table by copying it: create the new one, copy the rows, DROP the old,
    # rename. With foreign keys enforced that DROP deletes, cascading, every row referencing
    # the table (rebuilding `users` emptied interviews, follow-ups, tokens), so they are off
    # here, and check_foreign_keys below does the checking once the migrations have run.
    install_sqlite_pragmas(engine, foreign_keys=False)
    if engine.dialect.name == "sqlite":
        # pysqlite begins a transaction only before INSERT, UPDATE or DELETE, so each CREATE,
        # DROP and ALTER would commit alone; an explicit BEGIN makes the whole run one
        # transaction (SQLite's DDL is transactional), undone entirely if anything fails.
        # IMMEDIATE takes the write lock first: a second process starting at once waits
        # (busy_timeout), then finds nothing to do, as with the Postgres lock below.
        event.listen(engine, "connect", _begin_explicitly)
        event.listen(
            engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE")
        )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
            transactional_ddl=True,  # one transaction for all, on SQLite too
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            migration_context = context.get_context()
            # Read under the lock, so the caller can tell whether this process migrated.
            config.attributes["revision_before"] = migration_context.get_current_revision()
            context.run_migrations()
            config.attributes["revision_after"] = migration_context.get_current_revision()
            if config.attributes["revision_after"] != config.attributes["revision_before"]:
                # Raising here rolls every migration of this run back.
                check_foreign_keys(connection)


def _begin_explicitly(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # pysqlite: no implicit BEGIN (we send our own)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
