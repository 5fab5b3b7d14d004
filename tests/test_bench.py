"""`make bench` end to end at a tiny size: the generator, the baseline and the run script.

Postgres only (the bench seeds with COPY and its baseline speaks asyncpg); it uses its own
database, never the one in TEST_DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("TEST_DATABASE_URL")

pytestmark = [
    pytest.mark.skipif(not URL, reason="the bench needs Postgres: set TEST_DATABASE_URL"),
]


def _server_url(url: str) -> str:
    """postgresql://user@host:port, without the database and any driver name."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False).split("?")[0].rsplit("/", 1)[0]


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
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| T1 |" in done.stdout
    [result] = tmp_path.glob("*.json")
    report = json.loads(result.read_text())
    assert report["meta"]["seeded"]["users"] == 5
    assert report["meta"]["seeded"]["followups"] == 50
    runs = {(r["workload"], r["server"]): r for r in report["runs"]}
    assert set(runs) == {
        ("E1", "product-1w"),
        ("E1", "baseline"),
        ("E2", "product-1w"),
        ("E2-htmx", "product-1w"),
        ("E3", "product-1w"),
        ("E4", "product-1w"),
        ("E4-write", "product-1w"),
        ("E4-write", "baseline"),
    }
    # Zero errors: the seeded tokens (hashed with hash_secret) and the login cookies work.
    for run in runs.values():
        assert run["requests"] > 0
        assert run["errors"] == 0 and run["timeouts"] == 0, run
    summary = report["summary"]
    assert set(summary["targets"]) == {"T1", "T2", "T3", "T4", "T5", "T6", "T7"}
    assert all(target["met"] is not None for target in summary["targets"].values())
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
    assert "| T7 |" in done.stdout and "SQL scaling" in done.stdout
