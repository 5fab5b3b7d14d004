"""The worker: enqueue what is due, then claim outbox rows and deliver them over SMTP, webhook
deliveries over HTTP (app/webhooks/deliver.py), and watch the users' mailboxes over IMAP
(app/mailbox/watch.py) — in loops side by side, so a slow receiver never holds up mail, nor
a slow mail server webhooks or a silent mailbox either."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import random
import signal
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock as app_clock
from app import outbound, retention
from app.config import Settings
from app.db import create_engine, create_sessionmaker, sqlite_file
from app.mailbox import send as mailbox_send
from app.mailbox import watch as mailbox_watch
from app.reminders import mail, repository, service
from app.reminders.models import Outbox
from app.webhooks import addresses, deliver
from app.webhooks import service as webhooks

log = logging.getLogger("followup.worker")

BATCH = 100
MAX_ATTEMPTS = 12
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 3600

Sender = Callable[[mail.MailConfig, EmailMessage, outbound.InFlight], Awaitable[None]]


class AnotherWorkerRunning(RuntimeError):
    pass


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter in its upper half: 30 s, 1 min, 2 min… ≤ 6 h."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=ceiling * (0.5 + (rng or random).random() / 2))


@dataclass
class RoundResult:
    enqueued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    statuses: list[str] = field(default_factory=list)
    webhooks: deliver.DeliveryRound = field(default_factory=deliver.DeliveryRound)
    watch: mailbox_watch.WatchRound = field(default_factory=mailbox_watch.WatchRound)


def message_for(config: mail.MailConfig, payload: dict[str, Any]) -> EmailMessage:
    return mail.build_message(
        sender=config.sender,
        to_name=str(payload.get("to_name") or ""),
        to_address=str(payload["to"]),
        subject=str(payload["subject"]),
        text=str(payload["text"]),
        html_body=str(payload["html"]),
        message_id=str(payload["message_id"]),
    )


class Worker:
    def __init__(
        self,
        settings: Settings,
        config: mail.MailConfig | None,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        sender: Sender = mail.send,
        clock: Callable[[], datetime] = app_clock.now,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        mail_tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        self.sessionmaker = sessionmaker
        self.sender = sender
        self.clock = clock
        self.deadline = settings.outbound_timeout_seconds
        # Whom IMAP over TLS trusts, for the watch and a sent copy (tests: their own cert).
        self.imap_tls = mail_tls_context
        self.in_flight = outbound.InFlight()
        self.webhooks = deliver.Deliverer(
            sessionmaker,
            allow=addresses.parse_allow(settings.webhook_allow),
            backoff=backoff,
            deadline=self.deadline,
            in_flight=self.in_flight,
            transport=webhook_transport,
        )
        self.retention = retention.Pruner(sessionmaker, settings, stopping=lambda: self.stopping)
        self.watcher = mailbox_watch.Watcher(
            settings,
            sessionmaker,
            in_flight=self.in_flight,
            clock=clock,
            tls_context=mail_tls_context,
        )

    @property
    def stopping(self) -> bool:
        return self.in_flight.stopping

    def stop(self) -> None:
        """Start no more sends; those in flight get a short grace, then are cut short."""
        self.in_flight.stop()

    async def enqueue(self, now: datetime) -> int:
        async with self.sessionmaker.begin() as session:
            count = 0
            if self.config is not None:
                count += await service.enqueue_due_digests(session, settings=self.settings, now=now)
                count += await service.enqueue_due_now(session, settings=self.settings, now=now)
            count += await webhooks.enqueue_due_events(session, now=now)
        return count

    async def run_once(self, now: datetime | None = None) -> RoundResult:
        """One round: prune when due (app/retention.py), enqueue what is due, then deliver
        every due row, batch by batch, mail and webhooks side by side, and read every due
        mailbox once. `now` fixes the round's time (tests); by default each batch reads the
        clock."""
        await self.retention.run_due(now or self.clock())
        result = RoundResult(enqueued=await self.enqueue(now or self.clock()))
        async with asyncio.TaskGroup() as group:
            group.create_task(self._deliver_mail(now, result))
            hooks = group.create_task(self.webhooks.run_once(now, self.clock))
            watched = group.create_task(self.watcher.run_once(now))
        result.webhooks = hooks.result()
        result.watch = watched.result()
        return result

    async def _deliver_mail(self, now: datetime | None, result: RoundResult) -> None:
        # Without SMTP (email off) the instance's mail stays in the outbox; sends through the
        # users' own mailboxes go out all the same, and webhooks are still delivered.
        kinds = None if self.config is not None else (mailbox_send.KIND,)
        while not self.stopping:
            at = now or self.clock()
            async with self.sessionmaker.begin() as session:
                rows = await repository.claim(
                    session,
                    now=at,
                    claimed_until=at + outbound.claim_for(self.deadline),
                    limit=BATCH,
                    kinds=kinds,
                )
            if not rows:
                break
            await self._deliver(rows, at, result)

    async def _deliver(self, rows: list[Outbox], now: datetime, result: RoundResult) -> None:
        started = time.monotonic()
        for index, row in enumerate(rows):
            # No send starts after the budget: the claim covers budget + deadline.
            if self.stopping or time.monotonic() - started > outbound.BATCH_BUDGET_SECONDS:
                async with self.sessionmaker.begin() as session:
                    await repository.release(session, [r.id for r in rows[index:]])
                return
            status, error, values = await self._send_one(row, now)
            async with self.sessionmaker.begin() as session:
                await repository.mark(session, row.id, **values)
            if status == repository.SENT:
                result.sent += 1
            elif status == repository.FAILED:
                result.failed += 1
            else:
                result.retrying += 1
            result.statuses.append(status)
            log.info(
                json.dumps(
                    {
                        "event": "delivery",
                        "outbox_id": str(row.id),
                        "kind": row.kind,
                        "user_id": str(row.user_id),
                        "status": status,
                        "attempt": row.attempts,
                        **({"error": error} if error else {}),
                    }
                )
            )

    async def _message(self, row: Outbox, now: datetime) -> EmailMessage:
        """The row's message. A password reset's link is made only now, in a transaction of
        its own, so the outbox never holds a link that opens an account."""
        assert self.config is not None
        if row.kind != service.RESET_EMAIL:
            return message_for(self.config, row.payload)
        async with self.sessionmaker.begin() as session:
            payload = await service.reset_email(
                session,
                settings=self.settings,
                user_id=row.user_id,
                queued=row.payload,
                now=now,
            )
        return message_for(self.config, payload)

    async def _send_one(
        self, row: Outbox, now: datetime
    ) -> tuple[str, str | None, dict[str, object]]:
        if row.kind == mailbox_send.KIND:
            return await self._send_through_mailbox(row, now)
        assert self.config is not None  # only claimed when email is on
        try:
            await self.sender(self.config, await self._message(row, now), self.in_flight)
        except mail.PermanentMailError as error:
            return "failed", str(error), _failed(error)
        except mail.InterruptedMailError as error:
            # Cut short by a stop: due again at once, for the next worker; the try counts.
            return "pending", str(error), _pending(error, due_at=now)
        except (mail.TransientMailError, ValueError) as error:
            if isinstance(error, ValueError) or row.attempts >= MAX_ATTEMPTS:
                return "failed", str(error), _failed(error)
            return "pending", str(error), _pending(error, due_at=now + backoff(row.attempts))
        return (
            "sent",
            None,
            {
                "status": repository.SENT,
                "claimed_until": None,
                "sent_at": now,
                "last_error": None,
            },
        )

    async def _send_through_mailbox(
        self, row: Outbox, now: datetime
    ) -> tuple[str, str | None, dict[str, object]]:
        """A draft the user asked to send (POST …/send), through their own SMTP; then the
        follow-up is sent and a copy goes to their sent folder. A refusal, or the last try,
        leaves the follow-up scheduled with `send_error`."""
        async with self.sessionmaker.begin() as session:
            ready = await mailbox_send.prepare(
                session, settings=self.settings, user_id=row.user_id, payload=row.payload, now=now
            )
        if isinstance(ready, mailbox_send.Dropped):
            return "failed", ready.reason, _failed(ValueError(ready.reason))
        try:
            await mailbox_send.check_host(self.settings, ready.config.host, ready.config.port)
            await self.sender(ready.config, ready.message, self.in_flight)
        except (mail.PermanentMailError, addresses.Refused) as error:
            return await self._send_refused(row, ready, error)
        except mail.InterruptedMailError as error:
            return "pending", str(error), _pending(error, due_at=now)
        except (mail.TransientMailError, OSError, TimeoutError) as error:
            if row.attempts >= mailbox_send.MAX_ATTEMPTS:
                return await self._send_refused(row, ready, error, tries=row.attempts)
            return "pending", str(error), _pending(error, due_at=now + backoff(row.attempts))
        # It went out: recorded at once, with the outbox row, so no retry sends it again.
        values: dict[str, object] = {
            "status": repository.SENT,
            "claimed_until": None,
            "sent_at": now,
            "last_error": None,
        }
        async with self.sessionmaker.begin() as session:
            await mailbox_send.sent(session, ready=ready, now=now)
            await repository.mark(session, row.id, **values)
        await mailbox_send.append_copy(
            self.settings, ready, now=now, deadline=self.deadline, tls_context=self.imap_tls
        )
        return "sent", None, values

    async def _send_refused(
        self, row: Outbox, ready: mailbox_send.Ready, error: Exception, *, tries: int = 0
    ) -> tuple[str, str | None, dict[str, object]]:
        if isinstance(error, addresses.Refused):
            sentence = f"Not sent: the mail server's address is not allowed ({error})."
        elif tries:
            sentence = (
                f"Not sent: your mail server could not be reached after {tries} tries "
                f"({str(error).strip().rstrip('.')})."
            )
        else:
            sentence = mailbox_send.refusal_sentence(error)
        async with self.sessionmaker.begin() as session:
            await mailbox_send.refused(
                session, user_id=ready.user_id, followup_id=ready.followup_id, sentence=sentence
            )
        return "failed", str(error), _failed(error)

    async def run_forever(self, interval: float) -> None:
        """Round after round until stopped: mail (with enqueueing), webhooks, pruning and the
        mailbox watch (every FOLLOWUP_MAIL_POLL_SECONDS) each in a loop of its own, so a slow
        party on one side never delays the other."""
        poll = max(self.settings.mail_poll_seconds, 1.0)
        async with asyncio.TaskGroup() as group:
            group.create_task(self._every(interval, self._mail_round, "mail"))
            group.create_task(self._every(interval, self._webhook_round, "webhook"))
            group.create_task(self._every(interval, self._retention_round, "retention"))
            group.create_task(self._every(poll, self._watch_round, "mailbox watch"))

    async def _mail_round(self) -> None:
        result = RoundResult(enqueued=await self.enqueue(self.clock()))
        await self._deliver_mail(None, result)

    async def _webhook_round(self) -> None:
        await self.webhooks.run_once(None, self.clock)

    async def _watch_round(self) -> None:
        await self.watcher.run_once(None)

    async def _retention_round(self) -> None:
        await self.retention.run_due(self.clock())  # at most hourly: the pruner keeps count

    async def _every(
        self, interval: float, round_: Callable[[], Awaitable[None]], name: str
    ) -> None:
        while not self.stopping:
            try:
                await round_()
            except Exception:
                log.exception("worker %s round failed; trying again next round", name)
            for _ in range(int(interval * 10)):
                if self.stopping:
                    break
                await asyncio.sleep(0.1)


def _failed(error: Exception) -> dict[str, object]:
    return {"status": repository.FAILED, "claimed_until": None, "last_error": str(error)[:2000]}


def _pending(error: Exception, *, due_at: datetime) -> dict[str, object]:
    return {
        "status": repository.PENDING,
        "claimed_until": None,
        "due_at": due_at,
        "last_error": str(error)[:2000],
    }


def acquire_sqlite_lock(database_url: str) -> IO[str] | None:
    """On SQLite one worker at a time: an exclusive lock on a file beside the database."""
    path = sqlite_file(database_url)
    if path is None:
        return None
    lock_path = Path(f"{path}.worker.lock")
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AnotherWorkerRunning(
            f"another worker is running (lock held on {lock_path})"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


async def run(
    settings: Settings, config: mail.MailConfig | None, *, once: bool, interval: float
) -> int:
    engine = create_engine(settings.database_url)
    lock = None
    try:
        if engine.dialect.name == "sqlite":
            lock = acquire_sqlite_lock(settings.database_url)
        worker = Worker(settings, config, create_sessionmaker(engine))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _stopper(worker))
        if once:
            await worker.run_once()
        else:
            log.info(json.dumps({"event": "started", "interval": interval}))
            await worker.run_forever(interval)
        log.info(json.dumps({"event": "stopped"}))
        return 0
    finally:
        if lock is not None:
            lock.close()
        await engine.dispose()


def _stopper(worker: Worker) -> Callable[[], None]:
    def stop() -> None:
        # Sends in flight get a short grace, then are cut (due again at once); claimed rows
        # not yet sent are given back.
        worker.stop()

    return stop


async def send_test_email(settings: Settings, config: mail.MailConfig, to: str) -> str:
    """Send one message now (not through the outbox), and say what happened."""
    text = "This is a test message from Followup: the SMTP settings work.\n"
    message = mail.build_message(
        sender=config.sender,
        to_name="",
        to_address=to,
        subject="Followup test email",
        text=text,
        html_body=mail.paragraphs_html(text),
        message_id=service.message_id(settings),
    )
    await mail.send(config, message)
    return str(message["Message-ID"])
