"""Send a draft through the user's own mailbox: the request (POST …/send) puts one row in the
outbox; the worker builds the plain-text message, sends it over the mailbox's SMTP, marks the
follow-up sent and appends a copy to the sent folder. Nothing is sent without the request."""

from __future__ import annotations

import ipaddress
import json
import logging
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts
from app.accounts.models import User
from app.config import Settings
from app.errors import Conflict, Invalid, NotFound
from app.followups import repository as followups_repository
from app.followups import service as followups
from app.followups.models import Followup
from app.followups.schedule import Status
from app.interviews import repository as interviews
from app.mailbox import imap, secrets, smtp
from app.mailbox import repository as mailboxes
from app.mailbox import service as mailbox_service
from app.mailbox.models import Mailbox
from app.reminders import mail
from app.reminders import repository as outbox
from app.reminders.models import MAILBOX_SEND, Outbox
from app.webhooks import addresses

if TYPE_CHECKING:
    from email.headerregistry import Address

log = logging.getLogger("followup.mailbox")

KIND = MAILBOX_SEND
# A send the user is waiting for: a few tries over minutes (30 s, 1, 2, 4, 8 min), not the
# day of retries a digest gets; then the card says why it did not go.
MAX_ATTEMPTS = 6


def _dedupe_prefix(followup_id: uuid.UUID) -> str:
    return f"{KIND}:{followup_id}:"


async def _pending_send(session: AsyncSession, row: Followup) -> Outbox | None:
    return await session.scalar(
        select(Outbox).where(
            Outbox.user_id == row.user_id,
            Outbox.dedupe_key.startswith(_dedupe_prefix(row.id), autoescape=True),
            Outbox.status.in_((outbox.PENDING, outbox.SENDING)),
        )
    )


def new_message_id(mailbox: Mailbox) -> str:
    """A Message-ID on the mailbox's own domain, as its mail client would make."""
    domain = mailbox.address.rpartition("@")[2] or "followup.invalid"
    return make_msgid(domain=domain)


async def request_send(
    session: AsyncSession, *, user: User, followup_id: uuid.UUID, now: datetime
) -> Followup:
    """Queue the draft to go out through the user's mailbox. A second request while one is
    still on its way queues nothing more (the same answer); one after a refusal is a new try.
    422 without a recipient email; 409 when not scheduled or no mailbox is set to send."""
    found = await followups.get(session, user=user, followup_id=followup_id)
    # Locked like every write to an interview's follow-ups, so two clicks queue one send.
    bundle = await interviews.lock_bundle(session, user.id, found.interview_id)
    row = next((r for r in bundle[2] if r.id == followup_id), None) if bundle else None
    if row is None:
        raise NotFound("No such follow-up.")
    if row.status != Status.SCHEDULED:
        raise Conflict(f"This follow-up is {row.status}: only a scheduled one can be sent.")
    if not row.recipient_email:
        raise Invalid(
            ["recipient_email"],
            "the follow-up has no recipient email; add the person's email to the interview",
        )
    mailbox = await mailboxes.get(session, user.id)
    if mailbox is None or not mailbox.send:
        raise Conflict(
            "No mailbox is set to send: connect your mailbox in Settings and turn on sending."
        )
    if row.send_requested_at is not None and await _pending_send(session, row) is not None:
        return row  # already on its way: the same message, not a second one
    message_id = new_message_id(mailbox)
    # Each try a key of its own (the interview's lock keeps two clicks to one try): counting
    # earlier tries would meet a key again once retention has pruned some of them.
    inserted = await outbox.insert_ignoring_duplicate(
        session,
        {
            "id": uuid.uuid4(),
            "user_id": user.id,
            "kind": KIND,
            "dedupe_key": f"{_dedupe_prefix(row.id)}{uuid.uuid4().hex}",
            "payload": {"followup_id": str(row.id), "message_id": message_id},
            "due_at": now,
            "status": outbox.PENDING,
            "attempts": 0,
            "created_at": now,
        },
    )
    if inserted:
        row.message_id = message_id
    row.send_error, row.send_requested_at, row.updated_at = None, now, now
    await session.flush()
    return row


@dataclass(frozen=True)
class Ready:
    """A message ready to go, and where its copy goes afterwards."""

    user_id: uuid.UUID
    followup_id: uuid.UUID
    message_id: str
    config: mail.MailConfig
    message: EmailMessage
    mailbox: Mailbox
    password: str


@dataclass(frozen=True)
class Dropped:
    """Not sent, and why (for the outbox row's last_error)."""

    reason: str


def _reply_subject(subject: str) -> str:
    return subject if subject[:3].lower() == "re:" else f"Re: {subject}"


