"""Queries for follow-ups, always filtered by their owner."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.followups.models import Followup
from app.followups.schedule import DueState, Status

if TYPE_CHECKING:
    from app.followups.service import FollowupFilters


def _due_state_clause(state: DueState, now: datetime) -> ColumnElement[bool]:
    scheduled = Followup.status == Status.SCHEDULED.value
    if state is DueState.UPCOMING:
        return and_(scheduled, Followup.not_before > now)
    if state is DueState.DUE:
        return and_(scheduled, Followup.not_before <= now, Followup.due_at >= now)
    return and_(scheduled, Followup.due_at < now)


async def list_for_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    filters: FollowupFilters,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    now: datetime,
) -> list[Followup]:
    query = select(Followup).where(Followup.user_id == user_id)
    if filters.due_state is not None:
        query = query.where(_due_state_clause(filters.due_state, now))
    if filters.status is not None:
        query = query.where(Followup.status == filters.status.value)
    if filters.kind is not None:
        query = query.where(Followup.kind == filters.kind.value)
    if filters.interview_id is not None:
        query = query.where(Followup.interview_id == filters.interview_id)
    if filters.due_before is not None:
        query = query.where(Followup.due_at < filters.due_before)
    if after is not None:
        due_at, row_id = after
        query = query.where(
            or_(Followup.due_at > due_at, and_(Followup.due_at == due_at, Followup.id > row_id))
        )
    query = query.order_by(Followup.due_at, Followup.id).limit(limit)
    return list(await session.scalars(query))


async def get_for_user(
    session: AsyncSession, user_id: uuid.UUID, followup_id: uuid.UUID
) -> Followup | None:
    return await session.scalar(
        select(Followup).where(Followup.user_id == user_id, Followup.id == followup_id)
    )


async def scheduled_with_interviews(
    session: AsyncSession, user_id: uuid.UUID, *, limit: int
) -> list[tuple[Followup, uuid.UUID, str, str]]:
    """Scheduled follow-ups by due time, each with its interview's id, company and role."""
    from app.interviews.models import Interview

    rows = await session.execute(
        select(Followup, Interview.id, Interview.company, Interview.role)
        .join(Interview, Interview.id == Followup.interview_id)
        .where(Followup.user_id == user_id, Followup.status == Status.SCHEDULED.value)
        .order_by(Followup.due_at, Followup.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]
