"""Queries for the group: who shares, their weekly counts, streaks, shared templates.

Every count reads only the members who chose to share (`user_id IN (...)`) and a bounded
time range, so the indexes that lead with `user_id` serve it — never a scan of all rows.
One grouped query per measure: no query per member or per week."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, delete, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.accounts.models import User
from app.followups.models import Followup
from app.followups.schedule import Status
from app.group.models import GroupTemplate, InstanceSettings
from app.interviews.models import Interview

SETTINGS_ROW = 1


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    display_name: str
    sharing: str


@dataclass(frozen=True)
class SentCounts:
    sent: int
    on_time: int


async def sharing_members(session: AsyncSession) -> list[Member]:
    """Active members who share something on the board, by display name."""
    rows = await session.execute(
        select(User.id, User.display_name, User.board_sharing)
        .where(User.is_active.is_(True), User.board_sharing != "none")
        .order_by(User.display_name, User.id)
    )
    return [Member(id=r[0], display_name=r[1], sharing=r[2]) for r in rows]


async def count_not_sharing(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.is_active.is_(True), User.board_sharing == "none")
        )
        or 0
    )


def _week_of(
    column: QueryableAttribute[datetime] | QueryableAttribute[datetime | None],
    bounds: Sequence[datetime],
) -> ColumnElement[int]:
    """The index of the week (0 = oldest) an instant falls in; `bounds` are the starts of
    weeks 1..n-1 (the caller keeps the instant within the whole range)."""
    if not bounds:
        return literal_column("0")
    return case(*[(column < bound, index) for index, bound in enumerate(bounds)], else_=len(bounds))


# An interview the company called off (outcome `cancelled`) never took place.
_HELD = Interview.outcome != "cancelled"


async def interviews_per_week(
    session: AsyncSession,
    user_ids: Sequence[uuid.UUID],
    *,
    start: datetime,
    end: datetime,
    bounds: Sequence[datetime],
) -> dict[tuple[uuid.UUID, int], int]:
    """(member, week) -> interviews held in the week (cancelled ones were not); (user_id,
    starts_at) index."""
    if not user_ids:
        return {}
    # Grouped outside the subquery: Postgres would not match a CASE with bound parameters
    # in GROUP BY to the same CASE in the select list.
    held = (
        select(Interview.user_id, _week_of(Interview.starts_at, bounds).label("week"))
        .where(
            Interview.user_id.in_(user_ids),
            Interview.starts_at >= start,
            Interview.starts_at < end,
            _HELD,
        )
        .subquery()
    )
    rows = await session.execute(
        select(held.c.user_id, held.c.week, func.count()).group_by(held.c.user_id, held.c.week)
    )
    return {(r[0], int(r[1])): int(r[2]) for r in rows}


async def companies_per_week(
    session: AsyncSession,
    user_ids: Sequence[uuid.UUID],
    *,
    start: datetime,
    end: datetime,
    bounds: Sequence[datetime],
) -> dict[tuple[uuid.UUID, int], list[str]]:
    """(member, week) -> the companies of that week's interviews, for the given members only
    (the caller passes only those who share company names)."""
    if not user_ids:
        return {}
    held = (
        select(
            Interview.user_id,
            _week_of(Interview.starts_at, bounds).label("week"),
            Interview.company,
        )
        .where(
            Interview.user_id.in_(user_ids),
            Interview.starts_at >= start,
            Interview.starts_at < end,
            _HELD,
        )
        .subquery()
    )
    rows = await session.execute(
        select(held.c.user_id, held.c.week, held.c.company)
        .group_by(held.c.user_id, held.c.week, held.c.company)
        .order_by(held.c.user_id, held.c.week, held.c.company)
    )
    found: dict[tuple[uuid.UUID, int], list[str]] = {}
    for user_id, index, company in rows:
        found.setdefault((user_id, int(index)), []).append(company)
    return found


async def sent_per_week(
    session: AsyncSession,
    user_ids: Sequence[uuid.UUID],
    *,
    start: datetime,
    end: datetime,
    bounds: Sequence[datetime],
) -> dict[tuple[uuid.UUID, int, str], SentCounts]:
    """(member, week, kind) -> thank-yous and check-ins sent in the week and how many of
    them by their due time; served by the (user_id, sent_at) index."""
    if not user_ids:
        return {}
    is_sent = Followup.status == Status.SENT.value
    sent = (
        select(
            Followup.user_id,
            _week_of(Followup.sent_at, bounds).label("week"),
            Followup.kind,
            # Only sent follow-ups have a `sent_at`; the status is checked here rather than in
            # WHERE, so the (user_id, sent_at) range is the one index a planner can use.
            case((is_sent, 1), else_=0).label("sent"),
            case((and_(is_sent, Followup.sent_at <= Followup.due_at), 1), else_=0).label("on_time"),
        )
        .where(
            Followup.user_id.in_(user_ids),
            Followup.sent_at >= start,
            Followup.sent_at < end,
            Followup.kind.in_(("thank_you", "check_in")),
        )
        .subquery()
    )
    rows = await session.execute(
        select(
            sent.c.user_id,
            sent.c.week,
            sent.c.kind,
            func.sum(sent.c.sent),
            func.sum(sent.c.on_time),
        ).group_by(sent.c.user_id, sent.c.week, sent.c.kind)
    )
    return {
        (r[0], int(r[1]), r[2]): SentCounts(sent=int(r[3] or 0), on_time=int(r[4] or 0))
        for r in rows
    }


async def streaks(
    session: AsyncSession, user_ids: Sequence[uuid.UUID], *, since: datetime, now: datetime
) -> dict[uuid.UUID, int]:
    """member -> on-time follow-ups due after their most recent broken one (sent late, or
    unsent past its due time), among those due since `since`; (user_id, due_at) index."""
    if not user_ids:
        return {}
    sent = Followup.status == Status.SENT.value
    broken = or_(
        and_(sent, Followup.sent_at > Followup.due_at),
        and_(Followup.status == Status.SCHEDULED.value, Followup.due_at < now),
    )
    last_break = (
        select(Followup.user_id.label("user_id"), func.max(Followup.due_at).label("due_at"))
        .where(Followup.user_id.in_(user_ids), Followup.due_at >= since, broken)
        .group_by(Followup.user_id)
        .subquery()
    )
    rows = await session.execute(
        select(Followup.user_id, func.count())
        .outerjoin(last_break, last_break.c.user_id == Followup.user_id)
        .where(
            Followup.user_id.in_(user_ids),
            Followup.due_at >= since,
            sent,
            Followup.sent_at <= Followup.due_at,
            or_(last_break.c.due_at.is_(None), Followup.due_at > last_break.c.due_at),
        )
        .group_by(Followup.user_id)
    )
    return {r[0]: int(r[1]) for r in rows}


async def instance_settings(session: AsyncSession) -> InstanceSettings | None:
    return await session.get(InstanceSettings, SETTINGS_ROW)


def add_instance_settings(session: AsyncSession, *, members_may_publish: bool) -> InstanceSettings:
    row = InstanceSettings(id=SETTINGS_ROW, members_may_publish=members_may_publish)
    session.add(row)
    return row


async def list_templates(
    session: AsyncSession, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[tuple[GroupTemplate, str]]:
    """Shared templates, newest first, each with its author's display name."""
    query = select(GroupTemplate, User.display_name).join(User, User.id == GroupTemplate.user_id)
    if after is not None:
        created_at, row_id = after
        query = query.where(
            or_(
                GroupTemplate.created_at < created_at,
                and_(GroupTemplate.created_at == created_at, GroupTemplate.id < row_id),
            )
        )
    rows = await session.execute(
        query.order_by(GroupTemplate.created_at.desc(), GroupTemplate.id.desc()).limit(limit)
    )
    return [(r[0], r[1]) for r in rows]


async def get_template(
    session: AsyncSession, template_id: uuid.UUID
) -> tuple[GroupTemplate, str] | None:
    row = (
        await session.execute(
            select(GroupTemplate, User.display_name)
            .join(User, User.id == GroupTemplate.user_id)
            .where(GroupTemplate.id == template_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def delete_template(session: AsyncSession, template_id: uuid.UUID) -> None:
    await session.execute(delete(GroupTemplate).where(GroupTemplate.id == template_id))
