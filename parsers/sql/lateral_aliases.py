"""Lateral column aliases, only where the dialect has them.

``SELECT a || b AS c, c AS c2 FROM s``: Snowflake, Redshift, Databricks/Spark, DuckDB,
Teradata and ClickHouse read ``c`` in the second item as the alias (a "lateral column
alias"); Postgres, MySQL, T-SQL, Trino, Hive and BigQuery read it as a column of ``s``.
Where both exist, the engines that have lateral aliases still take the source's own
column first (``SELECT a || b AS b, b AS b_orig``: ``b_orig`` is ``s.b``).

sqlglot's ``qualify_columns`` expands alias references in the SELECT list and WHERE in
every dialect (``expand_alias_refs``), and without any schema before it knows the
sources' columns. ``protect_source_references`` hides the references that are source
columns under placeholder names while sqlglot qualifies; ``restore`` brings the names
back.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp
from sqlglot.optimizer.scope import walk_in_scope

__all__ = ["LATERAL_ALIAS_DIALECTS", "ProtectedNames", "protect_source_references"]

#: Dialects whose SELECT list (and WHERE) may use an earlier item's alias.
LATERAL_ALIAS_DIALECTS = frozenset(
    {"snowflake", "redshift", "databricks", "spark", "duckdb", "teradata", "clickhouse"}
)

_PLACEHOLDER = "__silverline_source_ref_"


class ProtectedNames:
    """Placeholder name -> the source column's name it hides."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def hide(self, column: exp.Column) -> None:
        placeholder = f"{_PLACEHOLDER}{len(self.names)}"
        self.names[placeholder] = column.name
        column.set("this", exp.to_identifier(placeholder, quoted=column.this.quoted))

    def restore(self, query: exp.Expr) -> None:
        """Give the hidden columns (and the output names sqlglot derived) their names back."""
        if not self.names:
            return
        for node in query.find_all(exp.Identifier):
            original = self.names.get(node.this) if isinstance(node.this, str) else None
            if original is not None:
                node.set("this", original)


def protect_source_references(
    selects: Iterable[exp.Select], dialect: str | None, schema_known: bool
) -> ProtectedNames:
    """Hide the alias-named references that are source columns (in place).

    Args:
        selects: every SELECT of the query, before ``qualify_columns``.
        dialect: the statement's dialect; decides whether lateral aliases exist.
        schema_known: whether sqlglot qualifies against a schema, in which case it takes
            a source's own column first by itself.
    """
    protected = ProtectedNames()
    lateral = dialect in LATERAL_ALIAS_DIALECTS
    if lateral and schema_known:
        return protected
    for select in selects:
        earlier: dict[str, exp.Alias] = {}
        for projection in select.expressions:
            if earlier:
                for column in _bare_columns(projection):
                    alias = earlier.get(column.name)
                    if alias is not None and (
                        not lateral or _proven_source_column(select, alias, column.name)
                    ):
                        protected.hide(column)
            if isinstance(projection, exp.Alias):
                earlier.setdefault(projection.alias, projection)
        where = select.args.get("where")
        if where is not None and earlier and not lateral:
            for column in _bare_columns(where):
                if column.name in earlier:
                    protected.hide(column)
    return protected


def _bare_columns(node: exp.Expr) -> list[exp.Column]:
    # Most items are a column or an aliased column: no walk needed (this runs per item).
    inner = node.this if isinstance(node, exp.Alias) else node
    if isinstance(inner, exp.Column):
        bare = not inner.table and not isinstance(inner.this, exp.Star)
        return [inner] if bare else []
    return [
        c
        for c in walk_in_scope(node)
        if isinstance(c, exp.Column) and not c.table and not isinstance(c.this, exp.Star)
    ]


def _proven_source_column(select: exp.Select, alias: exp.Alias, name: str) -> bool:
    """Whether the query shows ``name`` is a column of a source (no schema to ask).

    An item cannot use its own alias, so ``a || b AS b`` reads a source column ``b``;
    ``s.b`` written anywhere in the SELECT says so too.
    """
    if any(c.name == name for c in _bare_columns(alias.this)):
        return True
    return any(
        isinstance(c, exp.Column) and c.table and c.name == name for c in walk_in_scope(select)
    )
