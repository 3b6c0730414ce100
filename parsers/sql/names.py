"""Naming: sqlglot tables and file locations -> OpenLineage ``DatasetId``s.

Unquoted identifiers are case-insensitive in every dialect we read and are reported in
lower case (also for Snowflake, whose canonical case is upper); quoted identifiers keep
their case. Locations follow OpenLineage's naming spec::

    's3://bucket/bronze/erp/'  -> DatasetId("s3://bucket", "bronze/erp")
    's3a://bucket/bronze/erp'  -> DatasetId("s3://bucket", "bronze/erp")   (Hadoop's s3a/s3n)
    '/data/landing/x.csv'      -> DatasetId("file", "/data/landing/x.csv")
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from lineage.model import DatasetId, SqlContext

__all__ = ["LOWERCASE_DIALECT", "location_dataset", "table_parts"]

# The base dialect lower-cases unquoted identifiers; used to normalise every dialect alike.
LOWERCASE_DIALECT = Dialect()

_OBJECT_STORES = ("s3", "s3a", "s3n", "gs", "gcs", "abfss", "abfs", "wasbs", "wasb", "hdfs", "oss")
# Hadoop's S3 connectors name the same objects: Spark's s3a:// read joins Spectrum's s3://
# (as connectors.files and DataHub name them).
_SAME_STORE = {"s3a": "s3", "s3n": "s3"}


def table_parts(table: exp.Table, context: SqlContext) -> list[str]:
    """``[database, schema, table]`` as far as known, completed with the context's defaults."""
    parts = [p.name for p in (table.args.get("catalog"), table.args.get("db")) if p is not None]
    parts.append(table.name)
    return context.qualify(parts)


_GLOB = re.compile(r"[*?\[{]")
_PARTITION = re.compile(r"^[^=/]+=[^/]*$")


def _dataset_root(location: str) -> str:
    """``location`` without its glob and ``key=value`` partition segments (and what follows
    a glob); a plain path or prefix is kept as it is."""
    scheme, sep, rest = location.partition("://")
    if not sep:
        scheme, rest = "", location
    parts = rest.split("/")
    kept: list[str] = []
    for index, part in enumerate(parts):
        if _GLOB.search(part) or (index > 0 and _PARTITION.match(part)):
            break
        kept.append(part)
    else:
        return location
    root = "/".join(kept).rstrip("/") or "/"
    return f"{scheme}{sep}{root}" if sep else root


def location_dataset(location: str, namespace: str) -> DatasetId:
    """A dataset for a file or object-store location, or a stage name, as OpenLineage names it.

    Globs and Hive partition folders fold to the dataset's root, as a bronze folder is one
    dataset: ``s3://lake/bronze/erp/cust_az12/year=*/*.parquet`` is
    ``s3://lake`` + ``bronze/erp/cust_az12``.
    """
    location = _dataset_root(location.strip())
    parsed = urlsplit(location)
    scheme = parsed.scheme.lower()
    if scheme in _OBJECT_STORES and parsed.netloc:
        path = parsed.path.strip("/") or "/"
        return DatasetId(f"{_SAME_STORE.get(scheme, scheme)}://{parsed.netloc}", path)
    if scheme == "file":
        return DatasetId("file", parsed.path)
    if location.startswith("/"):
        return DatasetId("file", location)
    # Snowflake stages (@stage/path) and anything else live in the warehouse's namespace.
    return DatasetId(namespace, location)
