"""The Mailbox section of the Settings page: the form, the provider hints, the status (its
context, for the mailbox routes and the Settings page alike)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.mailbox import repository, service
from app.mailbox.schemas import MailboxRead

SECTION = "settings/_mailbox.html"


@dataclass(frozen=True)
class Provider:
    """Where a well-known provider's servers are, and where to make an app password."""

    key: str
    name: str
    imap_host: str
    imap_port: int
    imap_security: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    password_hint: str
    password_url: str | None = None
    note: str | None = None


PROVIDERS = (
    Provider(
        key="gmail",
        name="Gmail / Google Workspace",
        imap_host="imap.gmail.com",
        imap_port=993,
        imap_security="tls",
        smtp_host="smtp.gmail.com",
        smtp_port=465,
        smtp_security="tls",
        password_hint="Use an app password (it needs 2-Step Verification on): Google Account "
        "→ Security → App passwords.",
        password_url="https://myaccount.google.com/apppasswords",
        note="The sent folder is “[Gmail]/Sent Mail”, found on its own.",
    ),
    Provider(
        key="outlook",
        name="Outlook.com / Microsoft 365",
        imap_host="outlook.office365.com",
        imap_port=993,
        imap_security="tls",
        smtp_host="smtp.office365.com",
        smtp_port=587,
        smtp_security="starttls",
        password_hint="Use an app password (it needs two-step verification on): Microsoft "
        "account → Security → Advanced security options → App passwords.",
        password_url="https://account.microsoft.com/security",
        note="Microsoft is turning password sign-in for IMAP and SMTP off on many accounts and "
        "organisations; if the test refuses a correct app password, yours no longer allows it.",
    ),
    Provider(
        key="fastmail",
        name="Fastmail",
        imap_host="imap.fastmail.com",
        imap_port=993,
        imap_security="tls",
        smtp_host="smtp.fastmail.com",
        smtp_port=465,
        smtp_security="tls",
        password_hint="Use an app password with IMAP and SMTP access: Settings → Privacy & "
        "Security → App passwords.",
    ),
    Provider(
        key="icloud",
        name="iCloud Mail",
        imap_host="imap.mail.me.com",
        imap_port=993,
        imap_security="tls",
        smtp_host="smtp.mail.me.com",
        smtp_port=587,
        smtp_security="starttls",
        password_hint="Use an app-specific password: Apple Account → Sign-In and Security → "
        "App-Specific Passwords.",
        password_url="https://account.apple.com",
        note="The user name is usually your address without “@icloud.com”; if that fails, "
        "try the whole address.",
    ),
    Provider(
        key="proton",
        name="Proton Mail (through Proton Mail Bridge)",
        imap_host="127.0.0.1",
        imap_port=1143,
        imap_security="none",
        smtp_host="127.0.0.1",
        smtp_port=1025,
        smtp_security="none",
        password_hint="Use the password Proton Mail Bridge shows for this account (not your "
        "Proton password).",
        note="Bridge must run on the same machine as Followup, and the admin must allow "
        "127.0.0.1 in FOLLOWUP_MAIL_ALLOW. Security “none” is right here: the connection "
        "never leaves the machine, and Bridge’s own certificate would not be trusted.",
    ),
)


def context(mailbox: MailboxRead | None) -> dict[str, Any]:
    """What the section shows, from the same MailboxRead the JSON carries."""
    return {"mailbox": mailbox, "providers": PROVIDERS}


async def mailbox_context(session: AsyncSession, user: User) -> dict[str, Any]:
    """The section's context for the whole Settings page."""
    mailbox = await repository.get(session, user.id)
    return context(service.to_read(mailbox) if mailbox is not None else None)
