"""`make bench`: the product against a raw baseline, A/B in the same run, as ratios.

Seeds a fresh database (bench/seed.py), starts the product (`followup serve`, 1 and 2
workers) and the baseline (bench/baseline.py, uvicorn, 1 worker) on 127.0.0.1, checks every
workload once against the baseline's answers (bench/checks.py), warms them up and loads them
in turn with wrk for BENCH_ROUNDS rounds. Per run: req/s, p50/p90/p99, errors as a user sees
them (any answer without the expected status and content) and timeouts, app and Postgres CPU
ms per request (from /proc), peak RSS per worker, bytes per answer, and the share of the
machine other processes took (bench/busy.py). Then the open loop and the SQL scaling check.
Writes bench/results/<UTC time>.json and prints Markdown tables with issue 13's targets, for
the README and for docs/performance.md (which describes the method).

Environment: BENCH_SIZE (XS|S|M|L, default M), BENCH_DURATION (s, default 8),
BENCH_ROUNDS (default 3), BENCH_WARMUP (s, default 3), BENCH_SCALE (M:L or off), BENCH_DB,
BENCH_PG_URL, BENCH_RESULTS_DIR, BENCH_KEEP_DB, BENCH_PLAN=quick and BENCH_NO_WRK=1 (a
small Python load loop instead, for the test).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from app import clock
from bench import busy, checks, compare, openloop, scale, seed
from bench.checks import Expect, Request, Workload

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
STATES = ("due", "overdue", "upcoming")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# ---------------------------------------------------------------- /proc


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime (+ reaped children's) of these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])
    return total / CLK_TCK


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of the Postgres backends connected to `database` (their title names it)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if title.startswith("postgres:") and f" {database} " in title:
                found[int(entry.name)] = cpu_seconds([int(entry.name)])
    return found


def postmaster_reaped() -> float:
    """CPU of the postmaster's exited children (backends that closed during a run)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                title = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.endswith(b"/postgres"):
                return sum(int(v) for v in fields[13:15]) / CLK_TCK
    return 0.0


def postgres_cpu(database: str) -> tuple[dict[int, float], float]:
    return postgres_backends(database), postmaster_reaped()


def postgres_delta(before: tuple[dict[int, float], float], database: str) -> float:
    """Backends alive at the end (counted from 0 if new), plus those that exited meanwhile
    (from the postmaster's reaped-children time: any database's, so noisy if Postgres is
    shared)."""
    backends, reaped = postgres_cpu(database)
    alive = sum(cpu - before[0].get(pid, 0.0) for pid, cpu in backends.items())
    return alive + max(0.0, reaped - before[1])


def workers_of(pid: int) -> list[int]:
    """This server's worker processes (itself if it has none)."""
    return [p for p in process_tree(pid) if p != pid] or [pid]


def worker_rss_mb(pid: int, field: str = "VmRSS", workers: list[int] | None = None) -> float:
    """The largest RSS (VmRSS now, or VmHWM: the peak since start) among a server's
    workers."""
    workers = workers or workers_of(pid)
    peak = 0
    for p in workers:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


