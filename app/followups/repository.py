"""Queries for follow-ups, always filtered by their owner."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    RowMapping,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CompoundSelect

from app.followups.models import Followup, joins_its_interview
from app.followups.schedule import DueState, Kind, Status
from app.interviews.models import Interview


@dataclass(frozen=True)
class FollowupFilters:
    """The list's filters (the API's query parameters), all optional."""

    due_state: DueState | None = None
    status: Status | None = None
    kind: Kind | None = None
    interview_id: uuid.UUID | None = None
    due_before: datetime | None = None


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


async def scheduled_with_interview(
    session: AsyncSession,
    user_id: uuid.UUID,
    *where: ColumnElement[bool],
    order_by: Any,
    limit: int,
) -> list[tuple[Followup, str, str]]:
    """The owner's scheduled follow-ups matching `where`, each with its interview's company
    and role, by `order_by` then id: the one "what is due" query the reminders, the digest
    and webhooks ask."""
    rows = await session.execute(
        select(Followup, Interview.company, Interview.role)
        .join(Interview, joins_its_interview())
        .where(Followup.user_id == user_id, Followup.status == Status.SCHEDULED.value, *where)
        .order_by(order_by, Followup.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2]) for row in rows]


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


def _today_shape(part: ColumnElement[str], *, read: bool, **given: Any) -> list[Any]:
    """A branch of Today's statement in its one column shape: `part` (what the row is), then
    READ_COLUMNS (the follow-up's own if `read`), company, role, person_id and a number `n`.
    What the branch lacks is a typed NULL (an untyped one in a subquery is text to Postgres,
    which no UNION matches with a uuid)."""
    from app.interviews.models import Interview

    columns: list[Any] = [part.label("part")]
    for column in READ_COLUMNS:
        value = given.pop(column.key, column if read else cast(null(), column.type))
        columns.append(value.label(column.key))
    extra: tuple[Any, ...] = (Interview.company, Interview.role, Followup.person_id)
    for other in extra:
        columns.append(given.pop(other.key, cast(null(), other.type)).label(other.key))
    columns.append(given.pop("n", cast(null(), Integer)).label("n"))
    assert not given, f"not a column of Today's statement: {sorted(given)}"
    return columns


def _today_section(state: DueState, *, after: bool) -> Select[*tuple[Any, ...]]:
    """One Today section (part, READ_COLUMNS, company, role, person_id) by (due_at, id),
    through the (user_id, status, due_at, id) index, LIMIT :limit, after a keyset cursor if
    `after`."""
    from app.interviews.models import Interview

    query = (
        select(
            *_today_shape(
                literal(state.value),
                read=True,
                company=Interview.company,
                role=Interview.role,
                person_id=Followup.person_id,
            )
        )
        .select_from(Followup)
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
def _today_more_statement(state: DueState, after: bool) -> Select[*tuple[Any, ...]]:
    return _today_section(state, after=after)


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


# The `part` of Today's rows that are not a section's follow-ups.
SENT_LATELY, CAME_BACK, MAILBOX, COUNT = "sent_lately", "came_back", "mailbox", "count:"
# Sent since :week_start, by whether each went out by its due_at (`n` the count).
WEEK_ON_TIME, WEEK_LATE = "week:on_time", "week:late"


def _today_counts() -> Select[*tuple[Any, ...]]:
    """Scheduled follow-ups per (due state, kind): `part` is "count:<state>", `n` the count."""
    now: BindParameter[datetime] = bindparam("now")
    # The same precedence as schedule.due_state: upcoming, then due, then overdue.
    state = case(
        (Followup.not_before > now, COUNT + DueState.UPCOMING.value),
        (Followup.due_at >= now, COUNT + DueState.DUE.value),
        else_=COUNT + DueState.OVERDUE.value,
    )
    return (
        select(*_today_shape(state, read=False, kind=Followup.kind, n=func.count()))
        .where(
            Followup.user_id == bindparam("user_id"),
            Followup.status == Status.SCHEDULED.value,
        )
        .group_by("part", Followup.kind)  # by label: one expression, one set of parameters
    )


def _sent_this_week() -> Select[*tuple[Any, ...]]:
    """Follow-ups sent since :week_start, counted by whether they went out by their due_at
    (a thank-you within its window, a check-in by its due time): at most two rows, through
    the (user_id, sent_at) index."""
    on_time = case((Followup.sent_at <= Followup.due_at, WEEK_ON_TIME), else_=WEEK_LATE)
    return (
        select(*_today_shape(on_time, read=False, n=func.count()))
        .where(
            Followup.user_id == bindparam("user_id"),
            Followup.sent_at >= bindparam("week_start"),
            Followup.status == Status.SENT.value,
        )
        .group_by("part")
    )


def _sent_lately() -> Select[*tuple[Any, ...]]:
    """What the mailbox saw sent, or the app sent, since :since, newest first."""
    from app.interviews.models import Interview

    return (
        select(
            *_today_shape(
                literal(SENT_LATELY), read=True, company=Interview.company, role=Interview.role
            )
        )
        .select_from(Followup)
        .join(Interview, joins_its_interview())
        .where(
            Followup.user_id == bindparam("user_id"),
            Followup.sent_at >= bindparam("since"),
            Followup.status == Status.SENT.value,
            # Not IN (…): an expanding parameter renders the SQL again on every request.
            or_(Followup.sent_via == "mailbox", Followup.sent_via == "app"),
        )
        .order_by(Followup.sent_at.desc(), Followup.id)
        .limit(bindparam("recent_limit", type_=Integer))
    )


def _came_back() -> Select[*tuple[Any, ...]]:
    """Interviews whose latest reply came since :since, newest first: `interview_id`, company,
    role, the reply's time as `sent_at` and subject as `subject`, the person's name (null when
    they left) as `recipient_name`, and in `n` how many check-ins the reply cancelled."""
    from app.interviews.models import Interview, Person

    user_id: BindParameter[uuid.UUID] = bindparam("user_id")
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
    return (
        select(
            *_today_shape(
                literal(CAME_BACK),
                read=False,
                interview_id=Interview.id,
                recipient_name=Person.name,
                sent_at=Interview.last_reply_at,
                subject=Interview.last_reply_subject,
                company=Interview.company,
                role=Interview.role,
                n=cancelled,
            )
        )
        .select_from(Interview)
        .outerjoin(
            Person,
            and_(Person.user_id == user_id, Person.id == Interview.last_reply_person_id),
        )
        .where(Interview.user_id == user_id, Interview.last_reply_at >= bindparam("since"))
        .order_by(Interview.last_reply_at.desc(), Interview.id)
        .limit(bindparam("recent_limit", type_=Integer))
    )


def _mailbox_sends() -> Select[*tuple[Any, ...]]:
    """The user's mailbox, if any: its `status`, and in `n` 1 when it is set to send."""
    from app.mailbox.models import Mailbox

    return select(
        *_today_shape(
            literal(MAILBOX), read=False, status=Mailbox.status, n=case((Mailbox.send, 1), else_=0)
        )
    ).where(Mailbox.user_id == bindparam("user_id"))


@functools.cache
def today_statement() -> CompoundSelect[*tuple[Any, ...]]:
    """All Today reads in one round trip: overdue, due and upcoming (each at most :limit),
    the counts, what was sent and what came back lately (at most :recent_limit each), what
    was sent since :week_start, and whether the mailbox sends. A section's rows come in
    (due_at, id) order."""
    branches = [_today_section(state, after=False) for state in DueState]
    branches += [_sent_lately(), _came_back()]
    return union_all(
        # LIMIT and ORDER BY inside a UNION branch need a subquery (SQLite).
        *(select(branch.subquery()) for branch in branches),
        _today_counts(),
        _sent_this_week(),
        _mailbox_sends(),
    )


async def today_rows(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    limit: int,
    now: datetime,
    since: datetime,
    recent_limit: int,
    week_start: datetime,
) -> list[RowMapping]:
    """Today's statement's rows, as mappings (see today_statement)."""
    params = {
        "user_id": user_id,
        "limit": limit,
        "now": now,
        "since": since,
        "recent_limit": recent_limit,
        "week_start": week_start,
    }
    # On the session's connection, not through Session.execute: the ORM's compile step per
    # request costs a fifth of this query's CPU and there are no objects to load.
    connection = await session.connection()
    return list((await connection.execute(today_statement(), params)).mappings())


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
