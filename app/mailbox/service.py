"""Mailbox rules: save the settings (hosts checked, password sealed), read them back without
the password, test both sides now, and open the sealed password for the watch and the send."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.config import Settings
from app.errors import Invalid, NotFound, PreconditionFailed
from app.mailbox import imap, repository, secrets, smtp
from app.mailbox.models import Mailbox
from app.mailbox.schemas import (
    MailboxRead,
    MailboxStatus,
    MailboxTestResult,
    MailboxWrite,
    Security,
    ServerRead,
    SideResult,
)
from app.webhooks import addresses
from app.wire import check_if_match, strong_etag

TEST_DEADLINE_SECONDS = 10.0
# What a different server or account makes of the watch's place in each folder: nothing.
_CONNECTION = (
    "imap_host",
    "imap_port",
    "imap_security",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "username",
)


def password_of(settings: Settings, mailbox: Mailbox) -> str:
    """The mailbox's password in clear, for a connection; raises `secrets.Unreadable` when
    it no longer opens (SECRET_KEY changed)."""
    return secrets.open_sealed(settings.secret, mailbox.user_id, mailbox.password_sealed)


def imap_login(mailbox: Mailbox, password: str) -> imap.ImapLogin:
    """How to log in to the mailbox's IMAP side with `password` (see `password_of`)."""
    return imap.ImapLogin(
        host=mailbox.imap_host,
        port=mailbox.imap_port,
        security=Security(mailbox.imap_security).value,
        username=mailbox.username,
        password=password,
    )


def to_read(mailbox: Mailbox) -> MailboxRead:
    return MailboxRead(
        address=mailbox.address,
        username=mailbox.username,
        password_set=bool(mailbox.password_sealed),
        imap=ServerRead(
            host=mailbox.imap_host,
            port=mailbox.imap_port,
            security=Security(mailbox.imap_security),
        ),
        smtp=ServerRead(
            host=mailbox.smtp_host,
            port=mailbox.smtp_port,
            security=Security(mailbox.smtp_security),
        ),
        inbox_folder=mailbox.inbox_folder,
        sent_folder=mailbox.sent_folder,
        watch=mailbox.watch,
        send=mailbox.send,
        status=MailboxStatus(mailbox.status),
        last_checked_at=mailbox.last_checked_at,
        last_error=mailbox.last_error,
        created_at=mailbox.created_at,
        updated_at=mailbox.updated_at,
    )


def etag(read: MailboxRead) -> str:
    return strong_etag(read.model_dump_json().encode())


async def get(session: AsyncSession, *, user: User) -> Mailbox:
    mailbox = await repository.get(session, user.id)
    if mailbox is None:
        raise NotFound("No mailbox is connected.")
    return mailbox


def allow_of(settings: Settings) -> addresses.Allow:
    return addresses.parse_allow(settings.mail_allow)


def _target(host: str, port: int) -> addresses.Target:
    literal: addresses.IPAddress | None
    literal = ipaddress.IPv6Address(host) if ":" in host else addresses.ipv4_literal(host)
    return addresses.Target(
        scheme="mail",
        host=str(literal) if literal is not None else host,
        port=port,
        path="/",
        literal=literal,
    )


async def check_host(host: str, port: int, allow: addresses.Allow) -> None:
    """Refused (a sentence) when `host` is or resolves to a private, loopback, link-local or
    otherwise non-public address the instance does not allow (FOLLOWUP_MAIL_ALLOW). Raises
    OSError or TimeoutError when the name does not resolve."""
    try:
        await addresses.checked_addresses(_target(host, port), allow)
    except addresses.Refused as error:
        raise addresses.Refused(
            f"{host} is refused: {error} (private, loopback and link-local hosts are not "
            "reached unless the instance allows them in FOLLOWUP_MAIL_ALLOW)"
        ) from None


