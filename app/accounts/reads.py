"""The API token's user for the hot reads (app/web/fastpath.py), resolved inside each read's
own statement: a read is one round trip, and a revoked token or a deactivated member is
refused by the very next one, on every process (nothing is cached).

Postgres SQL for asyncpg: `VIEWER` is a CTE that every fast read joins; `$1` is always the
token's hash (app.accounts.service.hash_secret)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.accounts.models import User
from app.accounts.service import token_use_to_record
from app.db import Driver

# The active user a token belongs to (no row when the token is unknown, revoked, or its
# member deactivated), with what recording its use needs.
VIEWER = """viewer AS (
    SELECT t.user_id, t.id AS token_id, t.last_used_at
    FROM api_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = $1 AND u.is_active
)"""
VIEWER_COLUMNS = (
    "viewer.user_id AS viewer_user_id, viewer.token_id AS viewer_token_id, "
    "viewer.last_used_at AS viewer_last_used_at"
)

_RECORD_USE = "UPDATE api_tokens SET last_used_at = $3 WHERE user_id = $1 AND id = $2"


@dataclass(frozen=True)
class Viewer:
    user_id: uuid.UUID
    token_id: uuid.UUID
    last_used_at: datetime | None


def viewer_of(row: Mapping[str, Any]) -> Viewer | None:
    """The token's user as a row of a statement joining VIEWER shows it, or None."""
    token_id = row["viewer_token_id"]
    return (
        None
        if token_id is None
        else Viewer(row["viewer_user_id"], token_id, row["viewer_last_used_at"])
    )


async def record_use(driver: Driver, viewer: Viewer, now: datetime) -> None:
    """The token's `last_used_at`, as the general path records it (at most once a minute)."""
    if token_use_to_record(viewer.last_used_at, now):
        await driver.execute(_RECORD_USE, viewer.user_id, viewer.token_id, now)


_USER_COLUMNS = ", ".join(f"u.{column.name}" for column in User.__table__.columns)
_ME = f"""WITH {VIEWER}
SELECT {VIEWER_COLUMNS}, {_USER_COLUMNS}
FROM viewer JOIN users u ON u.id = viewer.user_id"""


async def user_for_token(driver: Driver, token_hash: str) -> tuple[Viewer, User] | None:
    """The token's active user as a detached User (not in any session), or None."""
    row = await driver.fetchrow(_ME, token_hash)
    if row is None:
        return None
    viewer = viewer_of(row)
    assert viewer is not None
    values = {column.key: row[column.name] for column in User.__table__.columns}
    values["id"] = uuid.UUID(bytes=values["id"].bytes)
    return viewer, User(**values)


_SESSION_USER = f"""SELECT ws.csrf_token AS session_csrf_token, {_USER_COLUMNS}
FROM web_sessions ws JOIN users u ON u.id = ws.user_id
WHERE ws.id_hash = $1 AND ws.expires_at > $2 AND u.is_active"""


@dataclass(frozen=True)
class SessionViewer:
    """A signed-in browser's session as the pages use it (its CSRF token), for the fast path
    of Today: the same shape as WebSession where the templates read it."""

    csrf_token: str


async def user_for_session(
    driver: Driver, cookie_hash: str, now: datetime
) -> tuple[User, SessionViewer] | None:
    """The session's active user as a detached User, as app.accounts.service.user_for_session
    finds it (unexpired session, active member), or None."""
    row = await driver.fetchrow(_SESSION_USER, cookie_hash, now)
    if row is None:
        return None
    values = {column.key: row[column.name] for column in User.__table__.columns}
    values["id"] = uuid.UUID(bytes=values["id"].bytes)
    return User(**values), SessionViewer(row["session_csrf_token"])
