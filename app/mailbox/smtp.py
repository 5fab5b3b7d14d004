"""The user's mailbox on the SMTP side: its settings as a `MailConfig` for the outbox's
sender (app/reminders/mail.py), and a check that connects and logs in without sending."""

from __future__ import annotations

import socket

from app import outbound
from app.mailbox.imap import os_reason
from app.mailbox.models import Mailbox
from app.reminders import mail


class SmtpCheckFailed(Exception):
    """The SMTP side did not work; str() is one plain sentence for the user."""


def config_for(
    mailbox: Mailbox, password: str, *, sender_name: str, deadline: float
) -> mail.MailConfig:
    """How to send as the mailbox: `From` its address, with the user's name."""
    return mail.MailConfig(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=mailbox.username,
        password=password,
        sender=mail.address(sender_name, mailbox.address),
        starttls=mailbox.smtp_security == "starttls",
        deadline=deadline,
        security=mailbox.smtp_security,
    )


async def check(config: mail.MailConfig) -> None:
    """Connect, secure the connection as configured and log in, within the deadline; raise
    SmtpCheckFailed saying what went wrong in plain words."""
    # Here, not at the top: a web worker that checks no mailbox never loads the SMTP client.
    import aiosmtplib

    where = f"{config.host}:{config.port}"
    client = aiosmtplib.SMTP(
        hostname=config.host,
        port=config.port,
        use_tls=config.implicit_tls,
        start_tls=False,
        tls_context=mail.tls_context(),
        timeout=config.deadline,
    )
    try:
        async with outbound.deadline(config.deadline):
            await client.connect()
            if config.starttls and not config.implicit_tls:
                if not client.supports_extension("starttls"):
                    raise SmtpCheckFailed(
                        f"The SMTP server at {where} does not offer STARTTLS, so the password "
                        "would travel unencrypted; choose TLS or check the port."
                    )
                await client.starttls()
            if config.username:
                await client.login(config.username, config.password or "")
            await client.quit()
    except SmtpCheckFailed:
        raise
    except outbound.DeadlineExceeded:
        raise SmtpCheckFailed(
            f"The SMTP server at {where} did not answer within {config.deadline:g} seconds."
        ) from None
    except aiosmtplib.SMTPAuthenticationError:
        raise SmtpCheckFailed("The SMTP server refused the user name or password.") from None
    except aiosmtplib.SMTPConnectError as error:
        raise SmtpCheckFailed(
            f"Could not connect to the SMTP server at {where}: {_connect_reason(error)}."
        ) from None
    except aiosmtplib.SMTPException as error:
        raise SmtpCheckFailed(f"The SMTP server at {where} answered: {error}.") from None
    except OSError as error:
        raise SmtpCheckFailed(
            f"Could not connect to the SMTP server at {where}: {_connect_reason(error)}."
        ) from None
    finally:
        client.close()


def _connect_reason(error: Exception) -> str:
    """Why a connection failed, in the words the IMAP side uses."""
    # aiosmtplib's own errors are OSErrors too; what the socket said is their cause.
    cause = error.__cause__ or error
    if isinstance(cause, socket.gaierror):
        return "the host name was not found"
    if isinstance(cause, OSError):
        return os_reason(cause)
    return str(error).rstrip(".") or "the connection failed"
