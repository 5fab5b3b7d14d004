"""The ratios' denominator: raw Starlette + asyncpg + orjson, nothing else.

E1: same SQL as the product's `GET /api/v1/followups?due_state=…` (the bearer token looked up
by its sha256, then the user's scheduled follow-ups in that state by due_at, id, 50 + 1 rows)
and the same JSON shape. E4 writes (T7): `POST /api/v1/interviews` inserts the same rows as
the product (the interview, its people, a thank-you note per interviewer and a check-in to
the first person) with plain INSERTs in one transaction, and answers their ids.
`uvicorn bench.baseline:app` with BENCH_DATABASE_URL set. "Now" is the product's one clock
(app/clock.py: real time, or FOLLOWUP_NOW), so both agree on what is due.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from base64 import urlsafe_b64encode
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from urllib.parse import quote

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.clock import now as clock_now

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
INSERT_INTERVIEW = (
    "INSERT INTO interviews (id, user_id, company, role, starts_at, duration_minutes, stage,"
    " location, highlight, excitement, notes, response_promised_by, outcome, created_at,"
    " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, 'pending', $12,"
    " $12)"
)
INSERT_PERSON = (
    "INSERT INTO people (id, user_id, interview_id, position, name, email, title, role)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
INSERT_FOLLOWUP = (
    "INSERT INTO followups (id, user_id, interview_id, kind, plan_key, person_id,"
    " recipient_name, recipient_email, not_before, due_at, status, sent_at, subject, body,"
    " snoozed, draft_edited, cancelled_by_outcome, created_at, updated_at) VALUES ($1, $2, $3,"
    " $4, $5, $6, $7, $8, $9, $10, 'scheduled', NULL, $11, $12, false, false, false, $13, $13)"
)
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
        rows = await conn.fetch(LIST[state], user_id, clock_now())
    cursor = None
    if len(rows) > 50:
        rows, last = rows[:50], rows[49]
        raw = orjson.dumps([last["due_at"].isoformat(), str(last["id"])])
        cursor = urlsafe_b64encode(raw).decode().rstrip("=")
    page = {"items": [item(r, state) for r in rows], "next_cursor": cursor}
    return Response(orjson.dumps(page, option=orjson.OPT_UTC_Z), media_type="application/json")


async def create_interview(request: Request) -> Response:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    data = orjson.loads(await request.body())
    starts_at = datetime.fromisoformat(data["starts_at"])
    end = starts_at + timedelta(minutes=data.get("duration_minutes", 60))
    now = clock_now()
    interview_id = str(uuid.uuid4())
    people = [(str(uuid.uuid4()), p) for p in data.get("people", [])]
    assert pool is not None
    async with pool.acquire() as conn:
        user_id = await conn.fetchval(TOKEN, hashlib.sha256(token.encode()).hexdigest())
        if scheme.lower() != "bearer" or user_id is None:
            return problem(401, "The API token is unknown or revoked.")
        followups = [
            (
                str(uuid.uuid4()),
                user_id,
                interview_id,
                "thank_you",
                f"thank_you:{pid}",
                pid,
                p["name"],
                p.get("email"),
                end,
                end + timedelta(hours=48),
                f"Thank you, {p['name']}",
                f"Dear {p['name']},\n\nThank you.",
                now,
            )
            for pid, p in people
            if p["role"] == "interviewer"
        ]
        if people:
            pid, p = people[0]
            check_in = end + timedelta(days=14)
            followups.append(
                (
                    str(uuid.uuid4()),
                    user_id,
                    interview_id,
                    "check_in",
                    "check_in",
                    pid,
                    p["name"],
                    p.get("email"),
                    check_in,
                    check_in + timedelta(days=1),
                    f"Following up: {data['role']}",
                    f"Dear {p['name']},\n\nAny news?",
                    now,
                )
            )
        async with conn.transaction():
            await conn.execute(
                INSERT_INTERVIEW,
                interview_id,
                user_id,
                data["company"],
                data["role"],
                starts_at,
                data.get("duration_minutes", 60),
                data.get("stage"),
                data.get("location"),
                data.get("highlight"),
                data.get("excitement"),
                data.get("notes"),
                now,
            )
            await conn.executemany(
                INSERT_PERSON,
                [
                    (
                        pid,
                        user_id,
                        interview_id,
                        i,
                        p["name"],
                        p.get("email"),
                        p.get("title"),
                        p["role"],
                    )
                    for i, (pid, p) in enumerate(people)
                ],
            )
            await conn.executemany(INSERT_FOLLOWUP, followups)
    body = {
        "id": interview_id,
        "people": [pid for pid, _ in people],
        "followups": [f[0] for f in followups],
    }
    return Response(orjson.dumps(body), 201, media_type="application/json")


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


app = Starlette(
    routes=[
        Route("/api/v1/followups", followups),
        Route("/api/v1/interviews", create_interview, methods=["POST"]),
    ],
    lifespan=lifespan,
)
