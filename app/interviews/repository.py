"""Queries for interviews with their people and follow-ups, always filtered by their owner."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Base, get_for_update
from app.followups.models import Followup
from app.followups.schedule import Status
from app.interviews.models import Interview, Person

Bundle = tuple[Interview, list[Person], list[Followup]]


async def _bundles(
    session: AsyncSession,
    user_id: uuid.UUID,
    interviews: Sequence[Interview],
    *,
    afresh: bool = False,
) -> list[Bundle]:
    """People and follow-ups of these interviews: two queries, whatever their number.
    `afresh` replaces what the session already holds of them with what is stored."""
    ids = [i.id for i in interviews]
    people: dict[uuid.UUID, list[Person]] = defaultdict(list)
    followups: dict[uuid.UUID, list[Followup]] = defaultdict(list)
    options = {"populate_existing": True} if afresh else {}
    if ids:
        for person in await session.scalars(
            select(Person)
            .where(Person.user_id == user_id, Person.interview_id.in_(ids))
            .order_by(Person.interview_id, Person.position)
            .execution_options(**options)
        ):
            people[person.interview_id].append(person)
        for followup in await session.scalars(
            select(Followup)
            .where(Followup.user_id == user_id, Followup.interview_id.in_(ids))
            .order_by(Followup.due_at, Followup.id)
            .execution_options(**options)
        ):
            followups[followup.interview_id].append(followup)
    return [(i, people[i.id], followups[i.id]) for i in interviews]


@cache
def _insert_columns(model: type[Base]) -> tuple[tuple[str, Any], ...]:
    """Each column's attribute and its Python default (a value, a callable, or None)."""
    columns: list[tuple[str, Any]] = []
    for attribute in inspect(model).column_attrs:
        default = attribute.columns[0].default
        if default is None:
            columns.append((attribute.key, None))
        elif default.is_scalar:
            columns.append((attribute.key, default.arg))
        else:  # a callable default, wrapped by SQLAlchemy to take an execution context
            columns.append((attribute.key, lambda arg=default.arg: arg(None)))
    return tuple(columns)


def _values(row: Base, columns: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """The row's column values, with the default of each never set (as a flush would)."""
    state = row.__dict__
    values = {}
    for key, default in columns:
        if key in state:
            values[key] = state[key]
        else:
            values[key] = default() if callable(default) else default
    return values


async def insert_new(session: AsyncSession, rows: Sequence[Base]) -> None:
    """Insert new rows of one table in one Core statement (executemany), without the ORM's
    unit of work: cheaper than a flush, and the rows stay unknown to the session."""
    if not rows:
        return
    model = type(rows[0])
    columns = _insert_columns(model)
    await session.execute(
        insert(model.__table__),  # type: ignore[arg-type]
        [_values(row, columns) for row in rows],
    )


async def get_bundle(
    session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID
) -> Bundle | None:
    interview = await session.scalar(
        select(Interview).where(Interview.user_id == user_id, Interview.id == interview_id)
    )
    if interview is None:
        return None
    return (await _bundles(session, user_id, [interview]))[0]


async def find_by_invite(
    session: AsyncSession, user_id: uuid.UUID, invite_uid: str
) -> Interview | None:
    """The user's interview imported from this calendar invite, if any."""
    return await session.scalar(
        select(Interview).where(Interview.user_id == user_id, Interview.invite_uid == invite_uid)
    )


async def lock_bundle(
    session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID
) -> Bundle | None:
    """The interview with its people and follow-ups as stored, the interview locked until the
    transaction ends. Every write to an interview or to one of its follow-ups takes this lock
    first: its ETag covers them all, and a follow-up's write reschedules its siblings."""
    interview = await get_for_update(
        session, Interview, Interview.user_id == user_id, Interview.id == interview_id
    )
    if interview is None:
        return None
    return (await _bundles(session, user_id, [interview], afresh=True))[0]


def _contains(text: str) -> str:
    """A LIKE pattern (escape `\\`) for values containing `text`, lowercased."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filters(
    user_id: uuid.UUID,
    *,
    outcome: str | None,
    company: str | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    search: str | None,
) -> list[ColumnElement[bool]]:
    """The list's conditions, the owner first. `search` (the web list's search box) matches
    the company, the role or the name of a person met, anywhere and regardless of case."""
    where: list[ColumnElement[bool]] = [Interview.user_id == user_id]
    if outcome is not None:
        where.append(Interview.outcome == outcome)
    if company is not None:
        where.append(func.lower(Interview.company).like(_contains(company), escape="\\"))
    if starts_after is not None:
        where.append(Interview.starts_at >= starts_after)
    if starts_before is not None:
        where.append(Interview.starts_at < starts_before)
    if search is not None:
        pattern = _contains(search)
        met = (
            select(Person.id)
            .where(
                Person.user_id == user_id,
                Person.interview_id == Interview.id,
                func.lower(Person.name).like(pattern, escape="\\"),
            )
            .exists()
        )
        where.append(
            or_(
                func.lower(Interview.company).like(pattern, escape="\\"),
                func.lower(Interview.role).like(pattern, escape="\\"),
                met,
            )
        )
    return where


async def count(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    outcome: str | None,
    company: str | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    search: str | None = None,
) -> int:
    """How many interviews the list's filters keep, in one statement."""
    where = _filters(
        user_id,
        outcome=outcome,
        company=company,
        starts_after=starts_after,
        starts_before=starts_before,
        search=search,
    )
    return await session.scalar(select(func.count()).select_from(Interview).where(*where)) or 0


