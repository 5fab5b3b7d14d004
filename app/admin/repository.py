"""Queries the admin's pages and endpoints need: every account and every invite.

These are the only queries in the app that read other users' rows, and they read only the
account columns (never a password hash, never anything the members recorded)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Row, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Invite, User
from app.db import get_for_update

MEMBER_COLUMNS = (
    User.id,
    User.email,
    User.display_name,
    User.is_admin,
    User.is_active,
    User.created_at,
)


async def members(
    session: AsyncSession, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Row[uuid.UUID, str, str, bool, bool, datetime]]:
    query = select(*MEMBER_COLUMNS)
    if after is not None:
        created_at, user_id = after
        query = query.where(
            or_(
                User.created_at > created_at,
                and_(User.created_at == created_at, User.id > user_id),
            )
        )
    result = await session.execute(query.order_by(User.created_at, User.id).limit(limit))
    return list(result.all())


async def member(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def lock_member(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The account as stored, locked until the transaction ends (app.db.get_for_update)."""
    return await get_for_update(session, User, User.id == user_id)


async def invites(
    session: AsyncSession, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Invite]:
    query = select(Invite)
    if after is not None:
        created_at, invite_id = after
        query = query.where(
            or_(
                Invite.created_at > created_at,
                and_(Invite.created_at == created_at, Invite.id > invite_id),
            )
        )
    result = await session.scalars(query.order_by(Invite.created_at, Invite.id).limit(limit))
    return list(result)


async def delete_invite(session: AsyncSession, invite_id: uuid.UUID) -> bool:
    result = await session.execute(delete(Invite).where(Invite.id == invite_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
