"""How Silverline's names become DataHub's: platforms, dataset names, types, owners, jobs.

Pure functions with no DataHub import, so the rules can be read, tested and changed in
one place. The URNs themselves are made in ``connectors.datahub.mcps`` with the SDK.

Platform from an OpenLineage namespace (its scheme, or a bare dialect name)::

    postgres://host:5432            -> postgres    (redshift on *.redshift.amazonaws.com)
    redshift://cluster.region:5439  -> redshift    (also a bare "redshift" namespace)
    s3://bucket, s3a://, s3n://     -> s3          (name "bucket/path", case kept)
    sqlserver://, mssql, tsql       -> mssql
    anything else                   -> the scheme itself, lower-cased (reported as unknown)

Dataset names follow DataHub's own ingestion: ``database.schema.table`` for SQL platforms
(lower-cased under the default ``lower`` case policy, as DataHub's Snowflake, Postgres
and Redshift sources emit them), ``bucket/key`` for object stores and the path for files
(never lower-cased: object keys are case-sensitive).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from functools import lru_cache

from lineage.model import DatasetId, Transformation

__all__ = [
    "KNOWN_PLATFORMS",
    "PATH_PLATFORMS",
    "CasePolicy",
    "FieldTypeName",
    "OwnerKind",
    "dataset_name",
    "field_path",
    "field_type",
    "job_ids",
    "owner_kind",
    "platform_for",
    "short_name",
    "transform_operation",
]


class CasePolicy(str, Enum):
    """How dataset names and field paths are cased in URNs."""

    LOWER = "lower"
    PRESERVE = "preserve"


class OwnerKind(str, Enum):
    """DataHub's two kinds of owner."""

    USER = "corpuser"
    GROUP = "corpGroup"


class FieldTypeName(str, Enum):
    """DataHub's field type classes, by the name of their ``*TypeClass``."""

    STRING = "String"
    NUMBER = "Number"
    BOOLEAN = "Boolean"
    DATE = "Date"
    TIME = "Time"
    BYTES = "Bytes"
    ARRAY = "Array"
    MAP = "Map"
    RECORD = "Record"
    ENUM = "Enum"
    NULL = "Null"


# OpenLineage scheme (or bare dialect name) -> DataHub platform id.
_PLATFORMS: dict[str, str] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "duckdb": "duckdb",
    "s3": "s3",
    "s3a": "s3",
    "s3n": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "hdfs": "hdfs",
    "dbfs": "dbfs",
    "file": "file",
    "hive": "hive",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "mssql": "mssql",
    "sqlserver": "mssql",
    "tsql": "mssql",
    "trino": "trino",
    "presto": "presto",
    "athena": "athena",
    "awsathena": "athena",
    "databricks": "databricks",
    "spark": "spark",
    "oracle": "oracle",
    "sqlite": "sqlite",
    "clickhouse": "clickhouse",
    "teradata": "teradata",
    "vertica": "vertica",
    "kafka": "kafka",
}
#: Platform ids this module knows; any other namespace maps to its own scheme.
KNOWN_PLATFORMS = frozenset(_PLATFORMS.values())
#: Platforms whose names are paths (object stores, file systems): never lower-cased.
PATH_PLATFORMS = frozenset({"s3", "gcs", "hdfs", "dbfs", "file"})


def platform_for(namespace: str, overrides: Mapping[str, str] | None = None) -> str:
    """The DataHub platform of an OpenLineage namespace.

    ``overrides`` maps a whole namespace (or its scheme) to a platform and wins.

    >>> platform_for("postgres://db.example.com:5432")
    'postgres'
    >>> platform_for("postgres://c1.abc.eu-west-1.redshift.amazonaws.com:5439")
    'redshift'
    >>> platform_for("redshift")
    'redshift'
    """
    scheme, _, rest = namespace.partition("://")
    scheme = scheme.strip().lower()
    if overrides:
        for key in (namespace, scheme):
            if key in overrides:
                return overrides[key]
    platform = _PLATFORMS.get(scheme, scheme or "unknown")
    # A Redshift cluster reached through the PostgreSQL driver still is Redshift.
    if platform == "postgres" and ".redshift.amazonaws.com" in rest.lower():
        return "redshift"
    return platform


