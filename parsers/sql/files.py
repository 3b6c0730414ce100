"""The facade behind ``lineage scan``: SQL files in, ``ScriptLineage`` out.

Folders expand to every ``*.sql`` under them; ``-`` reads standard input. Files are
parsed in ``jobs`` processes (each with its own statement cache) and reported in a
stable order whatever the order they finish in. A file that cannot be read, or that
kills the worker process parsing it (a segfault in sqlglot's compiled code, the OOM
killer), becomes an error entry for that file; the other files are still scanned.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lineage.model import ParseIssue, ScriptLineage, StatementKind, StatementLineage
from parsers.sql.options import (
    STDIN,
    ScanOptions,
    collect_sql_files,
    find_files,
    load_schema_file,
)
from parsers.sql.parse import lookup_script, parse_sql, store_script
from parsers.sql.schema import SchemaRegistry

__all__ = ["ScanOptions", "collect_sql_files", "find_files", "load_schema_file", "scan_sql"]


def scan_sql(
    paths: Sequence[str],
    options: ScanOptions,
    jobs: int = 1,
    on_file_done: Callable[[str], None] | None = None,
    stdin_text: str | None = None,
) -> ScriptLineage:
    """Parse every SQL file in ``paths`` and return all statements, file by file.

    Args:
        paths: files, folders (every ``*.sql`` below) or ``-`` for standard input.
        options: the SQL context and known schemas.
        jobs: worker processes; 1 parses in this process.
        on_file_done: called with each file's name as it finishes (progress).
        stdin_text: the text for ``-`` (read from ``sys.stdin`` when None).
    """
    files = collect_sql_files(paths)
    registry = SchemaRegistry({**(options.known_schema or {}), **(options.schema or {})})
    results: dict[str, ScriptLineage] = {}
    local = [f for f in files if f == STDIN] if jobs > 1 else files
    remote = [f for f in files if f not in local]
    for name in local:
        results[name] = _scan_one(name, options, registry, stdin_text)
        if on_file_done:
            on_file_done(name)
    misses: list[tuple[str, str]] = []
    for name in remote:
        text = _read(name)
        if isinstance(text, ScriptLineage):
            results[name] = text
        else:
            cached = lookup_script(text, options.context, registry, name)
            if cached is None:
                misses.append((name, text))
                continue
            results[name] = cached
        if on_file_done:
            on_file_done(name)
    if misses:
        parsed = _parse_in_workers(misses, options, registry, jobs, on_file_done)
        for index, (name, text) in enumerate(misses):
            results[name] = parsed[index]
            # Remember what the workers parsed, so a persisted cache covers it.
            store_script(parsed[index], text, options.context, registry)
    _follow_dependencies(files, results, options, stdin_text)
    combined = ScriptLineage()
    for name in files:
        combined = combined + results[name]
    return combined


def _follow_dependencies(
    files: Sequence[str],
    results: dict[str, ScriptLineage],
    options: ScanOptions,
    stdin_text: str | None,
) -> None:
    """Re-parse, in dependency order, each file that reads what another file of the scan
    writes, with the schemas those files produce: a first scan then gives the lineage and
    confidence a second one would (``SELECT *`` of a table built two files earlier
    expands), whatever the files' alphabetical order. Files are ordered as dbt orders
    models by ``ref``; a cycle keeps the order of the names.
    """
    writers: dict[str, str] = {}
    for name in files:
        for statement in results[name].statements:
            for output in statement.outputs:
                writers.setdefault(output.name, name)
    upstream = {
        name: sorted({
            writers[i.name] for s in results[name].statements for i in s.inputs
            if writers.get(i.name, name) != name
        })
        for name in files
    }  # fmt: skip
    if not any(upstream.values()):
        return
    produced: dict[str, dict[str, str | None]] = {}
    for name in _topological(files, upstream):
        if upstream[name] and (text := _read(name, stdin_text)) and isinstance(text, str):
            # The given --schema wins over what the scan derives, which wins over the catalog.
            mapping = {**(options.known_schema or {}), **produced, **(options.schema or {})}
            results[name] = _scan_one(name, options, SchemaRegistry(mapping), text=text)
        for statement in results[name].statements:
            for dataset, schema in statement.output_schemas:
                if schema.fields and not statement.temporary:
                    produced[dataset.name] = {f.name: f.type for f in schema.fields}


def _topological(files: Sequence[str], upstream: Mapping[str, Sequence[str]]) -> list[str]:
    """``files`` with every file after the files it reads from (depth-first, stable)."""
    ordered: list[str] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: placed

    def visit(name: str) -> None:
        if state.get(name):
            return  # placed, or a cycle: keep the order reached
        state[name] = 1
        for before in upstream.get(name, ()):
            visit(before)
        state[name] = 2
        ordered.append(name)

    for name in files:
        visit(name)
    return ordered


def _read(name: str, stdin_text: str | None = None) -> str | ScriptLineage:
    """The file's text, or a one-statement result that says why it cannot be read."""
    label = "<stdin>" if name == STDIN else name
    try:
        if name == STDIN:
            return stdin_text if stdin_text is not None else sys.stdin.read()
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text ({exc.reason})"
        return _file_failed(label, f"cannot read file: {reason}")


