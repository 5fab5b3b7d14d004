"""Outgoing mail: building safe messages and sending them over SMTP, each send (connect,
TLS, login, the message) within one overall deadline (app/outbound.py)."""

from __future__ import annotations

import asyncio
import functools
import html
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import TYPE_CHECKING

from app import outbound
from app.config import Settings

if TYPE_CHECKING:
    from email.headerregistry import Address

IMPLICIT_TLS_PORT = 465


class MailSettingsError(ValueError):
    """The SMTP settings are incomplete or contradictory."""


class TransientMailError(Exception):
    """Worth retrying later: a 4xx answer, a refused connection, a timeout."""


class InterruptedMailError(TransientMailError):
    """The worker stopped mid-send: the server may or may not have the message."""


class PermanentMailError(Exception):
    """Never worth retrying: a 5xx answer."""


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    sender: Address
    starttls: bool
    deadline: float = outbound.OUTBOUND_DEADLINE_SECONDS
    # A user's mailbox names its security (tls | starttls | none); the instance's SMTP
    # settings leave it None: implicit TLS on port 465, else STARTTLS as SMTP_STARTTLS says.
    security: str | None = None

    @property
    def implicit_tls(self) -> bool:
        if self.security is not None:
            return self.security == "tls"
        return self.port == IMPLICIT_TLS_PORT


def mail_config(settings: Settings) -> MailConfig | None:
    """The SMTP configuration, None when email is off (no SMTP_HOST), or MailSettingsError."""
    if not settings.smtp_host:
        for name, value in (
            ("SMTP_FROM", settings.smtp_from),
            ("SMTP_USERNAME", settings.smtp_username),
        ):
            if value:
                raise MailSettingsError(f"{name} is set but SMTP_HOST is not")
        return None
    if not settings.smtp_from:
        raise MailSettingsError("SMTP_HOST is set but SMTP_FROM is not")
    if bool(settings.smtp_username) != bool(settings.smtp_password):
        raise MailSettingsError("SMTP_USERNAME and SMTP_PASSWORD must be set together")
    if not 0 < settings.smtp_port < 65536:
        raise MailSettingsError("SMTP_PORT must be between 1 and 65535")
    try:
        sender = address(*_split_address(settings.smtp_from))
    except ValueError as error:
        raise MailSettingsError(f"SMTP_FROM is not an email address: {error}") from None
    return MailConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        sender=sender,
        starttls=settings.smtp_starttls,
        deadline=settings.outbound_timeout_seconds,
    )


def _split_address(value: str) -> tuple[str, str]:
    name, addr = parseaddr(value)
    return (name, addr or value)


def header_text(value: str) -> str:
    """A header value on one line: CR, LF and other line breaks become spaces."""
    return " ".join(value.splitlines()).replace("\r", " ").replace("\n", " ").strip()


def address(display_name: str, addr_spec: str) -> Address:
    """An address whose name cannot smuggle in a header, and whose address is exactly one."""
    # Here, not at the top: email's header registry and policies stay out of a worker that
    # sends no mail (email.message and email.utils are loaded by the web stack anyway).
    from email.headerregistry import Address

    if any(c in addr_spec for c in "\r\n,;<> \t") or addr_spec.count("@") != 1:
        raise ValueError(f"not a single email address: {addr_spec!r}")
    return Address(display_name=header_text(display_name), addr_spec=addr_spec)


def new_message_id(config: MailConfig | None = None) -> str:
    domain = config.sender.domain if config is not None else "followup.invalid"
    return make_msgid(domain=domain)


def build_message(
    *,
    sender: Address,
    to_name: str,
    to_address: str,
    subject: str,
    text: str,
    html_body: str,
    message_id: str,
) -> EmailMessage:
    """A text + HTML message; `html_body` must already be escaped (see `paragraphs_html`)."""
    from email.policy import SMTP  # see `address`

    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = address(to_name, to_address)
    message["Subject"] = header_text(subject)
    message["Message-ID"] = header_text(message_id)
    message.set_content(text)
    message.add_alternative(html_body, subtype="html")
    return message


def paragraphs_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs."""
    blocks = [block for block in text.split("\n\n") if block.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.splitlines()) + "</p>"
        for block in blocks
    )


@functools.cache
def _local_hostname() -> str:
    # smtplib looks this up (a DNS query) for every connection unless it is given.
    return socket.getfqdn()


@functools.cache
def tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds: once per process, not per message.
    return ssl.create_default_context()


def _classify(error: Exception) -> Exception:
    import aiosmtplib  # already imported by `send`, the one caller

    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        detail = "; ".join(f"{r.code} {r.message} ({r.recipient})" for r in error.recipients)
        if codes and all(code >= 500 for code in codes):
            return PermanentMailError(detail)
        return TransientMailError(detail)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        detail = f"{error.code} {error.message}"
        if error.code >= 500:
            return PermanentMailError(detail)
        return TransientMailError(detail)
    # Connection refused or dropped, TLS trouble: the server may be back later.
    cause = error.__cause__ if isinstance(error.__cause__, OSError) else error
    return TransientMailError(f"{type(cause).__name__}: {error}")


async def send(
    config: MailConfig, message: EmailMessage, in_flight: outbound.InFlight | None = None
) -> None:
    """Send one message within `config.deadline` seconds overall (or until `in_flight` is
    stopped); raises TransientMailError (a timeout too) or PermanentMailError."""
    # Here, not at the top: a web worker that sends no mail never loads the SMTP client.
    import aiosmtplib

    # The host name for EHLO: smtplib-style, looked up once, not on the event loop.
    local_hostname = await asyncio.to_thread(_local_hostname)
    try:
        async with (in_flight or outbound.InFlight()).deadline(config.deadline):
            await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                local_hostname=local_hostname,
                use_tls=config.implicit_tls,
                start_tls=config.starttls and not config.implicit_tls,
                tls_context=tls_context(),
                timeout=config.deadline,
            )
    except outbound.Interrupted as error:
        raise InterruptedMailError(str(error)) from error
    except outbound.DeadlineExceeded as error:
        raise TransientMailError(str(error)) from error
    except (aiosmtplib.SMTPException, OSError) as error:
        raise _classify(error) from error
