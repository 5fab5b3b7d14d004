"""A real SMTP server on loopback (aiosmtpd) that can be told to answer 421 or 550, and a
worker wired to it."""

from __future__ import annotations

import email
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.reminders import mail
from app.reminders.models import Outbox
from app.reminders.worker import Worker
from tests.helpers import make_settings


@dataclass
class Received:
    rcpt_tos: list[str]
    message: Message


@dataclass
class Handler:
    """Records what it accepts; `answer` (e.g. "421 Try later") refuses every message."""

    received: list[Received] = field(default_factory=list)
    answer: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer is not None:
            return self.answer
        content = envelope.content
        raw = content if isinstance(content, bytes) else content.encode()
        self.received.append(Received(list(envelope.rcpt_tos), email.message_from_bytes(raw)))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(r.message["Message-ID"]) for r in self.received]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        self.handler = Handler()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def mail_settings(database_url: str, smtp: SmtpServer, **overrides: Any) -> Settings:
    return make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="Followup <followup@example.com>",
        smtp_starttls=False,
        **overrides,
    )


@pytest.fixture
async def worker(app: Any, smtp: SmtpServer) -> AsyncIterator[Worker]:
    """A worker with an engine of its own, on the app's database, sending to `smtp`."""
    settings = mail_settings(app.state.settings.database_url, smtp)
    config = mail.mail_config(settings)
    assert config is not None
    engine = create_engine(settings.database_url)
    yield Worker(settings, config, create_sessionmaker(engine))
    await engine.dispose()


async def queue_deliveries(
    session: AsyncSession, user_id: uuid.UUID, count: int, *, now: datetime, tag: str
) -> None:
    """`count` test emails due now, in one executemany: subject `Delivery test:<n>`,
    Message-ID `<tag-n@followup.test>`."""
    await session.execute(
        insert(Outbox),
        [
            {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "kind": "test",
                "dedupe_key": f"test:{n}",
                "payload": {
                    "to": "jane@example.com",
                    "to_name": "Jane Doe",
                    "subject": f"Delivery test:{n}",
                    "text": f"Delivery {n}",
                    "html": f"<p>Delivery {n}</p>",
                    "message_id": f"<{tag}-{n}@followup.test>",
                },
                "due_at": now,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
            }
            for n in range(count)
        ],
    )
