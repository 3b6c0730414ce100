"""What a job's ``inputs=`` / ``outputs=`` and ``run.add_output(df)`` name, as OpenLineage
datasets: names, SQLAlchemy tables, DuckDB relations, data frames.

Naming rules (also in docs/openlineage.md):

- ``DatasetId`` is taken as is.
- ``"scheme://authority/name"`` is split: ``postgres://db:5432/dwh.silver.customers`` ->
  namespace ``postgres://db:5432``, name ``dwh.silver.customers``; object stores and files
  follow OpenLineage's naming (``s3://bucket/bronze/erp`` -> ``s3://bucket``,
  ``bronze/erp``; ``/data/x.parquet`` -> ``file``, ``/data/x.parquet``).
- Any other text is a name in the project namespace (``namespace=`` of the job, else
  ``namespace`` of lineage.yml, else the SQL dialect's name, as ``lineage scan`` uses):
  a dotted SQL identifier (``bronze.erp_cust_az12``) is normalised like the SQL parser
  does (lower case, ``default_database`` / ``default_schema`` of lineage.yml prefixed), so
  a decorated job and the SQL it runs name a table the same way. There is no
  ``namespace/name`` form: names may hold ``/`` (file paths, object keys).
- A SQLAlchemy ``Table`` (or ORM class): its ``fullname``; the namespace of the engine
  given as ``namespace=`` (``postgres://host:5432``, ``duckdb:///path/file.duckdb``) with the
  database prefixed as OpenLineage names tables there, else the project namespace.
- A DuckDB relation: its alias (a named table or view) and its columns and types.
- A pandas / polars data frame, a pyarrow table or a DuckDB relation given as an output
  adds its schema, row count and null counts (``frame_facts``); all are duck-typed, no
  import of pandas, pyarrow, polars or duckdb happens here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from lineage.model import OBJECT_STORE_SCHEMES, DatasetId, Field, Schema, SqlContext, namespace_of

__all__ = [
    "FrameFacts",
    "finite",
    "frame_facts",
    "is_frame",
    "names_with",
    "resolve_dataset",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*){0,2}$")
_MAX_NULL_COUNT_CELLS = 50_000_000  # beyond this, counting nulls is no longer cheap


@dataclass(frozen=True)
class FrameFacts:
    """What a data frame says about the dataset it is: schema, rows, nulls per column."""

    schema: Schema | None = None
    row_count: int | None = None
    null_counts: Mapping[str, int] | None = None


def resolve_dataset(
    obj: Any, defaults: SqlContext, namespace: Any = None
) -> tuple[DatasetId, Schema | None]:
    """The dataset ``obj`` names and, when it says, its schema.

    Args:
        obj: a ``DatasetId``, a name, a SQLAlchemy table / ORM class or a DuckDB relation.
        defaults: the project's SQL context: namespace and name defaults.
        namespace: the job's ``namespace=``: text, or a SQLAlchemy engine / connection / URL.

    Raises:
        TypeError: ``obj`` names no dataset (a data frame needs an explicit name).
    """
    if isinstance(obj, DatasetId):
        return obj, None
    if isinstance(obj, str):
        return _from_name(obj, names_with(defaults, namespace)), None
    table = getattr(obj, "__table__", None) if not _module_is(obj, "duckdb") else None
    if table is not None:
        obj = table
    if _is_sqlalchemy_table(obj):
        return _from_table(obj, defaults, namespace)
    if _module_is(obj, "duckdb") and isinstance(getattr(obj, "alias", None), str):
        alias: str = obj.alias
        if alias.startswith("unnamed_relation"):
            raise TypeError("a DuckDB query relation has no name: give one (name=...)")
        dataset = _from_name(alias, names_with(defaults, namespace))
        facts = frame_facts(obj, counts=False)
        return dataset, facts.schema if facts else None
    raise TypeError(
        f"cannot name a dataset from a {type(obj).__name__}: give a name, a DatasetId, "
        "a SQLAlchemy Table or a DuckDB relation"
    )


def names_with(defaults: SqlContext, namespace: Any) -> SqlContext:
    """``defaults`` in a job's ``namespace=``: text, or an engine naming its database too."""
    if namespace is None:
        return defaults
    if isinstance(namespace, str):
        return replace(defaults, namespace=namespace)
    found, database = namespace_of(namespace)
    return defaults.updated(namespace=found, default_database=database or None)


def _from_name(name: str, defaults: SqlContext) -> DatasetId:
    text = name.strip()
    if not text:
        raise TypeError("an empty dataset name")
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if scheme.lower() in OBJECT_STORE_SCHEMES or scheme.lower() == "file":
            from parsers.sql.names import location_dataset  # sqlglot: loaded when needed

            return location_dataset(text, defaults.dataset_namespace)
        authority, _, path = rest.partition("/")
        if not path:
            raise TypeError(f"{name!r} has a namespace but no dataset name after it")
        return DatasetId(f"{scheme.lower()}://{authority}", path)
    if text.startswith("/"):
        return DatasetId("file", text)
    if _IDENTIFIER.match(text):
        # Completed as the SQL parser completes a table name, so both name it alike.
        parts = defaults.qualify(text.lower().split("."))
        return DatasetId(defaults.dataset_namespace, ".".join(parts))
    return DatasetId(defaults.dataset_namespace, text)


def _is_sqlalchemy_table(obj: Any) -> bool:
    return (
        _module_is(obj, "sqlalchemy")
        and isinstance(getattr(obj, "name", None), str)
        and hasattr(obj, "columns")
        and hasattr(obj, "fullname")
    )


