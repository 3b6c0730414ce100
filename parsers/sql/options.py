"""What a scan is told (``ScanOptions``, ``--schema`` files) and where its files are.

Apart from the parser so that a command that only needs to know the options (an
unchanged rescan, served from the catalog) does not import sqlglot to learn them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lineage.errors import ConfigError, InputError
from lineage.model import SqlContext

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_STATEMENT_BYTES",
    "STDIN",
    "ScanOptions",
    "collect_sql_files",
    "find_files",
    "load_schema_file",
]

#: The path that means standard input.
STDIN = "-"

#: Nesting (brackets and CASE) beyond which a statement is refused: real SQL stays far
#: below it; sqlglot's RecursionErrors start around 200 and its segfaults in the thousands.
DEFAULT_MAX_DEPTH = 200

#: Text size beyond which a statement is refused before it is parsed: sqlglot parses a
#: 5 MB ``IN`` list in about 12 s (and its tracing costs more), while dbt models and
#: generated ``INSERT ... VALUES`` batches stay well below 1 MB.
DEFAULT_MAX_STATEMENT_BYTES = 1_000_000


@dataclass(frozen=True)
class ScanOptions:
    """How to read the SQL: its context (dialect, namespace, name defaults), known schemas
    and the nesting and size beyond which a statement is refused (see ``parse_sql``)."""

    context: SqlContext = field(default_factory=SqlContext)
    schema: Mapping[str, Any] | None = None
    # Schemas known from elsewhere (the catalog): below ``schema`` and below what the
    # scanned files themselves create, so a stale catalog never hides a changed file.
    known_schema: Mapping[str, Any] | None = None
    max_depth: int | None = DEFAULT_MAX_DEPTH
    max_statement_bytes: int | None = DEFAULT_MAX_STATEMENT_BYTES

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
    import yaml  # only a --schema file needs it

    from parsers.sql.schema import SchemaRegistry

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
