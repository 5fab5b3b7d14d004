"""The IMAP side of the user's mailbox: log in, find folders, read new messages' headers
(never a body, never a flag changed) and append a copy to the sent folder.

IMAPClient is synchronous, so each call runs in a worker thread under an overall deadline:
when the deadline passes, the socket is shut down (which unblocks the thread) and the caller
gets `ImapTimeout` at once, whatever the server does — stays silent, drips a byte at a time,
or never finishes resolving. A session whose call timed out is finished: later calls raise.
"""

from __future__ import annotations

import asyncio
import email.errors
import email.header
import email.parser
import email.utils
import errno
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from app.mailbox.imap_connection import Client, Line

log = logging.getLogger("followup.mailbox")

Security = Literal["tls", "starttls", "none"]
T = TypeVar("T")

DEFAULT_DEADLINE_SECONDS = 10.0
# After a deadline, the time the abandoned thread gets to notice its socket was shut down.
_UNBLOCK_GRACE_SECONDS = 0.5
# Header fields read from each message: what the watch rules need, nothing else.
HEADER_FIELDS = (
    "From",
    "To",
    "Cc",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Subject",
    "Auto-Submitted",
    "X-Autoreply",
    "Precedence",
    "Content-Type",
    "Return-Path",
)
_FETCH_HEADERS = f"BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})]"
# Where servers without SPECIAL-USE keep the special folders (compared case-insensitively,
# also below a personal namespace such as "INBOX.").
COMMON_FOLDER_NAMES: dict[str, tuple[str, ...]] = {
    "\\Sent": ("Sent", "Sent Items", "Sent Messages", "[Gmail]/Sent Mail", "Sent Mail"),
    "\\Drafts": ("Drafts", "[Gmail]/Drafts"),
    "\\Trash": ("Trash", "Deleted Items", "Deleted Messages", "[Gmail]/Trash"),
    "\\Junk": ("Junk", "Spam", "Junk E-mail", "[Gmail]/Spam"),
    "\\Archive": ("Archive", "Archives", "[Gmail]/All Mail"),
}
_MSG_ID = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class ImapLogin:
    host: str
    port: int
    security: Security
    username: str
    password: str

    def __repr__(self) -> str:  # never the password, whatever prints or logs a login
        return (
            f"ImapLogin(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r}, password='***')"
        )


class ImapError(Exception):
    """What failed, as one plain-English sentence for the user (`str(error)`)."""

    side = "imap"


class ImapAuthFailed(ImapError):
    """The server refused the user name or password."""


class ImapConnectFailed(ImapError):
    """No connection: the name does not resolve, the port refuses, the network is down."""


class ImapTlsFailed(ImapError):
    """The certificate or handshake failed, or encryption was asked for and not offered."""


class ImapTimeout(ImapError):
    """The call did not finish within its deadline (the connection was cut)."""


class ImapFolderNotFound(ImapError):
    """The folder named does not exist on the server."""


@dataclass(frozen=True)
class HeaderSummary:
    uid: int
    message_id: str | None  # as in the header, whitespace removed, with its <...>
    in_reply_to: list[str]  # the <msg-id>s found in In-Reply-To
    references: list[str]  # the <msg-id>s found in References, in order
    subject: str  # decoded (RFC 2047); '' when none
    from_: list[tuple[str, str]]  # (display name, address lowercased)
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    date: datetime | None  # the Date header, in UTC; None when missing or unreadable
    internal_date: datetime | None  # INTERNALDATE (when the server got it), in UTC
    auto_submitted: str | None
    x_autoreply: str | None
    precedence: str | None
    content_type: str | None  # e.g. "multipart/report; report-type=delivery-status"
    return_path: str | None  # as in the header, e.g. "<>" on a bounce


@dataclass(frozen=True)
class FolderState:
    name: str
    uidvalidity: int
    uidnext: int
    exists: int


