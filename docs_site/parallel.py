"""Pages rendered in several processes: each worker is a fork of the building process, so
the site's facts and lineage index are shared as they are (copy on write), never pickled.

Only where ``fork`` is safe: a POSIX platform and a process running no other Python
thread. Elsewhere, or for one process, the work runs here, in order. Either way the
results come back in the order of the items, so the site is byte-identical.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["auto_processes", "map_in_order"]

T = TypeVar("T")
R = TypeVar("R")

#: Below this many datasets the workers' start costs more than they save.
PARALLEL_FROM = 300
_CHUNK = 25
_work: Callable[[Any], Any] | None = None  # the forked workers' function (inherited)


def auto_processes(datasets: int) -> int:
    """How many processes a build of ``datasets`` uses when not told: the cores, at most 4."""
    if datasets < PARALLEL_FROM:
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1))  # fmt: skip


def map_in_order(function: Callable[[T], R], items: Sequence[T], processes: int) -> list[R]:
    """``[function(item) for item in items]``, in ``processes`` forked workers when more
    than one and fork is safe here; an exception in a worker is raised here."""
    global _work
    if processes <= 1 or len(items) < 2 or not _fork_is_safe():
        return [function(item) for item in items]
    chunks = [list(items[i : i + _CHUNK]) for i in range(0, len(items), _CHUNK)]
    _work = function
    try:
        try:
            pool = multiprocessing.get_context("fork").Pool(min(processes, len(chunks)))
        except OSError:  # no processes to be had (limits): the same work, here
            return [function(item) for item in items]
        with pool:
            return [result for part in pool.imap(_run_chunk, chunks) for result in part]
    finally:
        _work = None


def _run_chunk(items: list[Any]) -> list[Any]:
    assert _work is not None  # set before the fork
    return [_work(item) for item in items]


def _fork_is_safe() -> bool:
    # A fork copies only the calling thread: a lock another thread holds stays held.
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
