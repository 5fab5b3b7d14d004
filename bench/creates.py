"""App CPU and round trips per create (E4-write, T7), in process: a relative figure for a busy
machine.

`DATABASE_URL=postgresql://…/db python -m bench.creates` (a migrated database; a user of
its own is registered in it) calls the product's ASGI app and the raw baseline's
(bench/baseline.py) directly, without a server or a socket: `POST /api/v1/interviews` with
an API token and E4-write's body (an interview with 3 people, bench.run.interview_body),
8 at a time. It reports this process's CPU time per create (`time.process_time`, so
Postgres' CPU does not count), creates per second of wall time, and the round trips to
Postgres per create (every message exchange asyncpg waits for: BEGIN, each statement,
COMMIT), each the median of BENCH_ROUNDS rounds of BENCH_REQUESTS creates.
`BENCH_PROFILE=cprofile` or `=pyinstrument` profiles one more round of the product's and
writes it under bench/results/.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench import hotpath

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
# asyncpg's protocol methods that each send a request and wait for ReadyForQuery.
ROUND_TRIPS = (
    "prepare",
    "bind_execute",
    "bind_execute_many",
    "bind",
    "execute",
    "query",
    "close_statement",
    "copy_in",
    "copy_out",
)
round_trips = 0


class _Counted:
    """An asyncpg protocol that counts the round trips made through it."""

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._protocol, name)
        if name not in ROUND_TRIPS:
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            global round_trips
            round_trips += 1
            return value(*args, **kwargs)

        return counted


def count_round_trips() -> None:
    from asyncpg.connection import Connection

    original = Connection.__init__

    def init(self: Any, protocol: Any, *args: Any, **kwargs: Any) -> None:
        original(self, _Counted(protocol), *args, **kwargs)

    Connection.__init__ = init  # type: ignore[method-assign]


async def post(app: Asgi, path: str, body: bytes, token: str) -> tuple[int, bytes]:
    headers = [
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"accept", b"*/*"),
    ]
    status, _, answer = await hotpath.call(app, path, "", headers, method="POST", body=body)
    return status, answer


async def run(app: Asgi, bodies: list[bytes], token: str) -> tuple[float, float, float]:
    """(ms of this process's CPU, creates per second, round trips) per create, 8 at a time."""
    queue = list(bodies)

    async def client() -> None:
        while queue:
            status, answer = await post(app, "/api/v1/interviews", queue.pop(), token)
            assert status == 201, (status, answer[:300])

    before = round_trips
    started, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(8)))
    cpu, wall = time.process_time() - started, time.perf_counter() - wall
    return cpu * 1000 / len(bodies), len(bodies) / wall, (round_trips - before) / len(bodies)


async def token_of(app: Asgi) -> str:
    """A new user of the product (registration open) and an API token of theirs."""
    email, password = f"bench-{uuid.uuid4().hex[:12]}@example.com", "bench-password-1"
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "display_name": "Bench Writer"},
        )
        assert registered.status_code == 201, registered.text
        made = await client.post("/api/v1/tokens", json={"name": "bench"}, auth=(email, password))
        assert made.status_code == 201, made.text
        return str(made.json()["token"])


def profiled(kind: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """Start and stop callables of a profiler writing to bench/results/creates.<kind>…"""
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    if kind == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled", interval=0.0002)

        def stop_pyinstrument() -> None:
            profiler.stop()
            (out / "creates.pyinstrument.txt").write_text(
                profiler.output_text(unicode=False, color=False, show_all=False)
            )

        return profiler.start, stop_pyinstrument
    import cProfile

    cprofiler = cProfile.Profile(time.process_time)  # CPU, not the wait for Postgres

    def stop_cprofile() -> None:
        cprofiler.disable()
        cprofiler.dump_stats(out / "creates.cprofile")

    return cprofiler.enable, stop_cprofile


async def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    n = int(os.environ.get("BENCH_REQUESTS", "1000"))
    url = os.environ["DATABASE_URL"]
    os.environ.setdefault("BENCH_DATABASE_URL", url)
    os.environ.setdefault("FOLLOWUP_REGISTRATION", "open")
    count_round_trips()
    from app.config import Settings
    from app.main import create_app
    from bench import baseline
    from bench.run import interview_body

    product = create_app(Settings())
    token = await token_of(product)

    def bodies() -> list[bytes]:
        return [interview_body(i).encode() for i in range(n)]

    async with baseline.lifespan(baseline.app):
        apps: dict[str, Asgi] = {"baseline": baseline.app, "product": product}
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in apps}
        for app in apps.values():  # warm up: connections, statement caches
            await run(app, bodies()[:200], token)
        for _ in range(rounds):
            for name, app in apps.items():
                results[name].append(await run(app, bodies(), token))
        if kind := os.environ.get("BENCH_PROFILE"):
            start, stop = profiled(kind)
            start()
            await run(product, bodies(), token)
            stop()
    await product.state.engine.dispose()  # type: ignore[attr-defined]
    base = statistics.median(cpu for cpu, _, _ in results["baseline"])
    for name, values in results.items():
        cpu = statistics.median(v[0] for v in values)
        rate = statistics.median(v[1] for v in values)
        trips = statistics.median(v[2] for v in values)
        print(
            f"{name:9} {cpu:6.3f} ms CPU/create ({cpu / base:5.2f} × baseline)"
            f"  {rate:6.0f} creates/s  {trips:4.1f} round trips/create"
        )


if __name__ == "__main__":
    asyncio.run(main())
