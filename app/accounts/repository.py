"""Queries for accounts; everything a user owns is filtered by its owner."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime

from sqlalchemy import Select, bindparam, case, delete, exists, false, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import ApiToken, Invite, LoginAttempt, User, WebSession
from app.db import get_for_update


async def any_user(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(User.id.is_not(None)))))


# Registrations on an empty instance take turns on this lock, so only one becomes the admin.
FIRST_ACCOUNT_LOCK = 0x466F6C6C6F777571


async def lock_first_account(session: AsyncSession) -> None:
    """Serialises the first registrations until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": FIRST_ACCOUNT_LOCK}
        )
    else:
        # SQLite's one write lock: a write statement takes it (waiting out busy_timeout)
        # even when it changes no row, and keeps it to the end of the transaction.
        await session.execute(update(User).where(false()).values(is_admin=User.is_admin))


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The account as stored, locked until the transaction ends (app.db.get_for_update);
    the User the session already holds is the one refreshed."""
    return await get_for_update(session, User, User.id == user_id)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


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


# Every request runs one of these two lookups: they are built once, with bound parameters
# (building a select and its cache key cost a quarter of the lookup; bench/, issue 5).
@functools.cache
def _web_session_statement() -> Select[User, WebSession]:
    return (
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.id_hash == bindparam("id_hash"), WebSession.expires_at > bindparam("now"))
    )


@functools.cache
def _token_statement() -> Select[User, uuid.UUID, datetime | None]:
    return (
        select(User, ApiToken.id, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


async def web_session_with_user(
    session: AsyncSession, id_hash: str, *, now: datetime
) -> tuple[User, WebSession] | None:
    row = (
        await session.execute(_web_session_statement(), {"id_hash": id_hash, "now": now})
    ).first()
    return (row[0], row[1]) if row else None


async def delete_web_session(session: AsyncSession, id_hash: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.id_hash == id_hash))


async def user_for_token_hash(
    session: AsyncSession, token_hash: str
) -> tuple[User, uuid.UUID, datetime | None] | None:
    """The token's user with the token's id and last use, in one joined select: the token
    itself is not loaded as an object (every API request runs this)."""
    row = (await session.execute(_token_statement(), {"token_hash": token_hash})).first()
    return (row[0], row[1], row[2]) if row else None


async def touch_token(
    session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID, *, now: datetime
) -> None:
    await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.id == token_id)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


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


async def delete_web_sessions(
    session: AsyncSession, user_id: uuid.UUID, *, keep: str | None = None
) -> None:
    """End the user's web sessions, all of them or all but the one hashed `keep`."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None:
        query = query.where(WebSession.id_hash != keep)
    await session.execute(query)


async def other_active_admins(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """The other active admins, locked (on Postgres) so that two admins stepping down at
    once cannot both see the other one and leave the instance with none."""
    result = await session.scalars(
        select(User.id)
        .where(User.is_admin.is_(True), User.is_active.is_(True), User.id != user_id)
        .order_by(User.id)
        .with_for_update()
    )
    return list(result)


async def any_other_user(session: AsyncSession, user_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(User.id != user_id))))


async def delete_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    # Every user-owned table references users.id with ON DELETE CASCADE. Pending changes
    # (a token's last_used_at) are written first: afterwards their rows are gone.
    await session.flush()
    await session.execute(delete(User).where(User.id == user_id))


async def count_login_attempt(
    session: AsyncSession, key_hash: str, *, now: datetime, window_start: datetime
) -> tuple[int, datetime]:
    """Add one attempt to the key's window in one statement, and return the window's count
    and start: a window that started at or before `window_start` has ended, so it starts
    again now. Concurrent attempts on one key queue on its row, each seeing its own count."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(LoginAttempt).values(key_hash=key_hash, window_started_at=now, attempts=1)
    ended = LoginAttempt.window_started_at <= window_start
    statement = statement.on_conflict_do_update(
        index_elements=[LoginAttempt.key_hash],
        set_={
            "attempts": case((ended, 1), else_=LoginAttempt.attempts + 1),
            "window_started_at": case(
                (ended, statement.excluded.window_started_at),
                else_=LoginAttempt.window_started_at,
            ),
        },
    )
    row = (
        await session.execute(
            statement.returning(LoginAttempt.attempts, LoginAttempt.window_started_at)
        )
    ).one()
    return int(row[0]), row[1]


async def forget_login_attempts(session: AsyncSession, key_hash: str) -> None:
    await session.execute(delete(LoginAttempt).where(LoginAttempt.key_hash == key_hash))


async def refund_login_attempt(session: AsyncSession, key_hash: str) -> None:
    """Take back one counted attempt (it succeeded), so only failures fill the window."""
    await session.execute(
        update(LoginAttempt)
        .where(LoginAttempt.key_hash == key_hash, LoginAttempt.attempts > 0)
        .values(attempts=LoginAttempt.attempts - 1)
        .execution_options(synchronize_session=False)
    )
