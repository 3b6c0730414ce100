"""The profiling queries, built with sqlglot: one SELECT of every aggregate of a table.

``connectors.warehouse.profile`` runs them; this module only builds them, so the SQL can
be tested (and shown by ``--explain``) without a warehouse. Each query is one aggregate
SELECT over the table (or over a sample of it) whose projections are *slots*: a slot
says which figure of which column a result position holds, so reading the one result row
back needs no parsing of aliases::

    SELECT COUNT(*) AS "_p0",                                   -- row_count
           MAX("_airbyte_extracted_at") AS "_p1",               -- last_loaded_at
           COUNT(*) - COUNT("cid") AS "_p2",                    -- null_count of cid
           APPROX_COUNT_DISTINCT("cid") AS "_p3", ...           -- distinct_count of cid
    FROM "bronze"."erp_cust_az12"

What a column gets depends on its type (``LiveColumn.type`` parsed by
``sqlglot.exp.DataType.build`` in the warehouse's dialect, text when it does not parse):
numbers get min/max as numbers, dates, times and strings get min/max as text bounds,
booleans, UUIDs and intervals only nulls and distinct counts, and binary, JSON, arrays,
structs, maps and geometries only null counts (their min/max are undefined or huge).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError

from lineage.model import LiveColumn, LiveTable, ProfileMetric
from lineage.model.sql_text import sql_text

__all__ = [
    "APPROX_DISTINCT_DIALECTS",
    "DEFAULT_EXACT_DISTINCT_BELOW_ROWS",
    "DEFAULT_LOADED_AT_COLUMNS",
    "ColumnKind",
    "ProfilePlan",
    "Slot",
    "column_kind",
    "count_plan",
    "decode_row",
    "loaded_at_column",
    "profile_plan",
    "sqlglot_dialect",
    "table_expression",
]

#: Where a loaded-at timestamp is usually found: Airbyte's, dbt's, a home-grown one.
DEFAULT_LOADED_AT_COLUMNS: tuple[str, ...] = (
    "_airbyte_extracted_at",
    "dwh_loaded_at",
    "_loaded_at",
)
#: Dialects without an approximate distinct count (PostgreSQL, SQLite, ...) count exactly,
#: but only when the scan is known to read at most this many rows.
DEFAULT_EXACT_DISTINCT_BELOW_ROWS = 1_000_000
#: Dialects with a cheap (HyperLogLog) distinct count that sqlglot renders natively.
APPROX_DISTINCT_DIALECTS = frozenset(
    {"duckdb", "snowflake", "bigquery", "redshift", "databricks", "spark", "trino", "presto",
     "athena"}
)  # fmt: skip

# SQLAlchemy backend names whose sqlglot dialect is spelled differently.
_BACKEND_DIALECTS = {
    "postgresql": "postgres",
    "mssql": "tsql",
    "mariadb": "mysql",
    "awsathena": "athena",
}
# Row-count samples in the table's own clause; percentage samples; else a random subquery.
_ROW_SAMPLE_METHODS = {"duckdb": "RESERVOIR", "snowflake": "BERNOULLI"}
_PERCENT_SAMPLE_DIALECTS = frozenset({"postgres", "bigquery"})
# DuckDB's SYSTEM sampling keeps or skips whole vectors of 2,048 rows: below this many
# vectors its size strays far from the one asked for (one vector instead of five was
# seen), so smaller samples are drawn row by row (BERNOULLI, still a fraction of a scan).
_DUCKDB_VECTOR_ROWS = 2_048
_DUCKDB_SYSTEM_MIN_VECTORS = 100
# BigQuery's TABLESAMPLE has no REPEATABLE clause.
_SEEDED_SAMPLE_DIALECTS = frozenset({"duckdb", "postgres"})
_SAMPLE_SEED = 7
# Table names: schema.table within the connected database, just the table, or all parts.
_SCHEMA_QUALIFIED = frozenset({"postgres", "redshift", "duckdb", "mysql", "tsql"})
_TABLE_ONLY = frozenset({"sqlite"})

#: Longest text bound kept: a min/max string is a hint, not a payload for the catalog.
_MAX_BOUND_CHARS = 200

_T = exp.DataType.Type
_OPAQUE_TYPES = frozenset(
    {_T.BINARY, _T.VARBINARY, _T.BLOB, _T.LONGBLOB, _T.MEDIUMBLOB, _T.TINYBLOB, _T.IMAGE,
     _T.JSON, _T.JSONB, _T.ARRAY, _T.LIST, _T.STRUCT, _T.MAP, _T.OBJECT, _T.VARIANT,
     _T.NESTED, _T.UNION, _T.SUPER, _T.HSTORE, _T.XML, _T.GEOMETRY, _T.GEOGRAPHY, _T.POINT,
     _T.RING, _T.LINESTRING, _T.POLYGON, _T.MULTILINESTRING, _T.MULTIPOLYGON, _T.BIT,
     _T.VECTOR}
)  # fmt: skip


class ColumnKind(str, Enum):
    """Which aggregates a column's type allows."""

    NUMBER = "number"  # null, distinct, min/max as numbers
    TEMPORAL = "temporal"  # null, distinct, min/max as ISO text
    TEXT = "text"  # null, distinct, min/max as text (also: a type that does not parse)
    PLAIN = "plain"  # null, distinct (booleans, UUIDs, intervals: no useful order)
    OPAQUE = "opaque"  # null only (binary, JSON, arrays, structs, geometries)