def dataset_name(dataset: DatasetId, platform: str, case: CasePolicy) -> str:
    """The dataset's name in DataHub: ``db.schema.table``, ``bucket/key`` or a path.

    >>> dataset_name(DatasetId("s3://bronze", "/erp/cust_az12"), "s3", CasePolicy.LOWER)
    'bronze/erp/cust_az12'
    >>> dataset_name(DatasetId("redshift", "Dev.Silver.ERP_Customers"), "redshift",
    ...              CasePolicy.LOWER)
    'dev.silver.erp_customers'
    """
    name = dataset.name
    if platform in PATH_PLATFORMS:
        _, _, authority = dataset.namespace.partition("://")
        bucket = authority.strip("/")
        if platform in ("s3", "gcs") and bucket:
            # DataHub's S3/GCS sources name a dataset "bucket/key"; OpenLineage splits them.
            return f"{bucket}/{name.lstrip('/')}"
        return name
    return name.lower() if case is CasePolicy.LOWER else name


def field_path(name: str, platform: str, case: CasePolicy) -> str:
    """A column's field path under the case policy (columns of paths keep their case)."""
    if platform in PATH_PLATFORMS or case is CasePolicy.PRESERVE:
        return name
    return name.lower()


def short_name(name: str, platform: str) -> str:
    """The last part of a dataset name: the table of ``db.schema.table``, a file's name."""
    separator = "/" if platform in PATH_PLATFORMS else "."
    return name.rstrip(separator).rsplit(separator, 1)[-1] or name


# Base type keyword (before any "(" or "<") -> DataHub type. Timestamps are TIME, as in
# DataHub's own SQL sources; JSON-like documents are RECORD.
_TYPES: dict[str, FieldTypeName] = {}
for _names, _kind in (
    (
        "char character varchar nvarchar nchar bpchar text ntext string varchar2 nvarchar2 "
        "clob nclob citext uuid uniqueidentifier xml tinytext mediumtext longtext name "
        "character_varying cidr inet",
        FieldTypeName.STRING,
    ),
    (
        "int integer int2 int4 int8 smallint bigint tinyint mediumint byteint hugeint "
        "uhugeint utinyint usmallint uinteger ubigint decimal numeric number float float4 "
        "float8 float64 int64 real double money smallmoney serial bigserial smallserial "
        "bignumeric dec fixed",
        FieldTypeName.NUMBER,
    ),
    ("bool boolean bit", FieldTypeName.BOOLEAN),
    ("date", FieldTypeName.DATE),
    (
        "time timetz timestamp timestamptz timestamp_ntz timestamp_ltz timestamp_tz datetime "
        "datetime2 datetimeoffset smalldatetime interval",
        FieldTypeName.TIME,
    ),
    (
        "binary varbinary bytea blob bytes image raw longblob mediumblob tinyblob geography "
        "geometry",
        FieldTypeName.BYTES,
    ),
    ("array list", FieldTypeName.ARRAY),
    ("map", FieldTypeName.MAP),
    ("struct row record object variant json jsonb super", FieldTypeName.RECORD),
    ("enum", FieldTypeName.ENUM),
):
    _TYPES.update(dict.fromkeys(_names.split(), _kind))

_BASE_TYPE = re.compile(r"^\s*([a-z_][a-z0-9_]*(?:\s+(?:varying|precision))?)")


def field_type(native: str | None) -> FieldTypeName:
    """The DataHub type of a native SQL type; NULL (DataHub's "unknown") when not known.

    >>> field_type("VARCHAR(50)"), field_type("timestamp with time zone"), field_type(None)
    (<FieldTypeName.STRING: 'String'>, <FieldTypeName.TIME: 'Time'>, <FieldTypeName.NULL: 'Null'>)
    """
    if not native:
        return FieldTypeName.NULL
    text = native.strip().lower()
    if text.endswith("[]") or text.startswith("array<"):
        return FieldTypeName.ARRAY
    match = _BASE_TYPE.match(text)
    if match is None:
        return FieldTypeName.NULL
    base = match.group(1).replace(" varying", "_varying").replace(" precision", "")
    return _TYPES.get(base, FieldTypeName.NULL)


