"""SQLite: no information_schema, so ``sqlite_master`` joined with ``pragma_table_info``.

Two statements for the whole file: the relations (tables and views with their SQL) and
every column of every relation in ONE query, the table-valued ``pragma_table_info(name)``
joined to ``sqlite_master`` (SQLite 3.16+), which also gives the primary-key position.
Only if that query fails (a view whose table was dropped breaks it) is each relation read
alone, so the broken one is named and the others kept.
SQLite keeps no comments. Types are as declared (``VARCHAR(50)``, ``""`` for none: None).

Naming: a SQLite file is one database without schemas; its tables are named
``<file stem>.<table>`` in the namespace ``sqlite:///abs/path.db``, the name
``lineage.run.datasets`` gives a SQLAlchemy table written through a SQLite engine. The one
"schema" listed is SQLite's own name for the file, ``main`` (for ``schemas=`` and
include/exclude patterns: ``main.customers``); attached databases belong to a connection,
not the file, and temporary tables to a session, so neither is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.warehouse.engine import SqlBackend
from connectors.warehouse.introspect import ColumnFact, Relation, describe_error
from lineage.model import DatasetKind

__all__ = ["COLUMNS_SQL", "RELATIONS_SQL", "TABLE_COLUMNS_SQL", "SqliteBackend", "column_fact"]

_USER_OBJECTS = "m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"

RELATIONS_SQL = f"""
SELECT m.name AS name, m.type AS kind, m.sql AS definition
FROM sqlite_master AS m
WHERE {_USER_OBJECTS}
ORDER BY m.name
"""

COLUMNS_SQL = f"""
SELECT m.name AS table_name, m.type AS kind, p.cid AS position, p.name AS name,
       p.type AS type, p."notnull" AS not_null, p.dflt_value AS column_default, p.pk AS pk
FROM sqlite_master AS m
JOIN pragma_table_info(m.name) AS p
WHERE {_USER_OBJECTS}
"""

# Only when the bulk query failed: one broken view (its table dropped) fails the whole
# join, so each relation is read alone to name the broken ones and keep the others.
TABLE_COLUMNS_SQL = """
SELECT m.name AS table_name, m.type AS kind, p.cid AS position, p.name AS name,
       p.type AS type, p."notnull" AS not_null, p.dflt_value AS column_default, p.pk AS pk
FROM sqlite_master AS m
JOIN pragma_table_info(m.name) AS p
WHERE m.name = :name
"""


def column_fact(row: dict[str, Any]) -> ColumnFact:
    """One row of ``COLUMNS_SQL`` (views say nothing of nullability: None)."""
    view = row["kind"] == "view"
    return ColumnFact(
        schema="main",
        table=row["table_name"],
        name=row["name"],
        position=int(row["position"]),
        type=row["type"] or None,
        nullable=None if view else not bool(row["not_null"]),
        default=row["column_default"],
        primary_key=bool(row["pk"]) and not view,
    )


class SqliteBackend(SqlBackend):
    """A SQLite file through SQLAlchemy's stdlib driver."""

    timeout_kind = "sqlite"

    def dataset_name(self, schema: str, table: str) -> str:
        return f"{self.database}.{table}" if schema == "main" else f"{schema}.{table}"

    def schemas(self) -> list[str]:
        return ["main"]

    def unreadable(self, schema: str) -> str | None:
        return None

    def relations(self, schema: str) -> list[Relation]:
        return [
            Relation(
                schema=schema,
                name=row["name"],
                kind=DatasetKind.VIEW if row["kind"] == "view" else DatasetKind.TABLE,
                definition=row["definition"] if row["kind"] == "view" else None,
            )
            for row in self.rows(RELATIONS_SQL)
        ]

    def columns(self, schema: str, relations: Sequence[Relation]) -> list[ColumnFact]:
        try:
            return [column_fact(row) for row in self.rows(COLUMNS_SQL)]
        except Exception:
            pass  # isolate the relation that fails, below
        found: list[ColumnFact] = []
        for rel in relations:
            try:
                rows = self.rows(TABLE_COLUMNS_SQL, {"name": rel.name})
            except Exception as exc:
                self.failures[(schema, rel.name)] = describe_error(exc)
                continue
            found.extend(column_fact(row) for row in rows)
        return found

    def primary_keys(self, schema: str) -> set[tuple[str, str]]:
        return set()  # in the column rows already (``pk``)
