"""Retention: the worker deletes what only grows (sent mail, webhook deliveries, idempotency
keys, expired sessions and reset links) once it is old enough, in small batches, and never a
message or delivery still waiting to go out."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import retention
from app.accounts.models import User, WebSession
from app.db import create_engine, create_sessionmaker
from app.idempotency import IdempotencyKey
from app.reminders.models import Outbox, PasswordReset
from app.reminders.worker import Worker
from app.webhooks.models import Webhook, WebhookDelivery
from tests.browser.live import followup_command
from tests.helpers import NOW, POSTGRES, make_settings

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
RULE = {rule.name: rule for rule in retention.RULES}


@pytest.fixture
async def sessionmaker(app: Any) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(app.state.engine)


async def a_user(sessionmaker: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    user_id = uuid.uuid4()
    async with sessionmaker.begin() as session:
        session.add(
            User(
                id=user_id, email=f"{user_id.hex}@example.com", password_hash="x", display_name="U"
            )
        )
    return user_id


async def outbox_rows(
    sessionmaker: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    *,
    status: str,
    age: timedelta,
    count: int = 1,
) -> list[uuid.UUID]:
    """`count` outbox rows written `age` ago, in `status`."""
    at = NOW - age
    ids = [uuid.uuid4() for _ in range(count)]
    async with sessionmaker.begin() as session:
        await session.execute(
            insert(Outbox),
            [
                {
                    "id": row_id,
                    "user_id": user_id,
                    "kind": "test",
                    "dedupe_key": f"test:{row_id}",
                    "payload": {"to": "u@example.com", "subject": "s", "text": "t", "html": "h"},
                    "due_at": at,
                    "status": status,
                    "attempts": 1,
                    "sent_at": at if status == "sent" else None,
                    "created_at": at,
                }
                for row_id in ids
            ],
        )
    return ids


async def delivery_rows(
    sessionmaker: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    *,
    status: str,
    age: timedelta,
    count: int = 1,
) -> list[uuid.UUID]:
    """`count` deliveries to one new webhook of the user, written `age` ago, in `status`."""
    at = NOW - age
    webhook_id, ids = uuid.uuid4(), [uuid.uuid4() for _ in range(count)]
    async with sessionmaker.begin() as session:
        session.add(
            Webhook(
                id=webhook_id,
                user_id=user_id,
                url="https://hooks.example/in",
                events=["followup.sent"],
                format="json",
                secret="s",
                created_at=at,
            )
        )
        await session.flush()
        await session.execute(
            insert(WebhookDelivery),
            [
                {
                    "id": row_id,
                    "user_id": user_id,
                    "webhook_id": webhook_id,
                    "event_id": uuid.uuid4(),
                    "event_type": "followup.sent",
                    "data": {},
                    "due_at": at,
                    "status": status,
                    "attempts": 1,
                    "created_at": at,
                }
                for row_id in ids
            ],
        )
    return ids


async def idempotency_keys(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: uuid.UUID, *, age: timedelta
) -> str:
    key = f"key-{uuid.uuid4()}"
    async with sessionmaker.begin() as session:
        session.add(
            IdempotencyKey(
                user_id=user_id,
                key=key,
                endpoint="POST /api/v1/interviews",
                request_hash="0" * 64,
                status_code=201,
                headers={},
                body="{}" * 1000,
                created_at=NOW - age,
            )
        )
    return key


async def web_session(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: uuid.UUID, *, expired: timedelta
) -> str:
    """A web session that expired `expired` ago (negative: still valid)."""
    id_hash = uuid.uuid4().hex
    async with sessionmaker.begin() as session:
        session.add(
            WebSession(
                id_hash=id_hash,
                user_id=user_id,
                csrf_token="c",
                created_at=NOW - expired - 30 * DAY,
                expires_at=NOW - expired,
            )
        )
    return id_hash


async def password_reset(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: uuid.UUID, *, expired: timedelta
) -> uuid.UUID:
    row_id = uuid.uuid4()
    async with sessionmaker.begin() as session:
        session.add(
            PasswordReset(
                id=row_id,
                user_id=user_id,
                token_hash=uuid.uuid4().hex,
                created_at=NOW - expired - timedelta(hours=1),
                expires_at=NOW - expired,
            )
        )
    return row_id


async def remaining(sessionmaker: async_sessionmaker[AsyncSession], column: Any) -> set[Any]:
    async with sessionmaker() as session:
        return set(await session.scalars(select(column)))


async def count(sessionmaker: async_sessionmaker[AsyncSession], table: Any) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


@pytest.fixture
async def worker(app: Any) -> AsyncIterator[Worker]:
    """A worker without email (webhooks only), on the app's database."""
    settings = make_settings(app.state.settings.database_url)
    engine = create_engine(settings.database_url)
    yield Worker(settings, None, create_sessionmaker(engine))
    await engine.dispose()


