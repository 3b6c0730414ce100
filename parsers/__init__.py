"""Text -> lineage model: SQL scripts (sqlglot) and dbt projects; loaded on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.lazy import lazy_exports

if TYPE_CHECKING:
    from parsers.dbt.load import (
        is_dbt_project,
        load_dbt_project,
    )
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
    "is_dbt_project",
    "load_dbt_project",
    "lookup_script",
    "parse_sql",
    "store_script",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "is_dbt_project": "parsers.dbt.load",
        "load_dbt_project": "parsers.dbt.load",
        "SUPPORTED_DIALECTS": "parsers.sql.parse",
        "clear_cache": "parsers.sql.parse",
        "export_cache": "parsers.sql.parse",
        "import_cache": "parsers.sql.parse",
        "lookup_script": "parsers.sql.parse",
        "parse_sql": "parsers.sql.parse",
        "store_script": "parsers.sql.parse",
    },
)
