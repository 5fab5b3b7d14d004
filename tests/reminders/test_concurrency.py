"""Several workers on one Postgres: every delivery sent, none twice (SKIP LOCKED claims)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from app.auth.repository import user_by_email
from app.db import create_engine, create_sessionmaker
from app.reminders import mail
from app.reminders.models import Outbox
from app.reminders.worker import Worker
from tests.conftest import POSTGRES, register
from tests.reminders.conftest import SmtpServer, mail_settings

DELIVERIES = 2000
WORKERS = 4

pytestmark = pytest.mark.skipif(not POSTGRES, reason="SKIP LOCKED needs Postgres")


async def test_four_workers_drain_2000_deliveries_each_exactly_once(
    client: httpx.AsyncClient, app: Any, smtp: SmtpServer
) -> None:
    await register(client)
    settings = mail_settings(app.state.settings.database_url, smtp)
    config = mail.mail_config(settings)
    assert config is not None
    now = datetime.now(UTC)
    async with app.state.sessionmaker.begin() as session:
        user = await user_by_email(session, "jane@example.com")
        assert user is not None
        await session.execute(
            insert(Outbox),
            [
                {
                    "id": uuid.uuid4(),
                    "user_id": user.id,
                    "kind": "test",
                    "dedupe_key": f"test:{n}",
                    "payload": {
                        "to": "jane@example.com",
                        "to_name": "Jane Doe",
                        "subject": f"Delivery {n}",
                        "text": f"Delivery {n}",
                        "html": f"<p>Delivery {n}</p>",
                        "message_id": f"<delivery-{n}@followup.test>",
                    },
                    "due_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for n in range(DELIVERIES)
            ],
        )
    engines = [create_engine(settings.database_url) for _ in range(WORKERS)]
    workers = [Worker(settings, config, create_sessionmaker(engine)) for engine in engines]
    started = time.monotonic()
    try:
        results = await asyncio.gather(*(w.run_once(now) for w in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    elapsed = time.monotonic() - started

    ids = smtp.handler.message_ids()
    per_worker = [r.sent for r in results]
    print(
        f"\n{WORKERS} workers, {DELIVERIES} deliveries in {elapsed:.1f} s: received {len(ids)}, "
        f"distinct {len(set(ids))}, duplicates {len(ids) - len(set(ids))}, "
        f"lost {DELIVERIES - len(set(ids))}, per worker {per_worker}"
    )
    assert len(ids) == len(set(ids)) == DELIVERIES
    assert sum(per_worker) == DELIVERIES
    assert all(sent > 0 for sent in per_worker)  # they really shared the work
    async with app.state.sessionmaker() as session:
        statuses = dict(
            (
                await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
            ).all()
        )
    assert statuses == {"sent": DELIVERIES}
