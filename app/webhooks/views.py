"""The Webhooks section of the Settings page: its context, for the webhook routes and the
Settings page alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.webhooks import service
from app.webhooks.schemas import Event, Format


async def webhooks_context(session: AsyncSession, user: User) -> dict[str, Any]:
    """What the Settings section shows: each webhook with its last deliveries."""
    hooks = await service.list_webhooks(session, user=user)
    return {
        "webhooks": [
            (
                service.to_read(h),
                [
                    service.delivery_read(d)
                    for d in await service.deliveries(session, user=user, webhook_id=h.id, limit=5)
                ],
            )
            for h in hooks
        ],
        "webhook_events": [e.value for e in Event],
        "webhook_formats": [f.value for f in Format],
    }
