"""Text -> lineage model: SQL scripts (sqlglot) and dbt projects; loaded on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parsers.dbt.detect import *  # noqa: F403
    from parsers.dbt.load import *  # noqa: F403
    from parsers.sql.parse import *  # noqa: F403

_EXPORTS = {
    "is_dbt_project": "parsers.dbt.detect",
    "load_dbt_project": "parsers.dbt.load",
    "SUPPORTED_DIALECTS": "parsers.sql.parse",
    "clear_cache": "parsers.sql.parse",
    "export_cache": "parsers.sql.parse",
    "import_cache": "parsers.sql.parse",
    "lookup_script": "parsers.sql.parse",
    "parse_sql": "parsers.sql.parse",
    "store_script": "parsers.sql.parse",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # PEP 562: the module that defines ``name`` is imported on first access only.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
