"""Against a real `followup serve`: a huge streamed body is refused early, and the server
neither reads it all nor grows by it."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from tests.browser.live import LiveServer, serve

MB = 1024 * 1024
CHUNK = 64 * 1024


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def stream_chunked(server: LiveServer, path: str, total: int) -> tuple[bytes, int]:
    """POST `total` bytes to `path` as a chunked body without Content-Length, over a raw
    socket; stop when the server stops taking them. The answer, and how much was sent."""
    host, port = server.base_url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
        sock.settimeout(5)  # a server that stopped reading leaves sendall blocked
        try:
            while sent < total:
                sock.sendall(chunk)
                sent += CHUNK
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # refused and closed (or no longer read): the answer is waiting
        answer = b""
        try:
            while part := sock.recv(65536):
                answer += part
        except OSError:
            pass
    return answer, sent


def test_a_200_mb_chunked_sign_in_is_refused_unread_and_the_server_does_not_grow(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    total = 200 * MB
    with serve(new_database(), tmp_path) as server:
        # Warm up (imports, the first connection) so the figure is the request's own.
        stream_chunked(server, "/api/v1/auth/login", 2 * MB)
        before = rss_kib(server.process.pid)
        answer, sent = stream_chunked(server, "/api/v1/auth/login", total)
        after = rss_kib(server.process.pid)
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 413"), answer[:500]
    assert "application/problem+json" in head
    assert b"1 MB" in answer
    # The server answered after about 1 MB and closed: most of the 200 MB was never sent.
    assert sent < total / 2, sent
    growth = (after - before) / 1024
    print(
        f"\nRSS {before / 1024:.1f} MB -> {after / 1024:.1f} MB (+{growth:.1f} MB) for a 200 MB "
        f"chunked POST /api/v1/auth/login; {sent / MB:.1f} MB sent before the server closed"
    )
    assert growth < 50
