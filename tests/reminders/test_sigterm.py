"""`followup worker` (no --once) stops cleanly on SIGTERM: exit 0, nothing lost or doubled,
and promptly even while a webhook receiver stalls."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from app import clock
from app.accounts.repository import user_by_email
from app.reminders.models import Outbox
from app.webhooks.models import WebhookDelivery
from tests.browser.live import followup_command
from tests.helpers import (
    client_of,
    create_interview,
    make_settings,
    migrate,
    register,
    user_headers,
)
from tests.reminders.conftest import SmtpServer, queue_deliveries
from tests.stalling import staller

ROWS = 2000


async def test_sigterm_stops_the_worker_with_nothing_lost_or_doubled(
    smtp: SmtpServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'sigterm.db'}"
    migrate(url)
    from app.main import create_app

    app = create_app(make_settings(url))
    try:
        async with client_of(app) as client:
            await register(client)
        now = clock.now()
        async with app.state.sessionmaker.begin() as session:
            user = await user_by_email(session, "jane@example.com")
            assert user is not None
            await queue_deliveries(session, user.id, ROWS, now=now, tag="sigterm")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_FROM": "followup@example.com",
            "SMTP_STARTTLS": "false",
        }
        process = await asyncio.create_subprocess_exec(
            *followup_command(),
            "worker",
            "--interval",
            "1",
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            # Mid-batch: it has sent some of what it claimed, not all.
            deadline = time.monotonic() + 30
            while len(smtp.handler.received) < 150 and time.monotonic() < deadline:
                assert process.returncode is None
                await asyncio.sleep(0.02)
            assert len(smtp.handler.received) >= 150
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            # A worker that finished its batch first would still be sending: it must stop
            # mid-batch (the statuses below say it did), and fail here rather than hang. How
            # long it took is printed, not asserted (a busy machine stretches it).
            _, err = await asyncio.wait_for(process.communicate(), timeout=10)
            stderr = err.decode()
            took = time.monotonic() - signalled
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, stderr
        assert '"event": "stopped"' in stderr

        ids = Counter(str(r.message["Message-ID"]) for r in smtp.handler.received)
        async with app.state.sessionmaker() as session:
            statuses = dict(
                (
                    await session.execute(
                        select(Outbox.status, func.count()).group_by(Outbox.status)
                    )
                ).all()
            )
            pending_attempts = set(
                await session.scalars(
                    select(Outbox.attempts).where(Outbox.status == "pending").distinct()
                )
            )
        sent, pending = statuses.get("sent", 0), statuses.get("pending", 0)
        print(
            f"\nSIGTERM after {len(ids)} sent, exit in {took:.2f} s: sent {sent}, "
            f"pending {pending}, duplicates {sum(ids.values()) - len(ids)}, "
            f"lost {ROWS - sent - pending}"
        )
        assert set(statuses) <= {"sent", "pending"}  # nothing left claimed ("sending")
        assert max(ids.values()) == 1  # none twice
        assert sent == len(ids) and sent + pending == ROWS  # none lost
        assert pending > 0 and pending_attempts <= {0}  # given back, not counted as tries
    finally:
        await app.state.engine.dispose()


async def test_sigterm_cuts_a_stalled_webhook_post_short_and_exits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'stalled.db'}"
    migrate(url)
    from app.main import create_app

    app = create_app(make_settings(url, webhook_allow="127.0.0.1"))
    try:
        async with staller() as receiver:
            async with client_of(app) as client:
                headers = await user_headers(client)
                response = await client.post(
                    "/api/v1/webhooks",
                    json={
                        "url": f"http://127.0.0.1:{receiver.port}/",
                        "events": ["interview.created"],
                    },
                    headers=headers,
                )
                assert response.status_code == 201, response.text
                await create_interview(client, headers)
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("SMTP_")},
                "DATABASE_URL": url,
                "SECRET_KEY": "test-secret",
                "FOLLOWUP_WEBHOOK_ALLOW": "127.0.0.1",
                # Far longer than the test waits: only SIGTERM can end the stalled POST.
                "FOLLOWUP_OUTBOUND_TIMEOUT_SECONDS": "600",
            }
            process = await asyncio.create_subprocess_exec(
                *followup_command(),
                "worker",
                "--interval",
                "1",
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                await receiver.stalled(limit=60)
                signalled = time.monotonic()
                process.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(process.communicate(), timeout=15)
                took = time.monotonic() - signalled
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        stderr = err.decode()
        print(f"\nSIGTERM while a receiver stalled: exit {process.returncode} in {took:.2f} s")
        assert process.returncode == 0, stderr
        assert '"event": "stopped"' in stderr
        async with app.state.sessionmaker() as session:
            [delivery] = (await session.scalars(select(WebhookDelivery))).all()
        # Retried soon by the next worker; the cut attempt counts, it may have arrived.
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.last_error == "interrupted: the worker stopped"
        assert receiver.requests == 1
    finally:
        await app.state.engine.dispose()