async def _check_hosts(data: MailboxWrite, allow: addresses.Allow) -> None:
    """When saving: a refused host is a 422 naming it; one that does not resolve now is
    accepted (a test or the watch says so, and the check is made again when connecting)."""
    for side, server in (("imap", data.imap), ("smtp", data.smtp)):
        try:
            await check_host(server.host, server.port, allow)
        except addresses.Refused as error:
            raise Invalid(["body", side, "host"], str(error)) from None
        except (OSError, TimeoutError):
            pass


async def save(
    session: AsyncSession,
    *,
    user: User,
    data: MailboxWrite,
    settings: Settings,
    if_match: str | None,
    now: datetime,
) -> tuple[Mailbox, bool]:
    """Create or replace the user's mailbox; True when it was created. A change of server or
    account sets the status back to `unchecked`; a change of server, account or folders makes
    the watch start again from what is new."""
    mailbox = await repository.lock(session, user.id)
    if mailbox is None:
        if if_match is not None:
            raise PreconditionFailed("There is no mailbox to match (If-Match).")
    else:
        check_if_match(if_match, etag(to_read(mailbox)))
    if mailbox is None and data.password is None:
        raise Invalid(["body", "password"], "is required when connecting a mailbox")
    await _check_hosts(data, allow_of(settings))

    created = mailbox is None
    if mailbox is None:
        mailbox = Mailbox(
            id=uuid.uuid4(),
            user_id=user.id,
            status=MailboxStatus.UNCHECKED.value,
            failures=0,
            created_at=now,
        )
        before: dict[str, object] = {}
    else:
        before = {
            name: getattr(mailbox, name) for name in (*_CONNECTION, "inbox_folder", "sent_folder")
        }
    mailbox.address = str(data.address)
    mailbox.username = data.username
    mailbox.imap_host, mailbox.imap_port = data.imap.host, data.imap.port
    mailbox.imap_security = data.imap.security.value
    mailbox.smtp_host, mailbox.smtp_port = data.smtp.host, data.smtp.port
    mailbox.smtp_security = data.smtp.security.value
    mailbox.inbox_folder, mailbox.sent_folder = data.inbox_folder, data.sent_folder
    mailbox.watch, mailbox.send = data.watch, data.send
    if data.password is not None:
        mailbox.password_sealed = secrets.seal(settings.secret, user.id, data.password)
    mailbox.updated_at = now

    if not created:
        connection_changed = data.password is not None or any(
            before[name] != getattr(mailbox, name) for name in _CONNECTION
        )
        folders_changed = any(
            before[name] != getattr(mailbox, name) for name in ("inbox_folder", "sent_folder")
        )
        if connection_changed:
            mailbox.status, mailbox.last_error = MailboxStatus.UNCHECKED.value, None
            mailbox.failures, mailbox.next_watch_at = 0, None
        if connection_changed or folders_changed:
            await repository.remove_folders(session, user.id, mailbox.id)
    else:
        session.add(mailbox)
    await session.flush()
    return mailbox, created


async def delete(session: AsyncSession, *, user: User, if_match: str | None) -> None:
    """Disconnect: the settings, the password and the watch's place in each folder go."""
    mailbox = await repository.lock(session, user.id)
    if mailbox is None:
        raise NotFound("No mailbox is connected.")
    check_if_match(if_match, etag(to_read(mailbox)))
    await repository.remove(session, user.id)


# --- the test -------------------------------------------------------------------------------


async def _reachable(side: str, host: str, port: int, allow: addresses.Allow) -> str | None:
    """Why `host` may not be reached now, as a sentence; None when it may."""
    try:
        await check_host(host, port, allow)
    except addresses.Refused as error:
        return f"The {side} host {error}."
    except (OSError, TimeoutError):
        return None  # the connection says it in its own words
    return None


