"""The hot read of follow-ups on Postgres: `GET /api/v1/followups` as JSON in one statement
(the token's user joined in, app.accounts.reads), its rows written straight to the wire shape.

The same rows and the same JSON as service.list_followups (tests/followups/test_reads.py
compares them): the filters are repository._list_statement's, the wire dict is
service.read_of's FollowupRead, field for field, without building a model per row."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from app.accounts.reads import VIEWER, VIEWER_COLUMNS, Viewer, viewer_of
from app.db import Driver
from app.followups import drafts, repository, schedule
from app.followups.schedule import DueState, Status
from app.wire import keyset_cursor

# The columns of a FollowupRead (repository.READ_COLUMNS); ids as text, which orjson writes.
_COLUMNS = (
    "id::text AS id_text, interview_id::text AS interview_id, kind, recipient_name,"
    " recipient_email, not_before, due_at, status, sent_at, subject, body, draft_edited,"
    " snoozed, cancel_reason, sent_via, send_error, send_requested_at"
)
_SCHEDULED = f"status = '{Status.SCHEDULED.value}'"
_DUE_STATE = {
    DueState.UPCOMING: _SCHEDULED + " AND not_before > {now}",
    DueState.DUE: _SCHEDULED + " AND not_before <= {now} AND due_at >= {now}",
    DueState.OVERDUE: _SCHEDULED + " AND due_at < {now}",
}
# Filter name -> its condition on the page's rows, `{}` standing for its parameter.
_FILTERS = {
    "status": "status = {}",
    "kind": "kind = {}",
    "interview_id": "interview_id = {}",
}


@functools.cache
def _statement(due_state: DueState | None, filters: tuple[str, ...], after: bool) -> str:
    """The page for one combination of filters (`$1` the token hash, then `now` when
    filtering by due state, the filters in order, the cursor's due_at and id, the limit).
    The page is LEFT JOINed to the viewer, so an empty page still proves the token."""
    conditions = ["user_id = (SELECT user_id FROM viewer)"]
    n = 1
    if due_state is not None:
        n += 1
        conditions.append(_DUE_STATE[due_state].format(now=f"${n}"))
    for name in filters:
        n += 1
        conditions.append(_FILTERS[name].format(f"${n}"))
    if after:
        conditions.append(f"(due_at > ${n + 1} OR (due_at = ${n + 1} AND id > ${n + 2}))")
        n += 2
    return f"""WITH {VIEWER}
SELECT {VIEWER_COLUMNS}, page.*
FROM viewer LEFT JOIN (
    SELECT id, {_COLUMNS} FROM followups
    WHERE {" AND ".join(conditions)}
    ORDER BY due_at, id LIMIT ${n + 1}
) page ON true
ORDER BY page.due_at, page.id"""


async def page_rows(
    driver: Driver,
    token_hash: str,
    *,
    due_state: DueState | None,
    filters: dict[str, Any],
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    now: datetime,
) -> tuple[Viewer | None, list[Mapping[str, Any]]]:
    """The token's user (None: unknown, revoked or deactivated) and the rows of one page:
    `filters` by name (status, kind, interview_id), at most `limit` rows after `after`."""
    args: list[Any] = [token_hash]
    if due_state is not None:
        args.append(now)
    args.extend(filters.values())
    if after is not None:
        args.extend(after)
    args.append(limit)
    rows = await driver.fetch(_statement(due_state, tuple(filters), after is not None), *args)
    if not rows:
        return None, []
    viewer = viewer_of(rows[0])
    return viewer, [row for row in rows if row["id"] is not None]


def wire_parts(row: Mapping[str, Any], now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """A FollowupRead as two dicts, before and after `due_state` (the ETags leave it out)."""
    status = row["status"]
    head = {
        "id": row["id_text"],
        "interview_id": row["interview_id"],
        "kind": row["kind"],
        "recipient_name": row["recipient_name"],
        "recipient_email": row["recipient_email"],
        "not_before": row["not_before"],
        "due_at": row["due_at"],
        "status": status,
        "sent_at": row["sent_at"],
        "subject": row["subject"],
        "body": row["body"],
    }
    tail = {
        "mailto_url": drafts.mailto_url(row["recipient_email"], row["subject"], row["body"]),
        "draft_edited": row["draft_edited"],
        "snoozed": row["snoozed"],
        "cancel_reason": row["cancel_reason"],
        "sent_via": row["sent_via"],
        "send_error": row["send_error"],
        "sending": status == Status.SCHEDULED and row["send_requested_at"] is not None,
    }
    return head, tail


def due_state_of(row: Mapping[str, Any], now: datetime) -> str | None:
    state = schedule.due_state(Status(row["status"]), row["not_before"], row["due_at"], now)
    return None if state is None else state.value


def page_json(rows: list[Mapping[str, Any]], limit: int, now: datetime) -> bytes:
    """`Page[FollowupRead]` as service.list_followups answers it, from at most `limit` + 1
    rows (one more than the page: there is a next page)."""
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = keyset_cursor(rows[-1]["due_at"], rows[-1]["id_text"])
    items = []
    for row in rows:
        head, tail = wire_parts(row, now)
        head["due_state"] = due_state_of(row, now)
        items.append(head | tail)
    return orjson.dumps({"items": items, "next_cursor": next_cursor}, option=orjson.OPT_UTC_Z)


@functools.cache
def _today_sql() -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """Today's one statement (repository.today_statement), compiled once for asyncpg: its
    SQL, its parameters' names in `$n` order, and the values the statement itself binds."""
    dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
    compiled = repository.today_statement().compile(dialect=dialect)
    assert compiled.positiontup is not None
    return str(compiled), tuple(compiled.positiontup), dict(compiled.params)


async def today_rows(
    driver: Driver,
    user_id: uuid.UUID,
    *,
    limit: int,
    now: datetime,
    since: datetime,
    recent_limit: int,
    week_start: datetime,
) -> list[Mapping[str, Any]]:
    """The rows of repository.today_rows, on the pool's asyncpg connection: no session, and
    the statement compiled once rather than per request."""
    sql, names, bound = _today_sql()
    given = {
        "user_id": user_id,
        "limit": limit,
        "now": now,
        "since": since,
        "recent_limit": recent_limit,
        "week_start": week_start,
    }
    values = bound | given
    # Planned generically, once per connection: this UNION of nine branches takes ~3 ms to
    # plan and ~0.7 ms to run, and Postgres' own choice (`auto`) keeps planning it afresh
    # for each user's values, which made Today cost 3.4 ms of Postgres CPU where the generic
    # plan costs 0.8 (measured at M; no branch depends on a partial index).
    async with driver.transaction():
        await driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        return list(await driver.fetch(sql, *(values[name] for name in names)))
