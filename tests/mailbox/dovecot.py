"""A real IMAP server for the tests: Debian's dovecot, started on loopback with a throwaway
configuration (passwd-file users added at run time, maildir in a temporary folder, SPECIAL-USE
folders, a self-signed certificate made at start).

Three listeners: `port` on 127.0.0.1, plain with STARTTLS offered; `tls_port` on 127.0.0.1,
implicit TLS; `bare_port` on 127.0.0.2, plain without STARTTLS (for "TLS required but not
offered"). Point an SSL context at `cert_file` to trust the certificate (`ssl_context()`).

Loaded as a pytest plugin by tests/conftest.py: any test may ask for the session-wide
`dovecot` fixture. Without /usr/sbin/dovecot the tests that need it are skipped, except in
CI (`CI` set), where they fail: .ci/run installs dovecot-imapd.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from app.mailbox.imap import ImapLogin, Security

DOVECOT = Path(os.environ.get("DOVECOT_BINARY", "/usr/sbin/dovecot"))
HOST = "127.0.0.1"
BARE_HOST = "127.0.0.2"  # a listener of its own address, where `local` turns TLS off
DOMAIN = "mail.example.test"
# Maildir folder names and their SPECIAL-USE flags (INBOX is the maildir itself).
SPECIAL_FOLDERS = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk"}


def available() -> bool:
    return DOVECOT.is_file() and os.access(DOVECOT, os.X_OK)


@dataclass(frozen=True)
class MailUser:
    """An account on the test dovecot, with the logins that reach it."""

    username: str
    password: str
    address: str
    server: Dovecot

    def login(self, security: Security = "none", password: str | None = None) -> ImapLogin:
        """How to reach this account: `none` and `starttls` on `port`, `tls` on `tls_port`."""
        port = self.server.tls_port if security == "tls" else self.server.port
        return ImapLogin(
            host=HOST,
            port=port,
            security=security,
            username=self.username,
            password=self.password if password is None else password,
        )

    def bare_login(self, security: Security = "starttls") -> ImapLogin:
        """The plain listener that does not offer STARTTLS."""
        return ImapLogin(BARE_HOST, self.server.bare_port, security, self.username, self.password)


class Dovecot:
    """One dovecot master process (started by `start()`, ended by `stop()`)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="followup-dovecot-"))
        self.cert_file = self.root / "cert.pem"
        self.log_file = self.root / "dovecot.log"
        self.port = self.tls_port = self.bare_port = 0
        self._users_dir = self.root / "users"
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        # dovecot refuses uid 0 for mail and for its login processes: as root, mail belongs
        # to nobody and logins run as dovenull (Debian's) or nobody.
        self.root_user = os.getuid() == 0
        if self.root_user:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
            self.login_user = _existing_user("dovenull") or "nobody"
            self.internal_user = "root"
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
            self.login_user = self.internal_user = pwd.getpwuid(os.getuid()).pw_name

    # Life.

    def start(self, timeout: float = 20) -> None:
        self.root.chmod(0o755)  # the mail user (nobody, when root) walks through it
        home = self.root / "home"
        home.mkdir()
        os.chown(home, self.mail_uid, self.mail_gid)
        _self_signed_certificate(self.cert_file, self.root / "key.pem")
        self._users_dir.mkdir()
        self.port, self.tls_port = _free_port(HOST), _free_port(HOST)
        self.bare_port = _free_port(BARE_HOST)
        config = self.root / "dovecot.conf"
        config.write_text(self._config())
        self._stderr = (self.root / "stderr.log").open("wb")
        self._process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(config)],
            env=_real_clock_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        limit = time.monotonic() + timeout
        for host, port in ((HOST, self.port), (HOST, self.tls_port), (BARE_HOST, self.bare_port)):
            while not _answers(host, port):
                if self._process.poll() is not None or time.monotonic() > limit:
                    log = self.log()
                    self.stop()
                    raise RuntimeError(f"dovecot did not start: {log}")
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        files = (self.log_file, self.root / "stderr.log")
        parts = [file.read_text(errors="replace") for file in files if file.exists()]
        return "\n".join(part for part in parts if part)[-4000:]

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and verifies it)."""
        return ssl.create_default_context(cafile=str(self.cert_file))

    # Accounts.

    def add_user(self, name: str | None = None, password: str | None = None) -> MailUser:
        """A new account (a fresh name unless given), usable at once."""
        name = name or f"user-{uuid.uuid4().hex[:10]}"
        password = password or f"pw-{uuid.uuid4().hex[:12]}"
        if not re.fullmatch(r"[\w.@+-]+", name) or ":" in password or "\n" in password:
            raise ValueError("a plain user name, and no ':' or newline in the password")
        # One passwd-file per user: dovecot re-reads a changed file at most once a second,
        # but opens a user's file it has not seen yet at once.
        line = f"{name}:{{PLAIN}}{password}::::::\n"
        new = self._users_dir / f".{name}.new"
        new.write_text(line, encoding="utf-8")
        new.replace(self._users_dir / name)
        address = name if "@" in name else f"{name}@{DOMAIN}"
        return MailUser(name, password, address, self)

    def maildir(self, user: MailUser | str, folder: str = "INBOX") -> Path:
        name = user.username if isinstance(user, MailUser) else user
        base = self.root / "home" / name / "Maildir"
        return base if folder.upper() == "INBOX" else base / f".{folder.replace('/', '.')}"

    # Mail, as a mail client would put it there (IMAP through imaplib).

    @contextlib.contextmanager
    def imap(self, user: MailUser) -> Iterator[imaplib.IMAP4]:
        """A plain imaplib connection, logged in as `user`."""
        connection = imaplib.IMAP4(HOST, self.port, timeout=10)
        try:
            connection.login(user.username, user.password)
            yield connection
        finally:
            with contextlib.suppress(Exception):
                connection.logout()

    def append(
        self,
        user: MailUser,
        folder: str,
        message: bytes,
        flags: Iterable[str] = (),
        when: dt.datetime | None = None,
    ) -> int:
        """APPEND `message` to `folder`; its UID."""
        with self.imap(user) as connection:
            internal = imaplib.Time2Internaldate(when) if when is not None else None
            flag_list = f"({' '.join(flags)})" if flags else None
            status, answer = connection.append(_quoted(folder), flag_list, internal, message)
            assert status == "OK", answer
            found = re.search(rb"APPENDUID \d+ (\d+)", answer[0] or b"")
            assert found, answer
            return int(found.group(1))

    def flags(self, user: MailUser, folder: str) -> dict[int, set[str]]:
        """Each message's flags by UID, read without changing anything."""
        with self.imap(user) as connection:
            connection.select(_quoted(folder), readonly=True)
            status, lines = connection.uid("FETCH", "1:*", "(FLAGS)")
            assert status == "OK", lines
            found: dict[int, set[str]] = {}
            for line in lines:
                if not isinstance(line, bytes):
                    continue
                uid = re.search(rb"UID (\d+)", line)
                flags = re.search(rb"FLAGS \(([^)]*)\)", line)
                if uid and flags:
                    found[int(uid.group(1))] = set(flags.group(1).decode().split()) - {"\\Recent"}
            return found

    def uids(self, user: MailUser, folder: str) -> list[int]:
        return sorted(self.flags(user, folder))

    def uidvalidity_reset(self, user: MailUser, folder: str) -> None:
        """Make the server forget the folder's UIDs, as after a restore or a server move:
        its messages stay, numbered anew under a new UIDVALIDITY. (No session may have the
        folder open meanwhile.)"""
        path = self.maildir(user, folder)
        removed = [
            p for p in path.iterdir() if p.name.startswith(("dovecot-uidlist", "dovecot.index"))
        ]
        assert removed, f"{folder} has never been opened"
        for file in removed:
            file.unlink()

    def deliver_files(
        self, user: MailUser, folder: str, messages: Iterable[bytes], seen: bool = False
    ) -> int:
        """The fast path for big mailboxes: write maildir files straight into `folder` (which
        must exist: log in once first); dovecot numbers them when the folder is next opened.
        How many were written."""
        target = self.maildir(user, folder) / "cur"
        assert target.is_dir(), f"{target} does not exist: create the folder first"
        written = 0
        suffix = ":2,S" if seen else ":2,"
        batch = f"{int(time.time())}.M{uuid.uuid4().hex[:12]}P{os.getpid()}"
        for mail in messages:
            written += 1
            path = target / f"{batch}Q{written}.followup-test{suffix}"
            path.write_bytes(mail)
            if self.root_user:
                os.chown(path, self.mail_uid, self.mail_gid)
        return written

    # The configuration.

    def _config(self) -> str:
        root = self.root
        mailboxes = "\n".join(
            f"  mailbox {name} {{\n    special_use = {flag}\n    auto = subscribe\n  }}"
            for name, flag in SPECIAL_FOLDERS.items()
        )
        return f"""# Throwaway test configuration (tests/mailbox/dovecot.py).
base_dir = {root}/run
state_dir = {root}/state
log_path = {self.log_file}
protocols = imap
listen = {HOST}
default_internal_user = {self.internal_user}
default_internal_group = {_group_of(self.internal_user)}
default_login_user = {self.login_user}
first_valid_uid = 1
ssl = yes
ssl_cert = <{self.cert_file}
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self._users_dir}/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self._users_dir}/%u
  default_fields = uid={self.mail_uid} gid={self.mail_gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}
}}
# Only root may chroot: as anyone else, the processes that would run without it.
service imap-login {{
  chroot = {"login" if self.root_user else ""}
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.tls_port}
    ssl = yes
  }}
  inet_listener bare {{
    address = {BARE_HOST}
    port = {self.bare_port}
  }}
}}
# No growing delay after failed logins (the anvil penalty): every test comes from loopback.
service anvil {{
  chroot = {"empty" if self.root_user else ""}
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
local {BARE_HOST} {{
  ssl = no
}}
"""


