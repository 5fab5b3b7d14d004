"""App CPU per request of the hot reads, in process: a relative figure for a busy machine.

`python -m bench.hotpath` (after `BENCH_SIZE=M BENCH_DB=… python -m bench.seed`) calls the
product's ASGI app and the raw baseline's directly, without a server or a socket, and
reports this process's CPU time per request (`time.process_time`, so Postgres and other
processes' load do not count) for E1 (the follow-ups list, bearer token), E3 (one
interview), /me and Today (E2: the page and its htmx fragment for the first 20 readers,
E2-full: the page of the busy users, 100 follow-ups; signed in once, gzip asked for as a
browser does), each the median of BENCH_ROUNDS rounds of BENCH_REQUESTS requests (a
quarter as many for Today's). `BENCH_ONLY=E2` runs only the workloads whose name starts so.
What `make bench` measures over HTTP, minus uvicorn's and wrk's share: a way to compare two
versions of the hot path on the same machine within minutes, not a throughput figure.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import seed

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
STATES = ("due", "overdue", "upcoming")
Headers = list[tuple[bytes, bytes]]
# Request: path, query string, headers.
Request = tuple[str, str, Headers]


def bearer(token: str) -> Headers:
    return [(b"authorization", f"Bearer {token}".encode()), (b"accept", b"*/*")]


async def call(
    app: Asgi,
    path: str,
    query: str,
    headers: Headers,
    *,
    method: str = "GET",
    body: bytes = b"",
    client: str = "127.0.0.1",
) -> tuple[int, Headers, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"bench"), *headers],
        "client": (client, 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], sent[0]["headers"], b"".join(m.get("body", b"") for m in sent[1:])


async def sign_in(app: Asgi, email: str, password: str, client: str) -> str:
    """A session cookie for Today, from the product's own sign-in (each from its own client
    address, as the throttle counts attempts per address)."""
    body = json.dumps({"email": email, "password": password}).encode()
    content_type = [(b"content-type", b"application/json")]
    status, headers, answer = await call(
        app, "/api/v1/auth/login", "", content_type, method="POST", body=body, client=client
    )
    for name, value in headers:
        if name == b"set-cookie" and value.startswith(b"followup_session="):
            return value.split(b";")[0].decode()
    raise SystemExit(f"no session cookie from /api/v1/auth/login: {status} {answer[:200]!r}")


async def cpu_per_request(app: Asgi, requests: list[Request]) -> float:
    """Milliseconds of this process's CPU per request, the requests run 8 at a time."""
    queue = list(requests)

    async def client() -> None:
        while queue:
            path, query, headers = queue.pop()
            status, _, _ = await call(app, path, query, headers)
            assert status == 200, (path, status)

    started = time.process_time()
    await asyncio.gather(*(client() for _ in range(8)))
    return (time.process_time() - started) * 1000 / len(requests)


async def main() -> None:
    size = os.environ.get("BENCH_SIZE", "M").upper()
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    n = int(os.environ.get("BENCH_REQUESTS", "2000"))
    url = seed.database_url(seed.database_name())
    only = os.environ.get("BENCH_ONLY", "")
    credentials = json.loads(
        (seed.ROOT / "bench" / ".work" / f"credentials-{size}.json").read_text()
    )
    users = credentials["users"]
    rng = random.Random(1)
    cookies: list[str] = []  # the first readers' sessions (E2), as make bench signs them in
    busy_cookies: list[str] = []  # the busy users' (E2-full)

    def e1() -> list[Request]:
        return [
            ("/api/v1/followups", f"due_state={rng.choice(STATES)}", bearer(u["token"]))
            for u in rng.choices(users, k=n)
        ]

    def e3() -> list[Request]:
        picked = [u for u in rng.choices(users, k=n * 2) if u["interviews"]][:n]
        return [
            (f"/api/v1/interviews/{rng.choice(u['interviews'])}", "", bearer(u["token"]))
            for u in picked
        ]

    def me() -> list[Request]:
        return [("/api/v1/me", "", bearer(u["token"])) for u in rng.choices(users, k=n)]

    def today(sessions: list[str], *more: tuple[bytes, bytes]) -> list[Request]:
        return [
            ("/", "", [(b"cookie", c.encode()), (b"accept-encoding", b"gzip, deflate"), *more])
            for c in rng.choices(sessions, k=max(1, n // 4))
        ]

    def e2() -> list[Request]:
        return today(cookies)

    def e2_htmx() -> list[Request]:
        return today(cookies, (b"hx-request", b"true"))

    def e2_full() -> list[Request]:
        return today(busy_cookies)

    os.environ["DATABASE_URL"] = url
    os.environ["BENCH_DATABASE_URL"] = url
    from app.config import Settings
    from app.main import create_app
    from bench import baseline

    product = create_app(Settings())
    for number, u in enumerate(users[:20]):
        cookies.append(
            await sign_in(product, u["email"], credentials["password"], f"10.0.0.{number}")
        )
    for number, u in enumerate(credentials["busy"]):
        busy_cookies.append(
            await sign_in(product, u["email"], credentials["password"], f"10.0.1.{number}")
        )
    async with baseline.lifespan(baseline.app):
        workloads: dict[str, tuple[Asgi, Callable[[], list[Request]]]] = {
            "E1 baseline": (baseline.app, e1),
            "E1 product": (product, e1),
            "E3 product": (product, e3),
            "me product": (product, me),
            "E2 product": (product, e2),
            "E2-htmx product": (product, e2_htmx),
            "E2-full product": (product, e2_full),
        }
        workloads = {
            name: w
            for name, w in workloads.items()
            if name == "E1 baseline" or name.startswith(only)
        }
        results: dict[str, list[float]] = {name: [] for name in workloads}
        for app, make in workloads.values():  # warm up: connections, statement caches
            await cpu_per_request(app, make()[:200])
        for _ in range(rounds):
            for name, (app, make) in workloads.items():
                results[name].append(await cpu_per_request(app, make()))
    base = statistics.median(results["E1 baseline"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:16} {median:6.3f} ms CPU/request  {median / base:5.2f} × E1 baseline")


if __name__ == "__main__":
    asyncio.run(main())
