"""Wire schemas for the user's mailbox: what a PUT sends, what comes back (never the
password), and the answer of a test."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, EmailStr, Field, StrictBool, StringConstraints

from app.wire import Input, Instant, Integer, OptStr200, Storable, Trimmed

PASSWORD_MAX = 1000


class Security(StrEnum):
    TLS = "tls"
    STARTTLS = "starttls"
    NONE = "none"


class MailboxStatus(StrEnum):
    """Named apart from a follow-up's `Status`, so generated clients get two types."""

    UNCHECKED = "unchecked"
    OK = "ok"
    ERROR = "error"


# A name of letters, digits, hyphens and dots, or an IP address (IPv6 in brackets or not).
_HOST_PATTERN = r"^([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}\.?$|^\[?[0-9A-Fa-f:.]+\]?$"

_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def _host(value: str) -> str:
    """A host name (RFC 1123 labels) or an IP address, lower case, without a trailing dot."""
    if not re.fullmatch(_HOST_PATTERN, value):
        raise ValueError(
            "is not a valid host name (letters, digits and hyphens, e.g. imap.example.com)"
        )
    host = value.lower().removesuffix(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            raise ValueError("is not a valid host name or IP address") from None
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(
            "is not a valid host name (letters, digits and hyphens, e.g. imap.example.com)"
        )
    if labels[-1].isdigit():
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise ValueError("is not a valid IPv4 address") from None
    return host


Host = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255),
    Storable,
    AfterValidator(_host),
    Field(json_schema_extra={"pattern": _HOST_PATTERN}),
    Field(examples=["imap.fastmail.com"]),
]
# Kept exactly as typed (spaces too: some providers show app passwords in groups).
Password = Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX), Storable]
Folder = Annotated[OptStr200, Field(examples=["Sent Items"])]


class Server(Input):
    host: Host
    port: Integer = Field(ge=1, le=65535, examples=[993])
    security: Security = Field(
        description="`tls` (implicit TLS, usually IMAP 993 and SMTP 465), `starttls` "
        "(plain, then upgraded: usually SMTP 587; refused when the server does not offer "
        "it) or `none` (unencrypted: only for a server on a network you trust)."
    )


class MailboxWrite(Input):
    """The whole mailbox (a PUT replaces it)."""

    address: EmailStr = Field(
        max_length=320, description="Your email address: the `From` of what Followup sends."
    )
    username: Annotated[str, StringConstraints(min_length=1, max_length=320), Storable, Trimmed] = (
        Field(description="The login name, often the address itself.")
    )
    password: Password | None = Field(
        default=None,
        description="An app password. Required the first time; left out, the saved one is "
        "kept. Never returned.",
    )
    imap: Server
    smtp: Server
    inbox_folder: Folder = Field(default=None, description="Null: the INBOX.")
    sent_folder: Folder = Field(
        default=None,
        description="Null: the folder the server marks `\\Sent` (RFC 6154 SPECIAL-USE), "
        "else one with a usual name.",
    )
    watch: StrictBool = Field(
        default=True, description="Read new messages' headers every few minutes."
    )
    send: StrictBool = Field(
        default=False,
        description="Allow `POST /api/v1/followups/{id}/send` through this mailbox.",
    )


class ServerRead(BaseModel):
    host: str
    port: int
    security: Security


class MailboxRead(BaseModel):
    address: str
    username: str
    password_set: bool = Field(
        description="A password is saved (it is never returned); always true."
    )
    imap: ServerRead
    smtp: ServerRead
    inbox_folder: str | None
    sent_folder: str | None
    watch: bool
    send: bool
    status: MailboxStatus = Field(
        description="`unchecked` since the connection settings changed, then `ok` or "
        "`error` from the last test or watch pass."
    )
    last_checked_at: Instant | None
    last_error: str | None = Field(description="What failed last, in a sentence.")
    created_at: Instant
    updated_at: Instant


class SideResult(BaseModel):
    ok: bool
    error: str | None = Field(description="What failed, in a sentence; null when ok.")


class MailboxTestResult(BaseModel):
    imap: SideResult
    smtp: SideResult
