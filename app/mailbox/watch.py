"""The mailbox watch: the worker reads the headers of what is new in each watched mailbox's
inbox and sent folder (read-only) and applies app/mailbox/rules.py — a follow-up found in
Sent becomes `sent`, a reply cancels the interview's scheduled check-ins.

Each chunk of messages is applied in one transaction together with the folder's new
position, and every message that changes something is first recorded (a hash of its
Message-ID, nothing else), so a crash re-reads at most one chunk and no message ever counts
twice, however many workers run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock as app_clock
from app import outbound
from app.accounts.models import User
from app.config import Settings
from app.followups import service as followups
from app.followups import sync
from app.followups.models import Followup
from app.followups.schedule import Kind, Status
from app.followups.schemas import CancelReason, FollowupUpdate, SentVia, SettableStatus
from app.interviews import repository as interviews
from app.interviews.models import Interview, Person
from app.mailbox import imap, rules, secrets
from app.mailbox import service as mailbox_service
from app.mailbox import watch_repository as repository
from app.mailbox.models import Mailbox
from app.webhooks import addresses
from app.webhooks import service as webhooks
from app.webhooks.schemas import Event

log = logging.getLogger("followup.worker")

# Headers fetched, and applied in one transaction, at a time.
CHUNK = 500
# Mailboxes one worker reads at once.
MAILBOXES_AT_ONCE = 4
# No new chunk is started this long after a mailbox's pass began: the rest waits for the
# next pass (due at once), so a huge first pass never outlives its claim.
PASS_BUDGET_SECONDS = outbound.BATCH_BUDGET_SECONDS
BACKOFF_CAP = timedelta(hours=6)
_EVENT_NAMESPACE = uuid.UUID("0b6f7f0e-3c5e-4d27-9a43-5c3e2b1f8a61")


def backoff(poll_seconds: float, failures: int) -> timedelta:
    """After `failures` failed passes in a row: the poll interval, doubled per failure,
    at most 6 hours."""
    seconds = poll_seconds * 2 ** min(max(failures, 0), 32)
    return min(timedelta(seconds=seconds), BACKOFF_CAP)


def claim_for(deadline: float) -> timedelta:
    """A pass starts no call after its budget, each call ends by its deadline."""
    return timedelta(seconds=PASS_BUDGET_SECONDS + 2 * deadline + outbound.CLAIM_MARGIN_SECONDS)


@dataclass
class WatchRound:
    """What one round of the watch did, for logs and tests."""

    mailboxes: int = 0
    ok: int = 0
    errors: int = 0
    scanned: int = 0
    replies: int = 0
    sent: int = 0


class Watcher:
    """Watches every due mailbox: several at once, each claimed so no other worker reads it
    meanwhile, each IMAP call under the overall deadline."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        in_flight: outbound.InFlight,
        clock: Callable[[], datetime] = app_clock.now,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.in_flight = in_flight
        self.clock = clock
        self.tls_context = tls_context
        self.deadline = settings.outbound_timeout_seconds
        self.poll_seconds = max(settings.mail_poll_seconds, 1.0)
        self.allow = mailbox_service.allow_of(settings)
        # The longest one mailbox's pass took (seconds), for measurements.
        self.longest_pass = 0.0

    async def run_once(self, now: datetime | None = None) -> WatchRound:
        """Read every due mailbox once, MAILBOXES_AT_ONCE at a time. `now` fixes the round's
        time (tests); by default each claim reads the clock."""
        result = WatchRound()
        async with asyncio.TaskGroup() as group:
            for _ in range(MAILBOXES_AT_ONCE):
                group.create_task(self._lane(now, result))
        return result

    async def _lane(self, now: datetime | None, result: WatchRound) -> None:
        while not self.in_flight.stopping:
            at = now or self.clock()
            async with self.sessionmaker.begin() as session:
                ids = await repository.claim(
                    session, now=at, claimed_until=at + claim_for(self.deadline), limit=1
                )
            if not ids:
                return
            started = time.monotonic()
            await self.watch_one(ids[0], now, result)
            self.longest_pass = max(self.longest_pass, time.monotonic() - started)

    async def watch_one(
        self, mailbox_id: uuid.UUID, now: datetime | None, result: WatchRound
    ) -> None:
        """One pass over a claimed mailbox; its status says how it went."""
        async with self.sessionmaker() as session:
            mailbox = await repository.claimed_mailbox(session, mailbox_id)
            if mailbox is not None:
                session.expunge(mailbox)
        if mailbox is None:
            return
        result.mailboxes += 1
        error: str | None = None
        finished = True
        try:
            password = mailbox_service.password_of(self.settings, mailbox)
            limit = PASS_BUDGET_SECONDS + 2 * self.deadline
            async with self.in_flight.deadline(limit):
                finished = await self._read(mailbox, password, now, result)
        except outbound.Interrupted:
            # The worker is stopping: the next worker picks the mailbox up where it stopped.
            async with self.sessionmaker.begin() as session:
                await repository.finish(session, mailbox.id)
            return
        except repository.FolderMoved:
            log.info(json.dumps({"event": "watch_moved", "mailbox_id": str(mailbox.id)}))
            return
        except (secrets.Unreadable, imap.ImapError) as failure:
            error = str(failure)
        except addresses.Refused as failure:
            error = f"The IMAP host {failure}."
        except outbound.DeadlineExceeded:
            error = (
                f"Reading the mailbox took longer than {PASS_BUDGET_SECONDS + 2 * self.deadline:g}"
                " s; it will be tried again."
            )
        except (OSError, TimeoutError) as failure:
            error = f"The mailbox server could not be reached ({failure})."
        except Exception:
            # A fault of ours (or the database's): this mailbox waits its backoff, the
            # others and the worker's other loops go on.
            log.exception("mailbox watch failed unexpectedly on mailbox %s", mailbox.id)
            error = "Something unexpected failed while reading the mailbox; it will be tried again."
        await self._finish(mailbox, error=error, finished=finished, now=now, result=result)

    async def _finish(
        self,
        mailbox: Mailbox,
        *,
        error: str | None,
        finished: bool,
        now: datetime | None,
        result: WatchRound,
    ) -> None:
        at = now or self.clock()
        if error is None:
            result.ok += 1
            values: dict[str, object] = {
                "status": "ok",
                "last_checked_at": at,
                "last_error": None,
                "failures": 0,
                # Not finished (the pass ran out of budget): due again at once.
                "next_watch_at": at + timedelta(seconds=self.poll_seconds) if finished else at,
            }
        else:
            result.errors += 1
            failures = mailbox.failures + 1
            values = {
                "status": "error",
                "last_checked_at": at,
                "last_error": error[:2000],
                "failures": failures,
                "next_watch_at": at + backoff(self.poll_seconds, failures),
            }
        async with self.sessionmaker.begin() as session:
            await repository.finish(session, mailbox.id, **values)
        log.info(
            json.dumps(
                {
                    "event": "watch",
                    "mailbox_id": str(mailbox.id),
                    "user_id": str(mailbox.user_id),
                    "status": values["status"],
                    **({"error": error} if error else {}),
                }
            )
        )

    async def _read(
        self, mailbox: Mailbox, password: str, now: datetime | None, result: WatchRound
    ) -> bool:
        """Read both folders; False when the budget ran out before the end."""
        started = time.monotonic()
        # A name that does not resolve now: connecting says so in its own words.
        with contextlib.suppress(OSError, TimeoutError):
            await mailbox_service.check_host(mailbox.imap_host, mailbox.imap_port, self.allow)
        async with imap.open_imap(
            mailbox_service.imap_login(mailbox, password),
            deadline=self.deadline,
            tls_context=self.tls_context,
        ) as session:
            folders: list[tuple[str, str]] = [(rules.INBOX, mailbox.inbox_folder or "INBOX")]
            sent = mailbox.sent_folder or await session.special_folder("\\Sent")
            if sent:
                folders.append((rules.SENT, sent))
            for role, name in folders:
                if not await self._read_folder(session, mailbox, role, name, started, now, result):
                    return False
        return True

    async def _read_folder(
        self,
        imap_session: imap.ImapSession,
        mailbox: Mailbox,
        role: str,
        name: str,
        started: float,
        now: datetime | None,
        result: WatchRound,
    ) -> bool:
        state = await imap_session.examine(name)
        async with self.sessionmaker() as session:
            stored = await repository.folder(session, mailbox.user_id, mailbox.id, role)
            expected = (stored.name, stored.uidvalidity, stored.last_uid) if stored else None
        same = stored is not None and (stored.name, stored.uidvalidity) == (name, state.uidvalidity)
        # A new UIDVALIDITY (or another folder): start over; what already counted stays
        # counted (mailbox_messages), so nothing happens twice.
        last_uid = stored.last_uid if stored is not None and same else 0
        if not same:
            async with self.sessionmaker.begin() as session:
                await repository.advance_folder(
                    session,
                    user_id=mailbox.user_id,
                    mailbox_id=mailbox.id,
                    role=role,
                    name=name,
                    uidvalidity=state.uidvalidity,
                    last_uid=0,
                    expected=expected,
                    now=now or self.clock(),
                )
            expected = (name, state.uidvalidity, 0)
        while True:
            if time.monotonic() - started > PASS_BUDGET_SECONDS:
                return False
            headers = [
                h
                for h in await imap_session.headers_since(name, last_uid, limit=CHUNK)
                if h.uid > last_uid
            ]
            if not headers:
                return True
            headers.sort(key=lambda h: h.uid)
            new_uid = headers[-1].uid
            async with self.sessionmaker.begin() as session:
                await self._apply(session, mailbox, role, headers, now or self.clock(), result)
                await repository.advance_folder(
                    session,
                    user_id=mailbox.user_id,
                    mailbox_id=mailbox.id,
                    role=role,
                    name=name,
                    uidvalidity=state.uidvalidity,
                    last_uid=new_uid,
                    expected=expected,
                    now=now or self.clock(),
                )
            result.scanned += len(headers)
            expected, last_uid = (name, state.uidvalidity, new_uid), new_uid
            if len(headers) < CHUNK:
                return True

    async def _apply(
        self,
        session: AsyncSession,
        mailbox: Mailbox,
        role: str,
        headers: Sequence[rules.Headers],
        now: datetime,
        result: WatchRound,
    ) -> None:
        """Apply the rules to one chunk, in the caller's transaction."""
        user_id = mailbox.user_id
        if role == rules.SENT:
            wanted = {a for h in headers for a in rules.people_addressed(h)}
            ids = [m for h in headers if (m := rules.normalise_message_id(h.message_id))]
        else:
            wanted = {a for h in headers if (a := rules.sender_address(h))}
            ids = [m for h in headers for m in rules.referenced_ids(h)]
        by_address = await repository.interviews_of_addresses(session, user_id, wanted)
        by_message_id = await repository.interviews_of_message_ids(session, user_id, ids)
        if not by_address and not by_message_id:
            return  # nothing in this chunk is about an interview: the usual case
        user = await session.get(User, user_id)
        if user is None:
            return
        own = rules.own_addresses(user.email, mailbox.address, mailbox.username)
        for header in headers:
            if role == rules.SENT:
                addressed = rules.people_addressed(header)
                refs = [m for m in [rules.normalise_message_id(header.message_id)] if m]
            else:
                sender = rules.sender_address(header)
                addressed = [sender] if sender else []
                refs = rules.referenced_ids(header)
            interview_ids = {i for a in addressed for i in by_address.get(a, ())}
            interview_ids |= {by_message_id[r] for r in refs if r in by_message_id}
            if not interview_ids:
                continue
            bundles = await _lock_bundles(session, user_id, interview_ids)
            facts, followup_facts = _facts(bundles)
            if role == rules.SENT:
                targets = rules.followups_sent(header, interviews=facts, followups=followup_facts)
                if targets and await repository.count_message(
                    session, user_id, rules.message_key(role, header), now=now
                ):
                    for target in targets:
                        await _mark_sent(session, user, bundles, target, header, now)
                        result.sent += 1
            else:
                reply = rules.reply_of(
                    header, own_addresses=own, interviews=facts, followups=followup_facts
                )
                key = rules.message_key(role, header)
                if reply is not None and await repository.count_message(
                    session, user_id, key, now=now
                ):
                    await _record_reply(session, user_id, bundles, reply, key, now)
                    result.replies += 1


