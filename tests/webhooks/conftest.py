"""A loopback HTTP receiver for webhooks (asyncio, HTTP/1.1), and a worker allowed to reach
it through FOLLOWUP_WEBHOOK_ALLOW=127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.reminders import mail
from app.reminders.worker import Worker
from tests.helpers import make_settings

# What the receiver answers; the delivery log must never show it.
RESPONSE_BODY = b"RECEIVER-SECRET-RESPONSE-BODY"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def signature_valid(self, secret: str) -> bool:
        timestamp = self.headers["followup-timestamp"]
        expected = hmac.new(
            secret.encode(), timestamp.encode() + b"." + self.body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(self.headers["followup-signature"], f"v1={expected}")


@dataclass
class Receiver:
    """Records each request; answers `statuses` in turn (then 200)."""

    port: int = 0
    requests: list[Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Request(method, path, headers, body))
            status = self.statuses.pop(0) if self.statuses else 200
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: {len(RESPONSE_BODY)}\r\n"
                "Content-Type: text/plain\r\nConnection: close\r\n\r\n".encode()
                + RESPONSE_BODY
            )
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server_state = Receiver()
    server = await asyncio.start_server(server_state.handle, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    yield server_state
    server.close()
    await server.wait_closed()


def worker_for(app: Any, **overrides: Any) -> tuple[Worker, Any]:
    settings = make_settings(
        app.state.settings.database_url,
        smtp_host="127.0.0.1",
        smtp_port=9,
        smtp_from="Followup <followup@example.com>",
        smtp_starttls=False,
        **overrides,
    )
    config = mail.mail_config(settings)
    assert config is not None
    engine = create_engine(settings.database_url)
    return Worker(settings, config, create_sessionmaker(engine)), engine


@pytest.fixture
async def worker(app: Any) -> AsyncIterator[Worker]:
    """A worker on the app's database, allowed to reach the loopback receiver."""
    made, engine = worker_for(app, webhook_allow="127.0.0.1")
    yield made
    await engine.dispose()


@pytest.fixture
async def strict_worker(app: Any) -> AsyncIterator[Worker]:
    """A worker with nothing allowed: loopback is refused."""
    made, engine = worker_for(app)
    yield made
    await engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The app, like the worker, lets webhooks reach the loopback receiver."""
    return make_settings(database_url, webhook_allow="127.0.0.1")
