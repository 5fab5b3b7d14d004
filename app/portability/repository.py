"""Queries for a whole account's data, always filtered by its owner."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.followups.models import Followup
from app.interviews.models import Interview, Person
from app.interviews.repository import Bundle


async def all_bundles(session: AsyncSession, user_id: uuid.UUID) -> list[Bundle]:
    """Every interview of the user (by starts_at, id) with its people and follow-ups."""
    interviews = list(
        await session.scalars(
            select(Interview)
            .where(Interview.user_id == user_id)
            .order_by(Interview.starts_at, Interview.id)
        )
    )
    people: dict[uuid.UUID, list[Person]] = defaultdict(list)
    for person in await session.scalars(
        select(Person)
        .where(Person.user_id == user_id)
        .order_by(Person.interview_id, Person.position)
    ):
        people[person.interview_id].append(person)
    followups: dict[uuid.UUID, list[Followup]] = defaultdict(list)
    for row in await session.scalars(
        select(Followup).where(Followup.user_id == user_id).order_by(Followup.due_at, Followup.id)
    ):
        followups[row.interview_id].append(row)
    return [(i, people[i.id], followups[i.id]) for i in interviews]


async def count_interviews(session: AsyncSession, user_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Interview).where(Interview.user_id == user_id)
        )
        or 0
    )


async def invite_uids_in(
    session: AsyncSession, user_id: uuid.UUID, uids: Sequence[str]
) -> set[str]:
    """Which of these invite UIDs the user already has an interview from."""
    found = await session.scalars(
        select(Interview.invite_uid).where(
            Interview.user_id == user_id, Interview.invite_uid.in_(list(set(uids)))
        )
    )
    return {uid for uid in found if uid is not None}