@dataclass(frozen=True)
class Slot:
    """What one projection of a profiling query holds.

    ``figure`` is ``row_count``, ``last_loaded_at``, ``null_count``, ``distinct_count``,
    ``min`` or ``max``; ``column`` the column's name (None for the table's row count).
    """

    figure: str
    column: str | None = None
    kind: ColumnKind = ColumnKind.NUMBER


@dataclass(frozen=True)
class ProfilePlan:
    """One query and what each position of its single result row holds."""

    select: exp.Select
    slots: tuple[Slot, ...]
    dialect: str

    def sql(self, *, pretty: bool = False) -> str:
        """The query in the plan's dialect, every identifier quoted."""
        return sql_text(self.select, self.dialect, identify=True, pretty=pretty)


def sqlglot_dialect(name: str) -> str:
    """The sqlglot dialect of a SQLAlchemy backend name (``postgresql`` -> ``postgres``).

    A sqlglot dialect name is returned as it is.
    """
    key = name.lower().split("+", 1)[0]
    return _BACKEND_DIALECTS.get(key, key)


def column_kind(column: LiveColumn, dialect: str) -> ColumnKind:
    """The aggregates ``column`` allows, from its native type read in ``dialect``."""
    if not column.type:
        return ColumnKind.TEXT
    try:
        data_type = exp.DataType.build(column.type, dialect=dialect)
    except (SqlglotError, ValueError):
        return ColumnKind.TEXT  # a type sqlglot does not know: min/max as text is the safe bet
    kind = data_type.this
    if kind in exp.DataType.NUMERIC_TYPES:
        return ColumnKind.NUMBER
    if kind in exp.DataType.TEMPORAL_TYPES:
        return ColumnKind.TEMPORAL
    if kind in _OPAQUE_TYPES:
        return ColumnKind.OPAQUE
    if kind in (_T.BOOLEAN, _T.UUID, _T.INTERVAL):
        return ColumnKind.PLAIN
    return ColumnKind.TEXT


def loaded_at_column(table: LiveTable, candidates: Sequence[str]) -> LiveColumn | None:
    """The first of ``candidates`` the table has (compared case-insensitively)."""
    by_name = {column.name.lower(): column for column in table.columns}
    for candidate in candidates:
        found = by_name.get(candidate.lower())
        if found is not None:
            return found
    return None


def table_expression(name: str, dialect: str) -> exp.Table:
    """The table named ``database.schema.table`` as the dialect's query must name it.

    PostgreSQL, Redshift and DuckDB query ``schema.table`` within the connected database,
    SQLite the table alone; the others (Snowflake, BigQuery, ...) get every part.
    """
    parts = name.split(".", 2)
    table = parts[-1]
    schema = parts[-2] if len(parts) >= 2 else None
    catalog = parts[0] if len(parts) == 3 else None
    if dialect in _TABLE_ONLY:
        schema = catalog = None
    elif dialect in _SCHEMA_QUALIFIED:
        catalog = None
    return exp.Table(
        this=exp.to_identifier(table, quoted=True),
        db=exp.to_identifier(schema, quoted=True) if schema else None,
        catalog=exp.to_identifier(catalog, quoted=True) if catalog else None,
    )


def count_plan(
    table: LiveTable,
    dialect: str,
    loaded_at_columns: Sequence[str] = DEFAULT_LOADED_AT_COLUMNS,
) -> ProfilePlan:
    """The exact row count and freshness of the whole table (the first of two queries
    when the column figures are sampled)."""
    dialect = sqlglot_dialect(dialect)
    slots, projections = _table_figures(table, loaded_at_columns)
    select = exp.select(*_aliased(projections)).from_(table_expression(table.id.name, dialect))
    return ProfilePlan(select, tuple(slots), dialect)