async def try_imap(
    mailbox: Mailbox,
    password: str,
    *,
    allow: addresses.Allow,
    deadline: float = TEST_DEADLINE_SECONDS,
    tls_context: ssl.SSLContext | None = None,
) -> SideResult:
    """Log in, open the inbox and find the sent folder (named, else marked \\Sent)."""
    refused = await _reachable("IMAP", mailbox.imap_host, mailbox.imap_port, allow)
    if refused:
        return SideResult(ok=False, error=refused)
    try:
        async with imap.open_imap(
            imap_login(mailbox, password), deadline=deadline, tls_context=tls_context
        ) as session:
            await session.examine(mailbox.inbox_folder or "INBOX")
            if mailbox.sent_folder:
                await session.examine(mailbox.sent_folder)
            elif await session.special_folder("\\Sent") is None:
                return SideResult(
                    ok=False,
                    error="Logged in, but found no sent folder: the server marks none as "
                    "\\Sent and none has a usual name (Sent, Sent Items…); name it in "
                    "“Sent folder”.",
                )
    except imap.ImapError as error:
        return SideResult(ok=False, error=str(error))
    return SideResult(ok=True, error=None)


async def try_smtp(
    mailbox: Mailbox,
    password: str,
    *,
    sender_name: str,
    allow: addresses.Allow,
    deadline: float = TEST_DEADLINE_SECONDS,
) -> SideResult:
    """Connect, secure the connection as configured and log in; nothing is sent."""
    refused = await _reachable("SMTP", mailbox.smtp_host, mailbox.smtp_port, allow)
    if refused:
        return SideResult(ok=False, error=refused)
    config = smtp.config_for(mailbox, password, sender_name=sender_name, deadline=deadline)
    try:
        await smtp.check(config)
    except smtp.SmtpCheckFailed as error:
        return SideResult(ok=False, error=str(error))
    return SideResult(ok=True, error=None)


async def test(
    session: AsyncSession,
    *,
    user: User,
    settings: Settings,
    now: datetime,
    deadline: float = TEST_DEADLINE_SECONDS,
    tls_context: ssl.SSLContext | None = None,
) -> MailboxTestResult:
    """Connect to both sides now, side by side, and record how it went on the mailbox."""
    mailbox = await get(session, user=user)
    tested = _fingerprint(mailbox)
    try:
        password = password_of(settings, mailbox)
    except secrets.Unreadable as error:
        failed = SideResult(ok=False, error=str(error))
        result = MailboxTestResult(imap=failed, smtp=failed)
    else:
        allow = allow_of(settings)
        imap_result, smtp_result = await asyncio.gather(
            try_imap(mailbox, password, allow=allow, deadline=deadline, tls_context=tls_context),
            try_smtp(
                mailbox,
                password,
                sender_name=user.display_name,
                allow=allow,
                deadline=deadline,
            ),
        )
        result = MailboxTestResult(imap=imap_result, smtp=smtp_result)
    await record(session, user=user, tested=tested, result=result, now=now)
    return result


def _fingerprint(mailbox: Mailbox) -> tuple[object, ...]:
    """What a test depends on: the mailbox, its servers, account and folders."""
    names = (*_CONNECTION, "password_sealed", "inbox_folder", "sent_folder")
    return (mailbox.id, *(getattr(mailbox, name) for name in names))


def _summary(result: MailboxTestResult) -> str | None:
    if result.imap.error and result.imap.error == result.smtp.error:
        return result.imap.error
    parts = [
        f"{side}: {side_result.error}"
        for side, side_result in (("IMAP", result.imap), ("SMTP", result.smtp))
        if side_result.error
    ]
    return " ".join(parts) or None


async def record(
    session: AsyncSession,
    *,
    user: User,
    tested: tuple[object, ...],
    result: MailboxTestResult,
    now: datetime,
) -> None:
    """The test's outcome on the mailbox, unless its settings changed while it ran."""
    mailbox = await repository.lock(session, user.id)
    if mailbox is None or _fingerprint(mailbox) != tested:
        return
    ok = result.imap.ok and result.smtp.ok
    mailbox.status = (MailboxStatus.OK if ok else MailboxStatus.ERROR).value
    mailbox.last_checked_at = now
    mailbox.last_error = _summary(result)
    if ok:
        # Fixed: the watch tries again at its next pass, not after its backoff.
        mailbox.failures, mailbox.next_watch_at = 0, None
    await session.flush()
