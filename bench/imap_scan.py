"""How fast one worker reads a big mailbox (issue 11): `headers_since` over a 10,000-message
INBOX on a local dovecot (tests/mailbox/dovecot.py), first pass (every message, 500 at a
time, as the watch reads a mailbox it has never seen) and incremental (10 new messages,
from a new login, as every later pass); and a warm pass (the whole mailbox again, dovecot's
cache filled), to tell the client's share from the server's.

    .venv/bin/python -m bench.imap_scan            # BENCH_IMAP_MESSAGES=10000 by default

The first APPEND_SAMPLE messages go in by IMAP APPEND (its speed is reported too); the rest
are written as maildir files, which dovecot numbers when the folder is next opened (the
"indexing" figure). Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from app.mailbox.imap import open_imap
from tests.mailbox.dovecot import Dovecot, MailUser

MESSAGES = int(os.environ.get("BENCH_IMAP_MESSAGES", "10000"))
APPEND_SAMPLE = min(200, MESSAGES)
CHUNK = 500
NEW = 10
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def sample(n: int) -> bytes:
    """A message like a real inbox's: a few recipients, a thread, ~1.5 KB (a template: the
    email package would take longer to build 10,000 of them than dovecot to serve them)."""
    date = format_datetime(START + timedelta(minutes=7 * n))
    company = f"company{n % 13}.example"
    references = " ".join(f"<bench-{k}@mail.example.test>" for k in range(max(0, n - 3), n))
    head = (
        f"Return-Path: <person{n % 97}@{company}>\r\n"
        f"Subject: Re: Interview for the role #{n} =?utf-8?q?=E2=80=94?= next steps\r\n"
        f"From: Person {n % 97} <person{n % 97}@{company}>\r\n"
        "To: Jane Doe <jane@mail.example.test>\r\n"
        f"Cc: Recruiter <recruiter{n % 7}@{company}>\r\n"
        f"Date: {date}\r\n"
        f"Message-ID: <bench-{n}@{company}>\r\n"
        f"In-Reply-To: <bench-{n - 1}@mail.example.test>\r\n"
        f"References: {references}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Received: from mx.example (mx.example [192.0.2.1]) by mail.example.test\r\n"
        "DKIM-Signature: v=1; a=rsa-sha256; d=example; s=s1; b=" + "A" * 300 + "\r\n"
    )
    return (head + "\r\n" + "Thanks for your time.\r\n" * 40).encode()


async def measure(server: Dovecot, user: MailUser) -> dict[str, object]:
    login = user.login("none")
    async with open_imap(login) as imap:
        await imap.examine("INBOX")  # the first login makes the maildir
        started = time.monotonic()
        for n in range(APPEND_SAMPLE):
            await imap.append("INBOX", sample(n), flags=())
        append_seconds = time.monotonic() - started
    server.deliver_files(user, "INBOX", (sample(n) for n in range(APPEND_SAMPLE, MESSAGES)))

    async with open_imap(login) as imap:
        started = time.monotonic()
        state = await imap.examine("INBOX")  # dovecot numbers the new files here
        index_seconds = time.monotonic() - started
        assert state.exists == MESSAGES, state

        started = time.monotonic()
        seen, last, calls, slowest = 0, 0, 0, 0.0
        while True:
            call_started = time.monotonic()
            chunk = await imap.headers_since("INBOX", last, limit=CHUNK)
            slowest = max(slowest, time.monotonic() - call_started)
            calls += 1
            if not chunk:
                break
            seen += len(chunk)
            last = chunk[-1].uid
        first_seconds = time.monotonic() - started
        assert seen == MESSAGES, seen

        # Again, now that dovecot has the header fields in its cache: what is left is the
        # client's side (the IMAP parser and the header decoding), and the wire.
        started = time.monotonic()
        again, after = 0, 0
        while chunk := await imap.headers_since("INBOX", after, limit=CHUNK):
            again += len(chunk)
            after = chunk[-1].uid
        warm_seconds = time.monotonic() - started

        for n in range(MESSAGES, MESSAGES + NEW):
            await imap.append("INBOX", sample(n), flags=())

    started = time.monotonic()
    async with open_imap(login) as imap:  # a later pass: log in, check, read what is new
        await imap.examine("INBOX")
        new = await imap.headers_since("INBOX", last, limit=CHUNK)
    incremental_seconds = time.monotonic() - started
    assert len(new) == NEW, len(new)

    return {
        "messages": MESSAGES,
        "append_per_second": round(APPEND_SAMPLE / append_seconds, 1),
        "indexing_seconds": round(index_seconds, 3),
        "first_pass": {
            "seconds": round(first_seconds, 3),
            "messages_per_second": round(MESSAGES / first_seconds, 1),
            "calls": calls,
            "slowest_call_seconds": round(slowest, 3),
        },
        "warm_pass": {
            "seconds": round(warm_seconds, 3),
            "messages_per_second": round(again / warm_seconds, 1),
        },
        "incremental_pass": {
            "new_messages": NEW,
            "seconds_with_login": round(incremental_seconds, 3),
            "messages_per_second": round(NEW / incremental_seconds, 1),
        },
    }


def main() -> None:
    server = Dovecot()
    server.start()
    try:
        result = asyncio.run(measure(server, server.add_user()))
    finally:
        server.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
