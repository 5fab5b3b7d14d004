"""Reminder rules: what to enqueue (digests, due-now notes, password resets), and resets."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as auth_repository
from app.accounts.models import User
from app.accounts.service import hash_password_async, hash_secret
from app.config import Settings
from app.errors import Invalid
from app.followups.sync import tz_of
from app.reminders import digest, mail, repository
from app.reminders.models import PasswordReset

USER_PAGE = 200
DIGEST_ITEMS_LIMIT = 200
# A thank-you that became due longer ago than this gets no "due now" mail any more
# (the digest lists it): keeps the query bounded in time after a long outage.
DUE_NOW_LOOKBACK = timedelta(days=1)
RESET_VALID_FOR = timedelta(hours=1)
RESETS_PER_HOUR = 3


def message_id(settings: Settings) -> str:
    host = urlsplit(settings.base_url).hostname or "followup.invalid"
    return make_msgid(domain=host)


def _payload(
    settings: Settings, user: User, *, subject: str, text: str, html: str
) -> dict[str, Any]:
    return {
        "to": user.email,
        "to_name": user.display_name,
        "subject": subject,
        "text": text,
        "html": html,
        "message_id": message_id(settings),
    }


async def _enqueue(
    session: AsyncSession,
    *,
    user: User,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    return await repository.insert_ignoring_duplicate(
        session,
        {
            "id": uuid.uuid4(),
            "user_id": user.id,
            "kind": kind,
            "dedupe_key": dedupe_key,
            "payload": payload,
            "due_at": now,
            "status": repository.PENDING,
            "attempts": 0,
            "created_at": now,
        },
    )


def digest_key(user: User, now: datetime) -> str:
    return f"digest:{digest.local_date(now, tz_of(user)).isoformat()}"


async def enqueue_due_digests(session: AsyncSession, *, settings: Settings, now: datetime) -> int:
    """One digest per user whose send hour has come today and who has something due."""
    enqueued = 0
    after: uuid.UUID | None = None
    while True:
        users = await repository.users_for_digest(session, after=after, limit=USER_PAGE)
        if not users:
            return enqueued
        after = users[-1].id
        ready = [u for u in users if digest.is_digest_time(now, tz_of(u), u.send_hour)]
        keys = {u.id: digest_key(u, now) for u in ready}
        done = await repository.existing_keys(session, list(keys), list(set(keys.values())))
        for user in ready:
            if (user.id, keys[user.id]) in done:
                continue
            if await _enqueue_digest(session, settings=settings, user=user, now=now):
                enqueued += 1


async def _enqueue_digest(
    session: AsyncSession, *, settings: Settings, user: User, now: datetime
) -> bool:
    tz = tz_of(user)
    rows = await repository.scheduled_until(
        session, user.id, not_before_until=digest.window_end(now, tz), limit=DIGEST_ITEMS_LIMIT
    )
    composed = digest.compose_digest(
        [
            digest.DigestSource(
                followup_id=row.id,
                kind=row.kind,
                recipient_name=row.recipient_name,
                not_before=row.not_before,
                due_at=row.due_at,
                company=company,
                role=role,
            )
            for row, company, role in rows
        ],
        now=now,
        tz=tz,
        base_url=settings.base_url,
        display_name=user.display_name,
        mailbox_error=await repository.mailbox_error(session, user.id),
    )
    if composed is None:
        return False
    payload = _payload(
        settings, user, subject=composed.subject, text=composed.text, html=composed.html
    )
    payload["items"] = [str(item.followup_id) for item in composed.items]
    return await _enqueue(
        session,
        user=user,
        kind="digest",
        dedupe_key=digest_key(user, now),
        payload=payload,
        now=now,
    )


async def enqueue_due_now(session: AsyncSession, *, settings: Settings, now: datetime) -> int:
    """One mail per thank-you note that has become due, for users who asked for them."""
    enqueued = 0
    after: uuid.UUID | None = None
    while True:
        users = await repository.users_for_due_now(session, after=after, limit=USER_PAGE)
        if not users:
            return enqueued
        after = users[-1].id
        for user in users:
            rows = await repository.thank_yous_became_due(
                session, user.id, since=now - DUE_NOW_LOOKBACK, now=now, limit=DIGEST_ITEMS_LIMIT
            )
            for row, company, role in rows:
                recipient = row.recipient_name or "your interviewer"
                link = f"{settings.base_url}/followups/{row.id}"
                text = (
                    f"Hello {user.display_name},\n\n"
                    f"Your thank-you note to {recipient} ({role} at {company}) is due now.\n"
                    f"Open the draft: {link}\n"
                )
                payload = _payload(
                    settings,
                    user,
                    subject=f"Thank-you note due: {recipient} ({company})",
                    text=text,
                    html=mail.paragraphs_html(text),
                )
                if await _enqueue(
                    session,
                    user=user,
                    kind="due_now",
                    dedupe_key=f"due_now:{row.id}",
                    payload=payload,
                    now=now,
                ):
                    enqueued += 1


async def enqueue_test(
    session: AsyncSession, *, settings: Settings, user: User, now: datetime
) -> bool:
    text = "This is a test message from Followup.\n"
    payload = _payload(
        settings, user, subject="Followup test", text=text, html=mail.paragraphs_html(text)
    )
    return await _enqueue(
        session,
        user=user,
        kind="test",
        dedupe_key=f"test:{uuid.uuid4()}",
        payload=payload,
        now=now,
    )


RESET_EMAIL = "password_reset"
RESET_SUBJECT = "Reset your Followup password"


class ResetNotSent(ValueError):
    """A queued reset email that must not go out (the account was deactivated meanwhile);
    a ValueError, so the worker records it as failed for good."""


async def request_password_reset(
    session: AsyncSession, *, settings: Settings, email: str, now: datetime
) -> None:
    """For a known active user, an email with a single-use link valid an hour; nothing says
    otherwise. At most RESETS_PER_HOUR emails an hour per account, so the form can't flood
    an inbox."""
    user = await auth_repository.user_by_email(session, email)
    if user is None or not user.is_active:
        return
    since = now - timedelta(hours=1)
    if await repository.reset_emails_since(session, user.id, since=since) >= RESETS_PER_HOUR:
        return
    await enqueue_reset_email(
        session, settings=settings, user=user, now=now, valid_for=RESET_VALID_FOR, by_admin=False
    )


@dataclass(frozen=True)
class ResetLink:
    link: str
    expires_at: datetime


async def issue_password_reset(
    session: AsyncSession, *, settings: Settings, user: User, now: datetime, valid_for: timedelta
) -> ResetLink:
    """A single-use reset link for `user` (shown once, or put into an email as it is sent);
    only its token's hash is stored."""
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(
        user_id=user.id,
        token_hash=hash_secret(token),
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(reset)
    await session.flush()
    return ResetLink(f"{settings.base_url}/reset-password?token={token}", reset.expires_at)


async def enqueue_reset_email(
    session: AsyncSession,
    *,
    settings: Settings,
    user: User,
    now: datetime,
    valid_for: timedelta,
    by_admin: bool,
) -> None:
    """Queue an email with a reset link of its own. The outbox row says only whom to send it
    to and for how long it works: the worker makes the link as it sends (`reset_email`),
    so no link that opens an account is ever stored, in the outbox or anywhere else."""
    payload = {
        "to": user.email,
        "to_name": user.display_name,
        "subject": RESET_SUBJECT,
        "message_id": message_id(settings),
        "valid_for_seconds": int(valid_for.total_seconds()),
        "by_admin": by_admin,
    }
    await _enqueue(
        session,
        user=user,
        kind=RESET_EMAIL,
        dedupe_key=f"{RESET_EMAIL}:{uuid.uuid4()}",
        payload=payload,
        now=now,
    )


async def reset_email(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    queued: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The message for a queued reset email (`queued` is its outbox payload), with a new
    single-use link valid from now: the token's hash goes into password_resets in this
    transaction, the token itself only into the returned message, which is sent, not stored.
    ResetNotSent when the account is no longer active."""
    user = await auth_repository.user_by_id(session, user_id)
    if user is None or not user.is_active:
        raise ResetNotSent("the account is deactivated: no reset link was made")
    valid_for = timedelta(seconds=int(queued.get("valid_for_seconds") or 3600))
    issued = await issue_password_reset(
        session, settings=settings, user=user, now=now, valid_for=valid_for
    )
    hours = round(valid_for.total_seconds() / 3600)
    span = "one hour" if hours == 1 else f"{hours} hours"
    if queued.get("by_admin"):
        who = "The admin of this Followup made a link for you to set a new password."
        other = (
            "Your admin may also hand you a link of their own: whichever you use first sets "
            "your password, and the other then stops working.\n"
        )
    else:
        who = "Someone (hopefully you) asked to reset your Followup password."
        other = ""
    text = (
        f"Hello {user.display_name},\n\n"
        f"{who} This link works once, for {span}:\n"
        f"{issued.link}\n\n"
        f"{other}"
        "If you did not expect it, ignore this email: your password stays as it is.\n"
    )
    return {
        **_payload(
            settings, user, subject=RESET_SUBJECT, text=text, html=mail.paragraphs_html(text)
        ),
        "message_id": str(queued.get("message_id") or message_id(settings)),
    }


async def reset_password(
    session: AsyncSession, *, token: str, password: str, now: datetime
) -> None:
    user_id = await repository.claim_reset(session, hash_secret(token), now=now)
    user = await auth_repository.user_by_id(session, user_id) if user_id else None
    if user is None or not user.is_active:
        raise Invalid(["body", "token"], "this reset link is unknown, used or expired")
    user.password_hash = await hash_password_async(password)
    user.updated_at = now
    # The account's other links (an admin's and the emailed one, or an earlier request)
    # are used up too: the first link used sets the password, the rest no longer can.
    await repository.use_up_resets(session, user.id, now=now)
    await repository.end_web_sessions(session, user.id)


@dataclass(frozen=True)
class FailedDelivery:
    kind: str
    subject: str
    error: str
    at: datetime


async def failed_deliveries(
    session: AsyncSession, *, user: User, limit: int = 10
) -> list[FailedDelivery]:
    """Emails to the user that were refused for good (5xx), for Settings to show."""
    return [
        FailedDelivery(
            kind=row.kind,
            subject=str(row.payload.get("subject", "")),
            error=row.last_error or "refused",
            at=row.created_at,
        )
        for row in await repository.failed_of(session, user.id, limit=limit)
    ]
