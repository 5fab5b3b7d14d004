"""The mailbox watch against a real IMAP server (dovecot): realistic messages APPENDed to
the inbox and the sent folder, read by the worker, each counting once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from app.accounts.models import User
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.followups.models import Followup
from app.interviews.models import Interview
from app.mailbox import secrets, watch_repository
from app.mailbox.models import Mailbox, MailboxFolder, MailboxMessage
from app.reminders import digest
from app.reminders.worker import Worker
from app.webhooks.models import Webhook, WebhookDelivery
from tests.helpers import NOW, POSTGRES, create_interview, make_settings, user_headers
from tests.mailbox.dovecot import HOST, Dovecot, MailUser
from tests.stalling import SILENT, staller

POLL = 300.0
STARTS = NOW - timedelta(days=2)  # the interview: 2 days ago, an hour long
END = STARTS + timedelta(hours=1)
AFTER = END + timedelta(hours=20)  # when the messages below are dated
ANN = "ann@acme.example"  # interviewer
BOB = "bob@acme.example"  # recruiter (gets the check-in)
DANA = "dana@acme.example"  # was in Cc of our thank-you; not a listed person


def watch_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "mail_allow": "127.0.0.1",
        "mail_poll_seconds": POLL,
        "outbound_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return make_settings(database_url, **values)


@pytest.fixture
async def worker(app: Any, dovecot: Dovecot) -> AsyncIterator[Worker]:
    """A worker of its own (engine and all) on the app's database, trusting dovecot's TLS."""
    settings = watch_settings(app.state.settings.database_url)
    engine = create_engine(settings.database_url)
    yield Worker(
        settings, None, create_sessionmaker(engine), mail_tls_context=dovecot.ssl_context()
    )
    await engine.dispose()


async def jane_with_interview(
    client: httpx.AsyncClient, email: str = "jane@example.com"
) -> tuple[dict[str, str], dict[str, Any]]:
    headers = await user_headers(client, email)
    interview = await create_interview(
        client,
        headers,
        starts_at=STARTS.isoformat(),
        people=[
            {"name": "Ann Lee", "email": "Ann@Acme.example", "role": "interviewer"},
            {"name": "Bob Stone", "email": BOB, "role": "recruiter"},
        ],
    )
    return headers, interview


async def connect_mailbox(
    app: Any,
    email: str,
    account: MailUser,
    *,
    security: str = "none",
    host: str = HOST,
    port: int | None = None,
    password: str | None = None,
    webhook_events: tuple[str, ...] = ("interview.replied", "followup.sent"),
) -> uuid.UUID:
    """The user's mailbox, watched, as the Settings page would save it; and a webhook."""
    settings: Settings = app.state.settings
    async with app.state.sessionmaker.begin() as session:
        user = await session.scalar(select(User).where(User.email == email))
        assert user is not None
        mailbox = Mailbox(
            user_id=user.id,
            address=account.address,
            username=account.username,
            password_sealed=secrets.seal(
                settings.secret, user.id, account.password if password is None else password
            ),
            imap_host=host,
            imap_port=port
            or (account.server.tls_port if security == "tls" else account.server.port),
            imap_security=security,
            smtp_host=host,
            smtp_port=25,
            smtp_security="none",
            watch=True,
            send=False,
        )
        session.add(mailbox)
        if webhook_events:
            session.add(
                Webhook(
                    user_id=user.id,
                    url="https://hooks.example.com/followup",
                    events=list(webhook_events),
                    format="json",
                    secret="s3cret",
                )
            )
        await session.flush()
        return mailbox.id


