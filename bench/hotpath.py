"""App CPU per request of the hot reads, in process: a relative figure for a busy machine.

`python -m bench.hotpath` (after `BENCH_SIZE=M BENCH_DB=… python -m bench.seed`) calls the
product's ASGI app and the raw baseline's directly, without a server or a socket, and
reports this process's CPU time per request (`time.process_time`, so Postgres and other
processes' load do not count) for E1 (the follow-ups list, bearer token), E3 (one
interview) and /me, each the median of BENCH_ROUNDS rounds of BENCH_REQUESTS requests.
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


async def call(app: Asgi, path: str, query: str, token: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"accept", b"*/*"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def cpu_per_request(app: Asgi, requests: list[tuple[str, str, str]]) -> float:
    """Milliseconds of this process's CPU per request, the requests run 8 at a time."""
    queue = list(requests)

    async def client() -> None:
        while queue:
            path, query, token = queue.pop()
            status, _ = await call(app, path, query, token)
            assert status == 200, (path, status)

    started = time.process_time()
    await asyncio.gather(*(client() for _ in range(8)))
    return (time.process_time() - started) * 1000 / len(requests)


async def main() -> None:
    size = os.environ.get("BENCH_SIZE", "M").upper()
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    n = int(os.environ.get("BENCH_REQUESTS", "2000"))
    url = seed.database_url(seed.database_name())
    users = json.loads((seed.ROOT / "bench" / ".work" / f"credentials-{size}.json").read_text())[
        "users"
    ]
    rng = random.Random(1)

    def e1() -> list[tuple[str, str, str]]:
        return [
            ("/api/v1/followups", f"due_state={rng.choice(STATES)}", u["token"])
            for u in rng.choices(users, k=n)
        ]

    def e3() -> list[tuple[str, str, str]]:
        picked = [u for u in rng.choices(users, k=n * 2) if u["interviews"]][:n]
        return [
            (f"/api/v1/interviews/{rng.choice(u['interviews'])}", "", u["token"]) for u in picked
        ]

    def me() -> list[tuple[str, str, str]]:
        return [("/api/v1/me", "", u["token"]) for u in rng.choices(users, k=n)]

    os.environ["DATABASE_URL"] = url
    os.environ["BENCH_DATABASE_URL"] = url
    from app.config import Settings
    from app.main import create_app
    from bench import baseline

    product = create_app(Settings())
    async with baseline.lifespan(baseline.app):
        workloads: dict[str, tuple[Asgi, Callable[[], list[tuple[str, str, str]]]]] = {
            "E1 baseline": (baseline.app, e1),
            "E1 product": (product, e1),
            "E3 product": (product, e3),
            "me product": (product, me),
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
        print(f"{name:12} {median:6.3f} ms CPU/request  {median / base:5.2f} × E1 baseline")


if __name__ == "__main__":
    asyncio.run(main())