def profile_plan(
    table: LiveTable,
    dialect: str,
    *,
    loaded_at_columns: Sequence[str] = DEFAULT_LOADED_AT_COLUMNS,
    sample_rows: int | None = None,
    table_rows: int | None = None,
    exact_distinct_below_rows: int = DEFAULT_EXACT_DISTINCT_BELOW_ROWS,
) -> ProfilePlan:
    """The one aggregate query of a table's profile.

    Args:
        table: the table and its columns as introspected.
        dialect: a sqlglot dialect (or SQLAlchemy backend) name.
        loaded_at_columns: freshness candidates; the first present is used.
        sample_rows: when given, the column figures come from a sample of about this many
            rows, and the query's count is the sample's size (the exact row count and the
            freshness then come from ``count_plan``).
        table_rows: the table's exact row count when already known; PostgreSQL and
            BigQuery sample by percentage and need it.
        exact_distinct_below_rows: dialects without an approximate distinct count count
            exactly only when the scan is known to read at most this many rows (the
            sample's size, or ``table_rows``); otherwise distinct counts are skipped.

    Returns:
        The plan: the SELECT and its slots.
    """
    dialect = sqlglot_dialect(dialect)
    source: exp.Expression = table_expression(table.id.name, dialect)
    sampled = sample_rows is not None
    if sample_rows is not None:
        table_source = table_expression(table.id.name, dialect)
        source = _sampled(table_source, dialect, sample_rows, table_rows)
        slots: list[Slot] = [Slot("row_count")]
        projections: list[exp.Expression] = [exp.Count(this=exp.Star())]
    else:
        slots, projections = _table_figures(table, loaded_at_columns)
    scanned = sample_rows if sampled else table_rows
    approx = dialect in APPROX_DISTINCT_DIALECTS
    distinct = approx or (scanned is not None and scanned <= exact_distinct_below_rows)
    for column in table.columns:
        kind = column_kind(column, dialect)
        for figure, projection in _column_figures(column, kind, distinct=distinct, approx=approx):
            slots.append(Slot(figure, column.name, kind))
            projections.append(projection)
    select = exp.select(*_aliased(projections)).from_(source)
    return ProfilePlan(select, tuple(slots), dialect)


def decode_row(
    plan: ProfilePlan, row: Sequence[Any]
) -> tuple[list[ProfileMetric], list[tuple[str, str | None, str | None]], int]:
    """The metrics, text bounds and scanned row count (the first slot) of ``plan``'s row.

    Numbers become ``min``/``max`` metrics; dates, strings, and numbers a dirty column
    holds as text become ``bounds`` (ISO text); the loaded-at max becomes epoch seconds.
    """
    rows = int(row[0])
    metrics = [ProfileMetric("row_count", float(rows))]
    bounds: list[tuple[str, str | None, str | None]] = []
    lows: dict[str, Any] = {}
    for slot, value in zip(plan.slots, row, strict=True):
        column = slot.column
        if slot.figure == "last_loaded_at":
            epoch = _epoch(value)
            if epoch is not None:
                metrics.append(ProfileMetric("last_loaded_at", epoch, column))
        elif slot.figure == "null_count":
            metrics.append(ProfileMetric("null_count", float(value), column))
            if rows:
                metrics.append(ProfileMetric("null_rate", float(value) / rows, column))
        elif slot.figure == "distinct_count" and value is not None:
            metrics.append(ProfileMetric("distinct_count", float(value), column))
        elif slot.figure == "min" and column is not None:
            lows[column] = value
        elif slot.figure == "max" and column is not None:
            low = lows.pop(column, None)
            numbers = _numbers(low, value) if slot.kind is ColumnKind.NUMBER else None
            if numbers is not None:
                metrics.extend(
                    ProfileMetric(name, number, column)
                    for name, number in zip(("min", "max"), numbers, strict=True)
                    if number is not None
                )
            else:  # dates, strings, and numbers a dirty column holds as text
                bounds.append((column, _text(low), _text(value)))
    return metrics, bounds, rows


def _numbers(low: Any, high: Any) -> tuple[float | None, float | None] | None:
    """Both bounds as floats (None for no value), or None if either is not a number."""
    out: list[float | None] = []
    for value in (low, high):
        if value is None:
            out.append(None)
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            out.append(float(value))
        else:
            return None
    return out[0], out[1]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)[:_MAX_BOUND_CHARS]


