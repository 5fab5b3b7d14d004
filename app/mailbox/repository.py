"""Queries for the user's mailbox and what the watch keeps of it, always filtered by owner."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_for_update
from app.mailbox.models import Mailbox, MailboxFolder


async def get(session: AsyncSession, user_id: uuid.UUID) -> Mailbox | None:
    """The user's mailbox, or None when they have not connected one."""
    result: Mailbox | None = await session.scalar(select(Mailbox).where(Mailbox.user_id == user_id))
    return result


async def lock(session: AsyncSession, user_id: uuid.UUID) -> Mailbox | None:
    """The user's mailbox read afresh and locked for this transaction's write (If-Match)."""
    return await get_for_update(session, Mailbox, Mailbox.user_id == user_id)


async def remove_folders(session: AsyncSession, user_id: uuid.UUID, mailbox_id: uuid.UUID) -> None:
    """Forget how far the watch has read: it starts again from what is new."""
    await session.execute(
        delete(MailboxFolder).where(
            MailboxFolder.user_id == user_id, MailboxFolder.mailbox_id == mailbox_id
        )
    )


async def remove(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """Delete the user's mailbox and its folders' state; False when there was none."""
    mailbox = await get(session, user_id)
    if mailbox is None:
        return False
    await remove_folders(session, user_id, mailbox.id)
    await session.delete(mailbox)
    await session.flush()
    return True
