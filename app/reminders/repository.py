"""Queries for the outbox and password resets; user-owned reads are filtered by their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import queue
from app.accounts.models import User, WebSession
from app.followups import repository as followups
from app.followups.models import Followup
from app.followups.schedule import Kind
from app.mailbox.models import Mailbox
from app.reminders.models import MAILBOX_SEND, Outbox, PasswordReset

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


async def users_for_digest(
    session: AsyncSession, *, after: uuid.UUID | None, limit: int
) -> list[User]:
    """Active users with the daily digest on, a page at a time (keyset on id)."""
    query = select(User).where(User.is_active.is_(True), User.daily_digest.is_(True))
    if after is not None:
        query = query.where(User.id > after)
    return list(await session.scalars(query.order_by(User.id).limit(limit)))


async def mailbox_error(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """Why the user's watched mailbox cannot be read, when it cannot (for the digest)."""
    row = (
        await session.execute(
            select(Mailbox.status, Mailbox.last_error).where(
                Mailbox.user_id == user_id, Mailbox.watch.is_(True)
            )
        )
    ).first()
    if row is None or row[0] != "error":
        return None
    return str(row[1] or "The mailbox could not be read.")


async def users_for_due_now(
    session: AsyncSession, *, after: uuid.UUID | None, limit: int
) -> list[User]:
    query = select(User).where(User.is_active.is_(True), User.due_now.is_(True))
    if after is not None:
        query = query.where(User.id > after)
    return list(await session.scalars(query.order_by(User.id).limit(limit)))


async def existing_keys(
    session: AsyncSession, user_ids: Sequence[uuid.UUID], keys: Sequence[str]
) -> set[tuple[uuid.UUID, str]]:
    if not user_ids:
        return set()
    rows = await session.execute(
        select(Outbox.user_id, Outbox.dedupe_key).where(
            Outbox.user_id.in_(user_ids), Outbox.dedupe_key.in_(keys)
        )
    )
    return {(row[0], row[1]) for row in rows}


async def scheduled_until(
    session: AsyncSession, user_id: uuid.UUID, *, not_before_until: datetime, limit: int
) -> list[tuple[Followup, str, str]]:
    """Scheduled follow-ups that start before `not_before_until`, with company and role."""
    return await followups.scheduled_with_interview(
        session,
        user_id,
        Followup.not_before < not_before_until,
        order_by=Followup.due_at,
        limit=limit,
    )


async def thank_yous_became_due(
    session: AsyncSession, user_id: uuid.UUID, *, since: datetime, now: datetime, limit: int
) -> list[tuple[Followup, str, str]]:
    return await followups.scheduled_with_interview(
        session,
        user_id,
        Followup.kind == Kind.THANK_YOU.value,
        Followup.not_before > since,
        Followup.not_before <= now,
        Followup.due_at >= now,
        order_by=Followup.due_at,
        limit=limit,
    )


async def insert_ignoring_duplicate(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert an outbox row unless (user_id, dedupe_key) exists; True when inserted."""
    return await queue.insert_unless_present(
        session, Outbox, values, unique=["user_id", "dedupe_key"]
    )


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    claimed_until: datetime,
    limit: int,
    kinds: tuple[str, ...] | None = None,
) -> list[Outbox]:
    """Lock up to `limit` due rows (skipping rows other workers hold) and mark them sending;
    only rows of these `kinds` when given."""
    ids = await queue.claim_ids(
        session, Outbox, now=now, claimed_until=claimed_until, limit=limit, kinds=kinds
    )
    if not ids:
        return []
    rows = await session.scalars(
        select(Outbox).where(Outbox.id.in_(ids)).execution_options(populate_existing=True)
    )
    return sorted(rows, key=lambda row: row.due_at)


async def mark(session: AsyncSession, outbox_id: uuid.UUID, **values: Any) -> None:
    await queue.mark(session, Outbox, outbox_id, **values)


async def release(session: AsyncSession, outbox_ids: Sequence[uuid.UUID]) -> None:
    await queue.release(session, Outbox, outbox_ids)


async def claim_reset(session: AsyncSession, token_hash: str, *, now: datetime) -> uuid.UUID | None:
    """Mark a usable reset used in one statement (so it works once) and return its user."""
    user_id: uuid.UUID | None = await session.scalar(
        update(PasswordReset)
        .where(
            PasswordReset.token_hash == token_hash,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
        .returning(PasswordReset.user_id)
        .execution_options(synchronize_session=False)
    )
    return user_id


async def reset_emails_since(session: AsyncSession, user_id: uuid.UUID, *, since: datetime) -> int:
    """How many reset emails were queued for the account since `since`."""
    query = select(func.count()).where(
        Outbox.user_id == user_id, Outbox.kind == "password_reset", Outbox.created_at >= since
    )
    return int((await session.execute(query)).scalar_one())


async def use_up_resets(session: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> None:
    """Mark every still-usable reset link of the account used."""
    await session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


async def end_web_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(WebSession).where(WebSession.user_id == user_id))


async def failed_of(session: AsyncSession, user_id: uuid.UUID, *, limit: int) -> list[Outbox]:
    """The user's emails that could not be delivered, newest first."""
    result = await session.scalars(
        select(Outbox)
        .where(
            Outbox.user_id == user_id,
            Outbox.status == "failed",
            Outbox.kind != MAILBOX_SEND,
        )
        .order_by(Outbox.created_at.desc(), Outbox.id.desc())
        .limit(limit)
    )
    return list(result)