def _epoch(value: Any) -> float | None:
    """Epoch seconds (UTC) of a loaded-at value; naive times are taken as UTC."""
    if value is None:
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return float(value)  # already epoch seconds (SQLite, some loaders)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None  # not a timestamp: no freshness rather than a guess
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp()
    return None


def _table_figures(
    table: LiveTable, loaded_at_columns: Sequence[str]
) -> tuple[list[Slot], list[exp.Expression]]:
    slots = [Slot("row_count")]
    projections: list[exp.Expression] = [exp.Count(this=exp.Star())]
    loaded = loaded_at_column(table, loaded_at_columns)
    if loaded is not None:
        slots.append(Slot("last_loaded_at", loaded.name, ColumnKind.TEMPORAL))
        projections.append(exp.Max(this=_column(loaded.name)))
    return slots, projections


def _column_figures(
    column: LiveColumn, kind: ColumnKind, *, distinct: bool, approx: bool
) -> list[tuple[str, exp.Expression]]:
    # COUNT(*) - COUNT(col): the null count every dialect computes in the same pass.
    figures: list[tuple[str, exp.Expression]] = [
        ("null_count", exp.Sub(this=exp.Count(this=exp.Star()), expression=exp.Count(
            this=_column(column.name))))
    ]
    if kind is ColumnKind.OPAQUE:
        return figures
    if distinct:
        counted: exp.Expression = (
            exp.ApproxDistinct(this=_column(column.name))
            if approx
            else exp.Count(this=exp.Distinct(expressions=[_column(column.name)]))
        )
        figures.append(("distinct_count", counted))
    if kind in (ColumnKind.NUMBER, ColumnKind.TEMPORAL, ColumnKind.TEXT):
        figures.append(("min", exp.Min(this=_column(column.name))))
        figures.append(("max", exp.Max(this=_column(column.name))))
    return figures


def _sampled(
    source: exp.Table, dialect: str, sample_rows: int, table_rows: int | None
) -> exp.Expression:
    """``source`` reduced to a sample of about ``sample_rows`` rows, as the dialect can.

    Snowflake ``TABLESAMPLE BERNOULLI (n ROWS)`` takes a row count; PostgreSQL
    ``TABLESAMPLE SYSTEM (p)`` (whole pages, so fast, the size is approximate) and BigQuery
    ``TABLESAMPLE SYSTEM (p PERCENT)`` take a percentage of the known row count; DuckDB
    samples a percentage too (see `_duckdb_method`), ``RESERVOIR (n ROWS)`` only when the
    count is unknown; the rest read ``ORDER BY RANDOM() LIMIT n``.
    """
    method = _ROW_SAMPLE_METHODS.get(dialect)
    if dialect == "duckdb" and table_rows:
        # A reservoir of n rows costs more than the full scan (measured: 17 s against 1 s
        # over 10 M rows); percentage samples do not.
        method = None
    if method is not None:
        source.set(
            "sample",
            exp.TableSample(method=exp.var(method), size=exp.Literal.number(sample_rows)),
        )
        return source
    if (dialect in _PERCENT_SAMPLE_DIALECTS or dialect == "duckdb") and table_rows:
        percent = min(100.0, 100.0 * sample_rows / table_rows)
        sample = exp.TableSample(
            method=exp.var(_duckdb_method(sample_rows) if dialect == "duckdb" else "SYSTEM"),
            percent=exp.Literal.number(f"{percent:.6g}"),
        )
        if dialect in _SEEDED_SAMPLE_DIALECTS:
            # A fixed seed: an unchanged table profiles to the same figures every run.
            sample.set("seed", exp.Literal.number(_SAMPLE_SEED))
        source.set("sample", sample)
        return source
    random_rows = exp.select(exp.Star()).from_(source).order_by(exp.Rand()).limit(sample_rows)
    return random_rows.subquery("_sample")


def _duckdb_method(sample_rows: int) -> str:
    """SYSTEM when the sample spans enough vectors to be about its size, else BERNOULLI."""
    enough = sample_rows >= _DUCKDB_VECTOR_ROWS * _DUCKDB_SYSTEM_MIN_VECTORS
    return "SYSTEM" if enough else "BERNOULLI"


def _column(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def _aliased(projections: list[exp.Expression]) -> list[exp.Alias]:
    # Positional aliases: result positions are read by slot, never by (odd) column name.
    return [
        exp.Alias(this=projection, alias=exp.to_identifier(f"_p{index}"))
        for index, projection in enumerate(projections)
    ]
