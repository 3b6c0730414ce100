"""BigQuery: ``region-X``.INFORMATION_SCHEMA per dataset (a dataset is a schema here).

Cannot be reached from here: ``tables_from_rows`` turns recorded rows into LiveTables and
is what the tests prove; ``BigQueryBackend`` runs the same queries through
``sqlalchemy-bigquery`` when installed. Per dataset, three queries over the region's
views filtered by ``table_schema`` (a bound parameter): TABLES joined with VIEWS (view
SQL) and TABLE_OPTIONS (``description``, an external table's ``uris``), COLUMNS joined with
COLUMN_FIELD_PATHS (column descriptions; ``is_partitioning_column``), and the
(unenforced) primary keys of the dataset's TABLE_CONSTRAINTS / KEY_COLUMN_USAGE. The
region comes from the URL (``bigquery://project?location=EU``), ``US`` if it says none;
the project and the region enter the SQL as identifiers quoted by sqlglot.

Names: namespace ``bigquery``, name ``project.dataset.table``. BigQuery has no per-statement
timeout setting through SQLAlchemy here: ``statement_timeout_s`` is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.warehouse.engine import SqlBackend
from connectors.warehouse.introspect import ColumnFact, Relation, assemble
from lineage.model import DatasetKind, LiveTable

__all__ = [
    "BigQueryBackend",
    "columns_sql",
    "information_schema",
    "primary_keys_sql",
    "relations_sql",
    "schemas_sql",
    "tables_from_rows",
]

_KINDS = {
    "BASE TABLE": DatasetKind.TABLE,
    "CLONE": DatasetKind.TABLE,
    "SNAPSHOT": DatasetKind.SNAPSHOT,
    "VIEW": DatasetKind.VIEW,
    "MATERIALIZED VIEW": DatasetKind.MATERIALIZED_VIEW,
    "EXTERNAL": DatasetKind.EXTERNAL,
}


def information_schema(project: str, region: str) -> str:
    """`` `project`.`region-eu`.INFORMATION_SCHEMA``, identifiers quoted by sqlglot."""
    from sqlglot import exp

    parts = (project, f"region-{region.lower()}")
    quoted = ".".join(exp.to_identifier(p, quoted=True).sql(dialect="bigquery") for p in parts)
    return f"{quoted}.INFORMATION_SCHEMA"


def schemas_sql(project: str, region: str) -> str:
    return (
        f"SELECT schema_name FROM {information_schema(project, region)}.SCHEMATA "
        "ORDER BY schema_name"
    )


def relations_sql(project: str, region: str) -> str:
    info = information_schema(project, region)
    return f"""
SELECT t.table_name, t.table_type, v.view_definition,
       d.option_value AS description, u.option_value AS uris
FROM {info}.TABLES AS t
LEFT JOIN {info}.VIEWS AS v
  ON v.table_schema = t.table_schema AND v.table_name = t.table_name
LEFT JOIN {info}.TABLE_OPTIONS AS d
  ON d.table_schema = t.table_schema AND d.table_name = t.table_name
  AND d.option_name = 'description'
LEFT JOIN {info}.TABLE_OPTIONS AS u
  ON u.table_schema = t.table_schema AND u.table_name = t.table_name AND u.option_name = 'uris'
WHERE t.table_schema = :schema
"""


def columns_sql(project: str, region: str) -> str:
    info = information_schema(project, region)
    return f"""
SELECT c.table_name, c.column_name, c.ordinal_position, c.data_type, c.is_nullable,
       c.column_default, c.is_partitioning_column, p.description
FROM {info}.COLUMNS AS c
LEFT JOIN {info}.COLUMN_FIELD_PATHS AS p
  ON p.table_schema = c.table_schema AND p.table_name = c.table_name
  AND p.column_name = c.column_name AND p.field_path = c.column_name
WHERE c.table_schema = :schema
"""


def primary_keys_sql(project: str, dataset: str) -> str:
    # These two views exist per dataset only (no region qualifier): the dataset is an
    # identifier quoted by sqlglot.
    from sqlglot import exp

    quoted = ".".join(exp.to_identifier(p, quoted=True).sql(dialect="bigquery")
                      for p in (project, dataset))
    info = f"{quoted}.INFORMATION_SCHEMA"
    return f"""
