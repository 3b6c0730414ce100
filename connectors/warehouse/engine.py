"""Reaching a warehouse: URLs, the password from the environment, drivers, timeouts, errors.

The one place of the package that reads third-party exceptions when connecting (rules
of ``connectors.classify``, plus PostgreSQL's refusals, which come without a SQLSTATE).

- Password: a URL with a user but no password takes it from ``LINEAGE_WAREHOUSE_PASSWORD``;
  it lives only in the engine's URL object, never in ``Observation.source``, an issue or a
  ``repr`` (SQLAlchemy prints ``***``; every message is redacted, and the password itself
  masked wherever it appears).
- Drivers: a missing dialect or DBAPI is a ``PermanentConnectorError`` naming the extra,
  ``pip install 'silverline[postgres]'`` (``[duckdb]``, ``[redshift]``, ``[snowflake]``,
  ``[bigquery]``).
- Statement timeout, as each backend supports it: PostgreSQL and Redshift set the session's
  ``statement_timeout`` (``set_config``, a bound value), Snowflake
  ``STATEMENT_TIMEOUT_IN_SECONDS``, SQLite interrupts a statement from its progress handler,
  DuckDB (no such setting) calls ``interrupt()`` from a timer, see
  ``connectors.warehouse.duckdb``; BigQuery and other dialects have none here (ignored).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.classify import classify
from lineage.errors import ConnectorError, PermanentConnectorError, TemporaryConnectorError
from lineage.model import MASK, namespace_of, redact_text, redact_url

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

    from connectors.warehouse.introspect import Backend

__all__ = [
    "EXTRAS",
    "PASSWORD_ENV",
    "SqlBackend",
    "connect_error",
    "create_warehouse_engine",
    "open_backend",
    "resolve_url",
]

PASSWORD_ENV = "LINEAGE_WAREHOUSE_PASSWORD"
#: SQLAlchemy backend name -> the extra of silverline that installs its driver.
EXTRAS = {
    "postgresql": "postgres",
    "duckdb": "duckdb",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
}
# PostgreSQL refuses a login before any SQLSTATE reaches the client: read its words.
_REFUSALS = (
    "password authentication failed",
    "authentication failed",
    "no pg_hba.conf entry",
    "does not exist",
    "permission denied",
    "not permitted to log in",
    "invalid password",
    "incorrect username or password",
)


def resolve_url(source: str | URL) -> URL:
    """``source`` as a SQLAlchemy URL, the password taken from the environment if absent."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(source)
    except ArgumentError:
        raise PermanentConnectorError(f"not a SQLAlchemy URL: {redact_url(str(source))}") from None
    secret = os.environ.get(PASSWORD_ENV)
    if url.username and url.password is None and secret:
        url = url.set(password=secret)
    return url


def _missing_driver(url: URL, exc: BaseException) -> PermanentConnectorError:
    backend = url.get_backend_name()
    extra = EXTRAS.get(backend)
    hint = (
        f"pip install 'silverline[{extra}]'"
        if extra
        else f"install the SQLAlchemy dialect and driver for {url.drivername!r} "
        "(no extra of silverline provides it)"
    )
    return PermanentConnectorError(
        f"no driver for {url.drivername} ({type(exc).__name__}: {_mask(str(exc), url)}): {hint}",
        obj=redact_url(url.render_as_string(hide_password=True)),
    )


def create_warehouse_engine(source: str | URL) -> Engine:
    """An engine for ``source`` (password from the environment when the URL has none).

    Raises:
        PermanentConnectorError: no driver for the dialect (names the extra to install).
    """
    from sqlalchemy import create_engine
    from sqlalchemy.exc import NoSuchModuleError

    url = resolve_url(source)
    try:
        return create_engine(url, pool_pre_ping=False)
    except (NoSuchModuleError, ImportError) as exc:
        raise _missing_driver(url, exc) from None


def _mask(text: str, url: URL | None) -> str:
    secret = url.password if url is not None else None
    if secret:
        text = text.replace(str(secret), MASK)
    return redact_text(text)


def _refused(exc: BaseException) -> type[ConnectorError] | None:
    text = str(exc).lower()
    if any(word in text for word in _REFUSALS):
        return PermanentConnectorError
    return None


def connect_error(exc: BaseException, url: URL | None, source: str) -> ConnectorError:
    """A failure to connect as a Temporary- or PermanentConnectorError, message redacted."""
    from connectors.warehouse.introspect import describe_error

    kind = _refused(exc) or classify(exc) or TemporaryConnectorError
    if isinstance(exc, ImportError) and url is not None:
        return _missing_driver(url, exc)
    return kind(f"cannot connect: {_mask(describe_error(exc), url)}", obj=source)


