"""Several workers on one Postgres: every delivery sent, none twice (SKIP LOCKED claims);
several workers at the same local send hour: one digest per user."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from app import clock
from app.accounts.models import User
from app.accounts.repository import user_by_email
from app.db import create_engine, create_sessionmaker
from app.reminders import mail
from app.reminders.models import Outbox
from app.reminders.worker import AnotherWorkerRunning, Worker, acquire_sqlite_lock
from tests.helpers import POSTGRES, create_interview, register, user_headers
from tests.reminders.conftest import SmtpServer, mail_settings, queue_deliveries

DELIVERIES = 10_000

MESSAGE_ID = re.compile(rb"^Message-ID: (\S+)", re.MULTILINE | re.IGNORECASE)
KEY = re.compile(rb"^Subject: Delivery (\S+)", re.MULTILINE)


@dataclass
class CountingHandler:
    """Only counts: the Message-ID and the delivery key (in the subject) of each message."""

    message_ids: Counter[bytes] = field(default_factory=Counter)
    keys: Counter[bytes] = field(default_factory=Counter)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else content.encode()
        head = raw.split(b"\r\n\r\n", 1)[0]
        message_id, key = MESSAGE_ID.search(head), KEY.search(head)
        self.message_ids[message_id.group(1) if message_id else b"?"] += 1
        self.keys[key.group(1) if key else b"?"] += 1
        return "250 OK"


@pytest.fixture
def counting_smtp() -> Iterator[tuple[SmtpServer, CountingHandler]]:
    server = SmtpServer()
    handler = CountingHandler()
    server.handler = handler  # type: ignore[assignment]
    server.start()
    yield server, handler
    server.stop()


@pytest.mark.skipif(not POSTGRES, reason="SKIP LOCKED needs Postgres")
@pytest.mark.parametrize("workers", [2, 4])
async def test_workers_drain_10000_deliveries_each_exactly_once(
    client: httpx.AsyncClient,
    app: Any,
    counting_smtp: tuple[SmtpServer, CountingHandler],
    workers: int,
) -> None:
    smtp, handler = counting_smtp
    await register(client)
    settings = mail_settings(app.state.settings.database_url, smtp)
    config = mail.mail_config(settings)
    assert config is not None
    now = clock.now()
    async with app.state.sessionmaker.begin() as session:
        user = await user_by_email(session, "jane@example.com")
        assert user is not None
        # One executemany, not 10,000 round trips.
        await queue_deliveries(session, user.id, DELIVERIES, now=now, tag="delivery")
    engines = [create_engine(settings.database_url) for _ in range(workers)]
    pool = [Worker(settings, config, create_sessionmaker(engine)) for engine in engines]
    started = time.monotonic()
    try:
        results = await asyncio.gather(*(w.run_once(now) for w in pool))
    finally:
        for engine in engines:
            await engine.dispose()
    elapsed = time.monotonic() - started

    sent = sum(handler.message_ids.values())
    distinct = len(handler.message_ids)
    duplicates = sent - distinct
    expected = {f"<delivery-{n}@followup.test>".encode() for n in range(DELIVERIES)}
    lost = len(expected - set(handler.message_ids))
    per_worker = [r.sent for r in results]
    print(
        f"\n{workers} workers, {DELIVERIES} deliveries in {elapsed:.1f} s: sent {sent}, "
        f"distinct {distinct}, duplicates {duplicates}, lost {lost}, per worker {per_worker}"
    )
    assert set(handler.message_ids) == expected
    assert set(handler.keys) == {f"test:{n}".encode() for n in range(DELIVERIES)}
    assert max(handler.message_ids.values()) == max(handler.keys.values()) == 1
    assert (sent, duplicates, lost) == (DELIVERIES, 0, 0)
    assert sum(per_worker) == DELIVERIES
    assert all(n > 0 for n in per_worker)  # they really shared the work
    async with app.state.sessionmaker() as session:
        statuses = dict(
            (
                await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
            ).all()
        )
    assert statuses == {"sent": DELIVERIES}


# 00:30 UTC on 2 December: 09:30 in Tokyo, 01:30 in Berlin, 16:30 (the 1st) in Los Angeles.
NOW = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)
ZONES = {"Asia/Tokyo": 9, "Europe/Berlin": 1, "America/Los_Angeles": 16}
USERS = 50


async def test_three_workers_at_the_same_send_hour_send_one_digest_per_user(
    client: httpx.AsyncClient, app: Any, smtp: SmtpServer
) -> None:
    emails: list[str] = []
    zones = list(ZONES)
    for n in range(USERS):
        tz = zones[n % len(zones)]
        email = f"user{n}@example.com"
        headers = await user_headers(client, email, f"User {n}")
        response = await client.patch("/api/v1/me", json={"timezone": tz}, headers=headers)
        assert response.status_code == 200, response.text
        # Ends 19:00 UTC on the 1st: due today or tomorrow in each of the three zones.
        await create_interview(client, headers, starts_at="2026-12-01T18:00:00Z")
        emails.append(email)
    async with app.state.sessionmaker.begin() as session:
        for tz, hour in ZONES.items():
            # The send hour has just passed (by 30 minutes) in every zone.
            await session.execute(update(User).where(User.timezone == tz).values(send_hour=hour))

    settings = mail_settings(app.state.settings.database_url, smtp)
    config = mail.mail_config(settings)
    assert config is not None
    engines = [create_engine(settings.database_url) for _ in range(3)]
    pool = [Worker(settings, config, create_sessionmaker(engine)) for engine in engines]
    try:
        if POSTGRES:
            results = await asyncio.gather(*(w.run_once(NOW) for w in pool))
        else:
            # On SQLite one worker at a time: the others are told so and do not start.
            lock = acquire_sqlite_lock(settings.database_url)
            try:
                for _ in pool[1:]:
                    with pytest.raises(AnotherWorkerRunning, match="another worker is running"):
                        acquire_sqlite_lock(settings.database_url)
                results = [await pool[0].run_once(NOW)]
            finally:
                assert lock is not None
                lock.close()
            # Once it is done, another worker's round at the same hour adds nothing.
            results.append(await pool[1].run_once(NOW))
    finally:
        for engine in engines:
            await engine.dispose()

    recipients = Counter(r.rcpt_tos[0] for r in smtp.handler.received)
    digests = Counter(str(r.message["Subject"]).split(":")[0] for r in smtp.handler.received)
    print(
        f"\n3 workers, {USERS} users in {len(ZONES)} zones: digests {len(smtp.handler.received)}, "
        f"users reached {len(recipients)}, "
        f"duplicates {sum(recipients.values()) - len(recipients)}, "
        f"per worker enqueued {[r.enqueued for r in results]} sent {[r.sent for r in results]}"
    )
    assert recipients == Counter({email: 1 for email in emails}), digests
    assert sum(r.enqueued for r in results) == sum(r.sent for r in results) == USERS
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(Outbox.kind, Outbox.status))).all()
    assert Counter(rows) == Counter({("digest", "sent"): USERS})
