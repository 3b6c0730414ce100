"""SQL scripts -> column-level lineage with sqlglot: split, statements, tracer, names, schema."""

from __future__ import annotations

from parsers.sql.parse import (
    SUPPORTED_DIALECTS,
    clear_cache,
    export_cache,
    import_cache,
    lookup_script,
    parse_sql,
    store_script,
)

__all__ = [
    "SUPPORTED_DIALECTS",
    "clear_cache",
    "export_cache",
    "import_cache",
    "lookup_script",
    "parse_sql",
    "store_script",
]
