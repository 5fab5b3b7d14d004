"""The ratio's denominator: raw Starlette + asyncpg + orjson serving E1, nothing else.

Same SQL as the product's `GET /api/v1/followups?due_state=…` (the bearer token looked up by
its sha256, then the user's scheduled follow-ups in that state by due_at, id, 50 + 1 rows)
and the same JSON shape. `uvicorn bench.baseline:app` with BENCH_DATABASE_URL set.
"""

from __future__ import annotations

import hashlib
import os
from base64 import urlsafe_b64encode
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import quote

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TOKEN = (
    "SELECT u.id FROM api_tokens t JOIN users u ON u.id = t.user_id"
    " WHERE t.token_hash = $1 AND u.is_active"
)
COLUMNS = (
    "id, interview_id, kind, recipient_name, recipient_email, not_before, due_at, status,"
    " sent_at, subject, body, draft_edited, snoozed"
)
WHERE = {
    "upcoming": "not_before > $2",
    "due": "not_before <= $2 AND due_at >= $2",
    "overdue": "due_at < $2",
}
LIST = {
    state: f"SELECT {COLUMNS} FROM followups WHERE user_id = $1 AND status = 'scheduled'"
    f" AND {clause} ORDER BY due_at, id LIMIT 51"
    for state, clause in WHERE.items()
}
pool: asyncpg.Pool | None = None


def problem(status: int, detail: str) -> Response:
    body = {"type": "about:blank", "title": "Error", "status": status, "detail": detail}
    return Response(orjson.dumps(body), status, media_type="application/problem+json")


def item(row: asyncpg.Record, state: str) -> dict[str, object]:
    body = row["body"].replace("\r\n", "\n").replace("\n", "\r\n")
    subject = quote(row["subject"].replace("\r\n", " ").replace("\n", " "), safe="")
    mailto = f"mailto:{row['recipient_email'] or ''}?subject={subject}&body={quote(body, safe='')}"
    return {**row, "due_state": state, "mailto_url": mailto}


async def followups(request: Request) -> Response:
    state = request.query_params.get("due_state")
    if state not in LIST:
        return problem(422, "due_state must be upcoming, due or overdue")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    assert pool is not None
    async with pool.acquire() as conn:
        user_id = await conn.fetchval(TOKEN, hashlib.sha256(token.encode()).hexdigest())
        if scheme.lower() != "bearer" or user_id is None:
            return problem(401, "The API token is unknown or revoked.")
        rows = await conn.fetch(LIST[state], user_id, datetime.now(UTC))
    cursor = None
    if len(rows) > 50:
        rows, last = rows[:50], rows[49]
        raw = orjson.dumps([last["due_at"].isoformat(), str(last["id"])])
        cursor = urlsafe_b64encode(raw).decode().rstrip("=")
    page = {"items": [item(r, state) for r in rows], "next_cursor": cursor}
    return Response(orjson.dumps(page, option=orjson.OPT_UTC_Z), media_type="application/json")


async def text_uuids(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("uuid", encoder=str, decoder=str, schema="pg_catalog", format="text")


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(
        os.environ["BENCH_DATABASE_URL"], min_size=5, max_size=10, init=text_uuids
    )
    yield
    await pool.close()


app = Starlette(routes=[Route("/api/v1/followups", followups)], lifespan=lifespan)
