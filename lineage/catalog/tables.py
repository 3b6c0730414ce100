"""The tables of the catalog store.

One ``MetaData`` (SQLAlchemy Core) that works on SQLite and PostgreSQL. JSON values are
stored as canonical JSON text (sorted keys), so stored values compare as strings and
read back the same on every backend. Times are stored in UTC (``UTCDateTime``).

The schema version these tables make, and the steps that bring older catalogs to it,
live in ``lineage.catalog.migrations``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.types import DateTime, TypeDecorator

__all__ = [
    "UTCDateTime",
    "catalog_version",
    "check_results",
    "check_results_key",
    "column_edges",
    "columns",
    "dataset_layouts",
    "datasets",
    "drift_findings",
    "job_io",
    "jobs",
    "metadata",
    "metrics",
    "metrics_key",
    "profiles",
    "push_state",
    "runs",
    "schema_versions",
    "sync_state",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; naive values are taken to be UTC.

    SQLite keeps no offset, so values go in as naive UTC and come back with UTC attached;
    PostgreSQL uses ``timestamptz``. Reads always return aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - drivers return datetimes
            value = datetime.fromisoformat(str(value))
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)


metadata = MetaData()

catalog_version = Table(
    "catalog_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("id = 1", name="ck_catalog_version_one_row"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("namespace", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("description", Text),
    Column("owners", Text, nullable=False, default="[]"),  # JSON list of str
    Column("tags", Text, nullable=False, default="[]"),  # JSON list of str
    Column("meta", Text, nullable=False, default="{}"),  # JSON object (as written)
    Column("contract_enforced", Boolean, nullable=False, default=False),
    Column("freshness", Text),  # JSON object or NULL
    Column("source_file", Text),
    Column("tests", Text, nullable=False, default="[]"),  # JSON list of DataTest objects
    # Fingerprint of the fields in ``columns``; NULL while no schema was ever observed.
    Column("schema_fingerprint", Text),
    # "live" when ``columns`` came from an introspection (no documented schema yet): a
    # documented schema replaces it, a live one never replaces a documented one.
    Column("schema_source", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("namespace", "name", name="uq_datasets_namespace_name"),
)
Index("ix_datasets_name", datasets.c.name)
Index("ix_datasets_name_lower", func.lower(datasets.c.name))

schema_versions = Table(
    "schema_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, ... per (dataset, observed_by)
    Column("fields", Text, nullable=False),  # JSON [{name, type, description}]
    Column("fingerprint", Text, nullable=False),
    Column("observed_by", Text, nullable=False),
    Column("observed_at", UTCDateTime, nullable=False),
    # Live observations only (introspection): the table facts beside the columns (kind,
    # comment, view definition, location) as JSON; NULL for documented schemas.
    Column("facts", Text),
    UniqueConstraint(
        "dataset_id", "observed_by", "version", name="uq_schema_versions_dataset_observer"
    ),
)
Index(
    "ix_schema_versions_dataset_time", schema_versions.c.dataset_id, schema_versions.c.observed_at
)

columns = Table(
    "columns",
    metadata,
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("type", Text),
    Column("description", Text),
    PrimaryKeyConstraint("dataset_id", "ordinal", name="pk_columns"),
)
Index("ix_columns_name", columns.c.name)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("namespace", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("sql", Text),
    Column("source_file", Text),
    Column("owners", Text, nullable=False, default="[]"),
    Column("description", Text),
    Column("fingerprint", Text, nullable=False),  # fields + sorted edges, canonical JSON
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("namespace", "name", name="uq_jobs_namespace_name"),
)
Index("ix_jobs_name", jobs.c.name)

job_io = Table(
    "job_io",
    metadata,
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("direction", Text, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("job_id", "direction", "ordinal", name="pk_job_io"),
    CheckConstraint("direction IN ('input', 'output')", name="ck_job_io_direction"),
)
Index("ix_job_io_dataset", job_io.c.dataset_id, job_io.c.direction)

column_edges = Table(
    "column_edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE")),
    Column(
        "source_dataset_id",
        Integer,
        ForeignKey("datasets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("source_field", Text, nullable=False),
    Column(
        "target_dataset_id",
        Integer,
        ForeignKey("datasets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # '' for dataset-level edges (ColumnEdge.target_field None): NULLs defeat UNIQUE.
    Column("target_field", Text, nullable=False),
    Column("transformations", Text, nullable=False),  # JSON, canonical (sorted) order
    # Leading job_id: this is also the index of "edges of a job".
    UniqueConstraint(
        "job_id",
        "source_dataset_id",
        "source_field",
        "target_dataset_id",
        "target_field",
        name="uq_column_edges",
    ),
)
Index("ix_column_edges_source", column_edges.c.source_dataset_id, column_edges.c.source_field)
Index("ix_column_edges_target", column_edges.c.target_dataset_id, column_edges.c.target_field)
# Edges without a job: UNIQUE above never fires on NULL job_id, so a partial index does.
Index(
    "uq_column_edges_no_job",
    column_edges.c.source_dataset_id,
    column_edges.c.source_field,
    column_edges.c.target_dataset_id,
    column_edges.c.target_field,
    unique=True,
    sqlite_where=column_edges.c.job_id.is_(None),
    postgresql_where=column_edges.c.job_id.is_(None),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Text, nullable=False),
    Column("job_name", Text, nullable=False),
    Column("state", Text, nullable=False),  # a lineage.views.RunState value
    Column("started_at", UTCDateTime),  # time of the START event
    Column("ended_at", UTCDateTime),  # time of the COMPLETE / FAIL / ABORT event
    Column("first_event_at", UTCDateTime, nullable=False),  # orders runs, newest first
    Column("last_event_at", UTCDateTime, nullable=False),
    Column("error", Text),
    Column("facets", Text, nullable=False, default="{}"),  # JSON object, merged per event
    # The namespace of the job the events name (version 7; NULL before, or when unsaid):
    # a decorated task and a dbt model may share a name in two namespaces.
    Column("job_namespace", Text),
    UniqueConstraint("run_id", name="uq_runs_run_id"),
)
Index("ix_runs_job_time", runs.c.job_name, runs.c.first_event_at)
Index("ix_runs_time", runs.c.first_event_at)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("column_name", Text),
    Column("value", Double, nullable=False),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("run_id", Text),
)
Index("ix_metrics_dataset_name_time", metrics.c.dataset_id, metrics.c.name, metrics.c.observed_at)
# One point per (dataset, name, column, run, time): a re-ingested or concurrently ingested
# event adds nothing. NULLs are distinct in a UNIQUE index (SQLite and PostgreSQL), so the
# nullable parts are coalesced to ''; inserts name these expressions as their conflict
# target (``runs.record_metric``). Version 4 (``migrations``) added it.
metrics_key = Index(
    "uq_metrics_point",
    metrics.c.dataset_id,
    metrics.c.name,
    func.coalesce(metrics.c.column_name, literal_column("''")),
    func.coalesce(metrics.c.run_id, literal_column("''")),
    metrics.c.observed_at,
    unique=True,
)

check_results = Table(
    "check_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("check_name", Text, nullable=False),
    Column("column_name", Text),
    # As the check's tool wrote it ("pass", "warn", ...): read as a views.CheckStatus.
    Column("status", Text, nullable=False),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("run_id", Text),
    Column("details", Text, nullable=False, default="{}"),  # JSON object
)
Index("ix_check_results_dataset_time", check_results.c.dataset_id, check_results.c.observed_at)
Index("ix_check_results_run", check_results.c.run_id)  # a build's results (version 7)
# One result per (dataset, check, column, run, time), like ``metrics_key``.
check_results_key = Index(
    "uq_check_results_point",
    check_results.c.dataset_id,
    check_results.c.check_name,
    func.coalesce(check_results.c.column_name, literal_column("''")),
    func.coalesce(check_results.c.run_id, literal_column("''")),
    check_results.c.observed_at,
    unique=True,
)

# The file layout of a bronze dataset as last observed (partitions, file sizes, snapshots)
# and what it showed (small files, schema mismatches); replaced when it changes. Its
# figures over time are metric points (file_count, size_bytes, row_count).
dataset_layouts = Table(
    "dataset_layouts",
    metadata,
    Column(
        "dataset_id",
        Integer,
        ForeignKey("datasets.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("observed_by", Text, nullable=False),
    Column("layout", Text, nullable=False),  # JSON of lineage.model.FileLayout
    Column("findings", Text, nullable=False, default="[]"),  # JSON list of Finding
    Column("fingerprint", Text, nullable=False),
    Column("observed_at", UTCDateTime, nullable=False),
)

# One profiling scan of a dataset: what the metric points of that time do not hold (text
# bounds of dates and strings, the sample size). The figures are metric points.
profiles = Table(
    "profiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("sampled_rows", Integer),
    Column("bounds", Text, nullable=False, default="[]"),  # JSON [[column, min, max]]
    UniqueConstraint("dataset_id", "observed_at", name="uq_profiles_dataset_time"),
)

# What each push target last received: one row per (target, URN, aspect key), holding the
# hash of the aspect sent; a push sends only aspects whose hash differs (connectors/datahub).
push_state = Table(
    "push_state",
    metadata,
    Column("target", Text, nullable=False),  # "rest:http://gms:8080", "lite:/abs/path", ...
    Column("urn", Text, nullable=False),
    Column("aspect", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("pushed_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("target", "urn", "aspect", name="pk_push_state"),
)

# The last state each sync of something outside reached, one row per (kind, target): the
# fingerprint of the last project scan written (kind "project_scan", target "dbt:/abs").
# Per-aspect hashes of pushes stay in push_state: a push compares thousands of them.
sync_state = Table(
    "sync_state",
    metadata,
    Column("kind", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("kind", "target", name="pk_sync_state"),
)

# Schema drift findings (``lineage drift``): one row per change while it is observed, kept
# after it is resolved (no longer observed) or acknowledged, so the docs site and DataHub
# can show what drifted, when, seen by which scan or run, and who said it is fine.
drift_findings = Table(
    "drift_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),  # a lineage.drift.ChangeKind value
    Column("column_name", Text),
    Column("severity", Text, nullable=False),  # breaking / warning / info
    Column("message", Text, nullable=False),
    Column("finding_key", Text, nullable=False),  # identifies the change across runs
    Column("details", Text, nullable=False, default="{}"),  # JSON: the finding and impact
    Column("baseline", Text, nullable=False),  # "site/schema.json", "contracts", "catalog"
    Column("observed_by", Text, nullable=False),  # "warehouse", "events", a run or a file
    Column("run_id", Text),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),  # no longer observed by the same comparison
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", Text),
)
Index("ix_drift_findings_scope", drift_findings.c.baseline, drift_findings.c.observed_by,
      drift_findings.c.finding_key)  # fmt: skip
Index("ix_drift_findings_dataset", drift_findings.c.dataset_id)
