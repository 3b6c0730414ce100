"""PostgreSQL: two catalog queries per schema, whatever the number of tables.

The columns are streamed (psycopg 3 with libpq 17 or later: chunked rows) in the server's
join order, and assembled while the server still sends them: about half the time of
sorting on the server and fetching every row before building anything (100,000 columns:
0.22 s against 0.44 s). Other drivers fetch ``COLUMNS_SQL``, ordered, at once.

The catalog (``pg_catalog``) rather than ``information_schema``: it spells types as the
server does (``format_type``: ``character varying(50)``, ``timestamp with time zone``),
gives defaults as expressions (``pg_get_expr``), comments (``pg_description``, joined:
``col_description`` per row costs twice the query), view and materialized-view SQL
(``pg_get_viewdef``, what ``pg_views`` and ``pg_matviews`` show) and lists tables the role
has no privilege on, which ``information_schema`` hides silently.

Kinds: ``r``/``p`` tables (partitions of a partitioned table are left out: the parent is
the dataset), ``v`` views, ``m`` materialized views, ``f`` foreign tables (external, their
``filename`` / ``location`` option as the location). A schema the role has no USAGE on is
reported with the server's words for it, ``permission denied for schema ...``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from connectors.warehouse.engine import SqlBackend
from connectors.warehouse.introspect import ColumnFact, Relation
from lineage.model import DatasetKind

__all__ = [
    "COLUMNS_SQL",
    "KINDS",
    "RELATIONS_SQL",
    "SCHEMAS_SQL",
    "STREAMED_COLUMNS_SQL",
    "PostgresBackend",
    "relation",
]

KINDS = {
    "r": DatasetKind.TABLE,
    "p": DatasetKind.TABLE,
    "v": DatasetKind.VIEW,
    "m": DatasetKind.MATERIALIZED_VIEW,
    "f": DatasetKind.EXTERNAL,
}
_LOCATION_OPTIONS = ("location", "filename", "path", "uri", "url")

SCHEMAS_SQL = """
SELECT n.nspname AS name, has_schema_privilege(n.oid, 'USAGE') AS usable
FROM pg_catalog.pg_namespace AS n
WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY n.nspname
"""

RELATIONS_SQL = """
SELECT c.relname AS name, c.relkind AS kind, ds.description AS comment,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition,
       f.ftoptions AS options
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_foreign_table AS f ON f.ftrelid = c.oid
LEFT JOIN pg_catalog.pg_description AS ds
  ON ds.objoid = c.oid AND ds.objsubid = 0 AND ds.classoid = 'pg_catalog.pg_class'::regclass
WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
ORDER BY c.relname
"""

# In ``ColumnFact``'s field order, so rows become facts without a per-row function call
# (100,000 columns: a tenth of the time); a view says nothing of nullability (NULL). The
# primary-key flag comes from the joined pg_index (7 ms over 100,000 columns, against 70 ms
# for a separate key query). Unordered: a sort would hold every row back until the last
# is joined; ``group_columns`` puts any order right.
_COLUMNS_SELECT = """
SELECT n.nspname AS schema, c.relname AS table_name, a.attname AS name, a.attnum AS position,
       format_type(a.atttypid, a.atttypmod) AS type,
       CASE WHEN c.relkind IN ('v', 'm') THEN NULL ELSE NOT a.attnotnull END AS nullable,
       pg_get_expr(d.adbin, d.adrelid) AS column_default, ds.description AS comment,
       COALESCE(a.attnum = ANY (i.indkey), FALSE) AS primary_key, FALSE AS partition
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_index AS i ON i.indrelid = c.oid AND i.indisprimary
LEFT JOIN pg_catalog.pg_description AS ds
  ON ds.objoid = a.attrelid AND ds.objsubid = a.attnum
  AND ds.classoid = 'pg_catalog.pg_class'::regclass
WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped
"""
COLUMNS_SQL = _COLUMNS_SELECT + "ORDER BY c.relname, a.attnum\n"
#: The same in psycopg's own parameter style, for the stream.
STREAMED_COLUMNS_SQL = _COLUMNS_SELECT.replace(":schema", "%(schema)s")
_CHUNK_ROWS = 1000
_CHUNKED_LIBPQ = 170000  # the first libpq with chunked-rows mode


def _location(options: Sequence[str] | None) -> str | None:
    pairs = dict(str(o).split("=", 1) for o in options or () if "=" in str(o))
    return next((pairs[k] for k in _LOCATION_OPTIONS if pairs.get(k)), None)


def relation(schema: str, row: dict[str, Any]) -> Relation:
    """One row of ``RELATIONS_SQL`` as a Relation."""
    definition = row["definition"]
    return Relation(
        schema=schema,
        name=row["name"],
        kind=KINDS[row["kind"]],
        comment=row["comment"],
        definition=definition.strip() if definition else None,
        location=_location(row["options"]),
    )


class PostgresBackend(SqlBackend):
    """PostgreSQL through SQLAlchemy (psycopg 3 by default)."""

    timeout_kind = "postgres"
    # One snapshot for every query: a table dropped meanwhile is seen whole or not at all.
    isolation_level = "REPEATABLE READ"

    def __init__(self, engine: Any, *, owned: bool, statement_timeout_s: float | None) -> None:
        super().__init__(engine, owned=owned, statement_timeout_s=statement_timeout_s)
        self._usable: dict[str, bool] = {}
        self.database = self.current_database()

    def dataset_name(self, schema: str, table: str) -> str:
        return f"{self.database}.{schema}.{table}"

    def schemas(self) -> list[str]:
        found = self.rows(SCHEMAS_SQL)
        self._usable = {row["name"]: bool(row["usable"]) for row in found}
        return list(self._usable)

    def unreadable(self, schema: str) -> str | None:
        if self._usable.get(schema, True):
            return None
        return f"permission denied for schema {schema} (no USAGE privilege)"

    def relations(self, schema: str) -> list[Relation]:
        return [relation(schema, row) for row in self.rows(RELATIONS_SQL, {"schema": schema})]

    def columns(self, schema: str, relations: Sequence[Relation]) -> Iterable[ColumnFact]:
        driver = self._chunking_driver()
        if driver is None:
            _, found = self.tuples(COLUMNS_SQL, {"schema": schema})
            return map(ColumnFact._make, found)
        return self._stream(driver, schema)

    def _chunking_driver(self) -> Any | None:
        """The psycopg 3 connection under ours when its libpq streams rows in chunks."""
        try:
            import psycopg
        except ImportError:
            return None
        driver = self.conn.connection.driver_connection
        if isinstance(driver, psycopg.Connection) and psycopg.pq.version() >= _CHUNKED_LIBPQ:
            return driver
        return None

    def _stream(self, driver: Any, schema: str) -> Iterator[ColumnFact]:
        # In the transaction SQLAlchemy opened (one snapshot), under its statement timeout.
        try:
            with driver.cursor() as cursor:
                rows = cursor.stream(STREAMED_COLUMNS_SQL, {"schema": schema}, size=_CHUNK_ROWS)
                # The driver's tuples are in ColumnFact's field order, and group_columns
                # reads them by index: no named tuple per row (a tenth of the time).
                yield from cast("Iterator[ColumnFact]", rows)
        except Exception:
            self.conn.rollback()  # so the next schema's queries run
            raise

    def primary_keys(self, schema: str) -> set[tuple[str, str]]:
        return set()  # flagged by COLUMNS_SQL itself