def _server_text(error: BaseException) -> str:
    """The server's own words from an imaplib error, without the command echo and bytes
    repr, short enough for one sentence."""
    text = str(error)
    text = re.sub(r"^[a-z ]+ failed: ", "", text)
    text = re.sub(r"^b(['\"])(.*)\1$", r"\2", text)
    text = re.sub(r"\[[A-Z-]+[^\]]*\]\s*", "", text).strip().rstrip(".")
    return text[:200] or "no reason given"


def _response_code(error: BaseException) -> str:
    match = re.search(r"\[([A-Z-]+)", str(error))
    return match.group(1) if match else ""


class ImapSession:
    """A logged-in connection; obtained only from `open_imap`. Every method runs under the
    session's deadline and raises an `ImapError` (never an imaplib or socket error)."""

    def __init__(self, login: ImapLogin, deadline: float, line: Line) -> None:
        self._login = login
        self._deadline = deadline
        self._line = line
        self._client: Client | None = None
        self._broken: ImapError | None = None
        self._abandoned: asyncio.Future[Any] | None = None  # a call past its deadline

    @property
    def _where(self) -> str:
        return f"{self._login.host}:{self._login.port}"

    # The one way into the thread.

    async def _call(self, action: str, work: Callable[[], T], folder: str | None = None) -> T:
        if self._broken is not None:
            raise type(self._broken)(str(self._broken))
        if folder is not None:
            work = self._folder_checked(folder, work)
        task = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            done, _ = await asyncio.wait({task}, timeout=self._deadline)
        except BaseException:  # cancelled (a stop, an outer deadline): the thread must end
            self._give_up(task, ImapTimeout("The IMAP call was interrupted."))
            raise
        if not done:
            error = ImapTimeout(
                f"The IMAP server did not answer within {self._deadline:g} seconds."
            )
            self._give_up(task, error)
            # Usually the thread ends at once now; never wait long for it.
            await asyncio.wait({task}, timeout=_UNBLOCK_GRACE_SECONDS)
            raise error
        try:
            return task.result()
        except ImapError:
            raise
        except Exception as error:
            raise self._translate(error, action, folder) from error

    def _folder_checked(self, folder: str, work: Callable[[], T]) -> Callable[[], T]:
        """`work`, telling a folder that does not exist from other refusals (not every
        server says [NONEXISTENT]: a LIST of that one name does)."""

        def run() -> T:
            from imapclient import exceptions as imap_errors  # loaded since the session opened

            try:
                return work()
            except imap_errors.IMAPClientAbortError:
                raise
            except imap_errors.IMAPClientError as error:
                code = _response_code(error)
                if code in {"NONEXISTENT", "TRYCREATE"} or not self.client.list_folders(
                    pattern=folder
                ):
                    raise ImapFolderNotFound(
                        f'The IMAP folder "{folder}" does not exist.'
                    ) from error
                raise

        return run

    def _give_up(self, task: asyncio.Future[Any], error: ImapError) -> None:
        """Abandon the thread running `task`: cut its socket so it ends, and once it has,
        close what it held (from here, not from under its feet)."""
        self._broken = error
        self._abandoned = task
        self._line.cut()
        task.add_done_callback(self._after_abandoned)

    def _after_abandoned(self, task: asyncio.Future[Any]) -> None:
        _consume(task)
        self._abandoned = None
        self._shut()

    def _shut(self) -> None:
        """Close the connection without a word to the server."""
        if self._client is not None:
            with suppress(Exception):
                self._client.shutdown()
        self._line.close()

    def _translate(self, error: Exception, action: str, folder: str | None) -> ImapError:
        from imapclient import exceptions as imap_errors  # loaded since the session opened

        if self._line.cut_off:
            return self._broken or ImapTimeout("The IMAP connection was cut.")
        if isinstance(error, imap_errors.IMAPClientAbortError | OSError):
            self._broken = ImapError(
                f"The IMAP server at {self._where} closed the connection while Followup "
                f"tried to {action}."
            )
            return self._broken
        if isinstance(error, imap_errors.IMAPClientError):
            return ImapError(f"The IMAP server refused to {action}: {_server_text(error)}.")
        log.exception("unexpected IMAP failure while trying to %s at %s", action, self._where)
        return ImapError(f"Something unexpected failed while Followup tried to {action}.")

    def _tls_failed(self, error: ssl.SSLError) -> ImapTlsFailed:
        """A certificate that does not verify, or a handshake that fails, in plain words."""
        if isinstance(error, ssl.SSLCertVerificationError):
            reason = error.verify_message or "it is not trusted"
            return ImapTlsFailed(
                f"The certificate of the IMAP server at {self._where} could not be verified: "
                f"{reason}."
            )
        return ImapTlsFailed(
            f"The TLS handshake with the IMAP server at {self._where} failed "
            f"({error.reason or error.strerror or 'no reason given'})."
        )

    # Opening and closing (run by open_imap).

    def _open(self, context: ssl.SSLContext) -> None:
        # Here, not at the top: imapclient loads with the first session, not in every worker.
        from imapclient import exceptions as imap_errors

        from app.mailbox.imap_connection import Client

        login = self._login
        try:
            client = Client(self._line, login, context, self._deadline)
        except TimeoutError as error:
            raise self._timeout_or_cut() from error
        except ssl.SSLError as error:
            raise self._tls_failed(error) from error
        except socket.gaierror as error:
            raise ImapConnectFailed(
                f"Could not connect to {self._where}: the host name was not found."
            ) from error
        except OSError as error:
            raise ImapConnectFailed(
                f"Could not connect to {self._where}: {os_reason(error)}."
            ) from error
        except imap_errors.IMAPClientError as error:
            raise self._timeout_or(
                ImapConnectFailed(f"The server at {self._where} did not greet like an IMAP server.")
            ) from error
        self._client = client
        try:
            self._secure_and_log_in(client, context)
        except BaseException:
            with suppress(Exception):
                client.shutdown()
            raise

    def _secure_and_log_in(self, client: Client, context: ssl.SSLContext) -> None:
        from imapclient import exceptions as imap_errors  # loaded by _open

        login = self._login
        try:
            if login.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise ImapTlsFailed(
                        f"The IMAP server at {self._where} does not offer STARTTLS, so Followup "
                        "did not send the password."
                    )
                client.starttls(context)
            if login.security == "none" and client.has_capability("LOGINDISABLED"):
                raise ImapTlsFailed(
                    f"The IMAP server at {self._where} refuses passwords over an unencrypted "
                    "connection: choose TLS or STARTTLS."
                )
            if (login.username + login.password).isascii():
                client.login(login.username, login.password)
            else:  # LOGIN is ASCII only; SASL PLAIN carries UTF-8
                client.plain_login(login.username, login.password)
        except ImapError:
            raise
        except TimeoutError as error:
            raise self._timeout_or_cut() from error
        except ssl.SSLError as error:
            raise self._tls_failed(error) from error
        except imap_errors.LoginError as error:
            code = _response_code(error)
            if code == "PRIVACYREQUIRED":
                raise ImapTlsFailed(
                    f"The IMAP server at {self._where} refuses passwords over an unencrypted "
                    "connection: choose TLS or STARTTLS."
                ) from error
            if code == "UNAVAILABLE":
                raise ImapError(
                    "The IMAP server could not check the password just now; it asks to try "
                    "again later."
                ) from error
            raise self._timeout_or(
                ImapAuthFailed("The IMAP server refused the user name or password.")
            ) from error
        except (imap_errors.IMAPClientError, OSError) as error:
            raise self._timeout_or(
                ImapError(
                    f"The IMAP server at {self._where} closed the connection before Followup "
                    "could log in."
                )
            ) from error

    def _timeout_or_cut(self) -> ImapError:
        return self._broken or ImapTimeout(
            f"The IMAP server did not answer within {self._deadline:g} seconds."
        )

    def _timeout_or(self, error: ImapError) -> ImapError:
        return self._timeout_or_cut() if self._line.cut_off else error

    def _log_out(self) -> None:
        try:
            if self._client is not None:
                with suppress(Exception):
                    self._client.logout()
        finally:
            self._shut()

    # The operations.

    @property
    def client(self) -> Client:
        assert self._client is not None
        return self._client

    async def folders(self) -> list[str]:
        """Every selectable folder's name."""
        listed = await self._call("list the folders", self.client.list_folders)
        return [name for flags, _, name in listed if not _has_flag(flags, "\\Noselect")]

    async def special_folder(self, flag: str = "\\Sent") -> str | None:
        """The folder the server marks with `flag` (RFC 6154 SPECIAL-USE, e.g. "\\Sent");
        failing that, the first folder with a usual name for it; None when there is none."""
        listed = await self._call("list the folders", self.client.list_folders)
        usable = [(flags, name) for flags, _, name in listed if not _has_flag(flags, "\\Noselect")]
        for flags, name in usable:
            if _has_flag(flags, flag):
                return str(name)
        by_name = {_without_namespace(str(name)).casefold(): str(name) for _, name in usable}
        for common in COMMON_FOLDER_NAMES.get(flag, ()):
            if common.casefold() in by_name:
                return by_name[common.casefold()]
        return None

    async def examine(self, folder: str) -> FolderState:
        """The folder's UIDVALIDITY, UIDNEXT and message count, opened read-only."""

        def work() -> FolderState:
            answer = self.client.select_folder(folder, readonly=True)
            uidnext = answer.get(b"UIDNEXT")
            if uidnext is None:  # optional before IMAP4rev2: ask STATUS instead
                uidnext = self.client.folder_status(folder, [b"UIDNEXT"])[b"UIDNEXT"]
            return FolderState(
                name=folder,
                uidvalidity=int(answer[b"UIDVALIDITY"]),
                uidnext=int(uidnext),
                exists=int(answer[b"EXISTS"]),
            )

        return await self._call(f'open the folder "{folder}"', work, folder)

    async def headers_since(
        self, folder: str, after_uid: int, *, limit: int = 500
    ) -> list[HeaderSummary]:
        """The headers of the messages with a UID above `after_uid`, lowest UID first, at
        most `limit` of them. Read-only: the folder is EXAMINEd and fetched with BODY.PEEK,
        so nothing is marked seen and no body is read."""

        def work() -> list[HeaderSummary]:
            client = self.client
            client.select_folder(folder, readonly=True)
            # `UID n:*` always matches the last message, even when its UID is below n.
            found = client.search(["UID", f"{after_uid + 1}:*"])
            uids = sorted(uid for uid in found if uid > after_uid)[:limit]
            if not uids:
                return []
            fetched = client.fetch(uids, ["UID", "INTERNALDATE", _FETCH_HEADERS])
            return [_summary(uid, fetched[uid]) for uid in uids if uid in fetched]

        return await self._call(f'read the folder "{folder}"', work, folder)

    async def append(
        self,
        folder: str,
        message: bytes,
        *,
        flags: tuple[str, ...] = ("\\Seen",),
        when: datetime | None = None,
    ) -> None:
        """Put `message` in `folder` (e.g. a copy of a sent follow-up in the sent folder)."""
        await self._call(
            f'add a message to the folder "{folder}"',
            lambda: self.client.append(folder, message, flags, when),
            folder,
        )

    async def noop(self) -> None:
        await self._call("check the connection", self.client.noop)


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned call's outcome, so asyncio does not log it as unhandled."""
    if not task.cancelled():
        task.exception()