def mail(
    *,
    sender: str,
    to: str,
    subject: str,
    date: datetime = AFTER,
    body: str = "Thanks!\n",
    message_id: str | None = None,
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def thank_you_sent(account: MailUser, *, date: datetime = AFTER) -> EmailMessage:
    """What Jane wrote to Ann from her own mail client (Cc Dana), as it sits in Sent."""
    return mail(
        sender=f"Jane Doe <{account.address}>",
        to="Ann Lee <ann@acme.example>",
        Cc=f"Dana Ray <{DANA}>",
        subject="Thank you — Backend Engineer interview",
        date=date,
        body="Hi Ann,\n\nThank you for your time yesterday.\n\nJane\n",
    )


def gmail_reply(original: EmailMessage, account: MailUser) -> EmailMessage:
    """A reply written in Gmail: Re:, In-Reply-To and References, text and HTML, quoted."""
    quoted = "\n".join(f"> {line}" for line in str(original.get_content()).splitlines())
    reply = mail(
        sender="Ann Lee <ann@acme.example>",
        to=f"Jane Doe <{account.address}>",
        subject=f"Re: {original['Subject']}",
        date=AFTER + timedelta(hours=3),
        message_id=make_msgid(domain="mail.gmail.com"),
        In_Reply_To=str(original["Message-ID"]),
        References=str(original["Message-ID"]),
        body=f"Great talking to you! We'll be in touch.\n\nOn Tue, Ann wrote:\n{quoted}\n",
    )
    reply.add_alternative("<div dir='ltr'>Great talking to you!</div>", subtype="html")
    return reply


def outlook_reply(account: MailUser) -> EmailMessage:
    """A reply written in Outlook: RE:, Thread-Index, no In-Reply-To; from the recruiter."""
    return mail(
        sender="Bob Stone <BOB@acme.example>",
        to=f"Jane Doe <{account.address}>",
        subject="RE: Backend Engineer interview",
        date=AFTER + timedelta(hours=4),
        message_id="<DM6PR11MB4563A1B2C3D4E5F6@DM6PR11MB4563.namprd11.prod.outlook.com>",
        Thread_Topic="Backend Engineer interview",
        Thread_Index="AQHa1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVw",
        X_MS_Has_Attach="",
        body="Hi Jane,\n\nThanks for following up. We will decide next week.\n\nBob\n",
    )


def out_of_office(account: MailUser) -> EmailMessage:
    return mail(
        sender="Ann Lee <ann@acme.example>",
        to=f"Jane Doe <{account.address}>",
        subject="Automatic reply: Thank you — Backend Engineer interview",
        Auto_Submitted="auto-replied",
        X_Auto_Response_Suppress="All",
        body="I am out of the office until Monday.\n",
    )


def bounce(account: MailUser, original: EmailMessage) -> bytes:
    """A delivery status notification (RFC 3464): multipart/report from MAILER-DAEMON."""
    boundary = "dsn-boundary-42"
    head = (
        "Return-Path: <>\r\n"
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>\r\n"
        f"To: {account.address}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(AFTER + timedelta(minutes=1))}\r\n"
        f"Message-ID: {make_msgid(domain='mx.acme.example')}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
    )
    parts = (
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.acme.example\r\n\r\n"
        f"Final-Recipient: rfc822; {ANN}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original['Message-ID']}\r\nSubject: {original['Subject']}\r\n"
        f"--{boundary}--\r\n"
    )
    return (head + parts).encode()


async def pass_once(worker: Worker, now: datetime = NOW) -> Any:
    return await worker.watcher.run_once(now)


async def state(app: Any, email: str = "jane@example.com") -> dict[str, Any]:
    """What the watch changed for the user: follow-ups, last reply, events, mailbox."""
    async with app.state.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == email))
        assert user is not None
        followups = list(await session.scalars(select(Followup).where(Followup.user_id == user.id)))
        interview = await session.scalar(select(Interview).where(Interview.user_id == user.id))
        events = list(
            await session.scalars(select(WebhookDelivery).where(WebhookDelivery.user_id == user.id))
        )
        mailbox = await session.scalar(select(Mailbox).where(Mailbox.user_id == user.id))
        counted = await session.scalar(
            select(func.count())
            .select_from(MailboxMessage)
            .where(MailboxMessage.user_id == user.id)
        )
    return {
        "thank_you": next(f for f in followups if f.kind == "thank_you"),
        "check_in": next(f for f in followups if f.kind == "check_in"),
        "followups": followups,
        "interview": interview,
        "events": events,
        "replied": [e for e in events if e.event_type == "interview.replied"],
        "sent_events": [e for e in events if e.event_type == "followup.sent"],
        "mailbox": mailbox,
        "counted": counted,
    }


