"""An open-loop load: requests start on a fixed schedule, whether or not earlier ones are done.

wrk is closed-loop (a connection sends its next request when the last one is answered), so a
slow server slows the load and its tail hides (coordinated omission). Here request i is due at
start + i / rate; its latency runs from that due time, so time spent queued behind a slow
response counts. Raw HTTP/1.1 keep-alive over asyncio streams, to stay light at the rates
the bench needs (a few hundred to a few thousand per second). An answer counts as an error
when a user would not take it (bench/checks.py: the expected status and content).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.checks import Expect, unexpected


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body is not None:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + (self.body or b"")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers: dict[str, str] = {}
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if not name:
            continue
        headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    body = b""
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += (await reader.readexactly(size + 2))[:size]
            if size == 0:
                break
    elif length:
        body = await reader.readexactly(length)
    return status, headers, body


async def _run(
    host: str,
    port: int,
    requests: list[Request],
    rate: float,
    seconds: float,
    connections: int,
    expect: Expect,
) -> dict[str, Any]:
    total = int(rate * seconds)
    queue: asyncio.Queue[tuple[float, Request] | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0
    first_unexpected = ""
    late_starts = 0
    dropped = 0
    hostport = f"{host}:{port}"
    encoded = {id(r): r.encode(hostport) for r in requests}

    async def connection() -> None:
        nonlocal errors, late_starts, dropped, first_unexpected
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (item := await queue.get()) is not None:
                due, request = item
                if time.perf_counter() > cutoff:
                    dropped += 1  # still queued long after the run: not sent, counted
                    continue
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                elif wait < -0.001:
                    late_starts += 1
                try:
                    writer.write(encoded[id(request)])
                    status, headers, body = await asyncio.wait_for(_read_response(reader), 10)
                except (OSError, asyncio.IncompleteReadError, TimeoutError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                latencies.append(time.perf_counter() - due)
                why = unexpected(expect, status, headers, body)
                if why is not None:
                    errors += 1
                    first_unexpected = first_unexpected or why
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # connected
    start = time.perf_counter() + 0.05
    # A server slower than the rate falls further behind with every request; stop sending
    # a few seconds after the schedule ends and count what was left as dropped.
    cutoff = start + seconds + max(3.0, seconds / 2)
    # Hand out work in due order; a connection takes the next request when it is free, so a
    # request waits for a free connection (and that wait counts) rather than being skipped.
    for i in range(total):
        due = start + i / rate
        ahead = due - time.perf_counter() - 0.005
        if ahead > 0:
            await asyncio.sleep(ahead)
        queue.put_nowait((due, requests[i % len(requests)]))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers, return_exceptions=True)
    elapsed = min(time.perf_counter(), cutoff) - start
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000

    return {
        "target_rps": rate,
        "achieved_rps": round(len(latencies) / elapsed, 1),
        "requests": len(latencies),
        "errors": errors,
        "first_unexpected": first_unexpected,
        "dropped": dropped,
        "late_starts": late_starts,
        "p50_ms": round(pct(50), 2),
        "p90_ms": round(pct(90), 2),
        "p99_ms": round(pct(99), 2),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else float("nan"),
    }


def open_loop(
    host: str,
    port: int,
    requests: list[Request],
    *,
    rate: float,
    seconds: float,
    connections: int = 64,
    expect: Expect | None = None,
) -> dict[str, Any]:
    """Send `rate` requests a second for `seconds`; latencies from each request's due time."""
    run = _run(host, port, requests, rate, seconds, connections, expect or Expect())
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.run(run)
    return uvloop.run(run)