async def old_and_new_of_every_kind(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[set[Any], set[Any]]:
    """One row past retention and one within it, for every table pruned; returns the ids
    expected to go and those expected to stay."""
    user = await a_user(sessionmaker)
    gone: set[Any] = set()
    kept: set[Any] = set()
    gone |= {*await outbox_rows(sessionmaker, user, status="sent", age=31 * DAY)}
    kept |= {*await outbox_rows(sessionmaker, user, status="pending", age=90 * DAY)}
    gone |= {*await delivery_rows(sessionmaker, user, status="delivered", age=31 * DAY)}
    kept |= {*await delivery_rows(sessionmaker, user, status="delivered", age=29 * DAY)}
    gone.add(await idempotency_keys(sessionmaker, user, age=49 * HOUR))
    kept.add(await idempotency_keys(sessionmaker, user, age=47 * HOUR))
    gone.add(await web_session(sessionmaker, user, expired=2 * DAY))
    kept.add(await web_session(sessionmaker, user, expired=-DAY))
    gone.add(await password_reset(sessionmaker, user, expired=2 * DAY))
    kept.add(await password_reset(sessionmaker, user, expired=timedelta(hours=1)))
    return gone, kept


async def everything_left(sessionmaker: async_sessionmaker[AsyncSession]) -> set[Any]:
    left: set[Any] = set()
    for column in (
        Outbox.id,
        WebhookDelivery.id,
        IdempotencyKey.key,
        WebSession.id_hash,
        PasswordReset.id,
    ):
        left |= await remaining(sessionmaker, column)
    return left


async def test_a_worker_round_prunes_every_table_that_only_grows(
    sessionmaker: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    gone, kept = await old_and_new_of_every_kind(sessionmaker)

    await worker.run_once(NOW)

    left = await everything_left(sessionmaker)
    assert left & gone == set()
    assert kept <= left


async def test_followup_worker_once_prunes(
    app: Any, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    gone, kept = await old_and_new_of_every_kind(sessionmaker)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env.update(DATABASE_URL=app.state.settings.database_url, SECRET_KEY="test-secret")

    done = await asyncio.to_thread(
        subprocess.run,
        [*followup_command(), "worker", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    left = await everything_left(sessionmaker)
    assert left & gone == set(), done.stderr
    assert kept <= left


async def prune_all(
    sessionmaker: async_sessionmaker[AsyncSession], *, batch: int = retention.BATCH, **settings: Any
) -> dict[str, int]:
    counts, finished = await retention.prune_all(
        sessionmaker, make_settings("sqlite://", **settings), NOW, batch=batch
    )
    assert finished
    return counts


@pytest.mark.parametrize("status", ["sent", "failed"])
async def test_sent_and_failed_mail_goes_after_30_days_and_unsent_mail_never(
    sessionmaker: async_sessionmaker[AsyncSession], status: str
) -> None:
    user = await a_user(sessionmaker)
    old = await outbox_rows(sessionmaker, user, status=status, age=30 * DAY + HOUR)
    recent = await outbox_rows(sessionmaker, user, status=status, age=30 * DAY - HOUR)
    waiting = await outbox_rows(sessionmaker, user, status="pending", age=400 * DAY)
    in_flight = await outbox_rows(sessionmaker, user, status="sending", age=400 * DAY)

    assert (await prune_all(sessionmaker))["outbox"] == 1

    assert await remaining(sessionmaker, Outbox.id) == {*recent, *waiting, *in_flight}
    assert old[0] not in await remaining(sessionmaker, Outbox.id)


@pytest.mark.parametrize("status", ["delivered", "failed"])
async def test_finished_webhook_deliveries_go_after_30_days_and_pending_ones_never(
    sessionmaker: async_sessionmaker[AsyncSession], status: str
) -> None:
    user = await a_user(sessionmaker)
    await delivery_rows(sessionmaker, user, status=status, age=31 * DAY, count=3)
    recent = await delivery_rows(sessionmaker, user, status=status, age=29 * DAY)
    waiting = await delivery_rows(sessionmaker, user, status="pending", age=400 * DAY)
    in_flight = await delivery_rows(sessionmaker, user, status="sending", age=400 * DAY)

    assert (await prune_all(sessionmaker))["webhook_deliveries"] == 3

    assert await remaining(sessionmaker, WebhookDelivery.id) == {*recent, *waiting, *in_flight}


async def test_idempotency_keys_are_kept_48_hours(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    user = await a_user(sessionmaker)
    await idempotency_keys(sessionmaker, user, age=48 * HOUR + timedelta(minutes=1))
    kept = await idempotency_keys(sessionmaker, user, age=47 * HOUR)

    assert (await prune_all(sessionmaker))["idempotency_keys"] == 1

    assert await remaining(sessionmaker, IdempotencyKey.key) == {kept}


async def test_sessions_and_reset_links_go_a_day_after_they_expire(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    user = await a_user(sessionmaker)
    await web_session(sessionmaker, user, expired=DAY + HOUR)
    just_expired = await web_session(sessionmaker, user, expired=HOUR)
    valid = await web_session(sessionmaker, user, expired=-29 * DAY)
    await password_reset(sessionmaker, user, expired=DAY + HOUR)
    just_expired_reset = await password_reset(sessionmaker, user, expired=HOUR)
    valid_reset = await password_reset(sessionmaker, user, expired=-HOUR)

    counts = await prune_all(sessionmaker)

    assert (counts["web_sessions"], counts["password_resets"]) == (1, 1)
    assert await remaining(sessionmaker, WebSession.id_hash) == {just_expired, valid}
    assert await remaining(sessionmaker, PasswordReset.id) == {just_expired_reset, valid_reset}


async def test_a_retention_of_zero_keeps_everything(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    user = await a_user(sessionmaker)
    await outbox_rows(sessionmaker, user, status="sent", age=400 * DAY)
    await delivery_rows(sessionmaker, user, status="delivered", age=400 * DAY)
    await idempotency_keys(sessionmaker, user, age=400 * DAY)

    counts = await prune_all(
        sessionmaker,
        retention_outbox_days=0,
        retention_deliveries_days=0,
        retention_idempotency_hours=0,
    )

    assert set(counts) == {"web_sessions", "password_resets", "login_attempts"}
    assert await count(sessionmaker, Outbox) == 1
    assert await count(sessionmaker, WebhookDelivery) == 1
    assert await count(sessionmaker, IdempotencyKey) == 1


async def test_a_backlog_larger_than_a_batch_goes_in_short_transactions_of_one_batch_each(
    app: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await a_user(sessionmaker)
    await outbox_rows(sessionmaker, user, status="sent", age=40 * DAY, count=25)
    waiting = await outbox_rows(sessionmaker, user, status="pending", age=40 * DAY, count=3)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("DELETE FROM outbox"):
            statements.append("DELETE")

    def committed(_conn: Any) -> None:
        statements.append("COMMIT")

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", committed)
    try:
        deleted, finished = await retention.prune(
            sessionmaker, RULE["outbox"], before=NOW - 30 * DAY, batch=10
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "commit", committed)

    # 10, 10, then 5: a short batch means nothing is left.
    assert (deleted, finished) == (25, True)
    assert statements == ["DELETE", "COMMIT"] * 3
    assert await remaining(sessionmaker, Outbox.id) == set(waiting)


async def test_a_run_out_of_time_stops_between_batches_and_the_next_round_goes_on(
    app: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await a_user(sessionmaker)
    await outbox_rows(sessionmaker, user, status="sent", age=40 * DAY, count=25)
    pruner = retention.Pruner(sessionmaker, make_settings("sqlite://"), batch=10, budget_seconds=0)

    assert (await pruner.run_due(NOW) or {})["outbox"] == 10
    assert pruner.due(NOW + timedelta(seconds=30))  # not an hour later: the next round
    assert (await pruner.run_due(NOW + timedelta(seconds=30)) or {})["outbox"] == 10
    assert (await pruner.run_due(NOW + timedelta(seconds=60)) or {})["outbox"] == 5
    assert not pruner.due(NOW + timedelta(seconds=90))
    assert await count(sessionmaker, Outbox) == 0


async def test_the_worker_prunes_at_most_once_an_hour(
    sessionmaker: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    user = await a_user(sessionmaker)
    await outbox_rows(sessionmaker, user, status="sent", age=31 * DAY)
    await worker.run_once(NOW)
    assert await count(sessionmaker, Outbox) == 0

    await outbox_rows(sessionmaker, user, status="sent", age=31 * DAY)
    await worker.run_once(NOW + 59 * timedelta(minutes=1))
    assert await count(sessionmaker, Outbox) == 1

    await worker.run_once(NOW + HOUR)
    assert await count(sessionmaker, Outbox) == 0


# Each rule's batch is found through this index, not by reading the table.
INDEXES = {
    "outbox": "ix_outbox_created_at_done",
    "webhook_deliveries": "ix_webhook_deliveries_created_at_done",
    "idempotency_keys": "ix_idempotency_keys_created_at",
    "web_sessions": "ix_web_sessions_expires_at",
    "password_resets": "ix_password_resets_expires_at",
    "login_attempts": "ix_login_attempts_window_started_at",
}


async def test_every_batch_is_chosen_through_an_index_on_its_time_column(
    app: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    assert set(INDEXES) == set(RULE)
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.startswith("DELETE"):
            captured.append((statement, parameters))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await prune_all(sessionmaker, batch=10)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(captured) == len(RULE)
    async with app.state.engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # Empty tables are cheaper to scan; forbid that, and an index must serve.
            await connection.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        for (statement, parameters), (table, index) in zip(captured, INDEXES.items(), strict=True):
            assert statement.startswith(f"DELETE FROM {table} "), statement
            rows = await connection.exec_driver_sql(explain + statement, parameters)
            plan = "\n".join(str(row[-1]) for row in rows)
            if postgres:
                assert f"Seq Scan on {table}" not in plan, plan
                # An ordered Index Scan, or on a table this small a bitmap one and a sort.
                assert f"Index Scan using {index} on {table}" in plan or (
                    f"Bitmap Index Scan on {index}" in plan
                ), plan
            else:
                assert f"SCAN {table}\n" not in plan + "\n", plan
                assert f"SEARCH {table} USING INDEX {index} (" in plan, plan


@pytest.mark.skipif(not POSTGRES, reason="SQLite runs one worker at a time (a lock file)")
async def test_workers_pruning_at_once_skip_each_others_rows_instead_of_waiting(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    user = await a_user(sessionmaker)
    [held] = await outbox_rows(sessionmaker, user, status="sent", age=50 * DAY)
    await outbox_rows(sessionmaker, user, status="sent", age=40 * DAY, count=60)
    before = NOW - 30 * DAY
    async with sessionmaker.begin() as other:
        # Another worker's batch holds the oldest row.
        await other.execute(select(Outbox.id).where(Outbox.id == held).with_for_update())
        done = await asyncio.wait_for(
            asyncio.gather(
                *(
                    retention.prune(sessionmaker, RULE["outbox"], before=before, batch=10)
                    for _ in range(3)
                )
            ),
            timeout=30,
        )
    assert sum(deleted for deleted, _ in done) == 60
    assert await remaining(sessionmaker, Outbox.id) == {held}
