"""How PostgreSQL, DuckDB and Spark name an unaliased output expression.

Each function returns the engine's name, or None where this module does not know the
engine's rendering (the column then keeps sqlglot's ``_col_N``): a wrong name is worse
than a visibly generated one. ``parsers.sql.output_names`` decides where they apply.

* PostgreSQL (``FigureColname``): a function call is named by its function, a cast by
  its argument's name (else its type's internal name, ``int4``), CASE ``case``, a scalar
  subquery by its column, anything else ``?column?``.
* DuckDB prints the bound expression: ``count_star()``, ``(a + 1)``,
  ``CAST(a AS INTEGER)``; verified with duckdb 2.0 (tests/parsers/sql/test_output_names.py).
* Spark's analyzer aliases an expression with ``toPrettySQL``: ``count(1)``,
  ``(a + 1)``, unqualified columns, and a cast of a column keeps the column's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from parsers.sql.output_names import SourceText

__all__ = ["duckdb_name", "function_name", "postgres_name", "spark_name"]

_T = exp.DataType.Type
#: PostgreSQL's internal type names, what a cast of a non-column is named after.
_PG_TYPES = {
    _T.INT: "int4",
    _T.BIGINT: "int8",
    _T.SMALLINT: "int2",
    _T.FLOAT: "float4",
    _T.DOUBLE: "float8",
    _T.BOOLEAN: "bool",
    _T.DECIMAL: "numeric",
    _T.VARCHAR: "varchar",
    _T.CHAR: "bpchar",
    _T.TEXT: "text",
    _T.DATE: "date",
    _T.TIMESTAMP: "timestamp",
    _T.TIMESTAMPTZ: "timestamptz",
    _T.TIME: "time",
    _T.INTERVAL: "interval",
    _T.JSON: "json",
    _T.JSONB: "jsonb",
    _T.UUID: "uuid",
}
_DUCKDB_TYPES = {
    _T.INT: "INTEGER",
    _T.BIGINT: "BIGINT",
    _T.SMALLINT: "SMALLINT",
    _T.DOUBLE: "DOUBLE",
    _T.FLOAT: "FLOAT",
    _T.BOOLEAN: "BOOLEAN",
    _T.VARCHAR: "VARCHAR",
    _T.TEXT: "VARCHAR",
    _T.DATE: "DATE",
    _T.TIMESTAMP: "TIMESTAMP",
}
_SPARK_TYPES = {
    _T.INT: "INT",
    _T.BIGINT: "BIGINT",
    _T.SMALLINT: "SMALLINT",
    _T.DOUBLE: "DOUBLE",
    _T.FLOAT: "FLOAT",
    _T.BOOLEAN: "BOOLEAN",
    _T.VARCHAR: "STRING",
    _T.TEXT: "STRING",
    _T.DATE: "DATE",
    _T.TIMESTAMP: "TIMESTAMP",
}
_OPERATORS: dict[type[exp.Expr], str] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.And: "AND",
    exp.Or: "OR",
}
_PG_NAMED = (exp.Coalesce, exp.Greatest, exp.Least, exp.Nullif, exp.Exists)


def function_name(node: exp.Func, source: SourceText | None) -> str:
    """A function's name as written (lower-cased), else sqlglot's name for it."""
    meta = node._meta
    if source is not None and meta and "start" in meta and "end" in meta:
        written = source.text[meta["start"] - source.offset : meta["end"] - source.offset + 1]
        if written.replace("_", "").isalnum():
            return written.lower()
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def postgres_name(node: exp.Expr, source: SourceText | None) -> str | None:
    """PostgreSQL's (and Redshift's) name; None only for a cast to an unmapped type."""
    name = _pg_name(node, source)
    return "?column?" if name == "" else name


def _pg_name(node: exp.Expr, source: SourceText | None) -> str | None:
    # "" is PostgreSQL's "no name" (the caller makes it ?column?), None "unknown".
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column | exp.Dot):
        return str(node.name)
    if isinstance(node, exp.Cast):
        inner = _pg_name(node.this, source)
        if inner:
            return inner
        to = node.to
        return _PG_TYPES.get(to.this) if isinstance(to, exp.DataType) else None
    if isinstance(node, exp.Case):
        return "case"
    if isinstance(node, exp.Window):
        return _pg_name(node.this, source)
    if isinstance(node, exp.Bracket):
        return _pg_name(node.this, source)
    if isinstance(node, exp.Subquery):
        inner_select = node.this
        if isinstance(inner_select, exp.Select) and inner_select.expressions:
            first = inner_select.expressions[0]
            return first.alias_or_name or _pg_name(first, source)
        return None
    if isinstance(node, exp.Array):
        return "array"
    if isinstance(node, _PG_NAMED):
        return node.sql_name().lower()
    if isinstance(node, exp.Func):
        return function_name(node, source)
    return ""


def duckdb_name(node: exp.Expr, source: SourceText | None) -> str | None:
    """DuckDB's rendering of the expression, or None outside the shapes verified."""
    return _render(node, source, duckdb=True)


