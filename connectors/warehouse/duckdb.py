"""DuckDB: its catalog functions, through the ``duckdb`` package, read-only.

Not through SQLAlchemy: duckdb-engine's Inspector is broken (ENVIRONMENT.md) and not
installed. Three queries per schema: ``duckdb_tables()`` + ``duckdb_views()`` (comments,
view SQL), ``duckdb_columns()`` (types as DuckDB spells them: ``VARCHAR``, ``DECIMAL(18,2)``,
``TIMESTAMP WITH TIME ZONE``; DuckDB keeps no VARCHAR length), ``duckdb_constraints()``.

Names: ``<catalog>.<schema>.<table>``; the catalog of a file is its stem, as
``namespace_of`` says. The file is opened read-only, so a writer holding it is a
temporary failure (retry later), a missing file a permanent one.

Statement timeout: DuckDB has no setting for it, so a timer calls the connection's
``interrupt()`` when a statement runs longer than the limit.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from connectors.warehouse.engine import connect_error
from connectors.warehouse.introspect import ColumnFact, Relation
from lineage.errors import ConnectorError, PermanentConnectorError, TemporaryConnectorError
from lineage.model import DatasetKind, namespace_of, redact_url

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

__all__ = ["COLUMNS_SQL", "PRIMARY_KEYS_SQL", "RELATIONS_SQL", "SCHEMAS_SQL", "DuckDBBackend"]

SCHEMAS_SQL = """
SELECT schema_name AS name FROM duckdb_schemas()
WHERE database_name = current_database()
  AND schema_name NOT IN ('information_schema', 'pg_catalog')
ORDER BY schema_name
"""

RELATIONS_SQL = """
SELECT table_name AS name, 'table' AS kind, comment, NULL AS definition
FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = $schema AND NOT temporary
UNION ALL
SELECT view_name, 'view', comment, sql
FROM duckdb_views()
WHERE database_name = current_database() AND schema_name = $schema
  AND NOT internal AND NOT temporary
ORDER BY name
"""

COLUMNS_SQL = """
SELECT c.table_name, c.column_name AS name, c.column_index AS position, c.data_type AS type,
       c.is_nullable AS nullable, c.column_default, c.comment,
       v.view_name IS NOT NULL AS is_view
FROM duckdb_columns() AS c
LEFT JOIN duckdb_views() AS v
  ON v.database_name = c.database_name AND v.schema_name = c.schema_name
  AND v.view_name = c.table_name
WHERE c.database_name = current_database() AND c.schema_name = $schema
"""

PRIMARY_KEYS_SQL = """
SELECT table_name, unnest(constraint_column_names) AS column_name
FROM duckdb_constraints()
WHERE database_name = current_database() AND schema_name = $schema
  AND constraint_type = 'PRIMARY KEY'
"""

_TEMPORARY_WORDS = ("could not set lock", "conflicting lock", "resource temporarily")


class DuckDBBackend:
    """A DuckDB database file (or an engine's DuckDB connection), read through ``duckdb``."""


    def __init__(
        self, con: Any, *, source: str, namespace: str, statement_timeout_s: float | None
    ) -> None:
        self.con = con
        self.source = source
        self.namespace = namespace
        self._timeout = statement_timeout_s
        self._owned = True
        self._pooled: Any = None
        self.failures: dict[tuple[str, str], str] = {}
        self.database = str(self.rows("SELECT current_database() AS name")[0]["name"])

    @classmethod
    def from_url(cls, url: URL, *, statement_timeout_s: float | None) -> DuckDBBackend:
        source = redact_url(url.render_as_string(hide_password=True))
        try:
            import duckdb
        except ImportError as exc:
            raise connect_error(exc, url, source) from None
        path = url.database or ":memory:"
        try:
            con = duckdb.connect(path, read_only=path != ":memory:")
        except duckdb.Error as exc:
            text = str(exc)
            kind: type[ConnectorError] = (
                TemporaryConnectorError
                if any(w in text.lower() for w in _TEMPORARY_WORDS)
                else PermanentConnectorError
            )
            raise kind(f"cannot open the DuckDB file: {text}", obj=source) from None
        namespace, _ = namespace_of(url)
        try:
            return cls(
                con, source=source, namespace=namespace, statement_timeout_s=statement_timeout_s
            )
        except duckdb.Error as exc:
            con.close()
            message = f"cannot read the DuckDB file: {exc}"
            raise TemporaryConnectorError(message, obj=source) from None

    @classmethod
    def from_engine(cls, engine: Engine, *, statement_timeout_s: float | None) -> DuckDBBackend:
        """The DuckDB connection under a duckdb-engine Engine (kept open for its pool)."""
        source = redact_url(engine.url.render_as_string(hide_password=True))
        try:
            raw = engine.raw_connection()
        except Exception as exc:
            raise connect_error(exc, engine.url, source) from None
        namespace, _ = namespace_of(engine.url)
        backend = cls(
            raw.driver_connection, source=source, namespace=namespace,
            statement_timeout_s=statement_timeout_s,
        )
        backend._owned = False
        backend._pooled = raw
        return backend

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows of one statement (parameters ``$name``) as dicts; interrupted by a
        timer after the statement timeout (``duckdb.InterruptException``)."""
        timer = None
        if self._timeout is not None:
            timer = threading.Timer(self._timeout, self.con.interrupt)
            timer.daemon = True
            timer.start()
        try:
            cursor = self.con.execute(sql, params or {})
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            if timer is not None:
                timer.cancel()

    def dataset_name(self, schema: str, table: str) -> str:
        return f"{self.database}.{schema}.{table}"

    def schemas(self) -> list[str]:
        return [str(row["name"]) for row in self.rows(SCHEMAS_SQL)]

    def unreadable(self, schema: str) -> str | None:
        return None

    def relations(self, schema: str) -> list[Relation]:
        return [
            Relation(
                schema=schema,
                name=row["name"],
                kind=DatasetKind.VIEW if row["kind"] == "view" else DatasetKind.TABLE,
                comment=row["comment"],
                definition=row["definition"],
            )
            for row in self.rows(RELATIONS_SQL, {"schema": schema})
        ]

    def columns(self, schema: str, relations: Sequence[Relation]) -> list[ColumnFact]:
        return [
            ColumnFact(
                schema=schema,
                table=row["table_name"],
                name=row["name"],
                position=int(row["position"]),
                type=row["type"],
                nullable=None if row["is_view"] else bool(row["nullable"]),
                default=row["column_default"],
                comment=row["comment"],
            )
            for row in self.rows(COLUMNS_SQL, {"schema": schema})
        ]

    def primary_keys(self, schema: str) -> set[tuple[str, str]]:
        found = self.rows(PRIMARY_KEYS_SQL, {"schema": schema})
        return {(row["table_name"], row["column_name"]) for row in found}

    def close(self) -> None:
        if self._owned:
            self.con.close()
        else:
            self._pooled.close()
