"""Text -> lineage model: SQL scripts (sqlglot) and dbt projects."""

from parsers.dbt import is_dbt_project, load_dbt_project
from parsers.sql import SUPPORTED_DIALECTS, clear_cache, parse_sql

__all__ = ["SUPPORTED_DIALECTS", "clear_cache", "is_dbt_project", "load_dbt_project", "parse_sql"]
