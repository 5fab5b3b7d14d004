"""`make bench`: end to end at a tiny size (the generator, the baseline and the run script),
and its parts that decide what the figures mean: what counts as an error, the check before
the load, how busy the machine was, the L ÷ M comparison.

The end-to-end test needs Postgres (the bench seeds with COPY and its baseline speaks
asyncpg); it uses its own database, never the one in TEST_DATABASE_URL.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from bench import busy, checks, compare, openloop
from bench import run as bench_run
from bench.checks import Expect, Request, Workload

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("TEST_DATABASE_URL")

needs_postgres = pytest.mark.skipif(
    not URL, reason="the bench needs Postgres: set TEST_DATABASE_URL"
)


def _server_url(url: str) -> str:
    """postgresql://user@host:port, without the database and any driver name."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False).split("?")[0].rsplit("/", 1)[0]


@needs_postgres
def test_bench_runs_end_to_end_at_a_tiny_size(tmp_path: Path) -> None:
    pytest.importorskip("asyncpg", reason="the bench extra is not installed (pip install .[bench])")
    pytest.importorskip("orjson", reason="the bench extra is not installed (pip install .[bench])")
    assert URL is not None
    env = {
        **os.environ,
        "BENCH_SIZE": "XS",
        "BENCH_DURATION": "1",
        "BENCH_ROUNDS": "1",
        "BENCH_WARMUP": "0",
        "BENCH_PLAN": "quick",
        "BENCH_DB": "followup_bench_test",
        "BENCH_PG_URL": _server_url(URL),
        "BENCH_RESULTS_DIR": str(tmp_path),
        "BENCH_SCALE": "XS:XS",  # the scaling check's code path, on the one tiny database
    }
    if not shutil.which("wrk"):
        env["BENCH_NO_WRK"] = "1"  # no installing during tests: the Python load loop
    done = subprocess.run(
        [sys.executable, "-m", "bench.run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| T1 |" in done.stdout, done.stdout
    [result] = tmp_path.glob("*.json")
    report = json.loads(result.read_text())
    # 5 users with 10 follow-ups each, and one busy user: 60 due, 20 overdue, 30 coming.
    assert report["meta"]["seeded"]["users"] == 6
    assert report["meta"]["seeded"]["followups"] == 50 + 110
    runs = {(r["workload"], r["server"]): r for r in report["runs"]}
    assert set(runs) == {
        ("E1", "product-1w"),
        ("E1", "baseline"),
        ("E1-full", "product-1w"),
        ("E1-full", "baseline"),
        ("E2", "product-1w"),
        ("E2-htmx", "product-1w"),
        ("E2-full", "product-1w"),
        ("E3", "product-1w"),
        ("E4", "product-1w"),
        ("E4-write", "product-1w"),
        ("E4-write", "baseline"),
    }
    # Zero errors: the seeded tokens (hashed with hash_secret) and the login cookies work,
    # and every answer has the expected status and content.
    for run in runs.values():
        assert run["errors"] == 0 and run["timeouts"] == 0, run
        assert 0 <= run["others_cpu_pct"] <= 100
    summary = report["summary"]
    assert set(summary["targets"]) == {f"T{n}" for n in range(1, 11)}
    # T10 needs the 2-worker server, which the quick plan leaves out.
    assert [k for k, t in summary["targets"].items() if t["met"] is None] == ["T10"]
    # Checked before the load: the full E1 page holds 50 follow-ups, the busy Today 100, the
    # same ones the baseline lists; their sizes are recorded, decoded and on the wire.
    answers = summary["answers"]
    assert answers["E1-full"]["followups_shown"] == 50
    assert answers["E2-full"]["followups_shown"] == 100
    assert answers["E2-full"]["raw_bytes"] > 10_000
    assert answers["E2-full"]["wire_bytes"] > 0
    assert summary["errors"] == {"product": 0, "baseline": 0}
    # E1's CPU split into a fixed part and a part per follow-up, for both servers.
    assert set(summary["item_costs"]) == {"product-1w", "baseline"}
    assert 0 <= summary["machine"]["others_cpu_pct_max"] <= 100
    # The open loop ran at a fixed rate against the product and the baseline, without errors.
    assert set(summary["open_loop"]) == {"product-1w", "baseline"}
    for result in summary["open_loop"].values():
        assert result["requests"] > 0 and result["errors"] == 0, result
    # The scaling check explained the product's E1, E2 (Today's one statement) and E5
    # statements (at XS the planner rightly scans the tiny tables; `make bench` at M and L
    # shows the index plans).
    assert set(summary["scale"]) == {
        "E1 upcoming",
        "E1 due",
        "E1 overdue",
        "E2 today",
        "E5 claim",
    }
    for query in summary["scale"].values():
        assert query["small"]["buffers"] > 0 and query["time_ratio"] > 0, query
    assert "| T10 |" in done.stdout and "SQL scaling" in done.stdout
    assert "For the README" in done.stdout and "Machine busy" in done.stdout


# ---------------------------------------------------------------- what counts as an error

JSON = {"content-type": "application/json"}
LIST = Expect(markers=('{"items":[',))


def test_a_204_with_hx_redirect_from_a_dead_session_is_an_error() -> None:
    headers = {"HX-Redirect": "/login?next=/", "content-type": "text/html"}
    assert checks.unexpected(Expect(content_type="text/html"), 204, headers, b"") == "status 204"
    # Even with an expected status, being sent elsewhere is not the answer asked for.
    allowed = Expect(statuses=(200, 204), content_type="text/html")
    assert checks.unexpected(allowed, 204, headers, b"") == "HX-Redirect to /login?next=/"


def test_a_redirect_is_an_error_though_no_load_tool_counts_it() -> None:
    assert checks.unexpected(LIST, 303, {"location": "/login"}, b"") == "status 303"


def test_an_answer_without_the_expected_content_is_an_error() -> None:
    assert checks.unexpected(LIST, 200, JSON, b'{"items":[], "next_cursor": null}') is None
    assert checks.unexpected(LIST, 200, JSON, b'{"detail": "x"}') == "no '{\"items\":[' in the body"
    html = {"content-type": "text/html; charset=utf-8"}
    assert (
        checks.unexpected(LIST, 200, html, b'{"items":[]}')
        == "content-type text/html; charset=utf-8"
    )
    # A compressed body is taken on its status and type (wrk cannot look inside).
    zipped = {**JSON, "content-encoding": "gzip"}
    assert checks.unexpected(LIST, 200, zipped, gzip.compress(b"{}")) is None


class Stub(BaseHTTPRequestHandler):
    """Answers every request as a dead session does to htmx: 204 with HX-Redirect."""

    def do_GET(self) -> None:
        self.send_response(204)
        self.send_header("HX-Redirect", "/login?next=/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    server.protocol_version = "HTTP/1.1"
    Stub.protocol_version = "HTTP/1.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _stub_workload() -> Workload:
    headers = {"HX-Request": "true"}
    return Workload("E2-htmx", [Request("GET", "/", headers)], bench_run.TODAY_FRAGMENT)


def _stub_server(port: int) -> bench_run.Server:
    return bench_run.Server("stub", None, port, Path("/dev/null"))  # type: ignore[arg-type]


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
def test_wrk_counts_every_204_with_hx_redirect_as_an_error(stub: int, tmp_path: Path) -> None:
    script = bench_run.lua_script(_stub_workload(), tmp_path / "stub.lua")
    wrk = shutil.which("wrk")
    assert wrk is not None
    data = bench_run.wrk_load(wrk, _stub_server(stub), script, 2, 1)
    # wrk itself counts only answers >= 400; the script counts what a user would.
    assert data["requests"] > 0 and data["status"] == 0
    assert data["unexpected"] == data["requests"]
    assert data["first_unexpected"] == "status 204"


def test_the_python_load_loop_counts_them_too(stub: int) -> None:
    import asyncio

    data = asyncio.run(bench_run._python_load(_stub_server(stub), _stub_workload(), 2, 1.0))
    assert data["requests"] > 0 and data["unexpected"] == data["requests"]


def test_the_open_loop_counts_them_too(stub: int) -> None:
    requests = [openloop.Request("GET", "/", {"HX-Request": "true"})]
    result = openloop.open_loop(
        "127.0.0.1",
        stub,
        requests,
        rate=20,
        seconds=0.5,
        connections=2,
        expect=bench_run.TODAY_FRAGMENT,
    )
    assert result["requests"] > 0 and result["errors"] == result["requests"]
    assert result["first_unexpected"] == "status 204"


# ---------------------------------------------------------------- the check before the load


def _client(handler: Any) -> httpx.Client:
    return httpx.Client(base_url="http://bench.test", transport=httpx.MockTransport(handler))


def _page(*ids: str) -> dict[str, Any]:
    return {"items": [{"id": i} for i in ids], "next_cursor": None}


def _listing() -> Workload:
    path = "/api/v1/followups?due_state=due"
    auth = {"Authorization": "Bearer t"}
    return Workload("E1", [Request("GET", path, auth, twin=((path, auth),))], LIST)


def test_the_check_before_the_load_stops_on_a_wrong_status() -> None:
    product = _client(lambda request: httpx.Response(303, headers={"Location": "/login"}))
    baseline = _client(lambda request: httpx.Response(200, json=_page("a")))
    with pytest.raises(checks.CheckFailed, match=r"E1: GET /api/v1/followups.*: status 303"):
        checks.check_workload(_listing(), product, baseline)


def test_the_check_before_the_load_stops_when_the_ids_differ_from_the_baseline() -> None:
    product = _client(lambda request: httpx.Response(200, json=_page("a", "b")))
    baseline = _client(lambda request: httpx.Response(200, json=_page("a", "c")))
    with pytest.raises(checks.CheckFailed, match="follow-ups 2 shown, 2 from the baseline"):
        checks.check_workload(_listing(), product, baseline)


def test_the_check_before_the_load_stops_when_a_list_comes_in_another_order() -> None:
    product = _client(lambda request: httpx.Response(200, json=_page("b", "a")))
    baseline = _client(lambda request: httpx.Response(200, json=_page("a", "b")))
    with pytest.raises(checks.CheckFailed, match="follow-ups 2 shown, 2 from the baseline"):
        checks.check_workload(_listing(), product, baseline)


def test_the_check_before_the_load_records_the_answer_sizes_raw_and_gzipped() -> None:
    page = _page(*(f"{n:036d}" for n in range(50)))
    body = json.dumps(page, separators=(",", ":")).encode()  # compact, as the app sends it

    def product(request: httpx.Request) -> httpx.Response:
        if "gzip" in request.headers.get("accept-encoding", ""):
            zipped = gzip.compress(body)
            headers = {**JSON, "Content-Encoding": "gzip"}
            return httpx.Response(200, headers=headers, stream=httpx.ByteStream(zipped))
        return httpx.Response(200, headers=JSON, stream=httpx.ByteStream(body))

    found = checks.check_workload(_listing(), _client(product), _client(product))
    assert found["checked"] == 1 and found["followups_shown"] == 50
    assert found["raw_bytes"] == len(body)
    assert found["gzip_wire_bytes"] < found["wire_bytes"]


def test_today_shows_the_follow_ups_the_baseline_lists_in_the_three_states() -> None:
    cards = "".join(f'<li id="followup-{n:036d}">' for n in range(3))
    page = f'<html><section id="today">{cards}</section></html>'
    lists = {"overdue": ["0" * 36], "due": [f"{1:036d}"], "upcoming": [f"{2:036d}"]}
    twin = tuple((f"/api/v1/followups?due_state={s}", {}) for s in lists)
    workload = Workload("E2", [Request("GET", "/", {}, twin=twin)], bench_run.TODAY_PAGE)
    product = _client(
        lambda r: httpx.Response(200, headers={"content-type": "text/html"}, text=page)
    )

    def baseline(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_page(*lists[request.url.params["due_state"]]))

    assert checks.check_workload(workload, product, _client(baseline))["followups_shown"] == 3


# ---------------------------------------------------------------- how busy the machine was

STAT = "cpu  {user} 0 {system} {idle} 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"


def test_the_busy_figure_is_what_others_took_of_the_machine_from_proc_stat() -> None:
    tick = busy.CLK_TCK
    before = busy.machine_seconds(STAT.format(user=1000, system=500, idle=8000))
    # 10 s of 2 CPUs later: 12 CPU-seconds busy, 8 idle.
    after = busy.machine_seconds(
        STAT.format(user=1000 + 9 * tick, system=500 + 3 * tick, idle=8000 + 8 * tick)
    )
    assert after[0] - before[0] == pytest.approx(12)
    assert after[1] - before[1] == pytest.approx(20)
    # The bench itself used 7 of those 12 CPU-seconds: others took 5 of 20, 25 %.
    start = busy.Sample(before[0], before[1], own=100.0)
    end = busy.Sample(after[0], after[1], own=107.0)
    assert busy.others_pct(start, end) == 25.0


def test_the_busy_figure_is_measured_from_this_machines_proc() -> None:
    with busy.Meter([os.getpid()], "no such database") as machine:
        sum(range(200_000))
    assert 0.0 <= machine.pct <= 100.0


# ---------------------------------------------------------------- L against M


def _report(size: str, **ratios: float) -> dict[str, Any]:
    return {"meta": {"size": size}, "summary": {"ratios": {k: [v] for k, v in ratios.items()}}}


def test_the_ratios_at_l_must_stay_within_0_9_of_those_at_m(tmp_path: Path) -> None:
    at_m = _report(
        "M", **{"E1 1 worker ÷ baseline": 0.50, "E1 app CPU/req 1 worker ÷ baseline": 2.0}
    )
    at_l = _report(
        "L", **{"E1 1 worker ÷ baseline": 0.46, "E1 app CPU/req 1 worker ÷ baseline": 2.4}
    )
    found = compare.compare(at_m, at_l)
    assert found["E1 1 worker ÷ baseline"]["holds"]  # 0.92 of M
    assert not found["E1 app CPU/req 1 worker ÷ baseline"]["holds"]  # 1.2 × M's CPU
    (tmp_path / "2026-01-01T000000Z.json").write_text(json.dumps(at_m))
    (tmp_path / "2026-01-02T000000Z.json").write_text(json.dumps(at_l))
    assert compare.latest(tmp_path, "M") == tmp_path / "2026-01-01T000000Z.json"
    os.environ["BENCH_RESULTS_DIR"] = str(tmp_path)
    try:
        assert compare.main([]) == 1  # one ratio does not hold
    finally:
        del os.environ["BENCH_RESULTS_DIR"]


def test_a_run_at_l_sets_its_ratios_against_the_latest_result_at_m(tmp_path: Path) -> None:
    at_m = _report("M", **{"E1 1 worker ÷ baseline": 0.50, "E3 ÷ E1 (1 worker)": 0.90})
    (tmp_path / "2026-01-01T000000Z.json").write_text(json.dumps(at_m))
    here = {"E1 1 worker ÷ baseline": [0.40], "E3 ÷ E1 (1 worker)": [0.95]}
    found, source = bench_run.http_scaling(here, "L", tmp_path)
    assert source == "2026-01-01T000000Z.json"
    assert found is not None
    assert found["E1 1 worker ÷ baseline"]["L_over_M"] == 0.8
    assert not found["E1 1 worker ÷ baseline"]["holds"]
    assert found["E3 ÷ E1 (1 worker)"]["holds"]
    assert "| E1 1 worker ÷ baseline | 0.50 | 0.40 | **0.80** (≥ 0.9) | **no** |" in (
        compare.table(found, source, "this run")
    )
    # Without a result at the other size, T5's HTTP half says what it needs.
    assert bench_run.http_scaling(here, "M", tmp_path / "none")[0] is None
