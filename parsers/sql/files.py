"""The facade behind ``lineage scan``: SQL files in, ``ScriptLineage`` out.

Folders expand to every ``*.sql`` under them; ``-`` reads standard input. Files are
parsed in ``jobs`` processes (each with its own statement cache) and reported in a
stable order whatever the order they finish in. A file that cannot be read becomes an
error entry for that file; the other files are still scanned.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lineage.errors import ConfigError, InputError
from lineage.model import ParseIssue, ScriptLineage, SqlContext, StatementKind, StatementLineage
from parsers.sql.parse import lookup_script, parse_sql, store_script
from parsers.sql.schema import SchemaRegistry

__all__ = ["ScanOptions", "collect_sql_files", "find_files", "load_schema_file", "scan_sql"]

STDIN = "-"


@dataclass(frozen=True)
class ScanOptions:
    """How to read the SQL: its context (dialect, namespace, name defaults) and known schemas."""

    context: SqlContext = field(default_factory=SqlContext)
    schema: Mapping[str, Any] | None = None

    @property
    def dialect(self) -> str | None:
        """The context's dialect (a shortcut for settings that key on it)."""
        return self.context.dialect

    @property
    def namespace(self) -> str | None:
        """The context's namespace as configured (None: the dialect's name is used)."""
        return self.context.namespace


def load_schema_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML mapping of ``"db.schema.table"`` to ``{column: type}``.

    Raises:
        ConfigError: the file is missing, is not JSON/YAML, or is not such a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read schema file: {exc.strerror}", file=str(path)) from exc
    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        line = getattr(exc, "lineno", None)
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        raise ConfigError(
            f"schema file is not valid JSON/YAML: {exc}", file=str(path), line=line
        ) from exc
    if not isinstance(document, Mapping):
        raise ConfigError("schema file must map table names to {column: type}", file=str(path))
    try:
        SchemaRegistry(document)
    except ConfigError as exc:
        raise ConfigError(exc.message, file=str(path)) from exc
    return dict(document)


def find_files(folder: Path, suffixes: Collection[str] = (".sql",)) -> list[Path]:
    """Every file below ``folder`` whose suffix is one of ``suffixes``, sorted by path.

    The one folder walk of the parsers (SQL scans and dbt models, macros, seeds); a
    ``folder`` that is not a folder has none.
    """
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in suffixes and p.is_file())


def collect_sql_files(paths: Iterable[str]) -> list[str]:
    """Expand folders to their ``*.sql`` files (sorted); keep files and ``-`` as given."""
    files: list[str] = []
    for raw in paths:
        if raw == STDIN:
            files.append(STDIN)
            continue
        path = Path(raw)
        if path.is_dir():
            files.extend(str(p) for p in find_files(path))
        elif path.exists():
            files.append(str(path))
        else:
            raise InputError("no such file or folder", file=raw)
    return files


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
    registry = SchemaRegistry(options.schema)
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
        workers = max(1, min(jobs, len(misses), os.cpu_count() or 1))
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(options, registry)
        ) as pool:
            # Small chunks so one huge file does not hold back the rest.
            chunk = max(1, len(misses) // (workers * 8))
            for (name, text), result in zip(
                misses, pool.map(_scan_in_worker, misses, chunksize=chunk), strict=True
            ):
                results[name] = result
                # Remember what the workers parsed, so a persisted cache covers it.
                store_script(result, text, options.context, registry)
                if on_file_done:
                    on_file_done(name)
    combined = ScriptLineage()
    for name in files:
        combined = combined + results[name]
    return combined


def _read(name: str, stdin_text: str | None = None) -> str | ScriptLineage:
    """The file's text, or a one-statement result that says why it cannot be read."""
    label = "<stdin>" if name == STDIN else name
    try:
        if name == STDIN:
            return stdin_text if stdin_text is not None else sys.stdin.read()
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text ({exc.reason})"
        issue = ParseIssue(f"cannot read file: {reason}", file=label)
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
) -> ScriptLineage:
    if text is None:
        read = _read(name, stdin_text)
        if isinstance(read, ScriptLineage):
            return read
        text = read
    return parse_sql(
        text, schema=registry, file="<stdin>" if name == STDIN else name, context=options.context
    )


_worker_state: tuple[ScanOptions, SchemaRegistry] | None = None


def _init_worker(options: ScanOptions, registry: SchemaRegistry) -> None:
    global _worker_state
    _worker_state = (options, registry)


def _scan_in_worker(work: tuple[str, str]) -> ScriptLineage:
    assert _worker_state is not None, "worker used before its initializer ran"
    options, registry = _worker_state
    name, text = work
    return _scan_one(name, options, registry, text=text)