def _file_failed(label: str, message: str) -> ScriptLineage:
    """A file's result when none of its statements could be analysed."""
    issue = ParseIssue(message, file=label)
    failed = StatementLineage(
        index=0,
        kind=StatementKind.UNKNOWN,
        dialect=None,
        confidence=0.0,
        errors=(issue,),
        file=label,
    )
    return ScriptLineage((failed,))


def _scan_one(
    name: str,
    options: ScanOptions,
    registry: SchemaRegistry,
    stdin_text: str | None = None,
    text: str | None = None,
    hook: Callable[[str], None] | None = None,
) -> ScriptLineage:
    if text is None:
        read = _read(name, stdin_text)
        if isinstance(read, ScriptLineage):
            return read
        text = read
    label = "<stdin>" if name == STDIN else name
    try:
        if hook is not None:
            hook(name)
        return parse_sql(
            text,
            schema=registry,
            file=label,
            context=options.context,
            max_depth=options.max_depth,
            max_statement_bytes=options.max_statement_bytes,
        )
    except (MemoryError, RecursionError) as exc:
        # parse_sql already contains both per statement; this is for the file as a whole.
        reason = "ran out of memory" if isinstance(exc, MemoryError) else "recursed too deep"
        return _file_failed(label, f"the SQL parser {reason} on this file; it was skipped")


#: Called in each worker with a file's name just before parsing it (tests make one worker
#: die with it). Read when a pool starts and handed to its workers, so spawn works too.
_worker_hook: Callable[[str], None] | None = None

_DIED = (
    "the worker process parsing it died (a crash in the SQL parser, or it was killed); "
    "the file was skipped, the other files were scanned"
)


def _parse_in_workers(
    misses: Sequence[tuple[str, str]],
    options: ScanOptions,
    registry: SchemaRegistry,
    jobs: int,
    on_file_done: Callable[[str], None] | None,
) -> dict[int, ScriptLineage]:
    """Each file's result by its index in ``misses``; a dying worker costs only its file.

    A worker that dies breaks its pool, and the files of every other worker with it. The
    files the workers had started are parsed again one at a time, each in a pool of its
    own: one that kills that pool too is reported as failed. The files not started yet
    go to a new pool.
    """
    done: dict[int, ScriptLineage] = {}

    def finish(index: int, result: ScriptLineage) -> None:
        done[index] = result
        if on_file_done:
            on_file_done(misses[index][0])

    todo = list(range(len(misses)))
    while todo:
        started = _run_pool(misses, todo, options, registry, jobs, finish)
        todo = [index for index in todo if index not in done]
        if started is None or not todo:
            break
        # No file started (the pool died at once): the first one takes the blame if alone
        # it kills a pool too; each round settles at least one file.
        for index in [i for i in started if i not in done] or todo[:1]:
            if _run_pool(misses, [index], options, registry, 1, finish) is not None:
                finish(index, _file_failed(misses[index][0], _DIED))
        todo = [index for index in todo if index not in done]
    return done


def _run_pool(
    misses: Sequence[tuple[str, str]],
    todo: Sequence[int],
    options: ScanOptions,
    registry: SchemaRegistry,
    jobs: int,
    finish: Callable[[int, ScriptLineage], None],
) -> list[int] | None:
    """Parse ``todo`` in a new pool: None if it did not break, else the files it had started."""
    workers = max(1, min(jobs, len(todo), os.cpu_count() or 1))
    context = multiprocessing.get_context()
    # Which file (index in misses) each worker is parsing, -1 for none: shared memory,
    # so it survives the worker's death.
    slots = context.RawArray(ctypes.c_longlong, [-1] * workers)
    counter = context.Value(ctypes.c_int, 0)
    initargs = (options, registry, slots, counter, _worker_hook)
    broken = False
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=initargs
    ) as pool:
        # One file per task, so one huge file does not hold back the rest.
        futures = {pool.submit(_scan_in_worker, i, misses[i][0], misses[i][1]): i for i in todo}
        for future in as_completed(futures):
            error = future.exception()
            if isinstance(error, BrokenProcessPool):
                broken = True
            elif error is not None:  # a bug, not a crash: as without workers, it propagates
                pool.shutdown(cancel_futures=True)
                raise error
            else:
                finish(futures[future], future.result())
    return [index for index in slots if index >= 0] if broken else None


@dataclass(frozen=True)
class _Worker:
    options: ScanOptions
    registry: SchemaRegistry
    slots: Any  # the pool's shared array (ctypes), see _run_pool
    slot: int
    hook: Callable[[str], None] | None


_worker: _Worker | None = None


def _init_worker(
    options: ScanOptions,
    registry: SchemaRegistry,
    slots: Any,
    counter: Any,
    hook: Callable[[str], None] | None,
) -> None:
    global _worker
    with counter.get_lock():
        slot = counter.value % len(slots)
        counter.value += 1
    _worker = _Worker(options, registry, slots, slot, hook)


def _scan_in_worker(index: int, name: str, text: str) -> ScriptLineage:
    worker = _worker
    assert worker is not None, "worker used before its initializer ran"
    worker.slots[worker.slot] = index
    try:
        return _scan_one(name, worker.options, worker.registry, text=text, hook=worker.hook)
    finally:
        worker.slots[worker.slot] = -1