def build_message(
    *,
    sender: Address,
    row: Followup,
    message_id: str,
    parent: Followup | None,
    now: datetime,
) -> EmailMessage:
    """The draft as a plain-text UTF-8 email; threaded onto `parent` when there is one."""
    # Here, not at the top: email's policies stay out of a web worker (app/reminders/mail.py).
    from email.policy import SMTP

    assert row.recipient_email is not None
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = mail.address(row.recipient_name or "", row.recipient_email)
    subject = row.subject
    if parent is not None and parent.message_id:
        subject = _reply_subject(parent.subject)
        message["In-Reply-To"] = mail.header_text(parent.message_id)
        message["References"] = mail.header_text(parent.message_id)
    message["Subject"] = mail.header_text(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = mail.header_text(message_id)
    message.set_content(row.body, charset="utf-8")
    return message


async def _drop(
    session: AsyncSession, row: Followup | None, reason: str, *, send_error: str | None
) -> Dropped:
    if row is not None:
        row.send_requested_at = None
        if send_error is not None and row.status == Status.SCHEDULED:
            row.send_error = send_error
        await session.flush()
    return Dropped(reason)


async def prepare(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    payload: dict[str, Any],
    now: datetime,
) -> Ready | Dropped:
    """What the worker sends for one outbox row, or why it sends nothing (recorded on the
    follow-up): it was marked sent meanwhile, or the mailbox no longer sends."""
    followup_id = uuid.UUID(str(payload["followup_id"]))
    message_id = str(payload["message_id"])
    row = await followups_repository.get_for_user(session, user_id, followup_id)
    if row is None:
        return Dropped("the follow-up no longer exists")
    if row.status != Status.SCHEDULED:
        return await _drop(session, row, f"the follow-up is {row.status} now", send_error=None)
    mailbox = await mailboxes.get(session, user_id)
    user = await accounts.user_by_id(session, user_id)
    if mailbox is None or not mailbox.send or user is None:
        return await _drop(
            session,
            row,
            "the mailbox no longer sends",
            send_error="Not sent: your mailbox is no longer set to send.",
        )
    try:
        password = mailbox_service.password_of(settings, mailbox)
        config = smtp.config_for(
            mailbox,
            password,
            sender_name=user.display_name,
            deadline=settings.outbound_timeout_seconds,
        )
        parent = await followups_repository.thread_parent(session, row)
        message = build_message(
            sender=config.sender, row=row, message_id=message_id, parent=parent, now=now
        )
    except secrets.Unreadable as error:
        return await _drop(session, row, str(error), send_error=f"Not sent: {error}")
    except ValueError as error:
        sentence = f"Not sent: the message could not be made ({error})."
        return await _drop(session, row, sentence, send_error=sentence)
    return Ready(user_id, followup_id, message_id, config, message, mailbox, password)


async def check_host(settings: Settings, host: str, port: int) -> None:
    """The mail server may be reached (FOLLOWUP_MAIL_ALLOW, checked again at each
    connection); raises addresses.Refused, or OSError when it does not resolve."""
    host = host.lower().rstrip(".")
    try:
        literal: addresses.IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = addresses.ipv4_literal(host)
    target = addresses.Target("smtp", host, port, "/", literal)
    await addresses.checked_addresses(target, addresses.parse_allow(settings.mail_allow))


def refusal_sentence(error: Exception) -> str:
    """Why a send was refused, as the card says it."""
    text = str(error).strip().rstrip(".")
    if text.startswith(("530", "534", "535", "454 4.7")):
        return (
            "Not sent: your mail server refused the user name or password "
            f"({text}); check the mailbox in Settings."
        )
    return f"Not sent: your mail server refused the message ({text})."


async def refused(
    session: AsyncSession, *, user_id: uuid.UUID, followup_id: uuid.UUID, sentence: str
) -> None:
    """The send did not happen: the follow-up stays scheduled and says why."""
    row = await followups_repository.get_for_user(session, user_id, followup_id)
    if row is not None:
        row.send_requested_at = None
        if row.status == Status.SCHEDULED:
            row.send_error = sentence
        await session.flush()


async def sent(session: AsyncSession, *, ready: Ready, now: datetime) -> None:
    """The message went out: the follow-up is `sent` (`sent_via: "app"`), unless it was
    marked sent by hand while the message was on its way."""
    row = await followups_repository.get_for_user(session, ready.user_id, ready.followup_id)
    user = await accounts.user_by_id(session, ready.user_id)
    if row is None or user is None:
        return
    if row.status != Status.SCHEDULED:
        row.send_requested_at = None
        await session.flush()
        return
    await followups.mark_sent_by_app(
        session, user=user, followup_id=row.id, message_id=ready.message_id, now=now
    )


def log_event(event: str, ready: Ready | None = None, **fields: Any) -> None:
    ids = {"user_id": str(ready.user_id), "followup_id": str(ready.followup_id)} if ready else {}
    log.info(json.dumps({"event": event, **ids, **fields}))


async def append_copy(
    settings: Settings,
    ready: Ready,
    *,
    now: datetime,
    deadline: float,
    tls_context: ssl.SSLContext | None = None,
) -> bool:
    """A copy in the sent folder (named, else the one marked \\Sent), as a mail client keeps
    one. The message went out whatever happens here: a failure is logged, and the SMTP send
    is never retried for it. True when the copy is there."""
    mailbox = ready.mailbox
    try:
        await check_host(settings, mailbox.imap_host, mailbox.imap_port)
        login = mailbox_service.imap_login(mailbox, ready.password)
        async with imap.open_imap(login, deadline=deadline, tls_context=tls_context) as session:
            folder = mailbox.sent_folder or await session.special_folder("\\Sent")
            if folder is None:
                log_event("sent_copy_failed", ready, error="the mailbox has no sent folder")
                return False
            await session.append(folder, ready.message.as_bytes(), flags=("\\Seen",), when=now)
    except (imap.ImapError, addresses.Refused, OSError, TimeoutError) as error:
        log_event("sent_copy_failed", ready, error=str(error))
        return False
    log_event("sent_copy_appended", ready)
    return True