def os_reason(error: OSError) -> str:
    reasons = {
        errno.ECONNREFUSED: "connection refused",
        errno.ECONNRESET: "the connection was reset",
        errno.ENETUNREACH: "the network is unreachable",
        errno.EHOSTUNREACH: "the host is unreachable",
    }
    if error.errno in reasons:
        return reasons[error.errno]
    return (error.strerror or str(error) or "the connection failed").rstrip(".").lower()


def _has_flag(flags: Iterable[Any], wanted: str) -> bool:
    wanted = wanted.casefold()
    return any(
        (flag.decode("ascii", "replace") if isinstance(flag, bytes) else str(flag)).casefold()
        == wanted
        for flag in flags
    )


def _without_namespace(name: str) -> str:
    for prefix in ("INBOX.", "INBOX/"):
        if name.upper().startswith(prefix):
            return name[len(prefix) :]
    return name


# Reading the headers.

# Its default policy, compat32: headers as plain strings (and email.policy left unloaded).
_PARSER = email.parser.HeaderParser()


def _summary(uid: int, data: dict[bytes, Any]) -> HeaderSummary:
    raw = b""
    for key, value in data.items():
        if key.startswith(b"BODY[") and isinstance(value, bytes):
            raw = value
    # 8-bit headers are UTF-8 in practice (RFC 6532); anything else is kept readable.
    headers = _PARSER.parsestr(raw.decode("utf-8", "replace"))

    def text(name: str) -> str | None:
        value = headers.get(name)
        if value is None:
            return None
        return " ".join(str(value).split()) or None

    def all_values(name: str) -> list[str]:
        return [str(value) for value in headers.get_all(name) or []]

    internal = data.get(b"INTERNALDATE")
    return HeaderSummary(
        uid=uid,
        message_id=_message_id(text("Message-ID")),
        in_reply_to=_msg_ids(all_values("In-Reply-To")),
        references=_msg_ids(all_values("References")),
        subject=_decoded(text("Subject") or ""),
        from_=_addresses(all_values("From")),
        to=_addresses(all_values("To")),
        cc=_addresses(all_values("Cc")),
        date=_date(text("Date")),
        internal_date=_utc(internal) if isinstance(internal, datetime) else None,
        auto_submitted=text("Auto-Submitted"),
        x_autoreply=text("X-Autoreply"),
        precedence=text("Precedence"),
        content_type=text("Content-Type"),
        return_path=text("Return-Path"),
    )


