"""The lineage of a view whose definition a warehouse reports (``pg_views``, ...).

Catalogs give a view's body (``SELECT ...``) apart from its name; parsed as the
``CREATE VIEW`` it came from, it yields the view's column lineage like any script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from lineage.model import ScriptLineage, SqlContext
from lineage.model.sql_text import sql_text
from parsers.sql.parse import parse_sql

__all__ = ["parse_view"]


def parse_view(
    name: Sequence[str],
    definition: str,
    *,
    context: SqlContext,
    schema: Mapping[str, Any] | None = None,
    materialized: bool = False,
) -> ScriptLineage:
    """The lineage of view ``name`` (``[database, schema, view]``, as far as known).

    The name is quoted by sqlglot for the context's dialect, never pasted in as text; a
    trailing semicolon of the definition is dropped. A definition that is a whole
    ``CREATE VIEW`` statement (as SQLite, DuckDB and Snowflake keep it) is parsed as is.
    """
    parts = [exp.to_identifier(part, quoted=True) for part in name]
    table = exp.Table(
        this=parts[-1],
        db=parts[-2] if len(parts) >= 2 else None,
        catalog=parts[-3] if len(parts) >= 3 else None,
    )
    kind = "MATERIALIZED VIEW" if materialized else "VIEW"
    body = definition.strip().rstrip(";").rstrip()
    if body[:6].upper() == "CREATE":
        # SQLite, DuckDB and Snowflake keep the whole statement, name included.
        return parse_sql(body, schema=schema, context=context, file=None)
    sql = f"CREATE {kind} {sql_text(table, context.dialect)} AS {body}"
    return parse_sql(sql, schema=schema, context=context, file=None)