def spark_name(node: exp.Expr, source: SourceText | None) -> str | None:
    """Spark's ``toPrettySQL`` of the expression, or None outside the shapes known."""
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Column):
        return str(node.this.name)  # ResolveAliases: Cast(named) keeps the name
    return _render(node, source, duckdb=False)


def _render(node: exp.Expr, source: SourceText | None, *, duckdb: bool) -> str | None:
    if isinstance(node, exp.Paren):
        return _render(node.this, source, duckdb=duckdb)
    if isinstance(node, exp.Column):
        if not isinstance(node.this, exp.Identifier):
            return None
        # Hand-rendered: a sqlglot generator costs milliseconds to set up per call.
        parts = [p.name for p in node.parts] if duckdb else [node.name]
        return ".".join(str(p) for p in parts)
    if isinstance(node, exp.Literal):
        if node.is_string:
            text = str(node.this)
            return "'" + text.replace("'", "''") + "'" if duckdb else text
        return str(node.this)
    if isinstance(node, exp.Null):
        return "NULL"
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    operator = _OPERATORS.get(type(node))
    if operator is not None:
        left = _render(node.this, source, duckdb=duckdb)
        right = _render(node.expression, source, duckdb=duckdb)
        return None if left is None or right is None else f"({left} {operator} {right})"
    if isinstance(node, exp.Neg):
        inner = _render(node.this, source, duckdb=duckdb)
        if inner is None:
            return None
        return f"(-({inner}))" if duckdb else f"(- {inner})"
    if isinstance(node, exp.Cast):
        inner = _render(node.this, source, duckdb=duckdb)
        types = _DUCKDB_TYPES if duckdb else _SPARK_TYPES
        to = node.to
        plain = isinstance(to, exp.DataType) and not to.expressions  # no (10, 2) etc.
        type_name = types.get(to.this) if plain else None
        return None if inner is None or type_name is None else f"CAST({inner} AS {type_name})"
    if isinstance(node, exp.Count):
        return _count(node, source, duckdb=duckdb)
    if isinstance(node, exp.Coalesce) and duckdb:
        args = [_render(a, source, duckdb=duckdb) for a in [node.this, *node.expressions]]
        return None if None in args else f"COALESCE({', '.join(a for a in args if a)})"
    if isinstance(node, exp.Func) and _plain_call(node):
        args = [_render(a, source, duckdb=duckdb) for a in _arguments(node)]
        if any(a is None for a in args):
            return None
        return f"{function_name(node, source)}({', '.join(a for a in args if a)})"
    return None


def _count(node: exp.Count, source: SourceText | None, *, duckdb: bool) -> str | None:
    argument = node.this
    if isinstance(argument, exp.Star) or argument is None:
        return "count_star()" if duckdb else "count(1)"
    if isinstance(argument, exp.Distinct):
        args = [_render(a, source, duckdb=duckdb) for a in argument.expressions]
        if any(a is None for a in args):
            return None
        return f"count(DISTINCT {', '.join(a for a in args if a)})"
    inner = _render(argument, source, duckdb=duckdb)
    return None if inner is None else f"count({inner})"


#: Functions whose arguments sqlglot keeps in written order (``this``, then the rest).
_PLAIN = (
    exp.Anonymous,
    exp.Upper,
    exp.Lower,
    exp.Sum,
    exp.Avg,
    exp.Min,
    exp.Max,
    exp.Abs,
    exp.Length,
    exp.Round,
    exp.Concat,
    exp.Substring,
)


def _plain_call(node: exp.Func) -> bool:
    if isinstance(node, exp.Anonymous):
        return True
    return isinstance(node, _PLAIN) and not any(
        isinstance(v, exp.Distinct) for v in node.args.values()
    )


def _arguments(node: exp.Func) -> list[exp.Expr]:
    found: list[exp.Expr] = []
    for key in node.arg_types:
        value = node.args.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, exp.Expr):
                found.append(item)
    return found
