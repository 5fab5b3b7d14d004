"""Database plumbing: URL normalisation, the async engine and session, the declarative base."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    DateTime,
    MetaData,
    Uuid,
    column,
    event,
    exists,
    false,
    func,
    inspect,
    select,
    table,
    update,
)
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from app import clock

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: stored in UTC (naive on SQLite), always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


# The mapper arguments of a user-owned table with an `id`: the ORM knows its rows by
# (user_id, id), so every UPDATE and DELETE it flushes names the user, the shard key on Citus
# (README "Scaling"). The table's own primary key stays `id`.
OWNED_BY_USER: dict[str, Any] = {"primary_key": ["user_id", "id"]}

_Row = TypeVar("_Row", bound=Base)


async def get_for_update(
    session: AsyncSession, model: type[_Row], *where: ColumnElement[bool]
) -> _Row | None:
    """The row of `model` matching `where`, read afresh and locked until the transaction ends,
    so that what is checked against it (an If-Match) still holds when the write is made.

    Every writer that checks an ETag takes this lock first: of two with the same ETag, the
    second waits, then reads the first one's write and finds its ETag stale. On Postgres the
    row is locked as an UPDATE locks it (FOR NO KEY UPDATE: inserting rows that reference it
    does not wait); SQLite has one write lock for the whole database, taken here by a write
    statement that changes nothing (it waits out busy_timeout and keeps the lock)."""
    if session.get_bind().dialect.name == "sqlite":
        key = inspect(model).primary_key[0]
        await session.execute(
            update(model)
            .where(false())
            .values({key.key: key})
            .execution_options(synchronize_session=False)
        )
    query = select(model).where(*where).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    return await session.scalar(query)


def utcnow() -> datetime:
    return clock.now()


def async_url(url: str) -> str:
    """The async driver URL for any accepted form: sqlite:///…, postgresql://…, +driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        query = dict(parsed.query)
        # libpq's `sslmode` (hosted Postgres URLs carry it) is `ssl` to asyncpg, same values.
        if "sslmode" in query:
            query.setdefault("ssl", query.pop("sslmode"))
        return parsed.set(drivername="postgresql+asyncpg", query=query).render_as_string(
            hide_password=False
        )
    raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")


def sync_url(url: str) -> str:
    """The synchronous driver URL (Alembic and the CLI): pysqlite or psycopg 3."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")


def sqlite_file(url: str) -> str | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return None if parsed.database == ":memory:" else parsed.database


def install_sqlite_pragmas(sync_engine: Any, *, foreign_keys: bool = True) -> None:
    """WAL and, unless told otherwise, foreign keys enforced for every SQLite connection. Set
    as each connection opens: inside a transaction SQLite ignores `PRAGMA foreign_keys`."""
    if sync_engine.dialect.name != "sqlite":
        return

    def pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    event.listen(sync_engine, "connect", pragmas)


class ForeignKeyViolation(Exception):
    """Rows whose foreign key points at a row that does not exist."""


def check_foreign_keys(connection: Connection) -> None:
    """Raises ForeignKeyViolation naming each table with rows that reference nothing.

    Migrations on SQLite run with foreign keys unenforced (a table rebuild drops the old
    table, which would otherwise delete every row referencing it), so this is their check.
    Postgres enforces them as rows change, unless a migration turns that off (triggers
    disabled, a constraint added NOT VALID); the same question is asked there by query."""
    broken: Counter[tuple[str, str]] = Counter()
    if connection.dialect.name == "sqlite":
        for name, _rowid, referred, _fk in connection.exec_driver_sql("PRAGMA foreign_key_check"):
            broken[name, referred] += 1
    else:
        inspector = inspect(connection)
        for name in inspector.get_table_names():
            for key in inspector.get_foreign_keys(name):
                child = table(name, *(column(c) for c in key["constrained_columns"]))
                parent = table(key["referred_table"], *(column(c) for c in key["referred_columns"]))
                pairs = list(zip(child.columns, parent.columns, strict=True))
                orphans = (
                    select(func.count())
                    .select_from(child)
                    .where(
                        *(mine.is_not(None) for mine, _theirs in pairs),
                        ~exists().where(*(theirs == mine for mine, theirs in pairs)),
                    )
                )
                count = connection.execute(orphans).scalar_one()
                if count:
                    broken[name, key["referred_table"]] += count
    if broken:
        raise ForeignKeyViolation(
            "; ".join(
                f"{name}: {count} row(s) reference {referred} rows that do not exist"
                for (name, referred), count in sorted(broken.items())
            )
        )


def create_engine(url: str) -> AsyncEngine:
    full = async_url(url)
    if make_url(full).get_backend_name() == "sqlite":
        engine = create_async_engine(full, connect_args={"timeout": 10})
    else:
        # A small, fixed pool: measured to give a better tail than a big one (DESIGN.md);
        # no overflow, since overflow connections are opened and closed under load (bench/).
        engine = create_async_engine(full, pool_size=10, max_overflow=0, pool_pre_ping=False)
    install_sqlite_pragmas(engine.sync_engine)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for GET and HEAD requests: on Postgres in autocommit, with no BEGIN and COMMIT
    round trips (two of a list request's four; measured in bench/). At READ COMMITTED every
    statement takes its own snapshot anyway, so reads see nothing less consistent; the rare
    write a read makes (a token's last use) is a single statement."""
    if engine.dialect.name != "postgresql":
        return create_sessionmaker(engine)
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the body succeeds, roll back when it raises."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


class Driver(Protocol):
    """What the fast reads use of an asyncpg connection (asyncpg ships no type hints)."""

    async def fetch(self, query: str, *args: Any) -> list[Mapping[str, Any]]: ...

    async def fetchrow(self, query: str, *args: Any) -> Mapping[str, Any] | None: ...

    async def execute(self, query: str, *args: Any) -> str: ...

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Driver]:
    """The asyncpg connection of a connection from the engine's pool, for the hot reads
    (app/web/fastpath.py): no session and no transaction (each statement commits on its own,
    as in create_read_sessionmaker), back to the pool on exit. Measured: as cheap as an
    asyncpg pool's acquire; `exec_driver_sql` on the same connection costs 2.3 × as much."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        yield cast(Driver, raw.driver_connection)
