"""Delivery queues (the email outbox, webhook deliveries): claim due rows with SKIP LOCKED,
record what happened to each, give back what was not attempted.

A queue table has `id`, `status`, `due_at`, `claimed_until` and `attempts`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import UTCDateTime

PENDING, SENDING = "pending", "sending"

# The rows a claim looks at, for the partial index every queue table has on `due_at`.
UNSENT_INDEX_WHERE = text("status IN ('pending', 'sending')")


def claim_statement(table: Any, *, limit: int, kinds: tuple[str, ...] | None = None) -> Any:
    """The claim's select (bound parameter `now`): due pending rows, and rows whose claim has
    run out, oldest first, skipping rows other workers hold. The partial index on `due_at`
    of unsent rows (UNSENT_INDEX_WHERE) serves it without reading the sent history."""
    now = bindparam("now", type_=UTCDateTime())
    claimable = or_(
        and_(table.status == PENDING, table.due_at <= now),
        and_(table.status == SENDING, table.claimed_until < now),
    )
    query = select(table.id).where(claimable)
    if kinds is not None:
        query = query.where(table.kind.in_(kinds))
    return query.order_by(table.due_at).limit(limit).with_for_update(skip_locked=True)


async def claim_ids(
    session: AsyncSession,
    table: Any,
    *,
    now: datetime,
    claimed_until: datetime,
    limit: int,
    kinds: tuple[str, ...] | None = None,
) -> list[uuid.UUID]:
    """Lock up to `limit` due rows (skipping rows other workers hold) and mark them sending;
    only rows of these `kinds` when given.

    A row whose claim has run out (its worker died mid-send) is due again."""
    statement = claim_statement(table, limit=limit, kinds=kinds)
    ids = list(await session.scalars(statement, {"now": now}))
    if ids:
        await session.execute(
            update(table)
            .where(table.id.in_(ids))
            .values(status=SENDING, claimed_until=claimed_until, attempts=table.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return ids


async def mark(session: AsyncSession, table: Any, row_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(table)
        .where(table.id == row_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def release(session: AsyncSession, table: Any, row_ids: Sequence[uuid.UUID]) -> None:
    """Give back claimed rows not attempted (stopping early): not counted as an attempt."""
    if row_ids:
        await session.execute(
            update(table)
            .where(table.id.in_(row_ids), table.status == SENDING)
            .values(status=PENDING, claimed_until=None, attempts=table.attempts - 1)
            .execution_options(synchronize_session=False)
        )


async def insert_unless_present(
    session: AsyncSession, table: Any, values: dict[str, Any], *, unique: Sequence[str]
) -> bool:
    """Insert a row unless one with the same `unique` columns exists; True when inserted.

    Atomic on both databases, so concurrent workers enqueue a thing at most once."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(table.id)
    )
    return (await session.scalar(statement)) is not None