class RssSampler:
    """The largest worker RSS seen while a run is under way (sampled every 0.25 s): T6 is
    about memory under load, not the start-up peak (migrations run in the serving process)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0.0
        self.workers = workers_of(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, worker_rss_mb(self.pid, workers=self.workers))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, worker_rss_mb(self.pid))


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(name: str, args: list[str], env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*args, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(name, process, port, log)


def wait_ready(server: Server, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited:\n{server.log.read_text()}")
        try:
            if httpx.get(server.url + path, timeout=1, trust_env=False).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{server.name} did not start:\n{server.log.read_text()}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(5)


# ---------------------------------------------------------------- load


def ensure_wrk() -> str | None:
    if os.environ.get("BENCH_NO_WRK"):
        return None
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing the Debian package (apt-get install wrk)…", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    for command in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"]):
        subprocess.run([*sudo, *command], check=False, capture_output=True)
        if shutil.which("wrk"):
            break
    if not shutil.which("wrk"):
        subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], check=False)
    return shutil.which("wrk")


LUA = """
local reqs = {%s}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local r = reqs[math.random(#reqs)]
  return wrk.format(r[1], r[2], r[3], r[4])
end
%s
done = function(summary, latency, requests)
  local e = summary.errors
  local count, first = tally()
  io.write(string.format(
    'BENCH {"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect":%%d,"read":%%d,"write":%%d,'
    .. '"status":%%d,"timeout":%%d,"unexpected":%%d,"first_unexpected":"%%s",'
    .. '"p50":%%d,"p90":%%d,"p99":%%d,"mean":%%f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, count, first, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean))
end
"""


def lua_script(workload: Workload, path: Path) -> Path:
    def quote(s: str) -> str:
        return json.dumps(s)  # a JSON string is a valid Lua string here (ASCII only)

    entries = [
        "{"
        + ",".join(
            [
                quote(r.method),
                quote(r.path),
                "{" + ",".join(f"[{quote(k)}]={quote(v)}" for k, v in r.headers.items()) + "}",
                "nil" if r.body is None else quote(r.body),
            ]
        )
        + "}"
        for r in workload.requests
    ]
    path.write_text(LUA % (",\n".join(entries), checks.lua_check(workload.expect)))
    return path


@dataclass
class Run:
    round: int
    workload: str
    server: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int  # answers a user would not take (unexpected status or content), socket errors
    timeouts: int
    app_cpu_ms_per_req: float
    pg_cpu_ms_per_req: float
    peak_rss_mb: float  # the largest worker RSS sampled under load
    hwm_rss_mb: float  # VmHWM: the peak since the process started (start-up included)
    others_cpu_pct: float = 0.0  # the machine's CPU other processes took meanwhile (%)
    bytes_per_response: float = 0.0  # on the wire, headers included (wrk's count)
    first_unexpected: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def wrk_load(
    wrk: str, server: Server, script: Path, connections: int, seconds: int
) -> dict[str, Any]:
    threads = min(2, connections)
    out = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(script),
            server.url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    data: dict[str, Any] = json.loads(line[6:])
    return data


async def _python_load(
    server: Server, workload: Workload, connections: int, seconds: float
) -> dict[str, Any]:
    """A small closed-loop load, for when there is no wrk (the fast test)."""
    latencies: list[float] = []
    unexpected, received = 0, 0
    first = ""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=5) as client:

        async def user(index: int) -> None:
            nonlocal unexpected, received, first
            i = index
            while time.monotonic() < deadline:
                r = workload.requests[i % len(workload.requests)]
                i += 7
                started = time.perf_counter()
                async with client.stream(
                    r.method,
                    r.path,
                    headers={"Accept-Encoding": "identity", **r.headers},
                    content=r.body,
                ) as response:
                    body = b"".join([chunk async for chunk in response.aiter_raw()])
                latencies.append((time.perf_counter() - started) * 1e6)
                received += len(body)
                why = checks.unexpected(
                    workload.expect, response.status_code, response.headers, body
                )
                if why is not None:
                    unexpected += 1
                    first = first or why

        began = time.monotonic()
        await asyncio.gather(*(user(i) for i in range(connections)))
        elapsed = time.monotonic() - began
    latencies.sort()

    def pct(p: float) -> int:
        if not latencies:
            return 0
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))])

    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "bytes": received,
        "connect": 0,
        "read": 0,
        "write": 0,
        "status": 0,
        "timeout": 0,
        "unexpected": unexpected,
        "first_unexpected": first,
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
    }


def settle(roots: list[int], timeout: float = 5.0) -> None:
    """Wait until the servers are idle (under 10 % of a core for 0.2 s): the answers still
    owed to the previous run's closed connections must not count against the next."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for root in roots for p in process_tree(root)]
        before = cpu_seconds(pids)
        time.sleep(0.2)
        if cpu_seconds(pids) - before < 0.02:
            return


def measure(
    wrk: str | None,
    server: Server,
    workload: Workload,
    connections: int,
    seconds: int,
    round_no: int,
    database: str,
    workdir: Path,
    bench_roots: list[int],
) -> Run:
    script = lua_script(workload, workdir / f"{workload.name}.lua")
    settle(bench_roots)
    app_pids = process_tree(server.process.pid)
    pg_before = postgres_cpu(database)
    app_before = cpu_seconds(app_pids)
    with RssSampler(server.process.pid) as rss, busy.Meter(bench_roots, database) as machine:
        if wrk:
            data = wrk_load(wrk, server, script, connections, seconds)
        else:
            data = asyncio.run(_python_load(server, workload, min(connections, 8), seconds))
    app_after = cpu_seconds(app_pids)
    pg_used = postgres_delta(pg_before, database)
    requests = max(1, data["requests"])
    elapsed = data["duration_us"] / 1e6
    run = Run(
        round=round_no,
        workload=workload.name,
        server=server.name,
        connections=connections,
        seconds=round(elapsed, 2),
        requests=data["requests"],
        rps=round(data["requests"] / elapsed, 1),
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p99_ms=data["p99"] / 1000,
        # wrk's own `status` count (answers >= 400) is a subset of `unexpected`.
        errors=data["connect"] + data["read"] + data["write"] + data["unexpected"],
        timeouts=data["timeout"],
        app_cpu_ms_per_req=round((app_after - app_before) * 1000 / requests, 3),
        pg_cpu_ms_per_req=round(pg_used * 1000 / requests, 3),
        peak_rss_mb=round(rss.peak, 1),
        hwm_rss_mb=round(worker_rss_mb(server.process.pid, "VmHWM"), 1),
        others_cpu_pct=machine.pct,
        bytes_per_response=round(data["bytes"] / requests, 1),
        first_unexpected=data["first_unexpected"],
    )
    print(
        f"  r{round_no} {workload.name:<11} {server.name:<10} c{connections:<3} "
        f"{run.rps:>8.0f} req/s  p99 {run.p99_ms:6.1f} ms  err {run.errors + run.timeouts}  "
        f"app {run.app_cpu_ms_per_req:.2f} ms/req  pg {run.pg_cpu_ms_per_req:.2f} ms/req  "
        f"rss {run.peak_rss_mb:.0f} MB  others' CPU {run.others_cpu_pct:.0f} %",
        flush=True,
    )
    if not run.requests:
        print("    ! no answer came back within the run (make BENCH_DURATION longer)")
    if run.first_unexpected:
        print(f"    ! {run.errors} unexpected answers, the first: {run.first_unexpected}")
    if run.others_cpu_pct > busy.WARN_PCT:
        print(
            f"    ! other processes took {run.others_cpu_pct:.0f} % of the machine during this "
            f"run (warning above {busy.WARN_PCT:.0f} %): its figures are unreliable",
            flush=True,
        )
    return run


# ---------------------------------------------------------------- workloads


def login(server: Server, email: str, password: str) -> str:
    response = httpx.post(
        server.url + "/api/v1/auth/login",
        json={"email": email, "password": password},
        timeout=30,
        trust_env=False,
    )
    response.raise_for_status()
    cookie = response.cookies.get("followup_session")
    if not cookie:
        raise SystemExit(f"no session cookie from /api/v1/auth/login: {response.text}")
    return cookie


def interview_body(n: int) -> str:
    """An interview with 3 people (a hiring manager and two interviewers) a few days ago."""
    starts = clock.now().replace(microsecond=0) - timedelta(days=2, minutes=n)
    return json.dumps(
        {
            "company": seed.COMPANIES[n % len(seed.COMPANIES)],
            "role": seed.ROLES[n % len(seed.ROLES)],
            "starts_at": starts.isoformat(),
            "stage": "Onsite",
            "highlight": "the migration of the billing system to event sourcing",
            "people": [
                {"name": "Ana Alvarez", "email": "ana@acme.example", "role": "hiring_manager"},
                {"name": "Ben Brown", "email": "ben@acme.example", "role": "interviewer"},
                {"name": "Chloé Chen", "email": "chloe@acme.example", "role": "interviewer"},
            ],
        }
    )


def split_users(users: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Readers and writers, apart: E4's writes add interviews, which would otherwise grow
    the Today pages and lists that E1 to E3 read from round to round."""
    writers = max(1, min(200, len(users) // 5))
    return users[:-writers], users[-writers:]


LIST = Expect(markers=('{"items":[',))
FULL_LIST = Expect(markers=('{"items":[{', '"next_cursor":"'))  # 50 items and more to come
TODAY_PAGE = Expect(content_type="text/html", markers=('<section id="today"', "</html>"))
TODAY_FRAGMENT = Expect(content_type="text/html", markers=('<section id="today"',))
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what a browser sends (E2)


def workloads(
    credentials: dict[str, Any], cookies: list[str], busy_cookies: list[str]
) -> dict[str, Workload]:
    """Each workload's requests and what a good answer is. `cookies`: sessions of the first
    readers (E2); `busy_cookies`: of the busy users (E2-full), in credentials' order."""
    users, writers = split_users(credentials["users"])
    busy_users = credentials["busy"]

    def bearer(u: dict[str, Any], **more: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {u['token']}", **more}

    def listing(u: dict[str, Any], state: str) -> Request:
        path = f"/api/v1/followups?due_state={state}"
        return Request("GET", path, bearer(u), twin=((path, bearer(u)),))

    def today(u: dict[str, Any], cookie: str, **more: str) -> Request:
        """Today shows what the baseline lists in the three states (at most 50 each)."""
        twin = tuple((f"/api/v1/followups?due_state={s}", bearer(u)) for s in STATES)
        headers = {"Cookie": f"followup_session={cookie}", **BROWSER, **more}
        return Request("GET", "/", headers, twin=twin)

    e1 = [listing(u, state) for u in users for state in STATES]
    e1_full = [listing(u, "due") for u in busy_users]
    page = [today(u, c) for u, c in zip(users, cookies, strict=False)]
    fragment = [today(u, c, **{"HX-Request": "true"}) for u, c in zip(users, cookies, strict=False)]
    busy_page = [today(u, c) for u, c in zip(busy_users, busy_cookies, strict=False)]
    e3 = [
        Request("GET", f"/api/v1/interviews/{i}", bearer(u)) for u in users for i in u["interviews"]
    ]
    json_type = {"Content-Type": "application/json"}
    creates = [
        Request("POST", "/api/v1/interviews", bearer(u, **json_type), interview_body(n))
        for n, u in enumerate(writers)
    ]
    marks = [
        Request("PATCH", f"/api/v1/followups/{f}", bearer(u, **json_type), '{"status": "sent"}')
        for u in writers
        for f in u["scheduled"][:1]
    ]
    # E4: E1's reads (of the writers) with 10 % writes, half new interviews, half marked sent.
    writes = [w for pair in zip(creates, marks, strict=False) for w in pair] or creates
    reads = [listing(u, state) for u in writers for state in STATES]
    reads = (reads * (1 + 9 * len(writes) // len(reads)))[: 9 * len(writes)]
    e4 = [*reads, *writes]
    return {
        "E1": Workload("E1", e1, LIST),
        "E1-full": Workload("E1-full", e1_full, FULL_LIST),
        "E2": Workload("E2", page, TODAY_PAGE),
        "E2-htmx": Workload("E2-htmx", fragment, TODAY_FRAGMENT),
        "E2-full": Workload("E2-full", busy_page, TODAY_PAGE),
        "E3": Workload("E3", e3, Expect(markers=('"company":',))),
        "E4": Workload("E4", e4, Expect(statuses=(200, 201), markers=('{"',))),
        "E4-write": Workload(
            "E4-write", creates, Expect(statuses=(201,), markers=('"followups":',))
        ),
    }


def check_before_load(
    loads: dict[str, Workload], started: dict[str, Server]
) -> dict[str, dict[str, Any]]:
    """Each workload once on each server it runs on (raises CheckFailed on a bad answer);
    the answers' sizes, per workload."""
    found: dict[str, dict[str, Any]] = {}
    options: dict[str, Any] = {"timeout": 30, "trust_env": False}
    with httpx.Client(base_url=started["baseline"].url, **options) as baseline:
        for name, workload in loads.items():
            for server in sorted({s for w, s, _ in plan() if w == name}):
                with httpx.Client(base_url=started[server].url, **options) as client:
                    if server == "baseline":
                        # The baseline checked the same way (status, content type, markers).
                        result = checks.check_workload(workload, client, None, server=server)
                    else:
                        result = checks.check_workload(workload, client, baseline, server=server)
                        found.setdefault(name, result)
    for name, sizes in found.items():
        shown = sizes["followups_shown"]
        print(
            f"  checked {name:<11} {sizes['checked']:>3} answers as expected"
            + ("" if shown is None else f"; {shown} follow-ups shown")
            + f"; {sizes['raw_bytes']} B, {sizes['wire_bytes']} B on the wire"
            + (
                ""
                if sizes["gzip_wire_bytes"] is None
                else f", {sizes['gzip_wire_bytes']} B with gzip"
            ),
            flush=True,
        )
    return found


@contextmanager
def servers(database_url: str, workdir: Path, names: set[str]) -> Iterator[dict[str, Server]]:
    product_env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret",
        "FOLLOWUP_DATA_DIR": str(workdir / "data"),
        "FOLLOWUP_REGISTRATION": "closed",
    }
    followup = str(BIN / "followup")
    started: dict[str, Server] = {}
    try:
        # One at a time: each `followup serve` applies migrations first.
        started["product-1w"] = start("product-1w", [followup, "serve"], product_env, workdir)
        wait_ready(started["product-1w"], "/healthz")
        if "product-2w" in names:
            started["product-2w"] = start(
                "product-2w", [followup, "serve", "--workers", "2"], product_env, workdir
            )
        started["baseline"] = start(
            "baseline",
            [
                str(BIN / "uvicorn"),
                "bench.baseline:app",
                "--workers",
                "1",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            {"BENCH_DATABASE_URL": database_url},
            workdir,
        )
        if "product-2w" in started:
            wait_ready(started["product-2w"], "/healthz")
            time.sleep(0.5)  # both of the 2-worker server's workers up
        wait_ready(started["baseline"], "/api/v1/followups")
        yield started
    finally:
        for server in started.values():
            stop(server)


# ---------------------------------------------------------------- report


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _pick(runs: list[Run], workload: str, server: str, connections: int) -> list[Run]:
    return [
        r
        for r in runs
        if r.workload == workload and r.server == server and r.connections == connections
    ]


def _ratios(num: list[Run], den: list[Run], attr: str = "rps") -> list[float]:
    """Per round: the numerator's figure ÷ the denominator's in the same round."""
    by_round = {r.round: getattr(r, attr) for r in den}
    return [getattr(r, attr) / by_round[r.round] for r in num if by_round.get(r.round, 0) > 0]


def ratios(runs: list[Run]) -> dict[str, list[float]]:
    base, p1, p2 = (
        _pick(runs, "E1", "baseline", 64),
        _pick(runs, "E1", "product-1w", 64),
        _pick(runs, "E1", "product-2w", 64),
    )
    full, full_base = (
        _pick(runs, "E1-full", "product-1w", 64),
        _pick(runs, "E1-full", "baseline", 64),
    )
    return {
        "E1 1 worker ÷ baseline": _ratios(p1, base),
        "E1 2 workers ÷ baseline": _ratios(p2, base),
        "E1 app CPU/req 1 worker ÷ baseline": _ratios(p1, base, "app_cpu_ms_per_req"),
        "E1 full page 1 worker ÷ baseline": _ratios(full, full_base),
        "E1 full page app CPU/req ÷ baseline": _ratios(full, full_base, "app_cpu_ms_per_req"),
        "E2 ÷ E1 full page (1 worker)": _ratios(_pick(runs, "E2", "product-1w", 64), full),
        "E2 htmx ÷ E1 full page (1 worker)": _ratios(
            _pick(runs, "E2-htmx", "product-1w", 64), full
        ),
        "E2 with 100 follow-ups ÷ E1 full page (1 worker)": _ratios(
            _pick(runs, "E2-full", "product-1w", 64), full
        ),
        "E3 ÷ E1 (1 worker)": _ratios(_pick(runs, "E3", "product-1w", 64), p1),
        "E4 mix ÷ E1 (1 worker)": _ratios(_pick(runs, "E4", "product-1w", 64), p1),
        "E4 writes ÷ raw asyncpg (1 worker)": _ratios(
            _pick(runs, "E4-write", "product-1w", 8), _pick(runs, "E4-write", "baseline", 8)
        ),
    }


# The targets of issue 13 on the ratios: (target, comparison, bound).
RATIO_TARGETS: dict[str, tuple[str, str, float]] = {
    "E1 1 worker ÷ baseline": ("T1", "≥", 0.50),
    "E1 2 workers ÷ baseline": ("T1", "≥", 0.70),
    "E1 app CPU/req 1 worker ÷ baseline": ("T2", "≤", 2.5),
    "E2 ÷ E1 full page (1 worker)": ("T4", "≥", 0.75),
    "E2 htmx ÷ E1 full page (1 worker)": ("T4", "≥", 0.90),
    "E3 ÷ E1 (1 worker)": ("T8", "≥", 0.90),
    "E4 writes ÷ raw asyncpg (1 worker)": ("T7", "≥", 0.40),
}
E1_P99_MS = 25.0  # T3: E1 p99 at 8 connections, 1 worker
RSS_MB = 100.0  # T6
TODAY_WIRE_BYTES = 87_000  # T9: Today with 100 follow-ups, gzip, as JobSync's dashboard
OPEN_LOOP_P99_MS = 100.0  # T10
OPEN_LOOP_HELD = 0.95  # T10: "holds the rate": achieved at least this share of the target

TARGETS = {
    "T1": "E1 throughput ≥ 0.50 × baseline with 1 worker, ≥ 0.70 × with 2",
    "T2": "E1 app CPU per request ≤ 2.5 × the baseline's",
    "T3": "E1 p99 at 8 connections (1 worker) ≤ 25 ms; no errors (answers a user would not "
    "take) or timeouts in any product run",
    "T4": "Today (E2) ≥ 0.75 × E1 full page; its htmx fragment ≥ 0.90 ×",
    "T5": "E1, E2, E5 SQL at L ≤ 1.5 × their time at M; every HTTP ratio at L within 0.9 × M",
    "T6": "≤ 100 MB RSS per worker under load",
    "T7": "creating an interview with 3 people ≥ 0.40 × a raw asyncpg insert of the same rows",
    "T8": "E3 (one interview) ≥ 0.90 × E1",
    "T9": "Today with 100 follow-ups ≤ 87 KB on the wire (gzip, as a browser asks)",
    "T10": "open loop at half the baseline's maximum: 2 workers hold the rate with p99 ≤ 100 ms",
}


def _meets(value: float, comparison: str, bound: float) -> bool:
    return value >= bound if comparison == "≥" else value <= bound


def http_scaling(
    s: dict[str, list[float]], size: str, results_dir: Path
) -> tuple[dict[str, dict[str, Any]] | None, str]:
    """T5's HTTP half: this run's ratios against the latest result at the other size (M
    against L); None when there is none yet."""
    other = {"M": "L", "L": "M"}.get(size)
    if other is None:
        return None, "HTTP ratio at L vs M: a run at M or L only"
    path = compare.latest(results_dir, other)
    if path is None:
        return None, f"HTTP ratios at L vs M: needs a run at {other} too"
    here = {"summary": {"ratios": s}}
    there = json.loads(path.read_text())
    at_m, at_l = (here, there) if size == "M" else (there, here)
    return compare.compare(at_m, at_l), path.name


def item_costs(runs: list[Run], answers: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """E1's app CPU per request split into a fixed part and a part per follow-up listed,
    from the mixed E1 (short pages) and the full page (50 items), per server."""
    short = (answers.get("E1") or {}).get("followups_mean")
    full = (answers.get("E1-full") or {}).get("followups_mean")
    if short is None or full is None or full <= short:
        return {}
    found = {}
    for server in ("product-1w", "baseline"):
        mixed = _median([r.app_cpu_ms_per_req for r in _pick(runs, "E1", server, 64)])
        page = _median([r.app_cpu_ms_per_req for r in _pick(runs, "E1-full", server, 64)])
        if mixed == mixed and page == page:  # not NaN
            per_item = (page - mixed) / (full - short)
            found[server] = {
                "fixed_ms": round(mixed - per_item * short, 3),
                "per_item_ms": round(per_item, 4),
                "items_short": short,
                "items_full": full,
            }
    return found


def summarize(
    runs: list[Run],
    *,
    open_loop: dict[str, Any],
    scale_check: dict[str, Any] | None,
    size: str,
    results_dir: Path,
    answers: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    s = ratios(runs)
    p99_8 = _median([r.p99_ms for r in _pick(runs, "E1", "product-1w", 8)])
    e2_p99_8 = _median([r.p99_ms for r in _pick(runs, "E2", "product-1w", 8)])
    product_runs = [r for r in runs if r.server.startswith("product")]
    worst64 = max((r.p99_ms for r in product_runs if r.connections == 64), default=float("nan"))
    failures = sum(r.errors + r.timeouts for r in product_runs)
    baseline_failures = sum(r.errors + r.timeouts for r in runs if r.server == "baseline")
    rss = max((r.peak_rss_mb for r in product_runs), default=float("nan"))
    hwm = max((r.hwm_rss_mb for r in product_runs), default=float("nan"))
    others = [r.others_cpu_pct for r in runs]
    machine = {
        "others_cpu_pct_median": _median(others),
        "others_cpu_pct_max": max(others, default=float("nan")),
        "busy_runs": sum(o > busy.WARN_PCT for o in others),
        "warn_pct": busy.WARN_PCT,
    }

    def med(key: str) -> float:
        return _median(s[key])

    def ratio_figure(key: str) -> tuple[bool, str]:
        _, comparison, bound = RATIO_TARGETS[key]
        return _meets(med(key), comparison, bound), f"{med(key):.2f} ({comparison} {bound:.2f})"

    t5: tuple[bool | None, str]
    scaling, scaling_source = http_scaling(s, size, results_dir)
    if scale_check:
        worst = max(scale_check.values(), key=lambda q: q["time_ratio"])
        worst_name = next(k for k, v in scale_check.items() if v is worst)
        buffers = max(q["buffer_ratio"] for q in scale_check.values())
        sql_ok = all(q["time_ratio"] <= 1.5 for q in scale_check.values())
        if scaling:
            low = min(scaling, key=lambda k: scaling[k]["L_over_M"])
            http_ok: bool | None = all(row["holds"] for row in scaling.values())
            http = (
                f"; HTTP ratios at L ÷ at M: {sum(r['holds'] for r in scaling.values())} of "
                f"{len(scaling)} within 0.9 (lowest {scaling[low]['L_over_M']:.2f}, {low})"
            )
        else:
            http_ok, http = None, f"; {scaling_source}"
        t5 = (
            sql_ok and http_ok is not False,
            f"SQL L ÷ M worst {worst['time_ratio']:.2f} ({worst_name}; ≤ 1.5), "
            f"buffers L ÷ M worst {buffers:.2f}{http}",
        )
    else:
        t5 = (None, "SQL not measured (BENCH_SCALE=off)")
    t1 = [ratio_figure("E1 1 worker ÷ baseline"), ratio_figure("E1 2 workers ÷ baseline")]
    t4 = [
        ratio_figure("E2 ÷ E1 full page (1 worker)"),
        ratio_figure("E2 htmx ÷ E1 full page (1 worker)"),
    ]
    today = answers.get("E2-full", {})
    today_bytes = today.get("wire_bytes")
    t9: tuple[bool | None, str] = (
        (None, "not measured")
        if today_bytes is None
        else (
            today_bytes <= TODAY_WIRE_BYTES,
            f"{today_bytes / 1000:.1f} KB (≤ {TODAY_WIRE_BYTES / 1000:.0f}) for "
            f"{today.get('followups_shown')} follow-ups, {today.get('raw_bytes', 0) / 1000:.1f} KB "
            "uncompressed",
        )
    )
    two = open_loop.get("product-2w")
    t10: tuple[bool | None, str] = (
        (None, "not measured (no 2-worker server in this plan)")
        if two is None
        else (
            two["achieved_rps"] >= OPEN_LOOP_HELD * two["target_rps"]
            and not two["dropped"]
            and not two["errors"]
            and two["p99_ms"] <= OPEN_LOOP_P99_MS,
            f"2 workers: {two['achieved_rps']:.0f} of {two['target_rps']:.0f} req/s "
            f"(≥ {OPEN_LOOP_HELD:.0%}), p99 {two['p99_ms']:.1f} ms (≤ {OPEN_LOOP_P99_MS:.0f}), "
            f"errors {two['errors']}, not sent {two['dropped']}",
        )
    )
    targets: dict[str, tuple[bool | None, str]] = {
        "T1": (
            t1[0][0] and t1[1][0],
            f"1 worker {t1[0][1]}, 2 workers {t1[1][1]}",
        ),
        "T2": (
            ratio_figure("E1 app CPU/req 1 worker ÷ baseline")[0],
            f"app CPU per request {ratio_figure('E1 app CPU/req 1 worker ÷ baseline')[1]}",
        ),
        "T3": (
            p99_8 <= E1_P99_MS and failures == 0,
            f"c8 p99 E1 {p99_8:.1f} ms (≤ {E1_P99_MS:.0f}); errors+timeouts {failures} (0); "
            f"E2 c8 p99 {e2_p99_8:.1f} ms, worst c64 p99 {worst64:.1f} ms",
        ),
        "T4": (t4[0][0] and t4[1][0], f"page {t4[0][1]}, htmx fragment {t4[1][1]}"),
        "T5": t5,
        "T6": (
            rss <= RSS_MB,
            f"RSS per worker under load {rss:.0f} MB (≤ {RSS_MB:.0f}); start-up peak {hwm:.0f} MB",
        ),
        "T7": ratio_figure("E4 writes ÷ raw asyncpg (1 worker)"),
        "T8": ratio_figure("E3 ÷ E1 (1 worker)"),
        "T9": t9,
        "T10": t10,
    }
    return {
        "ratios": s,
        "targets": targets,
        "open_loop": open_loop,
        "scale": scale_check,
        "http_scaling": scaling,
        "http_scaling_source": scaling_source,
        "answers": answers,
        "item_costs": item_costs(runs, answers),
        "errors": {"product": failures, "baseline": baseline_failures},
        "machine": machine,
    }


def _status(met: bool | None) -> str:
    return "not measured" if met is None else "met" if met else "**not met**"


def _machine_line(machine: dict[str, Any]) -> str:
    line = (
        f"Machine busy (CPU other processes took, share of the {os.cpu_count()} CPUs): median "
        f"{machine['others_cpu_pct_median']:.0f} %, max {machine['others_cpu_pct_max']:.0f} % "
        "over the runs"
    )
    if machine["busy_runs"]:
        line += (
            f" — **warning: {machine['busy_runs']} runs above {machine['warn_pct']:.0f} %, "
            "the figures are unreliable**"
        )
    return line + "."


README_RATIOS = [
    "E1 1 worker ÷ baseline",
    "E1 2 workers ÷ baseline",
    "E1 app CPU/req 1 worker ÷ baseline",
    "E1 full page 1 worker ÷ baseline",
    "E2 ÷ E1 full page (1 worker)",
    "E2 htmx ÷ E1 full page (1 worker)",
    "E3 ÷ E1 (1 worker)",
    "E4 writes ÷ raw asyncpg (1 worker)",
]


def readme_table(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """The short table for the README: the main ratios with their targets, the errors and
    how busy the machine was (the rest goes to docs/performance.md)."""
    lines = [
        f"Followup ÷ raw baseline, BENCH_SIZE={meta['size']}, {meta['rounds']} × "
        f"{meta['duration']} s rounds ({meta['started'][:10]}):",
        "",
        "| ratio | median | target | status |",
        "| --- | ---: | --- | --- |",
    ]
    for name in README_RATIOS:
        values = summary["ratios"].get(name)
        value = _median(values) if values else float("nan")
        if name in RATIO_TARGETS:
            target, comparison, bound = RATIO_TARGETS[name]
            goal = f"{target}: {comparison} {bound:.2f}"
            status = _status(_meets(value, comparison, bound) if values else None)
        else:
            goal, status = "–", ""
        lines.append(f"| {name} | **{value:.2f}** | {goal} | {status} |")
    errors = summary["errors"]
    lines += [
        "",
        f"Errors a user would see (T3: unexpected answers, socket errors, timeouts): "
        f"{errors['product']} in the product's runs, {errors['baseline']} in the baseline's. "
        + _machine_line(summary["machine"]),
    ]
    return "\n".join(lines)


def table(runs: list[Run], summary: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        f"#### Followup ÷ raw baseline — BENCH_SIZE={meta['size']}, {meta['rounds']} × "
        f"{meta['duration']} s rounds, load={meta['load']}, {meta['cpus']} CPUs, "
        f"{meta['started'][:16]} UTC",
        "",
        _machine_line(summary["machine"]),
        "",
        "| ratio | median | min – max |",
        "| --- | ---: | ---: |",
    ]
    for name, values in summary["ratios"].items():
        if values:
            lines.append(
                f"| {name} | **{_median(values):.2f}** | {min(values):.2f} – {max(values):.2f} |"
            )
    if summary["item_costs"]:
        costs = summary["item_costs"]
        first = next(iter(costs.values()))
        lines += [
            "",
            "E1's app CPU per request, fixed and per follow-up listed (from E1 at "
            f"{first['items_short']:.1f} items on average and E1-full at "
            f"{first['items_full']:.0f}):",
            "",
            "| server | fixed ms/request | ms per item |",
            "| --- | ---: | ---: |",
        ]
        for server, c in costs.items():
            lines.append(f"| {server} | {c['fixed_ms']:.2f} | {c['per_item_ms']:.3f} |")
    lines += [
        "",
        "| workload | server | conns | req/s | p50 ms | p90 ms | p99 ms | errors+timeouts "
        "| app CPU ms/req | PG CPU ms/req | RSS MB/worker under load | bytes/answer on the wire "
        "| others' CPU % |",
        "| --- | --- |" + " ---: |" * 11,
    ]
    keys = sorted(
        {(r.workload, r.server, r.connections) for r in runs}, key=lambda k: (k[0], -k[2], k[1])
    )
    for workload, server, connections in keys:
        group = _pick(runs, workload, server, connections)

        def mid(attr: str, group: list[Run] = group) -> float:
            return _median([getattr(r, attr) for r in group])

        failures = sum(r.errors + r.timeouts for r in group)
        lines.append(
            f"| {workload} | {server} | {connections} | {mid('rps'):.0f} | {mid('p50_ms'):.1f} "
            f"| {mid('p90_ms'):.1f} | {mid('p99_ms'):.1f} | {failures} "
            f"| {mid('app_cpu_ms_per_req'):.2f} | {mid('pg_cpu_ms_per_req'):.2f} "
            f"| {max(r.peak_rss_mb for r in group):.0f} | {mid('bytes_per_response'):.0f} "
            f"| {max(r.others_cpu_pct for r in group):.0f} |"
        )
    if summary["answers"]:
        lines += [
            "",
            "Answers, as checked before the load (medians of a sample; bytes on the wire with "
            "headers):",
            "",
            "| workload | checked | follow-ups shown | body bytes | on the wire as loaded "
            "| on the wire with gzip |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, a in summary["answers"].items():

            def n(value: int | None) -> str:
                return "–" if value is None else f"{value:,}"

            lines.append(
                f"| {name} | {a['checked']} | {n(a['followups_shown'])} | {n(a['raw_bytes'])} "
                f"| {n(a['wire_bytes'])} | {n(a['gzip_wire_bytes'])} |"
            )
    if summary["open_loop"]:
        lines += [
            "",
            "Open loop, E1 at a fixed rate (half the baseline's c64 maximum); latency from each "
            "request's due time:",
            "",
            "| server | target req/s | achieved req/s | p50 ms | p90 ms | p99 ms | max ms "
            "| errors | not sent (behind) | others' CPU % |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for server, o in summary["open_loop"].items():
            lines.append(
                f"| {server} | {o['target_rps']:.0f} | {o['achieved_rps']:.0f} | {o['p50_ms']:.1f} "
                f"| {o['p90_ms']:.1f} | {o['p99_ms']:.1f} | {o['max_ms']:.0f} | {o['errors']} "
                f"| {o['dropped']} | {o.get('others_cpu_pct', 0):.0f} |"
            )
    if summary["scale"]:
        small, large = meta["scale_sizes"]
        lines += [
            "",
            f"SQL scaling, EXPLAIN (ANALYZE, BUFFERS) medians at {small} and {large}:",
            "",
            f"| query | ms at {small} | ms at {large} | {large} ÷ {small} | buffers at {small} "
            f"| buffers at {large} | {large} ÷ {small} | rows returned | buffers per row "
            "| seq scans |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]

        def per_row(q: dict[str, Any]) -> str:
            return f"{q['buffers'] / q['rows']:.1f}" if q["rows"] else "–"

        for name, q in summary["scale"].items():
            a, b = q["small"], q["large"]
            lines.append(
                f"| {name} | {a['ms']:.3f} | {b['ms']:.3f} | **{q['time_ratio']:.2f}** "
                f"| {a['buffers']:.0f} | {b['buffers']:.0f} | {q['buffer_ratio']:.2f} "
                f"| {a['rows']:.0f} / {b['rows']:.0f} | {per_row(a)} / {per_row(b)} "
                f"| {', '.join(b['seq_scans']) or 'none'} |"
            )
    if summary["http_scaling"]:
        this = "this run"
        other = summary["http_scaling_source"]
        m_name, l_name = (this, other) if meta["size"] == "M" else (other, this)
        lines += ["", compare.table(summary["http_scaling"], m_name, l_name)]
    lines += ["", "| target | what | status | figure |", "| --- | --- | --- | --- |"]
    for name, (met, figure) in summary["targets"].items():
        lines.append(f"| {name} | {TARGETS[name]} | {_status(met)} | {figure} |")
    lines.append("")
    lines.append(
        "Medians over rounds (req/s, latencies, CPU, bytes); RSS and others' CPU are the largest "
        "seen during the rounds."
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def plan() -> list[tuple[str, str, int]]:
    """One round, A/B interleaved: (workload, server, connections).

    BENCH_PLAN=quick (the fast test) keeps one run per workload and no 2-worker server.
    """
    if os.environ.get("BENCH_PLAN") == "quick":
        return [
            ("E1", "product-1w", 64),
            ("E1", "baseline", 64),
            ("E1-full", "product-1w", 64),
            ("E1-full", "baseline", 64),
            ("E2", "product-1w", 64),
            ("E2-htmx", "product-1w", 64),
            ("E2-full", "product-1w", 64),
            ("E3", "product-1w", 64),
            ("E4", "product-1w", 64),
            ("E4-write", "product-1w", 8),
            ("E4-write", "baseline", 8),
        ]
    return [
        ("E1", "product-1w", 64),
        ("E1", "baseline", 64),
        ("E1", "product-2w", 64),
        ("E1-full", "product-1w", 64),
        ("E1-full", "baseline", 64),
        ("E1", "product-1w", 8),
        ("E1", "baseline", 8),
        ("E2", "product-1w", 64),
        ("E2-htmx", "product-1w", 64),
        ("E2-full", "product-1w", 64),
        ("E2", "product-1w", 8),
        ("E3", "product-1w", 64),
        ("E4", "product-1w", 64),
        ("E4-write", "product-1w", 8),
        ("E4-write", "baseline", 8),
    ]


def run_open_loop(
    started: dict[str, Server],
    workload: Workload,
    rate: float,
    seconds: float,
    database: str,
) -> dict[str, Any]:
    requests = [
        openloop.Request(r.method, r.path, r.headers, r.body.encode() if r.body else None)
        for r in workload.requests
    ]
    roots = [s.process.pid for s in started.values()]
    found: dict[str, Any] = {}
    for name in ("product-1w", "product-2w", "baseline"):
        if name in started:
            with busy.Meter(roots, database) as machine:
                result = openloop.open_loop(
                    "127.0.0.1",
                    started[name].port,
                    requests,
                    rate=rate,
                    seconds=seconds,
                    expect=workload.expect,
                )
            result["others_cpu_pct"] = machine.pct
            found[name] = result
            print(
                f"  open loop {name:<10} {result['target_rps']:>6.0f} req/s target, "
                f"{result['achieved_rps']:>6.0f} achieved, p99 {result['p99_ms']:.1f} ms, "
                f"errors {result['errors']}, not sent {result['dropped']}, "
                f"others' CPU {machine.pct:.0f} %",
                flush=True,
            )
            if result.get("first_unexpected"):
                print(f"    ! the first unexpected answer: {result['first_unexpected']}")
    return found


def scale_database(size: str, bench_size: str, bench_db: str) -> tuple[str, list[str]]:
    """The database and user ids for `size`: the bench's own, or a kept one (seeding L takes
    a few minutes), seeded again when it is missing, from another seed, or over two days
    old. The database's comment records what was seeded when."""
    if size == bench_size:
        credentials = json.loads((seed.ROOT / "bench" / ".work" / f"run-{size}.json").read_text())
        return seed.database_url(bench_db), [u["id"] for u in credentials["users"]]
    name = f"{bench_db}_{size}"
    url = seed.database_url(name)
    marker = seed.seeded_marker(name)
    fresh = False
    if marker is not None and marker.get("size") == size and marker.get("seed") == seed.SEED:
        seeded = datetime.fromisoformat(marker["seeded_at"])
        fresh = datetime.now(UTC) - seeded < timedelta(days=2)
    if fresh:
        seed.migrate(url)  # a kept database gets any new index
    else:
        print(f"seeding {size} for the SQL scaling check (kept as {name})…", flush=True)
        seed.recreate_database(name)
        seed.migrate(url)
        seed.seed(size, url, seed.ROOT / "bench" / ".work" / f"credentials-{name}.json")
        seed.mark_seeded(name, size)
    return url, seed.user_ids(url)


def scale_sizes(bench_size: str) -> tuple[str, str] | None:
    setting = os.environ.get("BENCH_SCALE", "M:L")
    if setting.lower() in ("off", "0", "no", ""):
        return None
    small, _, large = setting.upper().partition(":")
    if small not in seed.SIZES or large not in seed.SIZES:
        raise SystemExit(f"BENCH_SCALE must be SIZE:SIZE (sizes {', '.join(seed.SIZES)}) or off")
    return small, large


def main() -> int:
    size = os.environ.get("BENCH_SIZE", "M").upper()
    if size not in seed.SIZES:
        raise SystemExit(f"BENCH_SIZE must be one of {', '.join(seed.SIZES)}")
    duration = env_int("BENCH_DURATION", 8)
    rounds = env_int("BENCH_ROUNDS", 3)
    warmup = env_int("BENCH_WARMUP", 3)
    results_dir = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))
    began = time.monotonic()
    started_at = datetime.now(UTC)
    wrk = ensure_wrk()
    if wrk is None:
        print("no wrk: using the small Python load loop (figures are not comparable)")
    database = seed.database_name()
    sizes = scale_sizes(size)
    open_loop: dict[str, Any] = {}
    scale_check: dict[str, Any] | None = None
    answers: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="followup-bench-") as tmp:
        workdir = Path(tmp)
        credentials_path = ROOT / "bench" / ".work" / f"run-{size}.json"
        seeded = seed.prepare(size, credentials_path)
        credentials = json.loads(credentials_path.read_text())
        runs: list[Run] = []
        try:
            names = {server for _, server, _ in plan()}
            with servers(seed.database_url(database), workdir, names) as started:
                roots = [s.process.pid for s in started.values()]

                def cookie(u: dict[str, Any]) -> str:
                    return login(started["product-1w"], u["email"], credentials["password"])

                cookies = [cookie(u) for u in split_users(credentials["users"])[0][:20]]
                busy_cookies = [cookie(u) for u in credentials["busy"]]
                loads = workloads(credentials, cookies, busy_cookies)
                print("checking every workload once before the load…", flush=True)
                answers = check_before_load(loads, started)

                def load(workload: str, server: str, connections: int, seconds: int, n: int) -> Run:
                    return measure(
                        wrk,
                        started[server],
                        loads[workload],
                        connections,
                        seconds,
                        n,
                        database,
                        workdir,
                        roots,
                    )

                if warmup:
                    print(f"warm-up ({warmup} s each)…", flush=True)
                    for workload, server, connections in plan():
                        if connections == 64:
                            load(workload, server, 64, warmup, 0)
                for round_no in range(1, rounds + 1):
                    print(f"round {round_no}/{rounds}", flush=True)
                    for workload, server, connections in plan():
                        runs.append(load(workload, server, connections, duration, round_no))
                base_max = _median([r.rps for r in _pick(runs, "E1", "baseline", 64)])
                if base_max == base_max and base_max > 0:  # not NaN
                    print(f"open loop at {base_max / 2:.0f} req/s…", flush=True)
                    open_loop = run_open_loop(
                        started, loads["E1"], base_max / 2, duration, database
                    )
            if sizes:
                print(f"SQL scaling check ({sizes[0]} and {sizes[1]})…", flush=True)
                measured = {}
                for which in sizes:
                    url, user_ids = scale_database(which, size, database)
                    measured[which] = scale.measure(url, user_ids)
                scale_check = scale.compare(measured[sizes[0]], measured[sizes[1]])
        finally:
            if not os.environ.get("BENCH_KEEP_DB"):
                seed.drop_database(database)
    summary = summarize(
        runs,
        open_loop=open_loop,
        scale_check=scale_check,
        size=size,
        results_dir=results_dir,
        answers=answers,
    )
    meta = {
        "size": size,
        "rounds": rounds,
        "duration": duration,
        "warmup": warmup,
        "load": "wrk" if wrk else "python",
        "cpus": os.cpu_count(),
        "seeded": asdict(seeded),
        "scale_sizes": list(sizes) if sizes else None,
        "started": started_at.isoformat(),
        "elapsed_s": round(time.monotonic() - began, 1),
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{started_at:%Y-%m-%dT%H%M%SZ}.json"
    path.write_text(
        json.dumps(
            {
                "meta": meta,
                "summary": {
                    **{k: v for k, v in summary.items() if k != "targets"},
                    "targets": {
                        k: {"met": m, "figure": f} for k, (m, f) in summary["targets"].items()
                    },
                },
                "runs": [asdict(r) for r in runs],
            },
            indent=2,
        )
        + "\n"
    )
    print()
    print("#### For the README (Performance)")
    print()
    print(readme_table(summary, meta))
    print()
    print("#### For docs/performance.md (Results)")
    print()
    print(table(runs, summary, meta))
    print(
        f"\nWrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
        f"({meta['elapsed_s']} s)"
    )
    if summary["machine"]["busy_runs"]:
        print(
            f"WARNING: other processes took more than {busy.WARN_PCT:.0f} % of the machine in "
            f"{summary['machine']['busy_runs']} runs (max "
            f"{summary['machine']['others_cpu_pct_max']:.0f} %): run again on a quiet machine."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
