"""SQL scripts -> column-level lineage with sqlglot: split, statements, tracer, names, schema.

sqlglot is imported with the parser, on first use of its names: ``parsers.sql.options``
and ``parsers.sql.cache`` serve a scan that finds nothing to parse without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parsers.sql.parse import *  # noqa: F403
    from parsers.sql.views import parse_view as parse_view

_PARSE_NAMES = (
    "DEFAULT_MAX_DEPTH", "DEFAULT_MAX_STATEMENT_BYTES", "SUPPORTED_DIALECTS", "clear_cache",
    "export_cache", "import_cache", "lookup_script", "parse_sql", "store_script",
)  # fmt: skip
_EXPORTS = {**dict.fromkeys(_PARSE_NAMES, "parsers.sql.parse"), "parse_view": "parsers.sql.views"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # PEP 562: the module that defines ``name`` is imported on first access only.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
