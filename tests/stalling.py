"""Servers on loopback that take a connection, then answer a few bytes at a time, forever:
the slow receiver of issue 10 (a byte every 2 s never trips a per-read timeout), or nothing
at all (`staller(**SILENT)`: the mailbox server that accepts and never says a word)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

# An HTTP answer that never ends: a status line, then a header that grows a byte at a time.
HTTP_START, HTTP_DRIP = b"HTTP/1.1 200 OK\r\nX-Slow: ", b"x"
# An SMTP greeting that never ends: "220-" continuation lines, one at a time.
SMTP_START, SMTP_DRIP = b"220-mail.example.test says hello\r\n", b"220-still here\r\n"
# An IMAP greeting that never ends: a capability list that grows a word at a time.
IMAP_START, IMAP_DRIP = b"* OK [CAPABILITY IMAP4rev1", b" X-STILL-HERE"
# A server that accepts the connection and never sends a byte (where the server speaks first).
SILENT: dict[str, object] = {"start": b"", "drip": b"", "reads_request": False}


@dataclass
class Staller:
    """Reads one HTTP request per connection (unless `reads_request` is off, as for SMTP,
    where the server speaks first), writes `start`, then `drip` every `interval` seconds."""

    start: bytes = HTTP_START
    drip: bytes = HTTP_DRIP
    reads_request: bool = True
    interval: float = 2.0
    port: int = 0
    requests: int = 0
    open: int = 0
    most_open: int = 0
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            if self.reads_request:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
            async with self._arrived:
                self.requests += 1
                self._arrived.notify_all()
            writer.write(self.start)
            while not writer.is_closing() and await self._pause(reader):
                await writer.drain()
                writer.write(self.drip)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up: that is what the deadline is for
        finally:
            self.open -= 1
            self._tasks.discard(task)
            writer.close()

    async def _pause(self, reader: asyncio.StreamReader) -> bool:
        """Wait `interval` seconds, dropping whatever the client sends meanwhile (a login, a
        TLS hello); False once the client has closed or shut down its side."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self.interval
        while (left := until - loop.time()) > 0:
            try:
                if not await asyncio.wait_for(reader.read(65536), left):
                    return False
            except TimeoutError:
                return True
        return True

    async def stalled(self, requests: int = 1, limit: float = 30) -> None:
        """Wait until `requests` requests have arrived (and are being answered slowly)."""
        async with asyncio.timeout(limit), self._arrived:
            await self._arrived.wait_for(lambda: self.requests >= requests)


@contextlib.asynccontextmanager
async def staller(**options: object) -> AsyncIterator[Staller]:
    state = Staller(**options)  # type: ignore[arg-type]
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        for task in list(state._tasks):
            task.cancel()
        await asyncio.gather(*state._tasks, return_exceptions=True)
        await server.wait_closed()


async def eventually(condition: Callable[[], object], limit: float = 20) -> None:
    """Wait until `condition()` holds, at most `limit` seconds."""
    for _ in range(int(limit / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {limit:g} s")
