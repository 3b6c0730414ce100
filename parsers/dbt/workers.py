"""Whole models compiled and parsed in forked worker processes (``lineage scan -j N``).

A worker is a fork of the scanning process, taken when a dependency generation starts:
it inherits the rendered project, its macros and the columns known so far as they are
(copy on write), so nothing of the project is pickled or imported again, and it sends
back only each model's SQL, issues and parse result. Rendering closures never have to
be picklable.

Only where ``fork`` is safe: a POSIX platform and a process running no other Python
thread (a fork copies only the calling thread, so a lock another thread holds would stay
held in the child). Elsewhere the caller does the work itself.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

__all__ = ["fork_is_safe", "map_forked"]

R = TypeVar("R")

_work: Callable[[int], Any] | None = None  # what the forked workers run (inherited)


def fork_is_safe() -> bool:
    """Whether this process may fork workers that run Python: POSIX, no other thread."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def map_forked(function: Callable[[int], R], count: int, processes: int) -> list[R]:
    """``[function(i) for i in range(count)]`` in ``processes`` workers forked now, in order.

    Raises:
        BrokenProcessPool: a worker died (the interpreter crashed on some item); nothing
            of this call's results is returned, so the caller can redo them its own way.
        OSError: no process could be started (limits).
    """
    global _work
    _work = function
    # What exists now is left out of the collector's passes: in a child they would write
    # to every object's header, copying the whole inherited heap page by page.
    gc.freeze()
    try:
        # The fork context starts every worker at the first submit, before the pool's
        # own management thread: each is a fork of this thread alone.
        context = multiprocessing.get_context("fork")
        chunk = max(1, min(8, count // (processes * 8)))
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            return list(pool.map(_run, range(count), chunksize=chunk))
    finally:
        gc.unfreeze()
        _work = None


def _run(index: int) -> Any:
    assert _work is not None  # set before the fork
    return _work(index)