def _from_table(obj: Any, defaults: SqlContext, namespace: Any) -> tuple[DatasetId, Schema | None]:
    bind = namespace if namespace is not None and not isinstance(namespace, str) else None
    bind = (
        bind or getattr(obj, "bind", None) or getattr(getattr(obj, "metadata", None), "bind", None)
    )
    schema_name = getattr(obj, "schema", None)
    if bind is not None:
        found, database = namespace_of(bind)
        scheme = found.split("://", 1)[0]
        if scheme in ("postgres", "redshift", "mssql", "trino", "snowflake", "duckdb"):
            default_schema = {"mssql": "dbo", "duckdb": "main"}.get(scheme, "public")
            parts = [database, schema_name or default_schema, obj.name]
        else:  # mysql, sqlite, ...: a schema is the database
            parts = [schema_name or database, obj.name]
        dataset = DatasetId(found, ".".join(p for p in parts if p))
    else:
        base = names_with(defaults, namespace)
        dataset = _from_name(str(obj.fullname), base)
    return dataset, _table_schema(obj, bind)


def _table_schema(table: Any, bind: Any) -> Schema | None:
    dialect = getattr(getattr(bind, "engine", bind), "dialect", None)
    fields = []
    for column in table.columns:
        kind: str | None = None
        if type(column.type).__name__ != "NullType":  # sa.column("x") without a type
            try:
                kind = column.type.compile(dialect=dialect) if dialect else str(column.type)
            except Exception:  # no rendering for this dialect: unknown, not guessed
                kind = None
        fields.append(Field(str(column.name), kind, getattr(column, "comment", None)))
    return Schema(tuple(fields)) if fields else None


# -- data frames ---------------------------------------------------------------------------


def _module_is(obj: Any, package: str) -> bool:
    module = type(obj).__module__ or ""
    return module == package or module.startswith(package + ".") or module.startswith("_" + package)


def is_frame(obj: Any) -> bool:
    """True for a pandas / polars DataFrame, a pyarrow Table or a DuckDB relation."""
    if obj is None or isinstance(obj, str | bytes | int | float | Mapping | list | tuple):
        return False
    if _module_is(obj, "pandas") or _module_is(obj, "polars"):
        return hasattr(obj, "columns") and hasattr(obj, "dtypes")
    if _module_is(obj, "pyarrow"):
        return hasattr(obj, "num_rows") and hasattr(obj, "schema")
    if _module_is(obj, "duckdb"):
        return isinstance(getattr(obj, "columns", None), list)
    return False


def frame_facts(obj: Any, *, counts: bool = True) -> FrameFacts | None:
    """Schema, row count and null counts of a data frame (None if ``obj`` is not one).

    Null counts are taken where cheap: pyarrow keeps them per column, pandas and polars
    count them vectorised (up to 50 million cells); for a DuckDB relation one aggregate
    query counts rows and nulls together. ``counts=False`` takes the schema only (and the
    row count where it is free), scanning nothing.
    Never raises: a frame that will not tell is reported with what it did tell.
    """
    try:
        if _module_is(obj, "pyarrow"):
            return _arrow_facts(obj, counts)
        if _module_is(obj, "pandas"):
            return _pandas_facts(obj, counts)
        if _module_is(obj, "polars"):
            return _polars_facts(obj, counts)
        if _module_is(obj, "duckdb"):
            return _duckdb_facts(obj, counts)
    except Exception:  # a broken frame costs its facts, never the job
        return FrameFacts()
    return None


def _arrow_facts(table: Any, counts: bool) -> FrameFacts:
    schema = table.schema
    names = [str(n) for n in schema.names]
    fields = tuple(Field(n, str(t)) for n, t in zip(names, schema.types, strict=False))
    nulls: dict[str, int] = {}
    if counts and hasattr(table, "column"):
        nulls = {n: int(table.column(i).null_count) for i, n in enumerate(names)}
    return FrameFacts(Schema(fields), int(table.num_rows), nulls or None)


def _pandas_facts(frame: Any, counts: bool) -> FrameFacts:
    names = [str(c) for c in frame.columns]
    fields = tuple(Field(n, str(t)) for n, t in zip(names, frame.dtypes, strict=False))
    rows = len(frame)
    nulls = None
    if counts and rows * max(len(names), 1) <= _MAX_NULL_COUNT_CELLS:
        found = frame.isna().sum()
        nulls = {str(k): int(v) for k, v in found.items()}
    return FrameFacts(Schema(fields), rows, nulls)


def _polars_facts(frame: Any, counts: bool) -> FrameFacts:
    schema = frame.schema
    fields = tuple(Field(str(n), str(t)) for n, t in schema.items())
    rows = int(frame.height)
    nulls = None
    if counts and rows * max(len(fields), 1) <= _MAX_NULL_COUNT_CELLS:
        row = frame.null_count().row(0)
        nulls = {f.name: int(v) for f, v in zip(fields, row, strict=False)}
    return FrameFacts(Schema(fields), rows, nulls)


def _duckdb_facts(relation: Any, counts: bool) -> FrameFacts:
    names = [str(c) for c in relation.columns]
    fields = tuple(Field(n, str(t)) for n, t in zip(names, relation.types, strict=False))
    if not counts:
        return FrameFacts(Schema(fields))
    quoted = ['"' + n.replace('"', '""') + '"' for n in names]
    expressions = ["count(*)", *[f"count(*) - count({q})" for q in quoted]]
    # One pass for rows and nulls; fetchall() works on every DuckDB version.
    row = relation.aggregate(", ".join(expressions)).fetchall()[0]
    nulls = {n: int(v) for n, v in zip(names, row[1:], strict=False)}
    return FrameFacts(Schema(fields), int(row[0]), nulls)


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
