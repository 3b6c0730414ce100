"""SQL plumbing the catalog's modules share: engines, canonical values, chunked IN lists,
and the inserts that differ per dialect (skip or update on conflict, bulk copy).

Nothing here knows a catalog table; the table definitions live in ``tables``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL

__all__ = [
    "CHUNK",
    "WRITE_OPTION",
    "canonical_json",
    "chunks",
    "digest",
    "fast_insert",
    "insert_ignore",
    "make_sqlite_folder",
    "sqlite_engine",
    "upsert",
    "utc",
]

CHUNK = 900  # values per IN (...) list: below even old SQLite builds' 999 limit
WRITE_OPTION = "silverline_write"  # SQLite: take the write lock at BEGIN (IMMEDIATE)
_UPSERT_BATCH = 5000  # rows per upsert statement: bounded parameter lists on every driver


def make_sqlite_folder(url: URL) -> None:
    """Create the folder of a SQLite file (``.lineage/``) so the first open works."""
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def sqlite_engine(url: URL) -> Engine:
    """An engine whose transactions are SQLite's own (DDL included), with WAL and FKs."""
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN (below) drive transactions, so DDL is transactional too.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writing = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no blanks: equal values are equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    """The SHA-256 of a value's canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """``values`` in slices short enough for one ``IN (...)`` list."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def insert_ignore(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    keys: Sequence[str | ColumnElement[Any]],
) -> int:
    """Insert rows, skipping those that collide on ``keys`` (a concurrent writer's); how
    many were inserted (exact for one row; 0 when a driver does not say).

    ``keys`` are the columns (or the expressions) of one unique index of ``table``.
    """
    if not rows:
        return 0
    dialect = conn.dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "postgresql":
        statement = pg_insert(table).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - other backends: plain insert
        statement = table.insert()
    # One row goes as a single execute: an executemany's rowcount is not reported by every
    # driver (psycopg's batched inserts give -1). preserve_rowcount: PostgreSQL's implicit
    # RETURNING of the new id would otherwise leave a rowcount of 0 once fetched.
    statement = statement.execution_options(preserve_rowcount=True)
    result = conn.execute(statement, rows[0] if len(rows) == 1 else rows)
    return max(result.rowcount, 0)


def upsert(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    """Insert rows, replacing the other columns of those that collide on ``keys``."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert(table) if dialect == "sqlite" else pg_insert(table)
        others = [name for name in rows[0] if name not in keys]
        statement = insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: insert.excluded[name] for name in others},
        )
        for start in range(0, len(rows), _UPSERT_BATCH):
            conn.execute(statement, list(rows[start : start + _UPSERT_BATCH]))
        return
    for row in rows:  # pragma: no cover - other backends: replace row by row
        conn.execute(table.delete().where(*(table.c[k] == row[k] for k in keys)))
    conn.execute(table.insert(), list(rows))  # pragma: no cover


def fast_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """A bulk insert of plain values (no type processing) straight to the driver.

    For the big tables (edges, columns) of plain integers and strings: it skips
    SQLAlchemy's per-row parameter processing (about half the time of a large insert on
    SQLite) and uses COPY on PostgreSQL.
    """
    if not rows:
        return
    keys = list(rows[0])
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        # COPY on the same connection (so inside the transaction): ~20x executemany.
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(k) for k in keys)
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[k] for k in keys])
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
    if compiled.positional and compiled.positiontup is not None:
        order = compiled.positiontup
        conn.exec_driver_sql(str(compiled), [tuple(row[k] for k in order) for row in rows])
    else:
        conn.exec_driver_sql(str(compiled), rows)
