"""The SQL scaling check: the product's own E1, E2 and E5 statements under
EXPLAIN (ANALYZE, BUFFERS) on two seeded sizes (M and L by default), reported as L ÷ M.

The statements are the product's (E1 as app/followups/reads.py writes it for Postgres, with
the token lookup joined in; the others compiled from app/followups/repository.py and
app/queue.py), run with the same parameters the product sends, for several users. A query
that stays bounded reads about as many buffers at L as at M; one that scans a user's whole
history reads ~10 times more (L has 10 times M's follow-ups per user). Sequential scans of
the big tables are flagged as well.
"""

from __future__ import annotations

import re
import statistics
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg

from app import clock, queue
from app.followups import reads, repository, today
from app.followups.schedule import DueState
from app.reminders.models import Outbox

BIG_TABLES = {"followups", "interviews", "people", "outbox"}
USERS = 8
REPEATS = 3


def _compiled(statement: Any, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    compiled = statement.compile(dialect=pg_psycopg.dialect())
    return str(compiled), dict(compiled.construct_params(values))


def _asyncpg_sql(sql: str, *args: Any) -> tuple[str, dict[str, Any]]:
    """asyncpg's `$n` parameters as psycopg's named ones."""
    return re.sub(r"\$(\d+)", r"%(p\1)s", sql), {f"p{n}": v for n, v in enumerate(args, 1)}


def statements(
    user_id: uuid.UUID, token_hash: str, now: datetime
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each checked query as (SQL, parameters), exactly as the product builds it."""
    found = {}
    for state in DueState:
        found[f"E1 {state.value}"] = _asyncpg_sql(
            reads._statement(state, (), False), token_hash, now, 51
        )
    # Today's one statement: its sections, counts, what was sent and came back lately, and
    # what was sent this week.
    found["E2 today"] = _compiled(
        repository.today_statement(),
        {
            "user_id": user_id,
            "now": now,
            "limit": 51,
            "since": now - today.CAME_BACK_WINDOW,
            "recent_limit": today.CAME_BACK_SHOWN,
            "week_start": now - timedelta(days=7),
        },
    )
    found["E5 claim"] = _compiled(queue.claim_statement(Outbox, limit=100), {"now": now})
    return found


def _walk(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += _walk(child)
    return nodes


def explain(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchone()
    assert row is not None
    conn.rollback()  # the claim locks what it finds: give it back
    doc = row[0][0]
    plan = doc["Plan"]
    nodes = _walk(plan)
    return {
        "ms": doc["Execution Time"],
        "buffers": plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0),
        "rows": plan.get("Actual Rows", 0),
        "seq_scans": sorted(
            {
                n["Relation Name"]
                for n in nodes
                if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES
            }
        ),
    }


def measure(url: str, users: list[str]) -> dict[str, dict[str, Any]]:
    """Median execution time and buffers of each query over USERS users, REPEATS times each
    (after one warm-up run per query and user)."""
    now = clock.now()
    samples: dict[str, list[dict[str, Any]]] = {}
    with psycopg.connect(url) as conn:
        for user in users[:USERS]:
            token = conn.execute(
                "SELECT token_hash FROM api_tokens WHERE user_id = %s LIMIT 1", (user,)
            ).fetchone()
            assert token is not None
            for name, (sql, params) in statements(uuid.UUID(user), token[0], now).items():
                explain(conn, sql, params)
                for _ in range(REPEATS):
                    samples.setdefault(name, []).append(explain(conn, sql, params))
    return {
        name: {
            "ms": round(statistics.median(s["ms"] for s in runs), 3),
            "buffers": statistics.median(s["buffers"] for s in runs),
            "rows": statistics.median(s["rows"] for s in runs),
            "seq_scans": sorted({t for s in runs for t in s["seq_scans"]}),
        }
        for name, runs in samples.items()
    }


def compare(small: dict[str, dict[str, Any]], large: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per query: time and buffers at both sizes, and large ÷ small."""
    out = {}
    for name in small:
        a, b = small[name], large[name]
        out[name] = {
            "small": a,
            "large": b,
            "time_ratio": round(b["ms"] / a["ms"], 2) if a["ms"] else float("nan"),
            "buffer_ratio": round(b["buffers"] / a["buffers"], 2) if a["buffers"] else float("nan"),
        }
    return out
