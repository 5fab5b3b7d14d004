"""A server process's memory: glibc's malloc told to give memory back (a worker's resident size
under load, issue 13's T6), and the garbage collector kept off the objects a worker starts with
(its latency tail, T3 and T10).

By default glibc raises its mmap threshold each time a large block is freed, so after a few
large answers (a Today page of 100 follow-ups is ~240 KB of text, rendered 64 at a time under
load) every later large block comes from the heap, which fragments and never shrinks; and
each thread may get an arena of its own. A fixed mmap threshold (large blocks are mapped and
unmapped, never kept), a trim threshold and two arenas keep a worker's resident size close
to what it uses (measured in process with Today and the follow-ups list at 64 at a time:
146 MB by default, 121 MB tuned; docs/performance.md).

The settings are glibc's own environment variables, so an operator can set others; the
workers `followup serve --workers N` starts inherit them (glibc reads them at start), and
the serving process itself applies them with mallopt(3). Elsewhere (musl, macOS) nothing
happens."""

from __future__ import annotations

import ctypes
import gc
import os
import sys

DEFAULTS = {
    "MALLOC_ARENA_MAX": "2",
    "MALLOC_MMAP_THRESHOLD_": str(128 * 1024),
    "MALLOC_TRIM_THRESHOLD_": str(256 * 1024),
}
# mallopt(3)'s parameter numbers (glibc's malloc.h) for the same settings.
_MALLOPT = {"MALLOC_ARENA_MAX": -8, "MALLOC_MMAP_THRESHOLD_": -3, "MALLOC_TRIM_THRESHOLD_": -1}


def tune_allocator() -> bool:
    """Apply DEFAULTS (or what the environment already says) to this process and to the
    processes it starts; whether glibc took them."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    taken = True
    for name, default in DEFAULTS.items():
        value = os.environ.setdefault(name, default)
        try:
            number = int(value)
        except ValueError:
            continue  # glibc ignores it too
        taken = bool(mallopt(_MALLOPT[name], number)) and taken
    return taken


def freeze_startup_heap() -> None:
    """Set what the process holds once started aside from the garbage collector (gc.freeze).

    A worker starts with ~170,000 tracked objects (modules, classes, the ORM's mappers, the
    OpenAPI models), none of them garbage; each full collection walked all of them, and
    under load one took 394 ms (measured in process, E1 at 8 at a time). Frozen, they are
    never walked again; what is created later is collected as before."""
    gc.collect()
    gc.freeze()
