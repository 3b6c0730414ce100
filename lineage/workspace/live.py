"""Live schemas for the workspace: introspect warehouses and bronze folders, profile them.

The composition of ``lineage introspect`` and ``lineage profile``: the connectors
(``connectors.warehouse``, ``connectors.files``) observe, the SQL parser turns each view's
definition into lineage, the catalog records it all. A source that fails is one issue;
the other sources go on, and so do the other tables of a source.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from lineage.catalog.live import ObservationSummary
from lineage.config import DEFAULT_LOADED_AT_COLUMNS, FileSource, ProjectConfig
from lineage.errors import ConnectorError, InputError
from lineage.model import (
    OBJECT_STORE_SCHEMES,
    ColumnEdge,
    DatasetId,
    DatasetKind,
    DatasetProfile,
    Finding,
    Job,
    LineageBatch,
    LiveTable,
    Observation,
    ObservationIssue,
    ParseIssue,
    SqlContext,
    namespace_of,
    redact_url,
    statement_edges,
)
from lineage.views import ObservedSchema

if TYPE_CHECKING:
    from lineage.catalog import Catalog

__all__ = [
    "IntrospectReport",
    "ProfileReport",
    "introspect",
    "is_file_source",
    "loaded_at_columns",
    "profile",
    "sql_dialect",
    "view_batch",
    "warehouse_source",
]

WAREHOUSE, FILES = "warehouse", "files"

# SQLAlchemy backend names -> sqlglot dialects (the same name where it is not listed).
_DIALECTS = {"postgresql": "postgres", "mssql": "tsql", "mariadb": "mysql"}
# Loaded-at names tried after the configured defaults: the seed's extracts carry an
# ``extracted_at`` (dbt staging renames Airbyte's), home-grown loaders a ``loaded_at``.
_MORE_LOADED_AT = ("extracted_at", "_extracted_at", "loaded_at", "ingested_at", "_ingested_at")


@dataclass
class IntrospectReport:
    """What ``introspect`` observed per source, what it recorded, and what failed."""

    observations: list[tuple[str, Observation]] = field(default_factory=list)
    summaries: list[ObservationSummary] = field(default_factory=list)
    views_with_lineage: int = 0
    failures: list[ObservationIssue] = field(default_factory=list)

    @property
    def tables(self) -> int:
        return sum(len(o.tables) for _, o in self.observations)

    @property
    def issues(self) -> list[ObservationIssue]:
        """Every problem: whole sources that failed, then tables and files of the others."""
        return [*self.failures, *(i for _, o in self.observations for i in o.issues)]

    @property
    def findings(self) -> list[Finding]:
        return [f for _, o in self.observations for f in o.findings]

    @property
    def schema_versions_added(self) -> int:
        return sum(s.schema_versions_added for s in self.summaries)


@dataclass
class ProfileReport:
    """The profiles taken (and recorded), and the datasets that could not be profiled."""

    profiles: list[DatasetProfile] = field(default_factory=list)
    issues: list[ObservationIssue] = field(default_factory=list)


def is_file_source(source: str) -> bool:
    """Whether ``source`` is a bronze folder (a path or an object-store URI), not a URL."""
    scheme, sep, _ = source.partition("://")
    return not sep or scheme.lower() in OBJECT_STORE_SCHEMES or scheme.lower() == "file"


def sql_dialect(url: str) -> str:
    """The sqlglot dialect of a SQLAlchemy URL (``postgresql+psycopg://`` -> postgres)."""
    backend = url.partition("://")[0].split("+", 1)[0].lower()
    return _DIALECTS.get(backend, backend)


def introspect(
    catalog: Catalog,
    config: ProjectConfig,
    sources: Sequence[str] = (),
    *,
    schemas: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    statement_timeout: float | None = None,
) -> IntrospectReport:
    """Observe each source (default: ``warehouse.url`` and ``files`` of lineage.yml) and
    record what it holds; view definitions become lineage jobs.

    Raises:
        InputError: there is nothing to introspect.
    """
    section = config.warehouse
    configured = {f.path: f for f in config.files}
    targets = list(sources) or [*([section.url] if section.url else []), *configured]
    if not targets:
        raise InputError(
            "nothing to introspect: give a warehouse URL (postgresql+psycopg://host/db, "
            "duckdb:///path.duckdb ...) or a bronze folder / s3:// prefix, or set "
            "warehouse.url or files in lineage.yml"
        )
    report = IntrospectReport()
    for target in targets:
        try:
            if is_file_source(target):
                source = configured.get(target) or FileSource(target)
                observed_by, observation = _observe_files(source, config)
                dialect = None
            else:
                observed_by, observation = _observe_warehouse(
                    target,
                    schemas=schemas or section.schemas,
                    include=include or section.include,
                    exclude=exclude or section.exclude,
                    statement_timeout=statement_timeout or section.statement_timeout,
                )
                dialect = sql_dialect(target)
        except ConnectorError as exc:
            report.failures.append(ObservationIssue(redact_url(target), exc.message))
            continue
        report.observations.append((observed_by, observation))
        report.summaries.append(catalog.record_observation(observation, observed_by=observed_by))
        if dialect is not None:
            batch = view_batch(observation, dialect)
            if batch.jobs:
                catalog.write(batch)
                report.views_with_lineage += len(batch.jobs)
    return report


def _observe_warehouse(
    url: str,
    *,
    schemas: Sequence[str],
    include: Sequence[str],
    exclude: Sequence[str],
    statement_timeout: float | None,
) -> tuple[str, Observation]:
    from connectors.warehouse.introspect import introspect as introspect_warehouse

    observation = introspect_warehouse(
        url, schemas=schemas, include=include, exclude=exclude,
        statement_timeout_s=statement_timeout,
    )  # fmt: skip
    return f"{WAREHOUSE}:{observation.source}", observation


def _observe_files(source: FileSource, config: ProjectConfig) -> tuple[str, Observation]:
    from connectors.files import discover

    observation = discover(
        source.path, format=source.format, storage_options=dict(source.options) or None
    )
    return f"{FILES}:{redact_url(source.path)}", observation


def view_batch(observation: Observation, dialect: str) -> LineageBatch:
    """One lineage job per view (or materialized view) with a definition: the view's SQL
    parsed as ``CREATE VIEW``, so its columns come from the tables it reads.

    The view's own schema stays the live one (the parse has no types): the batch holds
    the job and its column edges, not the view's dataset. A definition that does not
    parse is an issue of the batch.
    """
    from parsers.sql import parse_view

    known = {t.id.name: {c.name: c.type or "" for c in t.columns} for t in observation.tables}
    jobs: list[Job] = []
    edges: list[ColumnEdge] = []
    issues: list[ParseIssue] = []
    for table in observation.tables:
        if table.definition is None or table.kind not in _VIEW_KINDS:
            continue
        parts = table.id.name.split(".")
        context = SqlContext(
            dialect=dialect,
            namespace=table.id.namespace,
            default_database=parts[0] if len(parts) == 3 else None,
            default_schema=parts[-2] if len(parts) >= 2 else None,
        )
        script = parse_view(parts, table.definition, context=context, schema=known,
                            materialized=table.kind is DatasetKind.MATERIALIZED_VIEW)  # fmt: skip
        statement = script.statements[0] if script.statements else None
        if statement is None or not statement.ok:
            issues.extend(
                replace(e, file=f"view {table.id.name}")
                for s in script.statements
                for e in s.errors
            )
            continue
        name = f"view:{table.id.name}"
        jobs.append(
            Job(
                namespace=table.id.namespace,
                name=name,
                kind="view",
                sql=table.definition,
                inputs=statement.inputs,
                outputs=(table.id,),
            )
        )
        edges.extend(statement_edges(statement, name))
    return LineageBatch(jobs=tuple(jobs), edges=tuple(edges), issues=tuple(issues),
                        observed_by="introspection")  # fmt: skip


_VIEW_KINDS = (DatasetKind.VIEW, DatasetKind.MATERIALIZED_VIEW)


def profile(
    catalog: Catalog,
    config: ProjectConfig,
    datasets: Sequence[DatasetId] = (),
    *,
    sample_above_rows: int | None = None,
    statement_timeout: float | None = None,
    now: datetime | None = None,
) -> ProfileReport:
    """Profile introspected datasets (default: all of them) and record the figures.

    A warehouse table is profiled through ``warehouse.url`` when its namespace is that
    warehouse's (all of them over one connection); a bronze dataset through its
    location. Each dataset that cannot be profiled is an issue naming it.
    """
    section = config.warehouse
    observed = catalog.live_schemas()
    moment = now or datetime.now(timezone.utc)
    warehouse_namespace = namespace_of(section.url)[0] if section.url else None
    report = ProfileReport()
    options = {f.path: f for f in config.files}
    in_warehouse: dict[tuple[str, ...], list[LiveTable]] = {}
    for dataset in list(datasets) or sorted(observed):
        live = observed.get(dataset)
        loaded_at = loaded_at_columns(config, dataset)
        if live is None:
            report.issues.append(
                ObservationIssue(str(dataset), "never introspected: run `lineage introspect`")
            )
        elif live.observed_by.startswith(f"{FILES}:"):
            try:
                found = _profile_files(live, options, loaded_at, sample_above_rows, moment)
            except ConnectorError as exc:
                report.issues.append(ObservationIssue(str(dataset), exc.message))
            else:
                report.profiles.append(found)
        elif section.url and dataset.namespace == warehouse_namespace:
            in_warehouse.setdefault(loaded_at, []).append(live.table)
        else:
            report.issues.append(
                ObservationIssue(
                    str(dataset),
                    f"observed by {live.observed_by}, which is not warehouse.url of "
                    "lineage.yml: set it to profile this dataset",
                )
            )
    if in_warehouse and section.url:
        _profile_warehouse(
            section.url, in_warehouse, report, sample_above_rows=sample_above_rows
            or section.sample_above_rows, statement_timeout=statement_timeout
            or section.statement_timeout, now=moment,
        )  # fmt: skip
    for found in report.profiles:
        catalog.record_profile(found)
    return report


def _profile_warehouse(
    url: str,
    groups: dict[tuple[str, ...], list[LiveTable]],
    report: ProfileReport,
    *,
    sample_above_rows: int | None,
    statement_timeout: float | None,
    now: datetime,
) -> None:
    """Profile warehouse tables over one engine (the password from the environment)."""
    from connectors.warehouse.profile import profile_tables

    try:
        with warehouse_source(url) as source:
            for loaded_at, tables in groups.items():
                found, issues = profile_tables(
                    source, tables, loaded_at_columns=loaded_at,
                    sample_above_rows=sample_above_rows, statement_timeout_s=statement_timeout,
                    now=now,
                )  # fmt: skip
                report.profiles.extend(found)
                report.issues.extend(issues)
    except ConnectorError as exc:
        report.issues.append(ObservationIssue(redact_url(url), exc.message))


@contextmanager
def warehouse_source(url: str) -> Iterator[Any]:
    """What the warehouse connectors take for ``url``, shared by every query of a step: an
    engine (one connection pool; the password from the environment), or the URL itself for
    DuckDB files, which the duckdb package opens (no SQLAlchemy dialect)."""
    if sql_dialect(url) == "duckdb":
        yield url
        return
    from connectors.warehouse.engine import create_warehouse_engine

    engine = create_warehouse_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def loaded_at_columns(
    config: ProjectConfig, dataset: DatasetId, first: Sequence[str] = ()
) -> tuple[str, ...]:
    """The loaded-at columns to try for ``dataset``, in order: ``first`` (a contract's
    freshness column), the one ``warehouse.loaded_at`` names for it, then
    ``warehouse.loaded_at_columns``; with the default list, also ``extracted_at``-style
    names (a list lineage.yml sets is taken as complete)."""
    section = config.warehouse
    named = [
        column for name, column in section.loaded_at.items()
        if dataset.name == name or dataset.name.endswith(f".{name}")
    ]  # fmt: skip
    more = _MORE_LOADED_AT if tuple(section.loaded_at_columns) == DEFAULT_LOADED_AT_COLUMNS else ()
    return tuple(dict.fromkeys([*first, *named, *section.loaded_at_columns, *more]))


def _profile_files(
    live: ObservedSchema,
    options: dict[str, FileSource],
    loaded_at: tuple[str, ...],
    sample_above_rows: int | None,
    now: datetime,
) -> DatasetProfile:
    from connectors.files import profile_files

    table: LiveTable = live.table
    root = table.location or (table.layout.root if table.layout else None)
    if root is None:
        raise ConnectorError("no location recorded for this dataset", obj=str(table.id))
    source = next((s for path, s in options.items() if root.startswith(path)), None)
    return profile_files(
        root,
        dataset=table.id,
        storage_options=dict(source.options) if source and source.options else None,
        loaded_at_columns=loaded_at,
        sample_above_rows=sample_above_rows,
        now=now,
    )
