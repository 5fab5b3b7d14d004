"""The worker against a real SMTP server: digests by local day, retries, failures, dedupe."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app import clock
from app.reminders import service
from app.reminders.models import Outbox
from app.reminders.worker import Worker, acquire_sqlite_lock
from tests.browser.live import followup_command
from tests.helpers import POSTGRES, create_interview, migrate, user_headers
from tests.reminders.conftest import SmtpServer

# 00:30 UTC on 2 December: 09:30 on the 2nd in Tokyo, 16:30 on the 1st in Los Angeles.
NOW = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)


async def _user(client: httpx.AsyncClient, email: str, name: str, tz: str) -> dict[str, str]:
    headers = await user_headers(client, email, name)
    response = await client.patch("/api/v1/me", json={"timezone": tz}, headers=headers)
    assert response.status_code == 200, response.text
    return headers


async def _rows(worker: Worker) -> list[Outbox]:
    async with worker.sessionmaker() as session:
        return list(await session.scalars(select(Outbox).order_by(Outbox.created_at)))


def _text(received: Any) -> str:
    part = received.message.get_body(("plain",)) if hasattr(received.message, "get_body") else None
    if part is None:
        for candidate in received.message.walk():
            if candidate.get_content_type() == "text/plain":
                return str(candidate.get_payload(decode=True).decode())
    return str(part)


async def _two_time_zones(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    tokyo = await _user(client, "aiko@example.com", "Aiko Sato", "Asia/Tokyo")
    la = await _user(client, "lee@example.com", "Lee Chan", "America/Los_Angeles")
    # Ends 16:00 UTC on the 2nd: 01:00 on the 3rd in Tokyo, i.e. tomorrow there.
    tomorrow = await create_interview(
        client, tokyo, company="Tokyo Works", starts_at="2026-12-02T15:00:00Z"
    )
    # Ends 19:00 UTC on the 1st: 11:00 on the 1st in Los Angeles, due today there.
    today = await create_interview(
        client, la, company="Pacific Co", starts_at="2026-12-01T18:00:00Z"
    )
    return tomorrow, today


async def test_digest_lists_each_users_items_for_their_own_local_day(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer
) -> None:
    tomorrow, today = await _two_time_zones(client)
    result = await worker.run_once(NOW)
    assert (result.enqueued, result.sent) == (2, 2)

    by_recipient = {r.rcpt_tos[0]: r for r in smtp.handler.received}
    assert set(by_recipient) == {"aiko@example.com", "lee@example.com"}
    aiko, lee = by_recipient["aiko@example.com"], by_recipient["lee@example.com"]
    assert "2026-12-02" in aiko.message["Subject"]
    assert "2026-12-01" in lee.message["Subject"]
    aiko_text, lee_text = _text(aiko), _text(lee)
    thank_you_aiko = next(f for f in tomorrow["followups"] if f["kind"] == "thank_you")
    thank_you_lee = next(f for f in today["followups"] if f["kind"] == "thank_you")
    assert "Coming up tomorrow:" in aiko_text and "Due today:" not in aiko_text
    assert f"http://testserver/followups/{thank_you_aiko['id']}" in aiko_text
    assert "Ann Lee" in aiko_text and "Backend Engineer at Tokyo Works" in aiko_text
    assert "Due today:" in lee_text and "Coming up tomorrow:" not in lee_text
    assert f"http://testserver/followups/{thank_you_lee['id']}" in lee_text
    assert "Pacific Co" not in aiko_text and "Tokyo Works" not in lee_text
    # The check-ins, two weeks out, are in neither.
    assert "Check-in" not in aiko_text + lee_text
    keys = sorted(row.dedupe_key for row in await _rows(worker))
    assert keys == ["digest:2026-12-01", "digest:2026-12-02"]


async def test_no_digest_before_the_local_send_hour_or_when_nothing_is_due(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer
) -> None:
    await _two_time_zones(client)
    await _user(client, "idle@example.com", "Idle Ida", "UTC")
    # 23:30 UTC on the 1st: 08:30 in Tokyo (before 9), 15:30 in Los Angeles.
    result = await worker.run_once(NOW - timedelta(hours=1))
    assert [r.rcpt_tos for r in smtp.handler.received] == [["lee@example.com"]]
    assert result.enqueued == 1  # Ida has nothing due: no digest at all


async def test_two_enqueue_rounds_make_one_digest_per_user_and_local_date(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer
) -> None:
    await _two_time_zones(client)
    async with worker.sessionmaker.begin() as session:
        first = await service.enqueue_due_digests(session, settings=worker.settings, now=NOW)
    async with worker.sessionmaker.begin() as session:
        again = await service.enqueue_due_digests(
            session, settings=worker.settings, now=NOW + timedelta(hours=3)
        )
    await worker.run_once(NOW + timedelta(hours=4))
    assert (first, again) == (2, 0)
    assert len(smtp.handler.received) == 2


async def test_an_smtp_outage_then_recovery_delivers_everything_exactly_once(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer
) -> None:
    await _two_time_zones(client)
    smtp.stop()  # connection refused
    down = await worker.run_once(NOW)
    assert (down.sent, down.retrying) == (0, 2)
    rows = await _rows(worker)
    assert all(r.status == "pending" and r.attempts == 1 and r.due_at > NOW for r in rows)
    assert all("Connection" in (r.last_error or "") for r in rows)

    smtp.start()
    smtp.handler.answer = "421 Service not available, try later"
    # Not due yet: the backoff holds them back.
    assert (await worker.run_once(NOW + timedelta(seconds=1))).retrying == 0
    busy = await worker.run_once(NOW + timedelta(minutes=1))
    assert busy.retrying == 2
    assert all("421" in (r.last_error or "") for r in await _rows(worker))

    smtp.handler.answer = None
    up = await worker.run_once(NOW + timedelta(minutes=10))
    assert up.sent == 2
    await worker.run_once(NOW + timedelta(minutes=20))
    ids = smtp.handler.message_ids()
    assert len(ids) == len(set(ids)) == 2
    assert {r.status for r in await _rows(worker)} == {"sent"}


async def test_a_550_is_recorded_as_failed_and_never_retried(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer
) -> None:
    await _two_time_zones(client)
    smtp.handler.answer = "550 No such user here"
    assert (await worker.run_once(NOW)).failed == 2
    smtp.handler.answer = None
    assert (await worker.run_once(NOW + timedelta(hours=2))).sent == 0
    rows = await _rows(worker)
    assert {r.status for r in rows} == {"failed"}
    assert all((r.last_error or "").startswith("550") and r.attempts == 1 for r in rows)
    assert smtp.handler.received == []


async def test_a_claim_left_by_a_killed_worker_is_taken_again_after_it_expires(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer
) -> None:
    await _two_time_zones(client)
    await worker.enqueue(NOW)
    from app.reminders import repository

    async with worker.sessionmaker.begin() as session:
        claimed = await repository.claim(
            session, now=NOW, claimed_until=NOW + timedelta(minutes=2), limit=100
        )
    assert len(claimed) == 2  # ... and then the worker dies without sending
    assert (await worker.run_once(NOW + timedelta(minutes=1))).sent == 0
    assert (await worker.run_once(NOW + timedelta(minutes=3))).sent == 2
    assert len(smtp.handler.received) == 2


async def test_due_now_mails_each_thank_you_once_when_it_becomes_due(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer
) -> None:
    headers = await _user(client, "aiko@example.com", "Aiko Sato", "UTC")
    patch = {"notifications": {"daily_digest": False, "due_now": True}}
    assert (await client.patch("/api/v1/me", json=patch, headers=headers)).status_code == 200
    await create_interview(client, headers, starts_at="2026-12-01T18:00:00Z")  # ends 19:00Z
    assert (await worker.run_once(datetime(2026, 12, 1, 18, 59, tzinfo=UTC))).sent == 0
    assert (await worker.run_once(datetime(2026, 12, 1, 19, 0, tzinfo=UTC))).sent == 1
    assert (await worker.run_once(datetime(2026, 12, 1, 20, 0, tzinfo=UTC))).sent == 0
    [received] = smtp.handler.received
    assert "Ann Lee" in received.message["Subject"]


async def test_worker_once_delivers_what_is_due_and_exits(
    client: httpx.AsyncClient, worker: Worker, smtp: SmtpServer, tmp_path: Path
) -> None:
    await _user(client, "aiko@example.com", "Aiko Sato", "UTC")
    async with worker.sessionmaker.begin() as session:
        from app.accounts.repository import user_by_email

        user = await user_by_email(session, "aiko@example.com")
        assert user is not None
        await service.enqueue_test(session, settings=worker.settings, user=user, now=clock.now())
    settings = worker.settings
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": "test-secret",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_FROM": "followup@example.com",
        "SMTP_STARTTLS": "false",
    }
    command = [*followup_command(), "worker", "--once"]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert [r.rcpt_tos for r in smtp.handler.received] == [["aiko@example.com"]]
    assert '"status": "sent"' in done.stderr and '"kind": "test"' in done.stderr

    if not POSTGRES:
        lock = acquire_sqlite_lock(settings.database_url)
        try:
            second = await asyncio.to_thread(
                subprocess.run,
                command,
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            assert lock is not None
            lock.close()
        assert second.returncode != 0
        assert "another worker is running" in second.stderr


def test_worker_without_smtp_says_email_is_off_and_exits_0(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    migrate(env["DATABASE_URL"])  # the worker never migrates
    done = subprocess.run(
        [*followup_command(), "worker", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "Email is off" in done.stdout


def test_incomplete_smtp_settings_are_a_clear_error_at_start_up(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", SMTP_HOST="127.0.0.1")
    done = subprocess.run(
        [*followup_command(), "worker", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "SMTP_FROM" in done.stderr
