"""The HTTP half of T5: the ratios of a run at L against those of a run at M.

`python -m bench.compare [M.json L.json]` (or `make bench-compare`) reads two results of
`make bench` (by default the latest at M and the latest at L in bench/results) and prints,
for every ratio both have, its median at M, at L, and L ÷ M. The target: every ratio at L
within 0.9 × its value at M (for the app-CPU ratio, where lower is better: at most M ÷ 0.9).
`make bench` at M or L prints the same table itself when the other size has a result.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WITHIN = 0.9


def lower_is_better(ratio: str) -> bool:
    return "CPU" in ratio


def latest(results_dir: Path, size: str, *, before: Path | None = None) -> Path | None:
    """The newest result at `size` (names are UTC times, so they sort), other than `before`."""
    for path in sorted(results_dir.glob("*.json"), reverse=True):
        if path == before:
            continue
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if report.get("meta", {}).get("size") == size and report.get("summary", {}).get("ratios"):
            return path
    return None


def medians(report: dict[str, Any]) -> dict[str, float]:
    return {
        name: statistics.median(values)
        for name, values in report["summary"]["ratios"].items()
        if values
    }


def compare(at_m: dict[str, Any], at_l: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per ratio both runs have: median at M, at L, L ÷ M and whether it holds."""
    m, big = medians(at_m), medians(at_l)
    found = {}
    for name in m:
        if name not in big or not m[name]:
            continue
        change = big[name] / m[name]
        holds = change <= 1 / WITHIN if lower_is_better(name) else change >= WITHIN
        found[name] = {"M": m[name], "L": big[name], "L_over_M": round(change, 2), "holds": holds}
    return found


def table(found: dict[str, dict[str, Any]], m_name: str, l_name: str) -> str:
    lines = [
        f"HTTP ratios at L ÷ at M (T5: each within {WITHIN} ×; M from {m_name}, L from {l_name}):",
        "",
        "| ratio | at M | at L | L ÷ M | holds |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, row in found.items():
        bound = f"≤ {1 / WITHIN:.2f}" if lower_is_better(name) else f"≥ {WITHIN}"
        lines.append(
            f"| {name} | {row['M']:.2f} | {row['L']:.2f} | **{row['L_over_M']:.2f}** ({bound}) "
            f"| {'yes' if row['holds'] else '**no**'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    results_dir = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))
    if len(args) == 2:
        paths = [Path(a) for a in args]
    elif not args:
        latest_ones = [latest(results_dir, "M"), latest(results_dir, "L")]
        if None in latest_ones:
            missing = " and ".join(s for s, f in zip("ML", latest_ones, strict=True) if f is None)
            print(
                f"no result at {missing} in {results_dir}: run `BENCH_SIZE={missing[0]} make bench`"
            )
            return 1
        paths = [p for p in latest_ones if p is not None]
    else:
        print("usage: python -m bench.compare [RESULT_AT_M.json RESULT_AT_L.json]")
        return 2
    reports = [json.loads(p.read_text()) for p in paths]
    sizes = [r["meta"]["size"] for r in reports]
    if sizes != ["M", "L"]:
        print(f"expected a result at M then one at L, got {' and '.join(sizes)}")
        return 2
    found = compare(*reports)
    print(table(found, paths[0].name, paths[1].name))
    return 0 if all(row["holds"] for row in found.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