Bundle = tuple[Interview, list[Person], list[Followup]]


async def _lock_bundles(
    session: AsyncSession, user_id: uuid.UUID, interview_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Bundle]:
    """The interviews locked (as every write to one does first), read afresh."""
    bundles: dict[uuid.UUID, Bundle] = {}
    for interview_id in sorted(interview_ids):
        bundle = await interviews.lock_bundle(session, user_id, interview_id)
        if bundle is not None:
            bundles[interview_id] = bundle
    return bundles


def _facts(
    bundles: dict[uuid.UUID, Bundle],
) -> tuple[list[rules.InterviewFact], list[rules.FollowupFact]]:
    facts: list[rules.InterviewFact] = []
    followup_facts: list[rules.FollowupFact] = []
    for interview, people, rows in bundles.values():
        end = interview.starts_at + timedelta(minutes=interview.duration_minutes)
        listed = tuple(rules.PersonFact(p.id, p.email.strip().lower()) for p in people if p.email)
        facts.append(rules.InterviewFact(interview.id, end, listed))
        followup_facts.extend(
            rules.FollowupFact(
                id=row.id,
                interview_id=row.interview_id,
                kind=row.kind,
                person_id=row.person_id,
                status=row.status,
                not_before=row.not_before,
                message_id=rules.normalise_message_id(row.message_id),
            )
            for row in rows
        )
    return facts, followup_facts