def append(dovecot: Dovecot, account: MailUser, folder: str, message: EmailMessage | bytes) -> int:
    raw = message if isinstance(message, bytes) else bytes(message)
    return dovecot.append(account, folder, raw)


async def test_a_thank_you_found_in_sent_is_marked_sent_by_the_mailbox(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    sent = thank_you_sent(mail_user)
    append(dovecot, mail_user, "Sent", sent)

    result = await pass_once(worker)

    found = await state(app)
    thank_you = found["thank_you"]
    assert (thank_you.status, thank_you.sent_via) == ("sent", "mailbox")
    assert thank_you.sent_at == AFTER
    assert thank_you.message_id == sent["Message-ID"]
    assert found["check_in"].status == "scheduled"  # not due yet: untouched
    assert len(found["sent_events"]) == 1
    mailbox = found["mailbox"]
    assert (mailbox.status, mailbox.last_error, mailbox.failures) == ("ok", None, 0)
    assert mailbox.last_checked_at == NOW
    assert mailbox.next_watch_at == NOW + timedelta(seconds=POLL)
    assert mailbox.claimed_until is None
    assert (result.mailboxes, result.ok, result.sent) == (1, 1, 1)


async def test_a_gmail_reply_records_the_reply_cancels_the_check_in_and_fires_the_event(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    _headers, interview = await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    sent = thank_you_sent(mail_user)
    append(dovecot, mail_user, "Sent", sent)
    await pass_once(worker)
    reply = gmail_reply(sent, mail_user)
    append(dovecot, mail_user, "INBOX", reply)

    await pass_once(worker, NOW + timedelta(minutes=10))

    found = await state(app)
    ann = next(p for p in interview["people"] if p["name"] == "Ann Lee")
    assert found["interview"].last_reply_person_id == uuid.UUID(ann["id"])
    assert found["interview"].last_reply_at == AFTER + timedelta(hours=3)
    assert found["interview"].last_reply_subject == reply["Subject"]
    check_in = found["check_in"]
    assert (check_in.status, check_in.cancel_reason) == ("cancelled", "replied")
    assert found["thank_you"].status == "sent"  # thank-yous stay
    [event] = found["replied"]
    assert event.data["interview_id"] == interview["id"]
    assert event.data["person"]["id"] == ann["id"]
    assert event.data["subject"] == reply["Subject"]
    assert event.data["received_at"] == "2026-11-24T12:00:00Z"  # AFTER + 3 h, in UTC


async def test_an_outlook_reply_from_the_recruiter_counts_by_its_sender(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    _headers, interview = await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    append(dovecot, mail_user, "INBOX", outlook_reply(mail_user))

    await pass_once(worker)

    found = await state(app)
    bob = next(p for p in interview["people"] if p["name"] == "Bob Stone")
    assert found["interview"].last_reply_person_id == uuid.UUID(bob["id"])
    assert found["check_in"].cancel_reason == "replied"
    assert found["thank_you"].status == "scheduled"
    assert len(found["replied"]) == 1


async def test_a_reply_from_someone_in_cc_counts_through_in_reply_to(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    _headers, interview = await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    sent = thank_you_sent(mail_user)
    append(dovecot, mail_user, "Sent", sent)
    await pass_once(worker)
    reply = mail(
        sender=f"Dana Ray <{DANA}>",
        to=f"Jane Doe <{mail_user.address}>",
        subject=f"Re: {sent['Subject']}",
        In_Reply_To=str(sent["Message-ID"]),
        References=str(sent["Message-ID"]),
        date=AFTER + timedelta(hours=5),
    )
    append(dovecot, mail_user, "INBOX", reply)

    await pass_once(worker, NOW + timedelta(minutes=10))

    found = await state(app)
    ann = next(p for p in interview["people"] if p["name"] == "Ann Lee")
    # Dana is not listed: the reply is credited to whom the answered message went.
    assert found["interview"].last_reply_person_id == uuid.UUID(ann["id"])
    assert found["check_in"].cancel_reason == "replied"
    assert len(found["replied"]) == 1


async def test_a_check_in_found_in_sent_plans_the_second_check_in(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    headers = await user_headers(client)
    policy = {"policy": {"second_check_in_after_days": 7}}
    assert (await client.patch("/api/v1/me", json=policy, headers=headers)).status_code == 200
    long_ago = NOW - timedelta(days=20)
    interview = await create_interview(
        client,
        headers,
        starts_at=long_ago.isoformat(),
        people=[{"name": "Bob Stone", "email": BOB, "role": "recruiter"}],
    )
    check_in = next(f for f in interview["followups"] if f["kind"] == "check_in")
    thank_you = next(f for f in interview["followups"] if f["kind"] == "thank_you")
    marked = await client.patch(
        f"/api/v1/followups/{thank_you['id']}", json={"status": "sent"}, headers=headers
    )
    assert marked.status_code == 200
    await connect_mailbox(app, "jane@example.com", mail_user)
    written = NOW - timedelta(hours=2)
    assert datetime.fromisoformat(check_in["not_before"]) < written
    append(
        dovecot,
        mail_user,
        "Sent",
        mail(
            sender=f"Jane Doe <{mail_user.address}>",
            to=f"Bob Stone <{BOB}>",
            subject="Checking in — Backend Engineer",
            date=written,
        ),
    )

    await pass_once(worker)

    found = await state(app)
    by_key = {f.plan_key: f for f in found["followups"]}
    assert (by_key["check_in"].status, by_key["check_in"].sent_via) == ("sent", "mailbox")
    assert by_key["check_in"].sent_at == written
    assert by_key["check_in:2"].status == "scheduled"  # the second check-in, planned
    assert by_key["check_in:2"].recipient_email == BOB


async def test_the_apps_own_copy_in_sent_changes_nothing(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    copy = thank_you_sent(mail_user)
    async with app.state.sessionmaker.begin() as session:
        # As the send path leaves it: the thank-you sent by the app, and (to tempt the rule)
        # the check-in to Ann already due.
        await session.execute(
            update(Followup)
            .where(Followup.kind == "thank_you")
            .values(status="sent", sent_via="app", sent_at=AFTER, message_id=copy["Message-ID"])
        )
        await session.execute(
            update(Followup)
            .where(Followup.kind == "check_in")
            .values(not_before=END, recipient_email=ANN)
        )
    append(dovecot, mail_user, "Sent", copy)

    result = await pass_once(worker)

    found = await state(app)
    assert found["check_in"].status == "scheduled"
    assert (result.scanned, result.sent, found["counted"]) == (1, 0, 0)


async def test_automatic_forwarded_and_early_messages_change_nothing(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    original = thank_you_sent(mail_user)
    inbox = [
        out_of_office(mail_user),
        bounce(mail_user, original),
        # A colleague forwards something of Ann's: not from a person, answers nothing known.
        mail(
            sender="Chris Kim <chris@friends.example>",
            to=f"Jane Doe <{mail_user.address}>",
            subject="Fwd: Backend Engineer interview",
            body="---------- Forwarded message ---------\nFrom: Ann Lee <ann@acme.example>\n",
        ),
        # Jane forwards Ann's message to herself.
        mail(
            sender=f"Jane Doe <{mail_user.address}>",
            to=f"Jane Doe <{mail_user.address}>",
            subject="Fwd: from Ann",
            In_Reply_To="<ann-1@acme.example>",
        ),
        # From Ann, but dated before the interview ended.
        mail(
            sender="Ann Lee <ann@acme.example>",
            to=f"Jane Doe <{mail_user.address}>",
            subject="See you tomorrow",
            date=END - timedelta(hours=20),
        ),
    ]
    for message in inbox:
        append(dovecot, mail_user, "INBOX", message)
    append(dovecot, mail_user, "Sent", thank_you_sent(mail_user, date=END - timedelta(minutes=5)))

    result = await pass_once(worker)

    found = await state(app)
    assert found["interview"].last_reply_at is None
    assert {f.status for f in found["followups"]} == {"scheduled"}
    assert found["events"] == []
    assert found["counted"] == 0
    assert (result.scanned, result.replies, result.sent) == (6, 0, 0)
    assert found["mailbox"].status == "ok"


async def test_the_watch_marks_nothing_seen_and_stores_only_positions_and_hashes(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    sent = thank_you_sent(mail_user)
    append(dovecot, mail_user, "Sent", sent)
    append(dovecot, mail_user, "INBOX", gmail_reply(sent, mail_user))
    append(dovecot, mail_user, "INBOX", out_of_office(mail_user))

    await pass_once(worker)
    await pass_once(worker, NOW + timedelta(hours=1))

    assert all(flags == set() for flags in dovecot.flags(mail_user, "INBOX").values())
    assert all(flags == set() for flags in dovecot.flags(mail_user, "Sent").values())
    async with app.state.sessionmaker() as session:
        folders = {
            f.role: (f.name, f.last_uid) for f in await session.scalars(select(MailboxFolder))
        }
        keys = list(await session.scalars(select(MailboxMessage.key)))
    assert folders == {"inbox": ("INBOX", 2), "sent": ("Sent", 1)}
    assert len(keys) == 2 and all(len(k) == 64 for k in keys)  # sha256 hex, nothing else


async def test_a_uidvalidity_reset_reads_again_without_a_second_effect(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    sent = thank_you_sent(mail_user)
    append(dovecot, mail_user, "Sent", sent)
    append(dovecot, mail_user, "INBOX", outlook_reply(mail_user))
    await pass_once(worker)
    async with app.state.sessionmaker() as session:
        before = {f.role: f.uidvalidity for f in await session.scalars(select(MailboxFolder))}

    dovecot.uidvalidity_reset(mail_user, "INBOX")
    dovecot.uidvalidity_reset(mail_user, "Sent")
    result = await pass_once(worker, NOW + timedelta(hours=1))

    async with app.state.sessionmaker() as session:
        after = {f.role: f.uidvalidity for f in await session.scalars(select(MailboxFolder))}
    assert after["inbox"] != before["inbox"] and after["sent"] != before["sent"]
    assert result.scanned == 2  # read again from the start…
    assert (result.replies, result.sent) == (0, 0)  # …and nothing happened twice
    found = await state(app)
    assert len(found["replied"]) == 1 and len(found["sent_events"]) == 1
    assert found["counted"] == 2


async def test_a_crash_mid_chunk_leaves_nothing_half_done(
    client: httpx.AsyncClient,
    app: Any,
    worker: Worker,
    dovecot: Dovecot,
    mail_user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    append(dovecot, mail_user, "INBOX", outlook_reply(mail_user))
    real = watch_repository.advance_folder

    async def crash(*args: Any, **kwargs: Any) -> None:
        if kwargs["last_uid"] > 0:
            raise RuntimeError("the database went away here")
        await real(*args, **kwargs)

    monkeypatch.setattr(watch_repository, "advance_folder", crash)
    await pass_once(worker)
    found = await state(app)
    assert found["check_in"].status == "scheduled" and found["counted"] == 0
    assert found["replied"] == []
    assert found["mailbox"].status == "error"  # and the worker went on

    monkeypatch.setattr(watch_repository, "advance_folder", real)
    await pass_once(worker, NOW + timedelta(seconds=2 * POLL))
    found = await state(app)
    assert found["check_in"].cancel_reason == "replied" and len(found["replied"]) == 1


async def test_a_wrong_password_is_an_error_with_its_reason_and_a_backoff(
    client: httpx.AsyncClient, app: Any, worker: Worker, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user, password="not-the-password")

    await pass_once(worker)
    mailbox = (await state(app))["mailbox"]
    assert mailbox.status == "error" and mailbox.failures == 1
    assert "password" in mailbox.last_error.lower() or "log in" in mailbox.last_error.lower()
    assert mailbox.next_watch_at == NOW + timedelta(seconds=2 * POLL)

    later = NOW + timedelta(seconds=2 * POLL)
    await pass_once(worker, later)
    mailbox = (await state(app))["mailbox"]
    assert mailbox.failures == 2
    assert mailbox.next_watch_at == later + timedelta(seconds=4 * POLL)


async def test_a_password_that_no_longer_opens_says_so(
    client: httpx.AsyncClient, app: Any, worker: Worker, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    async with app.state.sessionmaker.begin() as session:
        await session.execute(update(Mailbox).values(password_sealed="v1.AAAA"))

    await pass_once(worker)

    mailbox = (await state(app))["mailbox"]
    assert (mailbox.status, mailbox.last_error) == ("error", str(secrets.Unreadable()))


async def test_tls_required_but_not_offered_is_an_error(
    client: httpx.AsyncClient, app: Any, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    bare = mail_user.bare_login("starttls")
    await connect_mailbox(
        app, "jane@example.com", mail_user, security="starttls", host=bare.host, port=bare.port
    )
    settings = watch_settings(app.state.settings.database_url, mail_allow="127.0.0.1,127.0.0.2")
    engine = create_engine(settings.database_url)
    try:
        worker = Worker(settings, None, create_sessionmaker(engine))
        await pass_once(worker)
    finally:
        await engine.dispose()
    mailbox = (await state(app))["mailbox"]
    assert mailbox.status == "error"
    assert "tls" in mailbox.last_error.lower()


async def test_implicit_tls_with_the_servers_certificate_works(
    client: httpx.AsyncClient, app: Any, worker: Worker, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user, security="tls")
    append(dovecot, mail_user, "INBOX", outlook_reply(mail_user))
    await pass_once(worker)
    found = await state(app)
    assert found["mailbox"].status == "ok" and len(found["replied"]) == 1


async def test_a_loopback_server_is_refused_unless_allowed(
    client: httpx.AsyncClient, app: Any, mail_user: MailUser
) -> None:
    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user)
    settings = watch_settings(app.state.settings.database_url, mail_allow="")
    engine = create_engine(settings.database_url)
    try:
        await pass_once(Worker(settings, None, create_sessionmaker(engine)))
    finally:
        await engine.dispose()
    mailbox = (await state(app))["mailbox"]
    assert mailbox.status == "error" and "FOLLOWUP_MAIL_ALLOW" in mailbox.last_error


async def test_a_silent_server_holds_the_worker_no_longer_than_its_deadline(
    client: httpx.AsyncClient, app: Any, dovecot: Dovecot, mail_user: MailUser
) -> None:
    await jane_with_interview(client, "jane@example.com")
    await jane_with_interview(client, "june@example.com")
    healthy = dovecot.add_user()
    append(dovecot, healthy, "INBOX", outlook_reply(healthy))
    deadline = 2.0
    async with staller(**SILENT) as silent:
        await connect_mailbox(app, "jane@example.com", mail_user, port=silent.port)
        await connect_mailbox(app, "june@example.com", healthy)
        settings = watch_settings(
            app.state.settings.database_url, outbound_timeout_seconds=deadline
        )
        engine = create_engine(settings.database_url)
        try:
            worker = Worker(settings, None, create_sessionmaker(engine))
            started = time.monotonic()
            # Without the deadline the silent server would hold the pass for ever: fail then
            # rather than hang. How long it held is printed, not asserted (a busy machine
            # stretches it); the error below says the deadline is what ended it.
            result = await asyncio.wait_for(worker.run_once(NOW), timeout=30 * deadline)
            elapsed = time.monotonic() - started
        finally:
            await engine.dispose()
    print(
        f"\nsilent IMAP server: longest hold of one mailbox {worker.watcher.longest_pass:.2f} s, "
        f"round {elapsed:.2f} s (deadline {deadline:g} s)"
    )
    assert (result.watch.mailboxes, result.watch.ok, result.watch.errors) == (2, 1, 1)
    silent_box = (await state(app, "jane@example.com"))["mailbox"]
    assert silent_box.status == "error" and f"{deadline:g} seconds" in silent_box.last_error
    assert len((await state(app, "june@example.com"))["replied"]) == 1


MAILBOXES = 50


@pytest.mark.skipif(not POSTGRES, reason="SKIP LOCKED needs Postgres")
async def test_two_workers_watch_50_mailboxes_with_no_double_effect(
    client: httpx.AsyncClient, app: Any, dovecot: Dovecot
) -> None:
    emails = [f"seeker{n}@example.com" for n in range(MAILBOXES)]
    for email in emails:
        await jane_with_interview(client, email)
        account = dovecot.add_user()
        await connect_mailbox(app, email, account)
        sent = thank_you_sent(account)
        append(dovecot, account, "Sent", sent)
        append(dovecot, account, "INBOX", gmail_reply(sent, account))
        append(dovecot, account, "INBOX", outlook_reply(account))
        append(dovecot, account, "INBOX", out_of_office(account))
    settings = watch_settings(app.state.settings.database_url)
    engines = [create_engine(settings.database_url) for _ in range(2)]
    workers = [
        Worker(settings, None, create_sessionmaker(engine), mail_tls_context=None)
        for engine in engines
    ]
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(w.watcher.run_once(NOW) for w in workers))
        elapsed = time.monotonic() - started
        # Both again at once: nothing is due, nothing changes.
        again = await asyncio.gather(*(w.watcher.run_once(NOW) for w in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    per_worker = [r.mailboxes for r in results]
    print(f"\n2 workers, {MAILBOXES} mailboxes in {elapsed:.1f} s: per worker {per_worker}")
    assert sum(per_worker) == MAILBOXES and all(n > 0 for n in per_worker)
    assert sum(r.mailboxes for r in again) == 0
    assert sum(r.replies for r in results) == 2 * MAILBOXES
    assert sum(r.sent for r in results) == MAILBOXES
    async with app.state.sessionmaker() as session:
        replied = list(
            await session.execute(
                select(WebhookDelivery.user_id, func.count())
                .where(WebhookDelivery.event_type == "interview.replied")
                .group_by(WebhookDelivery.user_id)
            )
        )
        sent = list(
            await session.execute(
                select(WebhookDelivery.user_id, func.count())
                .where(WebhookDelivery.event_type == "followup.sent")
                .group_by(WebhookDelivery.user_id)
            )
        )
        statuses = list(
            await session.execute(
                select(
                    Followup.kind, Followup.status, Followup.cancel_reason, func.count()
                ).group_by(Followup.kind, Followup.status, Followup.cancel_reason)
            )
        )
        mailboxes = list(
            await session.execute(select(Mailbox.status, func.count()).group_by(Mailbox.status))
        )
    # Two replies per user (Gmail and Outlook), each fired once; one thank-you sent each.
    assert len(replied) == MAILBOXES and {count for _u, count in replied} == {2}
    assert len(sent) == MAILBOXES and {count for _u, count in sent} == {1}
    assert sorted(tuple(row) for row in statuses) == [
        ("check_in", "cancelled", "replied", MAILBOXES),
        ("thank_you", "sent", None, MAILBOXES),
    ]
    assert [tuple(row) for row in mailboxes] == [("ok", MAILBOXES)]


async def test_the_daily_digest_carries_the_mailboxs_error(
    client: httpx.AsyncClient, app: Any, worker: Worker, mail_user: MailUser
) -> None:
    from app.reminders import service as reminders
    from app.reminders.models import Outbox

    await jane_with_interview(client)
    await connect_mailbox(app, "jane@example.com", mail_user, password="wrong")
    await pass_once(worker)
    settings = watch_settings(app.state.settings.database_url)
    async with app.state.sessionmaker.begin() as session:
        await reminders.enqueue_due_digests(session, settings=settings, now=NOW)
    async with app.state.sessionmaker() as session:
        [row] = list(await session.scalars(select(Outbox).where(Outbox.kind == "digest")))
        mailbox = await session.scalar(select(Mailbox))
    assert mailbox is not None and mailbox.last_error
    assert mailbox.last_error in row.payload["text"]
    assert "Your mailbox cannot be read" in row.payload["html"]


def test_the_digest_says_when_the_mailbox_cannot_be_read() -> None:
    from zoneinfo import ZoneInfo

    composed = digest.compose_digest(
        [],
        now=NOW,
        tz=ZoneInfo("UTC"),
        base_url="https://followup.example",
        display_name="Jane",
        mailbox_error="The IMAP server refused the password for <jane>.",
    )
    assert composed is not None
    assert "mailbox" in composed.subject
    assert "The IMAP server refused the password for <jane>." in composed.text
    assert "refused the password for &lt;jane&gt;." in composed.html
    assert "<jane>" not in composed.html
    assert (
        digest.compose_digest([], now=NOW, tz=ZoneInfo("UTC"), base_url="x", display_name="Jane")
        is None
    )
