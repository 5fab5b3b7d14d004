"""Queries for follow-ups, always filtered by their owner."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    RowMapping,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CompoundSelect

from app.followups.models import Followup, joins_its_interview
from app.followups.schedule import DueState, Status

if TYPE_CHECKING:
    from app.followups.service import FollowupFilters


# What a FollowupRead is made of: hot lists select these columns and read rows as mappings
# instead of hydrating ORM objects (no identity map, no change tracking; bench/, issue 5).
READ_COLUMNS = (
    Followup.id,
    Followup.interview_id,
    Followup.kind,
    Followup.recipient_name,
    Followup.recipient_email,
    Followup.not_before,
    Followup.due_at,
    Followup.status,
    Followup.sent_at,
    Followup.subject,
    Followup.body,
    Followup.draft_edited,
    Followup.snoozed,
    Followup.cancel_reason,
    Followup.sent_via,
    Followup.send_error,
    Followup.send_requested_at,
)


def _due_state_clause(state: DueState) -> ColumnElement[bool]:
    scheduled = Followup.status == Status.SCHEDULED.value
    now: BindParameter[datetime] = bindparam("now")
    if state is DueState.UPCOMING:
        return and_(scheduled, Followup.not_before > now)
    if state is DueState.DUE:
        return and_(scheduled, Followup.not_before <= now, Followup.due_at >= now)
    return and_(scheduled, Followup.due_at < now)


_ListShape = tuple[DueState | None, bool, bool, bool, bool, bool]


@functools.cache
def _list_statement(shape: _ListShape) -> Select[*tuple[Any, ...]]:
    """One statement per combination of filters, built once with bound parameters: building
    a select and its cache key on every request cost more than running it (bench/)."""
    due_state, status, kind, interview_id, due_before, after = shape
    query = select(*READ_COLUMNS).where(Followup.user_id == bindparam("user_id"))
    if due_state is not None:
        query = query.where(_due_state_clause(due_state))
    if status:
        query = query.where(Followup.status == bindparam("status"))
    if kind:
        query = query.where(Followup.kind == bindparam("kind"))
    if interview_id:
        query = query.where(Followup.interview_id == bindparam("interview_id"))
    if due_before:
        query = query.where(Followup.due_at < bindparam("due_before"))
    if after:
        query = query.where(
            or_(
                Followup.due_at > bindparam("after_due_at"),
                and_(
                    Followup.due_at == bindparam("after_due_at"),
                    Followup.id > bindparam("after_id"),
                ),
            )
        )
    return query.order_by(Followup.due_at, Followup.id).limit(bindparam("limit", type_=Integer))


async def list_for_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    filters: FollowupFilters,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    now: datetime,
) -> list[RowMapping]:
    """The READ_COLUMNS of one page, as mappings."""
    shape: _ListShape = (
        filters.due_state,
        filters.status is not None,
        filters.kind is not None,
        filters.interview_id is not None,
        filters.due_before is not None,
        after is not None,
    )
    params: dict[str, Any] = {"user_id": user_id, "limit": limit}
    if filters.due_state is not None:
        params["now"] = now
    if filters.status is not None:
        params["status"] = filters.status.value
    if filters.kind is not None:
        params["kind"] = filters.kind.value
    if filters.interview_id is not None:
        params["interview_id"] = filters.interview_id
    if filters.due_before is not None:
        params["due_before"] = filters.due_before
    if after is not None:
        params["after_due_at"], params["after_id"] = after
    return list((await session.execute(_list_statement(shape), params)).mappings())


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
        .join(Interview, joins_its_interview())
        .where(Followup.user_id == user_id, Followup.status == Status.SCHEDULED.value)
        .order_by(Followup.due_at, Followup.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def _today_section(state: DueState, *, after: bool) -> Select[*tuple[Any, ...]]:
    """One Today section (READ_COLUMNS, company, role) by (due_at, id), through the
    (user_id, status, due_at, id) index, LIMIT :limit, after a keyset cursor if `after`."""
    from app.interviews.models import Interview

    query = (
        select(
            literal(state.value).label("section"), *READ_COLUMNS, Interview.company, Interview.role
        )
        .join(Interview, joins_its_interview())
        .where(Followup.user_id == bindparam("user_id"), _due_state_clause(state))
    )
    if after:
        query = query.where(
            or_(
                Followup.due_at > bindparam("after_due_at"),
                and_(
                    Followup.due_at == bindparam("after_due_at"),
                    Followup.id > bindparam("after_id"),
                ),
            )
        )
    return query.order_by(Followup.due_at, Followup.id).limit(bindparam("limit", type_=Integer))


@functools.cache
def _today_statement() -> CompoundSelect[*tuple[Any, ...]]:
    """Overdue, due and upcoming, each at most :limit rows, in one round trip."""
    return union_all(*(select(_today_section(state, after=False).subquery()) for state in DueState))


@functools.cache
def _today_more_statement(state: DueState, after: bool) -> Select[*tuple[Any, ...]]:
    return _today_section(state, after=after)


async def scheduled_for_today(
    session: AsyncSession, user_id: uuid.UUID, *, limit: int, now: datetime
) -> list[RowMapping]:
    """Today's rows: per section (overdue, due, upcoming) at most `limit` scheduled
    follow-ups by due time (READ_COLUMNS) with their interview's company and role and a
    `section` column, as mappings."""
    rows = await session.execute(
        _today_statement(), {"user_id": user_id, "limit": limit, "now": now}
    )
    return list(rows.mappings())


async def today_section_after(
    session: AsyncSession,
    user_id: uuid.UUID,
    state: DueState,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    now: datetime,
) -> list[RowMapping]:
    """Rows of one Today section, after a (due_at, id) cursor if given ("Show more")."""
    params: dict[str, Any] = {"user_id": user_id, "limit": limit, "now": now}
    if after is not None:
        params["after_due_at"], params["after_id"] = after
    statement = _today_more_statement(state, after is not None)
    return list((await session.execute(statement, params)).mappings())


@functools.cache
def _today_counts_statement() -> Select[*tuple[Any, ...]]:
    now: BindParameter[datetime] = bindparam("now")
    # The same precedence as schedule.due_state: upcoming, then due, then overdue.
    state = case(
        (Followup.not_before > now, DueState.UPCOMING.value),
        (Followup.due_at >= now, DueState.DUE.value),
        else_=DueState.OVERDUE.value,
    ).label("state")
    return (
        select(state, Followup.kind, func.count().label("count"))
        .where(
            Followup.user_id == bindparam("user_id"),
            Followup.status == Status.SCHEDULED.value,
        )
        .group_by("state", Followup.kind)  # by label: one expression, one parameter
    )


async def today_counts(
    session: AsyncSession, user_id: uuid.UUID, *, now: datetime
) -> dict[tuple[DueState, str], int]:
    """How many scheduled follow-ups per (due state, kind), in one grouped COUNT."""
    rows = await session.execute(_today_counts_statement(), {"user_id": user_id, "now": now})
    return {(DueState(state), kind): count for state, kind, count in rows}


async def thread_parent(session: AsyncSession, row: Followup) -> Followup | None:
    """The latest earlier email of the same interview to the same address that went out with
    a known Message-ID: a later follow-up to that person answers it (threading)."""
    if row.recipient_email is None:
        return None
    return await session.scalar(
        select(Followup)
        .where(
            Followup.user_id == row.user_id,
            Followup.interview_id == row.interview_id,
            Followup.id != row.id,
            Followup.status == Status.SENT.value,
            Followup.message_id.is_not(None),
            func.lower(Followup.recipient_email) == row.recipient_email.lower(),
        )
        .order_by(Followup.sent_at.desc(), Followup.id.desc())
        .limit(1)
    )


async def interview_names(
    session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID
) -> tuple[str, str] | None:
    """An interview's company and role."""
    from app.interviews.models import Interview

    row = (
        await session.execute(
            select(Interview.company, Interview.role).where(
                Interview.user_id == user_id, Interview.id == interview_id
            )
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def replies_since(
    session: AsyncSession, user_id: uuid.UUID, *, since: datetime, limit: int
) -> list[RowMapping]:
    """Interviews whose latest reply came after `since`, newest first: id, company, role,
    last_reply_at, last_reply_subject, the person's name (null when they left) and how many
    check-ins the reply cancelled."""
    from app.interviews.models import Interview, Person

    cancelled = (
        select(func.count())
        .where(
            Followup.user_id == user_id,
            Followup.interview_id == Interview.id,
            Followup.status == Status.CANCELLED.value,
            Followup.cancel_reason == "replied",
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Interview.id,
            Interview.company,
            Interview.role,
            Interview.last_reply_at,
            Interview.last_reply_subject,
            Person.name.label("person_name"),
            cancelled.label("cancelled"),
        )
        .outerjoin(
            Person,
            and_(Person.user_id == user_id, Person.id == Interview.last_reply_person_id),
        )
        .where(Interview.user_id == user_id, Interview.last_reply_at >= since)
        .order_by(Interview.last_reply_at.desc(), Interview.id)
        .limit(limit)
    )
    return list(rows.mappings())


async def sent_through_mailbox_since(
    session: AsyncSession, user_id: uuid.UUID, *, since: datetime, limit: int
) -> list[RowMapping]:
    """Follow-ups the mailbox saw sent, or the app sent, after `since`, newest first
    (READ_COLUMNS with company and role)."""
    from app.interviews.models import Interview

    rows = await session.execute(
        select(*READ_COLUMNS, Interview.company, Interview.role)
        .join(Interview, joins_its_interview())
        .where(
            Followup.user_id == user_id,
            Followup.sent_at >= since,
            Followup.status == Status.SENT.value,
            Followup.sent_via.in_(("mailbox", "app")),
        )
        .order_by(Followup.sent_at.desc(), Followup.id)
        .limit(limit)
    )
    return list(rows.mappings())