async def list_bundles(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    outcome: str | None,
    company: str | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    newest_first: bool = False,
    search: str | None = None,
) -> list[Bundle]:
    """One page of interviews by `starts_at` then `id` (the API's order), or the reverse
    (the web list's); `after` is the last row of the page before, in the same order."""
    query = select(Interview).where(
        *_filters(
            user_id,
            outcome=outcome,
            company=company,
            starts_after=starts_after,
            starts_before=starts_before,
            search=search,
        )
    )
    if after is not None and newest_first:
        starts_at, row_id = after
        query = query.where(
            or_(
                Interview.starts_at < starts_at,
                and_(Interview.starts_at == starts_at, Interview.id < row_id),
            )
        )
    elif after is not None:
        starts_at, row_id = after
        query = query.where(
            or_(
                Interview.starts_at > starts_at,
                and_(Interview.starts_at == starts_at, Interview.id > row_id),
            )
        )
    if newest_first:
        query = query.order_by(Interview.starts_at.desc(), Interview.id.desc())
    else:
        query = query.order_by(Interview.starts_at, Interview.id)
    query = query.limit(limit)
    return await _bundles(session, user_id, list(await session.scalars(query)))


async def bundles_with_open_followups(session: AsyncSession, user_id: uuid.UUID) -> list[Bundle]:
    """Interviews with follow-ups still scheduled or cancelled (which may come back)."""
    open_ids = (
        select(Followup.interview_id)
        .where(
            Followup.user_id == user_id,
            Followup.status.in_([Status.SCHEDULED.value, Status.CANCELLED.value]),
        )
        .distinct()
    )
    interviews = await session.scalars(
        select(Interview)
        .where(Interview.user_id == user_id, Interview.id.in_(open_ids))
        .order_by(Interview.starts_at, Interview.id)
    )
    return await _bundles(session, user_id, list(interviews))


async def delete_interview(
    session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID
) -> None:
    # Children first, so SQLite and Postgres behave alike whatever the FK enforcement.
    await session.execute(
        delete(Followup).where(Followup.user_id == user_id, Followup.interview_id == interview_id)
    )
    await session.execute(
        delete(Person).where(Person.user_id == user_id, Person.interview_id == interview_id)
    )
    await session.execute(
        delete(Interview).where(Interview.user_id == user_id, Interview.id == interview_id)
    )


async def upcoming(
    session: AsyncSession, user_id: uuid.UUID, *, since: datetime
) -> list[Interview]:
    """Interviews starting from `since`, soonest first (bounded by time, not history)."""
    result = await session.scalars(
        select(Interview)
        .where(Interview.user_id == user_id, Interview.starts_at >= since)
        .order_by(Interview.starts_at, Interview.id)
        .limit(500)
    )
    return list(result)
