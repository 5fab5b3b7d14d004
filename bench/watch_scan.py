"""How fast one worker's mailbox watch reads: messages scanned per second on a mailbox of
WATCH_BENCH_MESSAGES (10,000) messages, first pass and incremental, through the real code
path (app/mailbox/watch.py over IMAP to a real dovecot, rules, database).

    .venv/bin/python -m bench.watch_scan        # SQLite in a temporary folder
    WATCH_BENCH_DB=postgresql://postgres@127.0.0.1:5432/NAME .venv/bin/python -m bench.watch_scan

The Postgres database is emptied first. Needs /usr/sbin/dovecot (tests/mailbox/dovecot.py).
About 1 message in 100 is from a person of the user's interview (a reply the rules apply);
the rest are from strangers. Prints one line per pass and a JSON summary."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app import clock
from app.accounts.models import User
from app.db import create_engine, create_sessionmaker
from app.mailbox import secrets
from app.mailbox.models import Mailbox
from app.main import create_app
from app.reminders.worker import Worker
from tests.helpers import (
    client_of,
    create_interview,
    make_settings,
    migrate,
    reset_postgres,
    user_headers,
)
from tests.mailbox.dovecot import HOST, Dovecot, MailUser

MESSAGES = int(os.environ.get("WATCH_BENCH_MESSAGES", "10000"))
INCREMENT = int(os.environ.get("WATCH_BENCH_INCREMENT", "200"))
PEOPLE = ["ann@acme.example", "bob@acme.example"]


def raw_message(n: int, to: str, when: datetime) -> bytes:
    sender = PEOPLE[n % 2] if n % 100 == 0 else f"newsletter{n % 37}@shop{n % 11}.example"
    return (
        f"From: Sender {n} <{sender}>\r\n"
        f"To: Jane Doe <{to}>\r\n"
        f"Subject: Message number {n} about something\r\n"
        f"Date: {format_datetime(when)}\r\n"
        f"Message-ID: <bench-{n}-{os.getpid()}@mail.example.test>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"Body of message {n}.\r\n" + "Some quoted text to give it a size.\r\n" * 20
    ).encode()


async def seed(app: Any, account: MailUser, now: datetime) -> None:
    async with client_of(app) as client:
        headers = await user_headers(client, "jane@example.com")
        await create_interview(
            client,
            headers,
            starts_at=(now - timedelta(days=3)).isoformat(),
            people=[
                {"name": "Ann Lee", "email": PEOPLE[0], "role": "interviewer"},
                {"name": "Bob Stone", "email": PEOPLE[1], "role": "recruiter"},
            ],
        )
    async with app.state.sessionmaker.begin() as session:
        user = await session.scalar(select(User).where(User.email == "jane@example.com"))
        assert user is not None
        session.add(
            Mailbox(
                user_id=user.id,
                address=account.address,
                username=account.username,
                password_sealed=secrets.seal(app.state.settings.secret, user.id, account.password),
                imap_host=HOST,
                imap_port=account.server.port,
                imap_security="none",
                smtp_host=HOST,
                smtp_port=25,
                smtp_security="none",
                watch=True,
                send=False,
            )
        )


async def timed_pass(worker: Worker, now: datetime, label: str) -> dict[str, Any]:
    started = time.monotonic()
    result = await worker.watcher.run_once(now)
    seconds = time.monotonic() - started
    rate = result.scanned / seconds if seconds else 0.0
    print(
        f"{label}: {result.scanned} messages in {seconds:.2f} s = {rate:,.0f} messages/s "
        f"({result.replies} replies applied, status ok={result.ok} errors={result.errors})"
    )
    return {
        "pass": label,
        "scanned": result.scanned,
        "seconds": round(seconds, 3),
        "per_second": round(rate),
        "replies": result.replies,
    }


async def main() -> None:
    url = os.environ.get("WATCH_BENCH_DB")
    folder = Path(tempfile.mkdtemp(prefix="watch-bench-"))
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{folder / 'followup.db'}"
    migrate(url)
    settings = make_settings(url, mail_allow="127.0.0.1", mail_poll_seconds=300)
    server = Dovecot()
    server.start()
    try:
        account = server.add_user()
        with server.imap(account) as connection:  # creates the maildir
            connection.select("INBOX")
        now = clock.now()
        sent_at = now - timedelta(days=2)
        server.deliver_files(
            account, "INBOX", (raw_message(n, account.address, sent_at) for n in range(MESSAGES))
        )
        app = create_app(settings)
        await seed(app, account, now)
        await app.state.engine.dispose()
        engine = create_engine(url)
        worker = Worker(settings, None, create_sessionmaker(engine))
        runs = [await timed_pass(worker, now, f"first pass ({MESSAGES:,} messages)")]
        server.deliver_files(
            account,
            "INBOX",
            (raw_message(MESSAGES + n, account.address, sent_at) for n in range(INCREMENT)),
        )
        later = now + timedelta(seconds=settings.mail_poll_seconds)
        runs.append(await timed_pass(worker, later, f"incremental ({INCREMENT} new)"))
        idle = later + timedelta(seconds=settings.mail_poll_seconds)
        runs.append(await timed_pass(worker, idle, "incremental (nothing new)"))
        await engine.dispose()
        print(
            json.dumps(
                {"database": url.split(":")[0], "at": datetime.now(UTC).isoformat(), "runs": runs}
            )
        )
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
