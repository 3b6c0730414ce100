"""Snowflake: ``<database>.INFORMATION_SCHEMA`` per schema, plus SHOW PRIMARY KEYS.

Cannot be reached from here: ``tables_from_rows`` turns recorded rows into LiveTables and
is what the tests prove; ``SnowflakeBackend`` runs the same queries through
``snowflake-sqlalchemy`` when installed. Per schema: TABLES joined with VIEWS (view SQL)
and EXTERNAL_TABLES (location), COLUMNS, and ``SHOW PRIMARY KEYS IN SCHEMA`` (the
information schema has no key columns). The database and schema enter the SQL as
identifiers quoted by sqlglot; values are bound parameters.

Names: Snowflake stores unquoted identifiers in upper case; like ``parsers.sql.names``
they are reported in lower case (``ANALYTICS.SILVER.ERP_CUSTOMERS`` ->
``analytics.silver.erp_customers``), a name with lower-case letters (created quoted)
keeps its case. Types are spelled as ``DESCRIBE TABLE`` does: ``VARCHAR(50)`` (the
information schema says ``TEXT`` with a length), ``NUMBER(38,0)``, ``TIMESTAMP_NTZ(9)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.warehouse.engine import SqlBackend
from connectors.warehouse.introspect import ColumnFact, Relation, assemble
from lineage.model import DatasetKind, LiveTable

__all__ = [
    "SnowflakeBackend",
    "columns_sql",
    "identifier",
    "native_type",
    "normal_case",
    "primary_keys_sql",
    "relations_sql",
    "schemas_sql",
    "tables_from_rows",
]

_KINDS = {
    "BASE TABLE": DatasetKind.TABLE,
    "TEMPORARY TABLE": DatasetKind.TABLE,
    "TRANSIENT": DatasetKind.TABLE,
    "VIEW": DatasetKind.VIEW,
    "MATERIALIZED VIEW": DatasetKind.MATERIALIZED_VIEW,
    "EXTERNAL TABLE": DatasetKind.EXTERNAL,
}
_TIME_TYPES = ("TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ")


def identifier(name: str) -> str:
    """``name`` as a Snowflake identifier, quoted by sqlglot only where it must be."""
    from sqlglot import exp

    return exp.to_identifier(name).sql(dialect="snowflake")


def schemas_sql(database: str) -> str:
    return (
        f"SELECT schema_name FROM {identifier(database)}.INFORMATION_SCHEMA.SCHEMATA "
        "WHERE schema_name <> 'INFORMATION_SCHEMA' ORDER BY schema_name"
    )


def relations_sql(database: str) -> str:
    info = f"{identifier(database)}.INFORMATION_SCHEMA"
    return f"""
SELECT t.table_name, t.table_type, t.comment, v.view_definition, e.location
FROM {info}.TABLES AS t
LEFT JOIN {info}.VIEWS AS v
  ON v.table_schema = t.table_schema AND v.table_name = t.table_name
LEFT JOIN {info}.EXTERNAL_TABLES AS e
  ON e.table_schema = t.table_schema AND e.table_name = t.table_name
WHERE t.table_schema = :schema
"""


def columns_sql(database: str) -> str:
    return f"""
SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,
       numeric_precision, numeric_scale, datetime_precision, is_nullable, column_default,
       comment
FROM {identifier(database)}.INFORMATION_SCHEMA.COLUMNS
WHERE table_schema = :schema
"""


def primary_keys_sql(database: str, schema: str) -> str:
    # SHOW takes no bound parameters: both names are identifiers quoted by sqlglot.
    return f"SHOW PRIMARY KEYS IN SCHEMA {identifier(database)}.{identifier(schema)}"


def normal_case(name: str) -> str:
    """An unquoted (all upper-case) Snowflake name in lower case; others unchanged."""
    return name.lower() if name == name.upper() else name


def native_type(row: Mapping[str, Any]) -> str:
    """The column's type as ``DESCRIBE TABLE`` spells it."""
    kind = str(row["data_type"]).upper()
    length = row.get("character_maximum_length")
    if kind == "TEXT" and length:
        return f"VARCHAR({int(length)})"
    if kind == "NUMBER" and row.get("numeric_precision") is not None:
        return f"NUMBER({int(row['numeric_precision'])},{int(row.get('numeric_scale') or 0)})"
    if kind in _TIME_TYPES and row.get("datetime_precision") is not None:
        return f"{kind}({int(row['datetime_precision'])})"
    return kind


