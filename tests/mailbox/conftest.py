"""Fixtures for the mailbox tests: an SMTP server that asks for a login (aiosmtpd), a
mailbox row pointing at it, and a worker with no instance SMTP at all."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app.accounts.repository import user_by_email
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.mailbox import secrets
from app.mailbox.models import Mailbox
from app.reminders.worker import Worker
from tests.helpers import make_settings
from tests.reminders.conftest import SmtpServer

SMTP_USER, SMTP_PASSWORD = "jane@example.org", "app-password"


class AuthSmtpServer(SmtpServer):
    """The suite's recording aiosmtpd, asking for a login like a real provider; `logins`
    holds the user names and passwords it accepts."""

    def __init__(self, logins: dict[str, str] | None = None) -> None:
        super().__init__()
        self.logins = logins or {SMTP_USER: SMTP_PASSWORD}

    def _authenticator(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.logins.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    def start(self) -> None:
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticator,
            auth_require_tls=False,
        )
        self.controller.start()


@pytest.fixture
def mailbox_smtp() -> Iterator[AuthSmtpServer]:
    server = AuthSmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_for() -> Iterator[Callable[[str, str], int]]:
    """Start SMTP servers on loopback, each taking the given account; gives their ports."""
    servers: list[AuthSmtpServer] = []

    def start(username: str, password: str) -> int:
        server = AuthSmtpServer({username: password})
        server.start()
        servers.append(server)
        return server.port

    yield start
    for server in servers:
        server.stop()


def worker_settings(database_url: str, **overrides: Any) -> Settings:
    """No instance SMTP: the users' own mailboxes send all the same."""
    return make_settings(database_url, **{"mail_allow": "127.0.0.1", **overrides})


async def run_worker_once(app: Any, **overrides: Any) -> None:
    """One worker pass on the app's database with these settings changed."""
    settings = worker_settings(app.state.settings.database_url, **overrides)
    engine = create_engine(settings.database_url)
    try:
        await Worker(settings, None, create_sessionmaker(engine)).run_once()
    finally:
        await engine.dispose()


@pytest.fixture
async def mailbox_worker(app: Any) -> AsyncIterator[Worker]:
    settings = worker_settings(app.state.settings.database_url)
    engine = create_engine(settings.database_url)
    yield Worker(settings, None, create_sessionmaker(engine))
    await engine.dispose()


async def add_mailbox(
    app: Any,
    email: str,
    *,
    smtp_port: int,
    imap_port: int = 1,
    send: bool = True,
    status: str = "ok",
    address: str = SMTP_USER,
    username: str = SMTP_USER,
    password: str = SMTP_PASSWORD,
    sent_folder: str | None = None,
) -> uuid.UUID:
    """The user's mailbox as Settings saves it (password sealed), on loopback."""
    settings: Settings = app.state.settings
    async with app.state.sessionmaker.begin() as session:
        user = await user_by_email(session, email)
        assert user is not None
        mailbox = Mailbox(
            user_id=user.id,
            address=address,
            username=username,
            password_sealed=secrets.seal(settings.secret, user.id, password),
            imap_host="127.0.0.1",
            imap_port=imap_port,
            imap_security="none",
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_security="none",
            inbox_folder=None,
            sent_folder=sent_folder,
            watch=False,
            send=send,
            status=status,
            failures=0,
        )
        session.add(mailbox)
        await session.flush()
        return mailbox.id
