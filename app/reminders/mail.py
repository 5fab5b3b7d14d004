"""Outgoing mail: building safe messages and sending them over SMTP."""

from __future__ import annotations

import asyncio
import functools
import html
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid, parseaddr

from app.config import Settings

SMTP_TIMEOUT_SECONDS = 20
IMPLICIT_TLS_PORT = 465


class MailSettingsError(ValueError):
    """The SMTP settings are incomplete or contradictory."""


class TransientMailError(Exception):
    """Worth retrying later: a 4xx answer, a refused connection, a timeout."""


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

    @property
    def implicit_tls(self) -> bool:
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
    )


def _split_address(value: str) -> tuple[str, str]:
    name, addr = parseaddr(value)
    return (name, addr or value)


def header_text(value: str) -> str:
    """A header value on one line: CR, LF and other line breaks become spaces."""
    return " ".join(value.splitlines()).replace("\r", " ").replace("\n", " ").strip()


def address(display_name: str, addr_spec: str) -> Address:
    """An address whose name cannot smuggle in a header, and whose address is exactly one."""
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
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds: once per process, not per message.
    return ssl.create_default_context()


def _send_sync(config: MailConfig, message: EmailMessage) -> None:
    client: smtplib.SMTP
    if config.implicit_tls:
        client = smtplib.SMTP_SSL(
            config.host,
            config.port,
            local_hostname=_local_hostname(),
            timeout=SMTP_TIMEOUT_SECONDS,
            context=_tls_context(),
        )
    else:
        client = smtplib.SMTP(
            config.host,
            config.port,
            local_hostname=_local_hostname(),
            timeout=SMTP_TIMEOUT_SECONDS,
        )
    with client:
        if config.starttls and not config.implicit_tls:
            client.starttls(context=_tls_context())
        if config.username and config.password:
            client.login(config.username, config.password)
        client.send_message(message)


def _classify(error: Exception) -> Exception:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return PermanentMailError(str(error))
        return TransientMailError(str(error))
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        detail = f"{error.smtp_code} {text}"
        if error.smtp_code >= 500:
            return PermanentMailError(detail)
        return TransientMailError(detail)
    # Connection refused or dropped, timeouts, TLS trouble: the server may be back later.
    return TransientMailError(f"{type(error).__name__}: {error}")


async def send(config: MailConfig, message: EmailMessage) -> None:
    """Send one message; raises TransientMailError or PermanentMailError."""
    try:
        await asyncio.to_thread(_send_sync, config, message)
    except (smtplib.SMTPException, OSError) as error:
        raise _classify(error) from error
