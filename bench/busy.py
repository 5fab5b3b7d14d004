"""How busy the machine was during a run: the CPU that processes other than the bench's took.

The bench's own figures (req/s, latencies, CPU per request) mean little when something else
was using the cores meanwhile. /proc/stat gives the CPU time all processes used; take away
the bench's own (this process and its reaped children such as wrk, the servers under test,
and the Postgres processes serving the bench's database or Postgres as a whole) and what is
left is the others', as a share of the machine's capacity over the run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
WARN_PCT = 10.0  # others' share of the machine above which a run's figures are suspect
POSTGRES_AUXILIARIES = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum launcher",
    "logical replication launcher",
)


@dataclass(frozen=True)
class Sample:
    busy: float  # CPU seconds all processes used since boot (every core)
    total: float  # busy + idle: seconds of capacity since boot (every core)
    own: float  # CPU seconds the bench's processes have used


def machine_seconds(stat: str) -> tuple[float, float]:
    """(busy, total) CPU seconds from /proc/stat's first line (`cpu  user nice system idle
    iowait irq softirq steal guest guest_nice`; guest time is already in user)."""
    line = next(x for x in stat.splitlines() if x.startswith("cpu "))
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in line.split()[1:9])
    busy = user + nice + system + irq + softirq + steal
    return busy / CLK_TCK, (busy + idle + iowait) / CLK_TCK


def others_pct(before: Sample, after: Sample) -> float:
    """The share (%) of the machine's capacity that processes other than the bench's took
    between two samples."""
    capacity = after.total - before.total
    if capacity <= 0:
        return 0.0
    others = (after.busy - before.busy) - (after.own - before.own)
    return round(max(0.0, others) * 100 / capacity, 1)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def bench_pids(roots: list[int], database: str) -> list[int]:
    """The servers' process trees, and the Postgres processes working for the bench: the
    backends connected to its database and Postgres' own helpers (WAL writer, checkpointer…)."""
    parents: dict[int, list[int]] = {}
    postgres: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        fields = _stat_fields(pid)
        if fields is None:
            continue
        parents.setdefault(int(fields[1]), []).append(pid)
        title = _title(pid)
        if title.startswith("postgres:") and (
            f" {database} " in title or any(a in title for a in POSTGRES_AUXILIARIES)
        ):
            postgres.append(pid)
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found + postgres


class Meter:
    """Samples /proc at the start and the end of a run (`with Meter(...) as m:`); `m.pct`
    is the others' share of the machine over the run. Processes of the bench that start
    during the run count from zero; this process's children (wrk) count once reaped."""

    def __init__(self, roots: list[int], database: str) -> None:
        self.roots, self.database = roots, database
        self.pct = 0.0
        self._cpu: dict[int, float] = {}

    def _own(self) -> float:
        mine = os.times()
        total = mine.user + mine.system + mine.children_user + mine.children_system
        for pid in bench_pids(self.roots, self.database):
            if pid == os.getpid():
                continue
            fields = _stat_fields(pid)
            if fields is not None:
                cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
                self._cpu.setdefault(pid, 0.0 if self._started else cpu)
                total += cpu - self._cpu[pid]
        return total

    def sample(self) -> Sample:
        busy, capacity = machine_seconds(Path("/proc/stat").read_text())
        return Sample(busy, capacity, self._own())

    def __enter__(self) -> Meter:
        self._started = False
        self._before = self.sample()
        self._started = True
        return self

    def __exit__(self, *_: object) -> None:
        self.pct = others_pct(self._before, self.sample())
