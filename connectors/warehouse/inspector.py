"""Any other SQLAlchemy dialect: the Inspector's bulk ``get_multi_*`` reflection.

SQLAlchemy 2's ``get_multi_columns`` / ``get_multi_pk_constraint`` /
``get_multi_table_comment`` read a whole schema at once where the dialect implements them
(PostgreSQL, Oracle) and loop over its tables inside the dialect elsewhere; only view
definitions are read one view at a time (the Inspector has no bulk call for them). Types
are the dialect's rendering of the reflected type (``VARCHAR(50)``), close to, but not
always, the database's own spelling. A dialect without comments or materialized views
just has none.

Names mirror ``lineage.run.datasets``: ``database.schema.table`` for the dialects with
schemas inside a database (PostgreSQL, Redshift, SQL Server, Trino, Snowflake, DuckDB),
``schema.table`` for those whose schema is the database (MySQL, MariaDB, SQLite, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.warehouse.engine import SqlBackend
from connectors.warehouse.introspect import ColumnFact, Relation
from lineage.model import DatasetKind

__all__ = ["SYSTEM_SCHEMAS", "InspectorBackend"]

#: Schemas that hold the database's own catalog, never user data.
SYSTEM_SCHEMAS = frozenset(
    {
        "information_schema", "pg_catalog", "pg_toast", "sys", "mysql",
        "performance_schema", "guest", "db_owner", "db_accessadmin", "db_securityadmin",
        "db_ddladmin", "db_backupoperator", "db_datareader", "db_datawriter",
        "db_denydatareader", "db_denydatawriter",
    }
)  # fmt: skip
_THREE_PART = ("postgres", "redshift", "mssql", "trino", "snowflake", "duckdb")


class InspectorBackend(SqlBackend):
    """SQLAlchemy's Inspector over one connection."""

    def __init__(self, engine: Any, *, owned: bool, statement_timeout_s: float | None) -> None:
        from sqlalchemy import inspect

        super().__init__(engine, owned=owned, statement_timeout_s=statement_timeout_s)
        self.inspector = inspect(self.conn)
        self._three_part = self.namespace.split("://", 1)[0] in _THREE_PART

    def dataset_name(self, schema: str, table: str) -> str:
        if self._three_part:
            return f"{self.database}.{schema}.{table}"
        return f"{schema}.{table}"

    def schemas(self) -> list[str]:
        names = self.inspector.get_schema_names()
        return sorted(
            n for n in names if n.lower() not in SYSTEM_SCHEMAS and not n.startswith("pg_")
        )

    def unreadable(self, schema: str) -> str | None:
        return None

    def _optional(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except NotImplementedError:  # the dialect has no such thing (comments, matviews)
            return None

    def relations(self, schema: str) -> list[Relation]:
        from sqlalchemy.engine.reflection import ObjectKind

        insp = self.inspector
        comments = self._optional(
            insp.get_multi_table_comment, schema=schema, kind=ObjectKind.ANY
        ) or {}
        kinds = [(name, DatasetKind.TABLE) for name in insp.get_table_names(schema)]
        kinds += [(name, DatasetKind.VIEW) for name in insp.get_view_names(schema)]
        kinds += [
            (name, DatasetKind.MATERIALIZED_VIEW)
            for name in self._optional(insp.get_materialized_view_names, schema) or ()
        ]
        found = []
        for name, kind in kinds:
            definition = None
            if kind is not DatasetKind.TABLE:
                text = self._optional(insp.get_view_definition, name, schema)
                definition = text.strip() if text else None
            comment = (comments.get((schema, name)) or {}).get("text")
            found.append(Relation(schema, name, kind, comment=comment, definition=definition))
        return found

    def columns(self, schema: str, relations: Sequence[Relation]) -> list[ColumnFact]:
        from sqlalchemy.engine.reflection import ObjectKind

        reflected = self.inspector.get_multi_columns(schema=schema, kind=ObjectKind.ANY)
        viewish = {r.name for r in relations if r.kind is not DatasetKind.TABLE}
        found = []
        for (_, table), columns in reflected.items():
            for position, column in enumerate(columns, start=1):
                found.append(
                    ColumnFact(
                        schema=schema,
                        table=table,
                        name=column["name"],
                        position=position,
                        type=self._type_text(column["type"]),
                        nullable=None if table in viewish else column.get("nullable"),
                        default=column.get("default"),
                        comment=column.get("comment"),
                    )
                )
        return found

    def _type_text(self, kind: Any) -> str | None:
        if type(kind).__name__ == "NullType":  # the dialect could not say
            return None
        try:
            return str(kind.compile(dialect=self.engine.dialect))
        except Exception:  # no rendering for this dialect: unknown, not guessed
            return None

    def primary_keys(self, schema: str) -> set[tuple[str, str]]:
        from sqlalchemy.engine.reflection import ObjectKind

        found = self.inspector.get_multi_pk_constraint(schema=schema, kind=ObjectKind.TABLE)
        return {
            (table, column)
            for (_, table), key in found.items()
            for column in (key or {}).get("constrained_columns") or ()
        }