async def _mark_sent(
    session: AsyncSession,
    user: User,
    bundles: dict[uuid.UUID, Bundle],
    target: rules.FollowupFact,
    header: rules.Headers,
    now: datetime,
) -> None:
    """Through the same path as marking sent by hand (a second check-in is planned, the
    `followup.sent` event fires), then noted as seen in the mailbox."""
    sent_at = rules.message_time(header) or now
    row = await followups.update(
        session,
        user=user,
        followup_id=target.id,
        patch=FollowupUpdate(status=SettableStatus.SENT, sent_at=sent_at),
        if_match=None,
        now=now,
        via=SentVia.MAILBOX.value,
    )
    message_id = rules.normalise_message_id(header.message_id)
    row.message_id = f"<{message_id}>"[:500] if message_id else None
    await session.flush()


async def _record_reply(
    session: AsyncSession,
    user_id: uuid.UUID,
    bundles: dict[uuid.UUID, Bundle],
    reply: rules.Reply,
    key: str,
    now: datetime,
) -> None:
    """The interview's `last_reply` (when newer), its scheduled check-ins cancelled, and the
    `interview.replied` event."""
    interview, people, rows = bundles[reply.interview_id]
    if interview.last_reply_at is None or reply.received_at > interview.last_reply_at:
        interview.last_reply_person_id = reply.person_id
        interview.last_reply_at = reply.received_at
        interview.last_reply_subject = reply.subject
        interview.updated_at = now
    for row in rows:
        if row.kind == Kind.CHECK_IN and row.status == Status.SCHEDULED:
            sync.cancel(row, CancelReason.REPLIED)
            row.updated_at = now
    await session.flush()
    person = next((p for p in people if p.id == reply.person_id), None)
    await webhooks.emit(
        session,
        user_id=user_id,
        event=Event.INTERVIEW_REPLIED,
        data=webhooks.replied_data(
            interview,
            person=person,
            person_id=reply.person_id,
            received_at=reply.received_at,
            subject=reply.subject,
        ),
        now=now,
        event_id=uuid.uuid5(_EVENT_NAMESPACE, f"interview.replied:{user_id}:{key}"),
    )
