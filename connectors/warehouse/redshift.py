"""Amazon Redshift: local tables through its system views, Spectrum through SVV_EXTERNAL_*.

Cannot be reached from here, so each query's rows are turned into LiveTables by a pure
function (``tables_from_rows``), tested against recorded rows; ``RedshiftBackend`` runs
the same queries through SQLAlchemy (``sqlalchemy-redshift``) when it is installed.

Per schema, three queries:

- local: ``SVV_TABLES`` (kind, ``remarks``) with ``PG_VIEWS`` (view SQL) and
  ``STV_MV_INFO`` (materialized views), ``SVV_COLUMNS`` (types spelled from ``data_type``
  and its length / precision: ``character varying(50)``, ``numeric(18,2)``), and the
  informational primary keys of ``information_schema``;
- Spectrum (a schema listed by ``SVV_EXTERNAL_SCHEMAS``): ``SVV_EXTERNAL_TABLES``
  (``location``; kind external) and ``SVV_EXTERNAL_COLUMNS`` (``external_type`` as Glue
  spells it, ``part_key`` > 0 for partition columns, which come after the data columns
  in key order, as ``SELECT *`` returns them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.warehouse.engine import SqlBackend
from connectors.warehouse.introspect import ColumnFact, Relation, assemble
from lineage.model import DatasetKind, LiveTable

__all__ = [
    "COLUMNS_SQL",
    "EXTERNAL_COLUMNS_SQL",
    "EXTERNAL_SCHEMAS_SQL",
    "EXTERNAL_TABLES_SQL",
    "PRIMARY_KEYS_SQL",
    "RELATIONS_SQL",
    "SCHEMAS_SQL",
    "RedshiftBackend",
    "native_type",
    "tables_from_rows",
]

SCHEMAS_SQL = """
SELECT nspname AS name, has_schema_privilege(nspname, 'USAGE') AS usable
FROM pg_catalog.pg_namespace
WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
  AND nspname NOT IN ('catalog_history')
ORDER BY nspname
"""

EXTERNAL_SCHEMAS_SQL = "SELECT schemaname, databasename FROM svv_external_schemas"

RELATIONS_SQL = """
SELECT t.table_name AS name, t.table_type, t.remarks AS comment, v.definition,
       m.name IS NOT NULL AS materialized
FROM svv_tables AS t
LEFT JOIN pg_catalog.pg_views AS v
  ON v.schemaname = t.table_schema AND v.viewname = t.table_name
LEFT JOIN stv_mv_info AS m ON m.schema = t.table_schema AND m.name = t.table_name
WHERE t.table_schema = :schema AND t.table_type IN ('BASE TABLE', 'VIEW')
"""

COLUMNS_SQL = """
SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,
       numeric_precision, numeric_scale, is_nullable, column_default, remarks
FROM svv_columns
WHERE table_schema = :schema
"""

PRIMARY_KEYS_SQL = """
SELECT kcu.table_name, kcu.column_name
FROM information_schema.table_constraints AS tc
JOIN information_schema.key_column_usage AS kcu
  ON kcu.constraint_schema = tc.constraint_schema
  AND kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name
WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = :schema
"""

EXTERNAL_TABLES_SQL = """
SELECT tablename, location, input_format, parameters
FROM svv_external_tables
WHERE schemaname = :schema
"""

EXTERNAL_COLUMNS_SQL = """
SELECT tablename, columnname, external_type, columnnum, part_key, is_nullable
FROM svv_external_columns
WHERE schemaname = :schema
"""

_LENGTH_TYPES = ("character varying", "character", "varchar", "char", "varbyte")
_PRECISION_TYPES = ("numeric", "decimal")
_PARTITIONS_AFTER = 1_000_000  # partition columns follow every data column


def native_type(row: Mapping[str, Any]) -> str:
    """``data_type`` of an SVV_COLUMNS row with its length or precision, as Redshift
    prints it in DDL: ``character varying(50)``, ``numeric(18,2)``."""
    kind = str(row["data_type"])
    length = row.get("character_maximum_length")
    if kind in _LENGTH_TYPES and length:
        return f"{kind}({int(length)})"
    precision, scale = row.get("numeric_precision"), row.get("numeric_scale")
    if kind in _PRECISION_TYPES and precision:
        return f"{kind}({int(precision)},{int(scale or 0)})"
    return kind


def _yes(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("yes", "true", "t", "1")


def _external_comment(parameters: Any) -> str | None:
    try:
        found = json.loads(parameters) if isinstance(parameters, str) else parameters
    except ValueError:
        return None
    comment = found.get("comment") if isinstance(found, dict) else None
    return str(comment) if comment else None


def _relations(
    schema: str, rows: Sequence[Mapping[str, Any]], external: bool
) -> list[Relation]:
    if external:
        return [
            Relation(
                schema=schema,
                name=row["tablename"],
                kind=DatasetKind.EXTERNAL,
                comment=_external_comment(row.get("parameters")),
                location=row["location"],
            )
            for row in rows
        ]
    found = []
    for row in rows:
        view = row["table_type"] == "VIEW"
        kind = DatasetKind.VIEW if view else DatasetKind.TABLE
        if view and row.get("materialized"):
            kind = DatasetKind.MATERIALIZED_VIEW
        definition = row.get("definition")
        found.append(
            Relation(
                schema=schema,
                name=row["name"],
                kind=kind,
                comment=row.get("comment"),
                definition=definition.strip() if view and definition else None,
            )
        )
    return found


def _columns(
    schema: str, rows: Sequence[Mapping[str, Any]], external: bool, views: set[str]
) -> list[ColumnFact]:
    if external:
        facts = []
        for row in rows:
            part = int(row.get("part_key") or 0)
            facts.append(
                ColumnFact(
                    schema=schema,
                    table=row["tablename"],
                    name=row["columnname"],
                    position=_PARTITIONS_AFTER + part if part else int(row["columnnum"]),
                    type=row["external_type"],
                    nullable=_yes(row.get("is_nullable")),
                    partition=part > 0,
                )
            )
        return facts
    return [
        ColumnFact(
            schema=schema,
            table=row["table_name"],
            name=row["column_name"],
            position=int(row["ordinal_position"]),
            type=native_type(row),
            nullable=None if row["table_name"] in views else _yes(row["is_nullable"]),
            default=row.get("column_default"),
            comment=row.get("remarks"),
        )
        for row in rows
    ]


def tables_from_rows(
    namespace: str,
    database: str,
    schema: str,
    relation_rows: Sequence[Mapping[str, Any]],
    column_rows: Sequence[Mapping[str, Any]],
    key_rows: Sequence[Mapping[str, Any]] = (),
    *,
    external: bool = False,
) -> list[LiveTable]:
    """LiveTables of one schema from the rows of its queries (``RELATIONS_SQL``,
    ``COLUMNS_SQL``, ``PRIMARY_KEYS_SQL``; or, ``external``, ``EXTERNAL_TABLES_SQL`` and
    ``EXTERNAL_COLUMNS_SQL``), named ``database.schema.table``."""
    relations = _relations(schema, relation_rows, external)
    views = {r.name for r in relations if r.kind is not DatasetKind.TABLE and not external}
    columns = _columns(schema, column_rows, external, views)
    keys = [(schema, row["table_name"], row["column_name"]) for row in key_rows]
    return assemble(namespace, lambda s, t: f"{database}.{s}.{t}", relations, columns, keys)


class RedshiftBackend(SqlBackend):
    """Redshift through SQLAlchemy (``redshift+redshift_connector://`` or ``+psycopg2``)."""

    timeout_kind = "postgres"

    def __init__(self, engine: Any, *, owned: bool, statement_timeout_s: float | None) -> None:
        super().__init__(engine, owned=owned, statement_timeout_s=statement_timeout_s)
        self._usable: dict[str, bool] = {}
        self._external: set[str] = set()
        self.database = self.current_database()

    def dataset_name(self, schema: str, table: str) -> str:
        return f"{self.database}.{schema}.{table}"

    def schemas(self) -> list[str]:
        self._usable = {r["name"]: bool(r["usable"]) for r in self.rows(SCHEMAS_SQL)}
        self._external = {str(r["schemaname"]) for r in self.rows(EXTERNAL_SCHEMAS_SQL)}
        return sorted(set(self._usable) | self._external)

    def unreadable(self, schema: str) -> str | None:
        if schema in self._external or self._usable.get(schema, True):
            return None
        return f"permission denied for schema {schema} (no USAGE privilege)"

    def relations(self, schema: str) -> list[Relation]:
        external = schema in self._external
        sql = EXTERNAL_TABLES_SQL if external else RELATIONS_SQL
        return _relations(schema, self.rows(sql, {"schema": schema}), external)

    def columns(self, schema: str, relations: Sequence[Relation]) -> list[ColumnFact]:
        external = schema in self._external
        sql = EXTERNAL_COLUMNS_SQL if external else COLUMNS_SQL
        views = {r.name for r in relations if r.kind is not DatasetKind.TABLE and not external}
        return _columns(schema, self.rows(sql, {"schema": schema}), external, views)

    def primary_keys(self, schema: str) -> set[tuple[str, str]]:
        if schema in self._external:
            return set()
        found = self.rows(PRIMARY_KEYS_SQL, {"schema": schema})
        return {(row["table_name"], row["column_name"]) for row in found}
