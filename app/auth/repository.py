"""Queries for accounts; everything a user owns is filtered by its owner."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiToken, Invite, User, WebSession


async def any_user(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(User.id.is_not(None)))))


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def usable_invite(session: AsyncSession, code_hash: str, *, now: datetime) -> Invite | None:
    return await session.scalar(
        select(Invite).where(
            Invite.code_hash == code_hash, Invite.used_at.is_(None), Invite.expires_at > now
        )
    )


async def claim_invite(session: AsyncSession, code_hash: str, *, now: datetime) -> uuid.UUID | None:
    """Mark a usable invite used in one statement, so of two registrations racing for it
    only one gets its id; the other waits for the row lock and then finds it used."""
    invite_id: uuid.UUID | None = await session.scalar(
        update(Invite)
        .where(Invite.code_hash == code_hash, Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_at=now)
        .returning(Invite.id)
        .execution_options(synchronize_session=False)
    )
    return invite_id


async def set_invite_user(session: AsyncSession, invite_id: uuid.UUID, user_id: uuid.UUID) -> None:
    await session.execute(
        update(Invite)
        .where(Invite.id == invite_id)
        .values(used_by=user_id)
        .execution_options(synchronize_session=False)
    )


async def web_session_with_user(
    session: AsyncSession, id_hash: str, *, now: datetime
) -> tuple[User, WebSession] | None:
    row = (
        await session.execute(
            select(User, WebSession)
            .join(WebSession, WebSession.user_id == User.id)
            .where(WebSession.id_hash == id_hash, WebSession.expires_at > now)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def delete_web_session(session: AsyncSession, id_hash: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.id_hash == id_hash))


async def token_with_user(session: AsyncSession, token_hash: str) -> tuple[ApiToken, User] | None:
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_hash)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def tokens_of(session: AsyncSession, user_id: uuid.UUID) -> list[ApiToken]:
    result = await session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at, ApiToken.id)
    )
    return list(result)


async def delete_token(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(ApiToken).where(ApiToken.user_id == user_id, ApiToken.id == token_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)
