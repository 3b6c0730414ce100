"""Profiling live tables: row counts, null rates, distinct counts, bounds and freshness.

``profile_tables(url_or_engine, tables)`` gives one ``DatasetProfile`` per table, and one
``ObservationIssue`` (the table's name and the database's own message, secrets masked)
per table that failed; the others are still profiled. The SQL is built by
``connectors.warehouse.profile_sql`` and is shown by ``profile_query``.

Queries per table:

- by default ONE scan: a single SELECT with every aggregate (``COUNT(*)``, the max of
  the loaded-at column, and per column the null count, distinct count, min and max);
- with ``sample_above_rows``: first an exact ``COUNT(*)`` (and the freshness max) of the
  whole table; if it holds more rows than that, the column figures come from a second,
  sampled query (``TABLESAMPLE`` / ``ORDER BY RANDOM() LIMIT n`` by dialect) and
  ``DatasetProfile.sampled_rows`` says how many rows the sample held; else the second
  query is the full one-scan profile. ``row_count`` and ``last_loaded_at`` are always
  exact; null counts and rates, distinct counts and bounds are then the sample's.

Distinct counts are computed only where cheap: an approximate (HyperLogLog) count where
the dialect has one (DuckDB, Snowflake, BigQuery, Redshift, ...); on PostgreSQL and
SQLite an exact ``COUNT(DISTINCT)`` only when the scan is known beforehand to read at most
``exact_distinct_below_rows`` rows (which needs the count query, i.e. ``sample_above_rows``);
otherwise ``distinct_count`` is left out rather than paid for with a sort of the table.

``statement_timeout_s`` bounds each query: ``SET LOCAL statement_timeout`` in the
table's transaction on PostgreSQL and Redshift, an interrupt on DuckDB, a progress
handler on SQLite; other backends ignore it (a warning is logged). ``duckdb:///path``
URLs are read with the ``duckdb`` package directly, read-only (no SQLAlchemy dialect for
DuckDB is installed); a DuckDB ``Engine`` goes through SQLAlchemy like any other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from connectors.classify import Kind, classify, module_of, reason
from connectors.warehouse.profile_sql import (
    DEFAULT_EXACT_DISTINCT_BELOW_ROWS,
    DEFAULT_LOADED_AT_COLUMNS,
    ProfilePlan,
    count_plan,
    decode_row,
    profile_plan,
    sqlglot_dialect,
)
from lineage.errors import ConnectorError, PermanentConnectorError, TemporaryConnectorError
from lineage.model import (
    DatasetProfile,
    LiveTable,
    ObservationIssue,
    ProfileMetric,
    redact_text,
    redact_url,
    redacted_logger,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "DuckDBWarehouse",
    "SqlAlchemyWarehouse",
    "Warehouse",
    "driver_sql",
    "open_warehouse",
    "profile_query",
    "profile_table",
    "profile_tables",
    "translate_error",
]

_log = redacted_logger(__name__)
_TIMEOUT_DIALECTS = frozenset({"postgres", "redshift", "duckdb", "sqlite"})

#: Runs one query and returns its single result row.
Fetch = Callable[[str], Sequence[Any]]


def profile_table(
    source: str | Engine,
    table: LiveTable,
    *,
    loaded_at_columns: Sequence[str] = DEFAULT_LOADED_AT_COLUMNS,
    sample_above_rows: int | None = None,
    statement_timeout_s: float | None = None,
    now: datetime | None = None,
    exact_distinct_below_rows: int = DEFAULT_EXACT_DISTINCT_BELOW_ROWS,
) -> DatasetProfile:
    """Profile one table (see the module's docstring for the figures and queries).

    Args:
        source: a SQLAlchemy URL (``duckdb:///path`` included) or an engine.
        table: the table as introspected; ``table.id.name`` is ``database.schema.table``.
        loaded_at_columns: freshness candidates, the first present one is used.
        sample_above_rows: above this many rows the column figures come from a sample.
        statement_timeout_s: a time limit per query.
        now: the profile's ``observed_at`` (default: the current UTC time).
        exact_distinct_below_rows: the largest scan that gets an exact distinct count on
            dialects without an approximate one.

    Returns:
        The profile.

    Raises:
        TemporaryConnectorError: the warehouse did not answer, was busy or timed out.
        PermanentConnectorError: the query failed (a missing table or column, a type
            without min/max) or the source cannot be opened.
    """
    with open_warehouse(source) as warehouse:
        return _profile(
            warehouse, table, loaded_at_columns, sample_above_rows, statement_timeout_s,
            now, exact_distinct_below_rows,
        )  # fmt: skip


def profile_tables(
    source: str | Engine,
    tables: Sequence[LiveTable],
    *,
    loaded_at_columns: Sequence[str] = DEFAULT_LOADED_AT_COLUMNS,
    sample_above_rows: int | None = None,
    statement_timeout_s: float | None = None,
    now: datetime | None = None,
    exact_distinct_below_rows: int = DEFAULT_EXACT_DISTINCT_BELOW_ROWS,
) -> tuple[list[DatasetProfile], list[ObservationIssue]]:
    """Profile every table over one connection; a failing table becomes an issue.

    The options are ``profile_table``'s. Each table runs in its own transaction, so one
    failed query does not poison the next table's.

    Returns:
        The profiles of the tables that could be profiled, in order, and one issue
        (subject: the table's name) per table that could not.

    Raises:
        ConnectorError: the source itself cannot be opened or reached.
    """
    profiles: list[DatasetProfile] = []
    issues: list[ObservationIssue] = []
    with open_warehouse(source) as warehouse:
        for table in tables:
            try:
                profiles.append(
                    _profile(
                        warehouse, table, loaded_at_columns, sample_above_rows,
                        statement_timeout_s, now, exact_distinct_below_rows,
                    )
                )
            except ConnectorError as exc:
                issues.append(ObservationIssue(table.id.name, exc.message))
    return profiles, issues


def profile_query(
    table: LiveTable,
    dialect: str,
    *,
    loaded_at_columns: Sequence[str] = DEFAULT_LOADED_AT_COLUMNS,
    sample_rows: int | None = None,
    table_rows: int | None = None,
    exact_distinct_below_rows: int = DEFAULT_EXACT_DISTINCT_BELOW_ROWS,
    pretty: bool = False,
) -> str:
    """The profiling SELECT of ``table`` in ``dialect`` (a sqlglot or SQLAlchemy name).

    Without ``sample_rows`` it is the one query a profile runs; with it, the sampled
    query that follows the exact count (``table_rows``, needed by percentage samples).
    """
    return profile_plan(
        table, dialect, loaded_at_columns=loaded_at_columns, sample_rows=sample_rows,
        table_rows=table_rows, exact_distinct_below_rows=exact_distinct_below_rows,
    ).sql(pretty=pretty)  # fmt: skip


def _profile(
    warehouse: Warehouse,
    table: LiveTable,
    loaded_at_columns: Sequence[str],
    sample_above_rows: int | None,
    timeout_s: float | None,
    now: datetime | None,
    exact_distinct_below_rows: int,
) -> DatasetProfile:
    observed_at = now or datetime.now(timezone.utc)
    dialect = warehouse.dialect
    if timeout_s is not None and dialect not in _TIMEOUT_DIALECTS:
        _log.warning("statement timeouts are not applied on %s", dialect)
    table_metrics: list[ProfileMetric] = []
    sample_rows: int | None = None
    try:
        with warehouse.transaction(timeout_s) as fetch:
            rows: int | None = None
            if sample_above_rows is not None:
                counted = count_plan(table, dialect, loaded_at_columns)
                table_metrics, _, rows = decode_row(counted, _run(fetch, counted, table))
                if rows > sample_above_rows:
                    sample_rows = sample_above_rows
            plan = profile_plan(
                table, dialect, loaded_at_columns=loaded_at_columns, sample_rows=sample_rows,
                table_rows=rows, exact_distinct_below_rows=exact_distinct_below_rows,
            )  # fmt: skip
            metrics, bounds, scanned = decode_row(plan, _run(fetch, plan, table))
    except ConnectorError:
        raise
    except Exception as exc:  # the driver's, SQLAlchemy's or a conversion's: one boundary
        raise translate_error(exc, table.id.name) from exc
    if sample_rows is None:
        return DatasetProfile(table.id, observed_at, tuple(metrics), tuple(bounds))
    # The sample's own count is its size; the table's row count and freshness are exact.
    column_metrics = [m for m in metrics if m.name != "row_count"]
    return DatasetProfile(
        table.id, observed_at, (*table_metrics, *column_metrics), tuple(bounds), scanned
    )


def _run(fetch: Fetch, plan: ProfilePlan, table: LiveTable) -> Sequence[Any]:
    sql = plan.sql()
    _log.debug("profiling %s: %s", table.id.name, sql)
    return fetch(sql)


def translate_error(exc: BaseException, subject: str) -> ConnectorError:
    """The driver's failure as a connector error carrying the database's own message."""
    own = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
    message = redact_text(reason(own if isinstance(own, BaseException) else exc))
    kind = classify(exc, _duckdb_kind) or PermanentConnectorError
    return kind(message, obj=subject)


def _duckdb_kind(exc: BaseException) -> Kind | None:
    if module_of(exc, "duckdb", "InterruptException") is not None:
        return TemporaryConnectorError  # our statement timeout
    if module_of(exc, "duckdb", "IOException") is not None:
        return TemporaryConnectorError  # a lock held by a writer, a disk
    if module_of(exc, "duckdb", "Error") is not None:
        return PermanentConnectorError  # catalog, binder, conversion errors
    return None


class Warehouse(Protocol):
    """An open source: its sqlglot dialect and one transaction per table."""

    dialect: str

    def transaction(self, timeout_s: float | None) -> AbstractContextManager[Fetch]: ...


class SqlAlchemyWarehouse:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = sqlglot_dialect(connection.dialect.name)

    @contextmanager
    def transaction(self, timeout_s: float | None) -> Iterator[Fetch]:
        with self.connection.begin(), _sqlite_deadline(self.connection, timeout_s):
            if timeout_s is not None and self.dialect in ("postgres", "redshift"):
                # A number, no identifier: nothing to quote. LOCAL: this table only.
                milliseconds = max(1, round(timeout_s * 1000))
                self.connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
            # exec_driver_sql: quoted names may hold ':' or '%', which text() would read.
            yield lambda sql: _one_row(
                self.connection.exec_driver_sql(driver_sql(self.connection, sql)).fetchone()
            )


def driver_sql(connection: Connection, sql: str) -> str:
    """``sql`` as the driver takes it without parameters: format-style drivers (psycopg)
    read every ``%`` as a placeholder, so a literal ``LIKE 'CUST%'`` needs ``%%``."""
    if connection.dialect.paramstyle in ("format", "pyformat"):
        return sql.replace("%", "%%")
    return sql


class DuckDBWarehouse:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.dialect = "duckdb"

    @contextmanager
    def transaction(self, timeout_s: float | None) -> Iterator[Fetch]:
        yield lambda sql: self._fetch(sql, timeout_s)

    def _fetch(self, sql: str, timeout_s: float | None) -> Sequence[Any]:
        if timeout_s is None:
            return _one_row(self.connection.execute(sql).fetchone())
        # DuckDB has no statement timeout setting: interrupt the query from a timer.
        timer = threading.Timer(timeout_s, self.connection.interrupt)
        timer.start()
        try:
            return _one_row(self.connection.execute(sql).fetchone())
        finally:
            timer.cancel()


@contextmanager
def _sqlite_deadline(connection: Connection, timeout_s: float | None) -> Iterator[None]:
    """A progress handler that aborts SQLite's query after ``timeout_s`` seconds."""
    import sqlite3

    raw = connection.connection.driver_connection
    if timeout_s is None or not isinstance(raw, sqlite3.Connection):
        yield
        return
    deadline = time.monotonic() + timeout_s
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        yield
    except Exception as exc:
        if time.monotonic() <= deadline:
            raise
        # SQLite says only "interrupted": say why, and that it may pass on a retry.
        raise TemporaryConnectorError(
            f"statement timeout ({timeout_s:g} s): {reason(exc)}"
        ) from exc
    finally:
        raw.set_progress_handler(None, 0)


def _one_row(row: Any) -> Sequence[Any]:
    if row is None:  # an aggregate SELECT always has one row; say so if it had none
        raise PermanentConnectorError("the profiling query returned no row")
    return tuple(row)


@contextmanager
def open_warehouse(source: str | Engine) -> Iterator[Warehouse]:
    """The source opened once for all its tables; what we created is closed after."""
    from sqlalchemy.engine import make_url

    if isinstance(source, str):
        try:
            url = make_url(source)
        except Exception as exc:  # sqlalchemy.exc.ArgumentError: not a URL at all
            raise PermanentConnectorError(
                f"not a database URL: {redact_text(reason(exc))}", obj=redact_url(source)
            ) from exc
        if url.get_backend_name() == "duckdb":
            with _duckdb(url.database) as warehouse:
                yield warehouse
            return
    with _sqlalchemy(source) as warehouse:
        yield warehouse


@contextmanager
def _duckdb(database: str | None) -> Iterator[Warehouse]:
    import duckdb

    in_memory = not database or database == ":memory:"
    if not in_memory and not Path(str(database)).expanduser().exists():
        raise PermanentConnectorError("no DuckDB database at this path", obj=str(database))
    try:
        # Read-only: profiling never writes, and it lets a reader share the file.
        connection = (
            duckdb.connect(":memory:")
            if in_memory
            else duckdb.connect(str(Path(str(database)).expanduser()), read_only=True)
        )
    except duckdb.Error as exc:
        raise translate_error(exc, str(database)) from exc
    try:
        yield DuckDBWarehouse(connection)
    finally:
        connection.close()


@contextmanager
def _sqlalchemy(source: str | Engine) -> Iterator[Warehouse]:
    from connectors.warehouse.engine import create_warehouse_engine

    owned = isinstance(source, str)
    subject = redact_url(source) if isinstance(source, str) else redact_url(str(source.url))
    # The one way to open a URL: the password from the environment, a missing driver
    # named by its extra (a ConnectorError, as it is).
    engine = create_warehouse_engine(source) if isinstance(source, str) else source
    try:
        connection = engine.connect()
    except Exception as exc:  # a refused or unreachable server, bad credentials
        raise translate_error(exc, subject) from exc
    try:
        yield SqlAlchemyWarehouse(connection)
    finally:
        connection.close()
        if owned:
            engine.dispose()
