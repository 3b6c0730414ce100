"""Cache files written beside the catalog write, on a second core.

Saving a 2,000-model project's parse cache and batch is about 2.5 s of encoding JSON,
which the catalog write (about 3 s) does not need: where this process may run on more
than one core, a forked child writes the files while this process writes the catalog,
and the scan returns once both are done. The child only writes cache files (whose
failures cost speed only) and leaves through ``os._exit``: no atexit handler, buffered
output or connection of this process runs twice. On one core, or where forking is not
safe (another Python thread, such as a progress bar's, could hold a lock the child needs)
or not possible, the files are written here first.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

__all__ = ["saved_aside"]


@contextmanager
def saved_aside(saves: Sequence[Callable[[], None]], *, fork: bool) -> Iterator[None]:
    """Run ``saves`` in a forked child during the block when ``fork`` and a second core
    allow (else before it); the block's exit waits for the child."""
    child = _fork(saves) if fork and saves and _cores() > 1 and _fork_is_safe() else None
    if child is None:
        for save in saves:
            save()
    try:
        yield
    finally:
        if child is not None:
            os.waitpid(child, 0)


def _fork(saves: Sequence[Callable[[], None]]) -> int | None:
    try:
        child = os.fork()
    except OSError:
        return None  # no process to be had: written here instead
    if child == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            for save in saves:
                save()
            code = 0
        finally:
            os._exit(code)
    return child


def _cores() -> int:
    """The cores this process may run on (its affinity, where the platform tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _fork_is_safe() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1
