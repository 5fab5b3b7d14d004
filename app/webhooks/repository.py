"""Queries for webhooks and their deliveries; user-owned reads are filtered by their owner."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import queue
from app.followups import repository as followups
from app.followups.models import Followup
from app.webhooks.models import Webhook, WebhookDelivery

PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"


@functools.cache
def _list_statement() -> Select[Webhook]:
    # Built once: every write that emits an event runs it, and building a select and its
    # cache key cost more than running it.
    return (
        select(Webhook)
        .where(Webhook.user_id == bindparam("user_id"))
        .order_by(Webhook.created_at, Webhook.id)
    )


async def list_of(session: AsyncSession, user_id: uuid.UUID) -> list[Webhook]:
    result = await session.scalars(_list_statement(), {"user_id": user_id})
    return list(result)


async def get(session: AsyncSession, user_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook | None:
    result = await session.scalar(
        select(Webhook).where(Webhook.user_id == user_id, Webhook.id == webhook_id)
    )
    return result


async def remove(session: AsyncSession, user_id: uuid.UUID, webhook_id: uuid.UUID) -> bool:
    deleted = await session.scalar(
        delete(Webhook)
        .where(Webhook.user_id == user_id, Webhook.id == webhook_id)
        .returning(Webhook.id)
    )
    return deleted is not None


async def page_of_webhooks(
    session: AsyncSession, *, after: uuid.UUID | None, limit: int
) -> list[Webhook]:
    """Every user's webhooks, a page at a time (keyset on id), for the worker."""
    query = select(Webhook)
    if after is not None:
        query = query.where(Webhook.id > after)
    return list(await session.scalars(query.order_by(Webhook.id).limit(limit)))


async def followups_crossing(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    column: Any,
    since: datetime,
    now: datetime,
    limit: int,
) -> list[tuple[Followup, str, str]]:
    """Scheduled follow-ups whose `column` (not_before or due_at) passed in (since, now]."""
    return await followups.scheduled_with_interview(
        session, user_id, column > since, column <= now, order_by=column, limit=limit
    )


async def insert_ignoring_duplicate(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert a delivery unless this webhook already has this event; True when inserted."""
    return await queue.insert_unless_present(
        session, WebhookDelivery, values, unique=["user_id", "webhook_id", "event_id"]
    )


async def claim(
    session: AsyncSession, *, now: datetime, claimed_until: datetime, limit: int
) -> list[tuple[WebhookDelivery, Webhook]]:
    """Lock up to `limit` due deliveries (skipping rows other workers hold), mark them sending."""
    ids = await queue.claim_ids(
        session, WebhookDelivery, now=now, claimed_until=claimed_until, limit=limit
    )
    if not ids:
        return []
    rows = await session.execute(
        select(WebhookDelivery, Webhook)
        .join(
            Webhook,
            and_(
                Webhook.id == WebhookDelivery.webhook_id,
                Webhook.user_id == WebhookDelivery.user_id,
            ),
        )
        .where(WebhookDelivery.id.in_(ids))
        .execution_options(populate_existing=True)
    )
    return sorted(((r[0], r[1]) for r in rows), key=lambda pair: pair[0].due_at)


async def mark(session: AsyncSession, delivery_id: uuid.UUID, **values: Any) -> None:
    await queue.mark(session, WebhookDelivery, delivery_id, **values)


async def release(session: AsyncSession, delivery_ids: Sequence[uuid.UUID]) -> None:
    await queue.release(session, WebhookDelivery, delivery_ids)


async def deliveries_of(
    session: AsyncSession, user_id: uuid.UUID, webhook_id: uuid.UUID, *, limit: int
) -> list[WebhookDelivery]:
    """A webhook's deliveries, newest first."""
    result = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.user_id == user_id, WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(result)
