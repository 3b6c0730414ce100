"""Text -> lineage model: SQL scripts (sqlglot) and, later, dbt projects."""

from parsers.sql import SUPPORTED_DIALECTS, clear_cache, parse_sql

__all__ = ["SUPPORTED_DIALECTS", "clear_cache", "parse_sql"]