_GROUP_PREFIXES = ("group:", "team:")
_USER_PREFIXES = ("user:",)
# "data-platform-team", "finance squad", "analytics_group": a team, not a person.
_TEAM_WORDS = re.compile(r"(^|[\s_.\-])(team|teams|squad|group|guild|chapter)$", re.IGNORECASE)


def owner_kind(owner: str) -> tuple[OwnerKind, str]:
    """Whether an owner is a user or a group, and its id.

    The rule, in order: an ``urn:li:corpuser:``/``urn:li:corpGroup:`` URN as given; a
    ``user:``/``group:``/``team:`` prefix; an e-mail address (has ``@`` after its
    first character) is a user; ``@org/team`` (CODEOWNERS style), ``org/team``, or a
    name ending in the word team, squad, group, guild or chapter is a group; anything
    else is a user.

    >>> owner_kind("ana@example.com")
    (<OwnerKind.USER: 'corpuser'>, 'ana@example.com')
    >>> owner_kind("data-platform-team")
    (<OwnerKind.GROUP: 'corpGroup'>, 'data-platform-team')
    """
    text = owner.strip()
    for prefix, kind in (
        ("urn:li:corpuser:", OwnerKind.USER),
        ("urn:li:corpGroup:", OwnerKind.GROUP),
    ):
        if text.startswith(prefix):
            return kind, text[len(prefix) :]
    lowered = text.lower()
    for prefix in _GROUP_PREFIXES:
        if lowered.startswith(prefix):
            return OwnerKind.GROUP, text[len(prefix) :].strip()
    for prefix in _USER_PREFIXES:
        if lowered.startswith(prefix):
            return OwnerKind.USER, text[len(prefix) :].strip()
    if "@" in text[1:] and "/" not in text:
        return OwnerKind.USER, text
    if "/" in text or _TEAM_WORDS.search(text):
        return OwnerKind.GROUP, text.lstrip("@")
    return OwnerKind.USER, text


def transform_operation(transformations: Iterable[Transformation]) -> str:
    """Our transformations as DataHub's ``transformOperation`` text.

    ``TYPE:SUBTYPE`` per transformation (``:MASKED`` when it masks), sorted, joined by
    ``,``: ``DIRECT:IDENTITY``, ``DIRECT:TRANSFORMATION,INDIRECT:CONDITIONAL``.
    """
    return _operation(tuple(transformations))


@lru_cache(maxsize=1024)  # a catalog repeats a few dozen combinations over all its edges
def _operation(transformations: tuple[Transformation, ...]) -> str:
    parts = sorted(
        {
            f"{t.type.value}:{t.subtype.value}" + (":MASKED" if t.masking else "")
            for t in transformations
        }
    )
    return ",".join(parts) if parts else "UNKNOWN"


def job_ids(namespace: str, name: str, kind: str) -> tuple[str, str, str]:
    """``(orchestrator, flow id, job id)`` of a job: how jobs group into DataHub flows.

    * dbt models and snapshots (kind ``dbt_*``, named ``project.model``): orchestrator
      ``dbt``, flow = the project, job = the model.
    * a dotted name without ``/`` (``dag.task`` from an orchestrator's OpenLineage
      events): orchestrator ``silverline``, flow = the part before the first ``.``.
    * anything else (SQL files named by path): orchestrator ``silverline``, flow = the
      job's namespace, job = the whole name.
    """
    orchestrator = "dbt" if kind.startswith("dbt") else "silverline"
    if "/" not in name and "." in name.strip("."):
        flow, _, job = name.strip(".").partition(".")
        return orchestrator, flow, job
    return orchestrator, namespace or "default", name