class SqlBackend:
    """Shared plumbing of the SQLAlchemy backends: one connection, bound-parameter queries,
    the statement timeout, a rollback after a failed statement so the next one runs."""

    timeout_kind = "none"  # "postgres", "sqlite", "snowflake" or "none"
    isolation_level: str | None = None  # e.g. one snapshot for all the queries

    def __init__(
        self, engine: Engine, *, owned: bool, statement_timeout_s: float | None
    ) -> None:
        self.engine = engine
        self._owned = owned
        url = engine.url
        self.source = redact_url(url.render_as_string(hide_password=True))
        self.namespace, database = namespace_of(url)
        self.database = database or ""
        self._timeout = statement_timeout_s
        self._deadline = [0.0]
        self.failures: dict[tuple[str, str], str] = {}
        try:
            self.conn: Connection = engine.connect()
            if self.isolation_level:
                self.conn = self.conn.execution_options(isolation_level=self.isolation_level)
            self._apply_timeout()
        except ConnectorError:
            raise
        except Exception as exc:
            if owned:
                engine.dispose()
            raise connect_error(exc, url, self.source) from None

    def _apply_timeout(self) -> None:
        from sqlalchemy import text

        if self._timeout is None:
            return
        if self.timeout_kind == "postgres":
            ms = str(max(1, int(self._timeout * 1000)))
            self.conn.execute(
                text("SELECT set_config('statement_timeout', :ms, false)"), {"ms": ms}
            )
            self.conn.commit()
        elif self.timeout_kind == "snowflake":
            seconds = max(1, round(self._timeout))  # an int, not user text
            self.conn.exec_driver_sql(
                f"ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = {seconds:d}"
            )
        elif self.timeout_kind == "sqlite":
            deadline = self._deadline
            raw: Any = self.conn.connection.dbapi_connection
            # A nonzero return from the handler interrupts the running statement.
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline[0]), 1000)

    def current_database(self) -> str:
        """The database the server connected to (a URL may leave it to the user name)."""
        try:
            return str(self.rows("SELECT current_database() AS name")[0]["name"])
        except Exception as exc:
            self.close()
            raise connect_error(exc, self.engine.url, self.source) from None

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows of one statement (bound parameters ``:name``) as dicts."""
        names, found = self.tuples(sql, params)
        return [dict(zip(names, row, strict=True)) for row in found]

    def tuples(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names and the driver's row tuples of one statement."""
        from sqlalchemy import text

        if self._timeout is not None:
            self._deadline[0] = time.monotonic() + self._timeout
        try:
            result = self.conn.execute(text(sql), dict(params or {}))
            try:
                names = list(result.keys())
                # The driver's own tuples: text() columns have no result processing, and
                # building SQLAlchemy Rows costs a third of a 100,000-column read.
                found = [tuple(row) for row in result.cursor.fetchall()]
            finally:
                result.close()
        except Exception:
            self.conn.rollback()
            raise
        return names, found

    def close(self) -> None:
        try:
            self.conn.rollback()
            if self._timeout is not None and self.timeout_kind == "postgres" and not self._owned:
                self.conn.exec_driver_sql("RESET statement_timeout")
                self.conn.commit()
            if self._timeout is not None and self.timeout_kind == "sqlite":
                self.conn.connection.dbapi_connection.set_progress_handler(None, 0)  # type: ignore[union-attr]
            self.conn.close()
        finally:
            if self._owned:
                self.engine.dispose()


def open_backend(source: str | Engine, *, statement_timeout_s: float | None = None) -> Backend:
    """The backend module that fits ``source``, connected.

    DuckDB files are read with the ``duckdb`` package directly (read-only; duckdb-engine's
    Inspector is broken, see ENVIRONMENT.md); other URLs go through SQLAlchemy.
    """
    from sqlalchemy.engine import make_url

    url = resolve_url(source) if isinstance(source, str) else source.url
    owned = isinstance(source, str)
    backend = url.get_backend_name()
    if backend == "duckdb":
        from connectors.warehouse.duckdb import DuckDBBackend

        if isinstance(source, str):
            return DuckDBBackend.from_url(make_url(url), statement_timeout_s=statement_timeout_s)
        return DuckDBBackend.from_engine(source, statement_timeout_s=statement_timeout_s)
    engine = create_warehouse_engine(url) if isinstance(source, str) else source
    options: dict[str, Any] = {"owned": owned, "statement_timeout_s": statement_timeout_s}
    if backend == "postgresql":
        from connectors.warehouse.postgres import PostgresBackend

        return PostgresBackend(engine, **options)
    if backend == "redshift":
        from connectors.warehouse.redshift import RedshiftBackend

        return RedshiftBackend(engine, **options)
    if backend == "sqlite":
        from connectors.warehouse.sqlite import SqliteBackend

        return SqliteBackend(engine, **options)
    if backend == "snowflake":
        from connectors.warehouse.snowflake import SnowflakeBackend

        return SnowflakeBackend(engine, **options)
    if backend == "bigquery":
        from connectors.warehouse.bigquery import BigQueryBackend

        return BigQueryBackend(engine, **options)
    from connectors.warehouse.inspector import InspectorBackend

    return InspectorBackend(engine, **options)