def _message_id(value: str | None) -> str | None:
    if value is None:
        return None
    found = _MSG_ID.search(value)
    if found is not None:
        return "".join(found.group().split())
    return "".join(value.split()) or None


def _msg_ids(values: list[str]) -> list[str]:
    ids = ["".join(found.split()) for value in values for found in _MSG_ID.findall(value)]
    return [msg_id for msg_id in ids if msg_id != "<>"]


def _decoded(value: str) -> str:
    try:
        return " ".join(str(email.header.make_header(email.header.decode_header(value))).split())
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        return value


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    found = []
    for name, address in email.utils.getaddresses(values):
        address = address.strip().lower()
        if "@" in address:
            found.append((_decoded(name).strip(), address))
    return found


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return _utc(parsed)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # "-0000" or no zone: RFC 5322 says the zone is unknown; take UTC
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@asynccontextmanager
async def open_imap(
    login: ImapLogin,
    *,
    deadline: float = DEFAULT_DEADLINE_SECONDS,
    tls_context: ssl.SSLContext | None = None,
) -> AsyncIterator[ImapSession]:
    """A logged-in session: implicit TLS (`tls`), plain then STARTTLS (`starttls`, refusing
    to send the password when the server does not offer it) or plain (`none`). Connecting
    and logging in, then every call, and the logout each take at most `deadline` seconds."""
    from app.mailbox.imap_connection import Line  # with imapclient: not in every worker

    context = tls_context if tls_context is not None else ssl.create_default_context()
    session = ImapSession(login, deadline, Line())
    try:
        await session._call("connect", lambda: session._open(context))
    except BaseException:
        if session._abandoned is None:
            session._shut()
        raise
    try:
        yield session
    finally:
        if session._broken is None:
            with suppress(ImapError):
                await session._call("log out", session._log_out)
        elif session._abandoned is None:  # else the abandoned call's end closes it
            session._shut()