SELECT k.table_name, k.column_name
FROM {info}.TABLE_CONSTRAINTS AS c
JOIN {info}.KEY_COLUMN_USAGE AS k
  ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name
WHERE c.constraint_type = 'PRIMARY KEY'
"""


def _option_text(value: Any) -> Any:
    # TABLE_OPTIONS values are SQL literals: "a description", ["gs://b/p/*"].
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _location(uris: Any) -> str | None:
    found = _option_text(uris)
    first = found[0] if isinstance(found, list) and found else found
    if not isinstance(first, str) or not first:
        return None
    # gs://bucket/bronze/erp/*.parquet -> the folder the wildcard lists.
    return first.rsplit("/", 1)[0] + "/" if "*" in first else first


def _relations(schema: str, rows: Sequence[Mapping[str, Any]]) -> list[Relation]:
    found = []
    for row in rows:
        description = _option_text(row.get("description"))
        found.append(
            Relation(
                schema=schema,
                name=row["table_name"],
                kind=_KINDS.get(str(row["table_type"]), DatasetKind.UNKNOWN),
                comment=description if isinstance(description, str) and description else None,
                definition=row.get("view_definition"),
                location=_location(row.get("uris")),
            )
        )
    return found


def _columns(
    schema: str, rows: Sequence[Mapping[str, Any]], views: set[str]
) -> list[ColumnFact]:
    return [
        ColumnFact(
            schema=schema,
            table=row["table_name"],
            name=row["column_name"],
            position=int(row["ordinal_position"]),
            type=row["data_type"],
            nullable=None if row["table_name"] in views else row["is_nullable"] == "YES",
            # BigQuery spells "no default" as the text NULL.
            default=None if row.get("column_default") in (None, "NULL") else row["column_default"],
            comment=row.get("description") or None,
            partition=row.get("is_partitioning_column") == "YES",
        )
        for row in rows
    ]


def _views(relations: Sequence[Relation]) -> set[str]:
    viewish = (DatasetKind.VIEW, DatasetKind.MATERIALIZED_VIEW)
    return {r.name for r in relations if r.kind in viewish}


def tables_from_rows(
    project: str,
    schema: str,
    relation_rows: Sequence[Mapping[str, Any]],
    column_rows: Sequence[Mapping[str, Any]],
    key_rows: Sequence[Mapping[str, Any]] = (),
) -> list[LiveTable]:
    """LiveTables of one dataset from the rows of ``relations_sql``, ``columns_sql`` and
    ``primary_keys_sql``; namespace ``bigquery``, names ``project.dataset.table``."""
    relations = _relations(schema, relation_rows)
    columns = _columns(schema, column_rows, _views(relations))
    keys = [(schema, row["table_name"], row["column_name"]) for row in key_rows]
    return assemble("bigquery", lambda s, t: f"{project}.{s}.{t}", relations, columns, keys)


class BigQueryBackend(SqlBackend):
    """BigQuery through ``sqlalchemy-bigquery``: the URL's project, every dataset."""

    def __init__(self, engine: Any, *, owned: bool, statement_timeout_s: float | None) -> None:
        super().__init__(engine, owned=owned, statement_timeout_s=statement_timeout_s)
        self.project = engine.url.host or self.database
        self.region = str(engine.url.query.get("location") or "US")

    def dataset_name(self, schema: str, table: str) -> str:
        return f"{self.project}.{schema}.{table}"

    def schemas(self) -> list[str]:
        return [str(r["schema_name"]) for r in self.rows(schemas_sql(self.project, self.region))]

    def unreadable(self, schema: str) -> str | None:
        return None

    def relations(self, schema: str) -> list[Relation]:
        sql = relations_sql(self.project, self.region)
        return _relations(schema, self.rows(sql, {"schema": schema}))

    def columns(self, schema: str, relations: Sequence[Relation]) -> list[ColumnFact]:
        sql = columns_sql(self.project, self.region)
        return _columns(schema, self.rows(sql, {"schema": schema}), _views(relations))

    def primary_keys(self, schema: str) -> set[tuple[str, str]]:
        found = self.rows(primary_keys_sql(self.project, schema))
        return {(row["table_name"], row["column_name"]) for row in found}