def message(
    subject: str = "Thank you",
    sender: str = "Jane Doe <jane@mail.example.test>",
    to: str = "Ann Lee <ann@example.com>",
    date: dt.datetime | None = None,
    message_id: str | None = None,
    body: str = "Thank you for your time today.\n",
    **headers: str,
) -> bytes:
    """A small RFC 5322 message; extra headers by keyword (`In_Reply_To="<a@b>"` becomes
    `In-Reply-To`)."""
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = format_datetime(date or dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC))
    mail["Message-ID"] = message_id or make_msgid(domain="mail.example.test")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return bytes(mail)


def _existing_user(name: str) -> str | None:
    try:
        return pwd.getpwnam(name).pw_name
    except KeyError:
        return None


def _group_of(user: str) -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _real_clock_environment() -> dict[str, str]:
    """The environment without Debian's faketime (`make timeshift`): dovecot's processes
    fail under a preloaded fake clock (logins cut off, calls never answered). The messages
    the tests append carry their own dates, so dovecot's own clock plays no part."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "LD_PRELOAD" and not name.startswith("FAKETIME")
    }


def _self_signed_certificate(cert_file: Path, key_file: Path) -> None:
    """A certificate for 127.0.0.1 and localhost, valid for two days (openssl, which
    dovecot-core depends on)."""
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
            *("-nodes", "-days", "2", "-subj", "/CN=Followup test dovecot"),
            *("-addext", f"subjectAltName=IP:{HOST},DNS:localhost"),
            *("-keyout", str(key_file), "-out", str(cert_file)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    key_file.chmod(0o600)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """The suite's dovecot, started once; each test adds the users it needs."""
    if not available():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {DOVECOT} is missing: .ci/run should have installed it")
        pytest.skip(f"{DOVECOT} is missing (apt-get install dovecot-imapd)")
    server = Dovecot()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_user(dovecot: Dovecot) -> MailUser:
    """A fresh account on the suite's dovecot."""
    return dovecot.add_user()