def _relations(schema: str, rows: Sequence[Mapping[str, Any]]) -> list[Relation]:
    return [
        Relation(
            schema=schema,
            name=row["table_name"],
            kind=_KINDS.get(str(row["table_type"]), DatasetKind.UNKNOWN),
            comment=row.get("comment") or None,
            definition=row.get("view_definition"),
            location=row.get("location"),
        )
        for row in rows
    ]


def _views(relations: Sequence[Relation]) -> set[str]:
    # A view's columns say nothing of nullability: None, not the "YES" Snowflake reports.
    viewish = (DatasetKind.VIEW, DatasetKind.MATERIALIZED_VIEW)
    return {r.name for r in relations if r.kind in viewish}


def _columns(
    schema: str, rows: Sequence[Mapping[str, Any]], views: set[str]
) -> list[ColumnFact]:
    return [
        ColumnFact(
            schema=schema,
            table=row["table_name"],
            name=normal_case(row["column_name"]),
            position=int(row["ordinal_position"]),
            type=native_type(row),
            nullable=None if row["table_name"] in views else row["is_nullable"] == "YES",
            default=row.get("column_default"),
            comment=row.get("comment") or None,
        )
        for row in rows
    ]


def _keys(schema: str, rows: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
    return {
        (row["table_name"], normal_case(row["column_name"]))
        for row in rows
        if row.get("schema_name", schema) == schema
    }


def tables_from_rows(
    namespace: str,
    database: str,
    schema: str,
    relation_rows: Sequence[Mapping[str, Any]],
    column_rows: Sequence[Mapping[str, Any]],
    key_rows: Sequence[Mapping[str, Any]] = (),
) -> list[LiveTable]:
    """LiveTables of one schema from the rows of ``relations_sql``, ``columns_sql`` and
    ``primary_keys_sql`` (SHOW's rows: ``table_name``, ``column_name``, ...)."""
    relations = _relations(schema, relation_rows)
    columns = _columns(schema, column_rows, _views(relations))
    keys = [(schema, table, column) for table, column in _keys(schema, key_rows)]
    return assemble(
        namespace,
        lambda s, t: ".".join(normal_case(p) for p in (database, s, t)),
        relations,
        columns,
        keys,
    )


class SnowflakeBackend(SqlBackend):
    """Snowflake through ``snowflake-sqlalchemy``: the URL's database, every schema."""

    timeout_kind = "snowflake"

    def __init__(self, engine: Any, *, owned: bool, statement_timeout_s: float | None) -> None:
        super().__init__(engine, owned=owned, statement_timeout_s=statement_timeout_s)
        # snowflake-sqlalchemy URLs name ``database/schema``: the database is the first part.
        self.database = self.database.split("/", 1)[0]

    def dataset_name(self, schema: str, table: str) -> str:
        return ".".join(normal_case(p) for p in (self.database, schema, table))

    def schemas(self) -> list[str]:
        return [str(r["schema_name"]) for r in self.rows(schemas_sql(self.database))]

    def unreadable(self, schema: str) -> str | None:
        return None

    def relations(self, schema: str) -> list[Relation]:
        return _relations(schema, self.rows(relations_sql(self.database), {"schema": schema}))

    def columns(self, schema: str, relations: Sequence[Relation]) -> list[ColumnFact]:
        found = self.rows(columns_sql(self.database), {"schema": schema})
        return _columns(schema, found, _views(relations))

    def primary_keys(self, schema: str) -> set[tuple[str, str]]:
        return _keys(schema, self.rows(primary_keys_sql(self.database, schema)))
