"""Dataset namespaces from connection URLs, by the OpenLineage naming spec.

One rule for every producer: a table introspected through a SQLAlchemy URL, a table a
decorated job writes through an engine and a table parsed from SQL in the same
warehouse get the same namespace, so they are one dataset in the catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["OBJECT_STORE_SCHEMES", "namespace_of"]

#: URI schemes of object stores and distributed file systems: their paths are datasets.
OBJECT_STORE_SCHEMES = frozenset(
    {"s3", "s3a", "s3n", "gs", "gcs", "abfss", "abfs", "wasbs", "wasb", "hdfs", "oss"}
)

_DEFAULT_PORTS = {
    "postgres": 5432,
    "redshift": 5439,
    "mysql": 3306,
    "mariadb": 3306,
    "mssql": 1433,
    "oracle": 1521,
    "trino": 8080,
    "clickhouse": 8123,
}
_SCHEMES = {"postgresql": "postgres", "mariadb": "mysql"}


def namespace_of(bind: Any) -> tuple[str, str | None]:
    """``(namespace, database)`` of a SQLAlchemy engine, connection or URL.

    >>> namespace_of("postgresql+psycopg://etl:secret@db.example.com/dwh")
    ('postgres://db.example.com:5432', 'dwh')
    """
    from sqlalchemy.engine import make_url

    url = getattr(bind, "url", None) or getattr(getattr(bind, "engine", None), "url", None)
    url = make_url(url if url is not None else str(bind))
    backend = url.get_backend_name()
    scheme = _SCHEMES.get(backend, backend)
    database = url.database
    if scheme in ("duckdb", "sqlite"):
        if not database or database == ":memory:":
            return f"{scheme}://:memory:", "memory"
        path = Path(database).expanduser().resolve()
        return f"{scheme}://{path}", path.stem
    if scheme == "snowflake":
        return f"snowflake://{(url.host or '').lower()}", database
    if scheme == "bigquery":
        return "bigquery", url.host or database
    port = url.port or _DEFAULT_PORTS.get(scheme)
    authority = f"{url.host or 'localhost'}:{port}" if port else (url.host or "localhost")
    return f"{scheme}://{authority}", database

