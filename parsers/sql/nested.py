"""Nested field paths: a struct field, a Snowflake VARIANT path, read as one input field.

The input field of a nested access is the dotted path from the top-level column, as
DataHub's parser reports it; the table qualifier is not part of it::

    SELECT t.widget.asset.id FROM t      -- field widget.asset.id of t (IDENTITY)
    SELECT v:asset.id::INT AS id FROM t  -- field v.asset.id of t (Snowflake; TRANSFORMATION)
    SELECT payload ->> 'a' FROM t        -- field payload (JSON is parsed: TRANSFORMATION)

``access_of`` finds, for a column reference, the path written after it (``.field``,
``['key']`` where the engine reads that as a field, ``struct_extract(s, 'f')``,
Snowflake's ``:a.b``, ``GET_PATH`` and ``GET``) and the outermost node of that access,
which is what the output is computed from (``classify`` types that node, so a bare path
is IDENTITY). ``with_path``
extends the top column's lineage with the path, but only for inputs the column copies as
is: a struct built by an expression (``COALESCE(a, b) AS s``, then ``s.x``) is computed
from ``a`` and ``b``, not a field of them. The walk goes up the parent chain, never
recursing, so any depth of nesting is one loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from lineage.model import IDENTITY
from parsers.sql.transformations import Edges, strip
from parsers.sql.wildcards import WILDCARD

__all__ = ["NestedAccess", "access_of", "base_column", "with_path"]

# Where ``x['a']`` reads the field ``a`` of a struct / object (or a map's key): Snowflake
# VARIANT and OBJECT, DuckDB and Spark structs, Redshift SUPER (PartiQL). Elsewhere a
# string subscript is a JSON or map lookup (Postgres jsonb, BigQuery JSON, Trino maps):
# a transformation of the column, as ``->`` and ``JSON_EXTRACT`` are.
_KEYED_SUBSCRIPT_DIALECTS = frozenset(
    {"snowflake", "duckdb", "spark", "spark2", "databricks", "hive", "redshift"}
)
# Whose struct field names are case-insensitive: a subscript key is folded like a name.
# Snowflake's VARIANT keys are case-sensitive and kept as written.
_FOLDED_KEY_DIALECTS = _KEYED_SUBSCRIPT_DIALECTS - {"snowflake"}
# Snowflake's semi-structured paths (``v:a.b``, ``GET_PATH(v, 'a.b')``, ``GET(v, 'a')``)
# walk VARIANT / OBJECT values, Snowflake's nested types. Databricks' ``raw:a.b`` reads
# a JSON string (or VARIANT) and stays a JSON extraction, as DataHub reads it.
_VARIANT_PATH_DIALECTS = frozenset({"snowflake"})


@dataclass(frozen=True)
class NestedAccess:
    """The access written after a column: the node the value is read from, and its path."""

    node: exp.Expr
    path: tuple[str, ...] = ()


def access_of(column: exp.Column, dialect: str | None) -> NestedAccess:
    """The nested access that starts at ``column`` (no path when there is none)."""
    node: exp.Expr = column
    path: list[str] = []
    keyed = dialect in _KEYED_SUBSCRIPT_DIALECTS
    variant = dialect in _VARIANT_PATH_DIALECTS
    while True:
        parent = node.parent
        if parent is None or node.arg_key != "this":
            break
        if isinstance(parent, exp.Dot):
            field = parent.expression
            if not isinstance(field, exp.Identifier):
                break  # ``s.*`` or a method call: the path ends here
            path.append(field.name)
        elif isinstance(parent, exp.Bracket) and keyed:
            key = _string_key(parent)
            if key is None:
                break  # an array element (``arr[0]``): a transformation of the array
            path.append(key.lower() if dialect in _FOLDED_KEY_DIALECTS else key)
        elif isinstance(parent, exp.StructExtract):
            key = _literal(parent.expression)  # DuckDB's struct_extract(s, 'f') is s.f
            if key is None:
                break
            path.append(key.lower())
        elif isinstance(parent, exp.JSONExtract) and variant:
            keys, complete = _variant_keys(parent.expression)
            path.extend(keys)
            if not complete:
                break  # ``v:a[0].b``: an element of the array ``v.a`` is a transformation
        elif isinstance(parent, exp.GetExtract) and variant:
            key = _literal(parent.expression)
            if key is None:
                break
            path.append(key)
        else:
            break
        node = parent
    return NestedAccess(node, tuple(path))


def with_path(edges: Edges, path: tuple[str, ...]) -> Edges:
    """``edges`` of a top-level column with ``path`` appended where the value is copied.

    An input that reaches the column unchanged (only IDENTITY) holds the nested field
    itself: ``(t, widget)`` becomes ``(t, widget.asset.id)``. Any other input computed
    the struct and stays as it is.
    """
    if not path:
        return edges
    suffix = ".".join(path)
    extended: Edges = {}
    for (dataset, field), transformations in edges.items():
        if field != WILDCARD and transformations and transformations <= {IDENTITY}:
            key = (dataset, f"{field}.{suffix}")
        else:
            key = (dataset, field)
        extended.setdefault(key, set()).update(transformations)
    return extended


def base_column(node: exp.Expr) -> exp.Expr:
    """The column a nested access starts from (``a.w.id`` -> ``a.w``), else ``node``
    without its parentheses and alias: what a join condition compares."""
    node = strip(node)
    while isinstance(node, _ACCESS_NODES):
        node = node.this
    return node


_ACCESS_NODES = (exp.Dot, exp.Bracket, exp.StructExtract, exp.JSONExtract, exp.GetExtract)


def _string_key(bracket: exp.Bracket) -> str | None:
    keys = bracket.expressions
    return _literal(keys[0]) if len(keys) == 1 else None


def _literal(node: exp.Expr | None) -> str | None:
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    return None


def _variant_keys(json_path: exp.Expr | None) -> tuple[list[str], bool]:
    """The keys of ``:a.b`` / ``'a.b'`` up to the first array element or wildcard, and
    whether that was the whole path."""
    keys: list[str] = []
    if not isinstance(json_path, exp.JSONPath):
        return keys, False
    for part in json_path.expressions:
        if isinstance(part, exp.JSONPathRoot):
            continue
        if not isinstance(part, exp.JSONPathKey) or not isinstance(part.this, str):
            return keys, False
        keys.append(part.this)
    return keys, bool(keys)
