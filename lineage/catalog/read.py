"""The read path: datasets with their current columns, schema history, jobs with their
IO, and column edges, built from the catalog's rows inside the caller's transaction.

Everything comes back sorted (datasets and jobs by namespace and name, edges by source,
target and job), so two reads of the same catalog are equal lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, func, or_, select

from lineage.catalog import tables as cs
from lineage.catalog.sql import chunks
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    DataTest,
    Field,
    Freshness,
    Job,
    Schema,
    Transformation,
    TransformationSubtype,
    TransformationType,
)

__all__ = [
    "CurrentSchema",
    "RecordedTimes",
    "SchemaVersion",
    "build_datasets",
    "build_jobs",
    "change_marker",
    "dataset_is",
    "dataset_names",
    "edge_order",
    "find_columns",
    "find_datasets",
    "history_of",
    "last_changed_at",
    "read_dataset",
    "read_datasets",
    "read_edges",
    "read_job",
    "read_jobs",
    "recorded_times",
    "schema_history",
    "schema_observers",
]


@dataclass(frozen=True)
class SchemaVersion:
    """One observed version of a dataset's schema (numbered per observer from 1)."""

    version: int
    schema: Schema
    observed_by: str
    observed_at: datetime
    fingerprint: str


@dataclass(frozen=True)
class CurrentSchema:
    """The schema version a dataset's current columns are, and when it was recorded.

    ``version`` is the ``schema_versions.version`` of those columns (numbered per
    observer); ``first_at`` is when the catalog recorded the dataset's first schema.
    """

    version: int
    observed_at: datetime
    first_at: datetime


@dataclass(frozen=True)
class RecordedTimes:
    """When the catalog last recorded each dataset and job (``updated_at``) and which
    schema version each dataset's current columns are: what audit stamps are made of."""

    datasets: dict[DatasetId, datetime]
    jobs: dict[tuple[str, str], datetime]
    schemas: dict[DatasetId, CurrentSchema]


def dataset_is(dataset: DatasetId) -> tuple[Any, ...]:
    """The WHERE clauses selecting one dataset's row of ``datasets``."""
    return (cs.datasets.c.namespace == dataset.namespace, cs.datasets.c.name == dataset.name)


def history_of(table: Table, dataset: DatasetId) -> Select[Any]:
    """The rows of a per-dataset history table (``observed_at``, ``dataset_id``) about
    ``dataset``, oldest first."""
    return (
        select(table)
        .join(cs.datasets, cs.datasets.c.id == table.c.dataset_id)
        .where(*dataset_is(dataset))
        .order_by(table.c.observed_at, table.c.id)
    )


def read_datasets(conn: Connection) -> list[Dataset]:
    """Every dataset in its current state, sorted by (namespace, name)."""
    return build_datasets(conn, conn.execute(select(cs.datasets)).all(), all_columns=True)


def read_dataset(conn: Connection, dataset: DatasetId) -> Dataset | None:
    """One dataset in its current state, or None."""
    rows = conn.execute(select(cs.datasets).where(*dataset_is(dataset))).all()
    found = build_datasets(conn, rows)
    return found[0] if found else None


def find_datasets(conn: Connection, name: str) -> list[Dataset]:
    """Datasets named ``name`` exactly, else those whose name ends with ``"." + name`` or
    ``"/" + name`` (case-insensitive)."""
    wanted = name.strip().lower()
    if not wanted:
        return []
    lowered = func.lower(cs.datasets.c.name)
    escaped = re.sub(r"([\\%_])", r"\\\1", wanted)
    rows = conn.execute(select(cs.datasets).where(lowered == wanted)).all()
    if not rows:
        # A dotted suffix (tables), or a path suffix (file datasets: bronze/erp/loc_a101).
        suffix = or_(
            lowered.like("%." + escaped, escape="\\"), lowered.like("%/" + escaped, escape="\\")
        )
        rows = conn.execute(select(cs.datasets).where(suffix)).all()
    return build_datasets(conn, rows)


def find_columns(conn: Connection, name: str) -> list[ColumnId]:
    """Columns named ``name`` (exactly, else case-insensitively) in any dataset, sorted."""
    d, c = cs.datasets, cs.columns
    query = select(d.c.namespace, d.c.name, c.c.name.label("column")).join(
        c, c.c.dataset_id == d.c.id
    )
    rows = conn.execute(query.where(c.c.name == name)).all()
    if not rows:
        rows = conn.execute(query.where(func.lower(c.c.name) == name.lower())).all()
    return sorted(ColumnId(DatasetId(r.namespace, r.name), r.column) for r in rows)


def last_changed_at(conn: Connection) -> datetime | None:
    """When the catalog last learnt anything (a row written, a run event, a schema version,
    a metric point, a check result, a drift finding); None for an empty catalog. One
    aggregate per table: the cost does not grow with the history's length beyond an index
    or table scan of each table's time column."""
    moments = []
    for column in (
        cs.datasets.c.updated_at, cs.jobs.c.updated_at, cs.runs.c.last_event_at,
        cs.schema_versions.c.observed_at, cs.metrics.c.observed_at,
        cs.check_results.c.observed_at, cs.dataset_layouts.c.observed_at,
        cs.drift_findings.c.last_seen_at, cs.drift_findings.c.resolved_at,
        cs.drift_findings.c.acknowledged_at,
    ):  # fmt: skip
        found = conn.execute(select(func.max(column))).scalar()
        if found is not None:
            moments.append(found)
    return max(moments) if moments else None


#: Tables whose row count, beside ``last_changed_at``, tells that the catalog changed: a
#: deletion moves no timestamp but always a count.
_COUNTED = (
    cs.datasets, cs.columns, cs.schema_versions, cs.jobs, cs.job_io, cs.column_edges,
    cs.runs, cs.metrics, cs.check_results, cs.dataset_layouts, cs.profiles,
    cs.drift_findings,
)  # fmt: skip


def change_marker(conn: Connection) -> str:
    """A short text that changes whenever the catalog's content does: the moment of the
    last change (``last_changed_at``, plus the newest profile) and each table's row count.
    Equal markers: nothing was written, updated or deleted in between."""
    moment = last_changed_at(conn)
    profiled = conn.execute(select(func.max(cs.profiles.c.observed_at))).scalar()
    counts = [conn.execute(select(func.count()).select_from(t)).scalar() for t in _COUNTED]
    stamps = [m.isoformat() if m is not None else "-" for m in (moment, profiled)]
    return "|".join([*stamps, *map(str, counts)])


def schema_history(
    conn: Connection, dataset: DatasetId, observed_by: str | None = None
) -> list[SchemaVersion]:
    """The schema versions of a dataset, oldest first (optionally of one observer)."""
    sv = cs.schema_versions
    query = history_of(sv, dataset)
    if observed_by is not None:
        query = query.where(sv.c.observed_by == observed_by)
    return [
        SchemaVersion(
            version=row.version,
            schema=_schema_from_json(row.fields),
            observed_by=row.observed_by,
            observed_at=row.observed_at,
            fingerprint=row.fingerprint,
        )
        for row in conn.execute(query)
    ]


def schema_observers(conn: Connection) -> dict[DatasetId, set[str]]:
    """Who recorded schema versions of each dataset (``observed_by``), without reading
    the versions themselves."""
    sv, d = cs.schema_versions, cs.datasets
    query = select(d.c.namespace, d.c.name, sv.c.observed_by).distinct().join(
        d, d.c.id == sv.c.dataset_id
    )
    found: dict[DatasetId, set[str]] = {}
    for namespace, name, observer in conn.execute(query):
        found.setdefault(DatasetId(namespace, name), set()).add(observer)
    return found


def recorded_times(conn: Connection) -> RecordedTimes:
    """Every dataset's and job's ``updated_at``, and the schema version of every dataset's
    current columns: documented columns are the newest documented version with their
    fingerprint, live columns (``schema_source`` set) the newest live version. Three
    queries, none reading the stored fields themselves."""
    d, sv, j = cs.datasets, cs.schema_versions, cs.jobs
    rows = conn.execute(
        select(d.c.id, d.c.namespace, d.c.name, d.c.updated_at, d.c.schema_fingerprint,
               d.c.schema_source)
    ).all()  # fmt: skip
    names = {row.id: DatasetId(row.namespace, row.name) for row in rows}
    datasets = {names[row.id]: row.updated_at for row in rows}
    current = {row.id: (row.schema_fingerprint, row.schema_source is not None) for row in rows}
    first: dict[int, datetime] = {}
    newest: dict[int, tuple[int, datetime]] = {}
    query = select(
        sv.c.dataset_id, sv.c.version, sv.c.fingerprint, sv.c.observed_at,
        sv.c.facts.is_not(None).label("live"),
    ).order_by(sv.c.observed_at, sv.c.id)  # fmt: skip
    for row in conn.execute(query):
        first.setdefault(row.dataset_id, row.observed_at)
        fingerprint, live = current.get(row.dataset_id, (None, False))
        if fingerprint is None or bool(row.live) != live:
            continue
        if live or row.fingerprint == fingerprint:  # oldest first: the newest match wins
            newest[row.dataset_id] = (row.version, row.observed_at)
    schemas = {
        names[pk]: CurrentSchema(version, observed_at, first[pk])
        for pk, (version, observed_at) in newest.items()
        if pk in names
    }
    jobs = {
        (row.namespace, row.name): row.updated_at
        for row in conn.execute(select(j.c.namespace, j.c.name, j.c.updated_at))
    }
    return RecordedTimes(datasets, jobs, schemas)


def read_jobs(conn: Connection) -> list[Job]:
    """Every job, sorted by (namespace, name)."""
    return build_jobs(conn, conn.execute(select(cs.jobs)).all(), all_io=True)


def read_job(conn: Connection, namespace: str, name: str) -> Job | None:
    """One job, or None."""
    query = select(cs.jobs).where(cs.jobs.c.namespace == namespace, cs.jobs.c.name == name)
    found = build_jobs(conn, conn.execute(query).all())
    return found[0] if found else None


def build_datasets(
    conn: Connection, rows: Sequence[Row[Any]], *, all_columns: bool = False
) -> list[Dataset]:
    """Datasets from their rows plus their ``columns`` (sorted by id)."""
    by_dataset: dict[int, list[Field]] = {}
    c = cs.columns
    base = select(c.c.dataset_id, c.c.name, c.c.type, c.c.description).order_by(
        c.c.dataset_id, c.c.ordinal
    )
    with_schema = [row.id for row in rows if row.schema_fingerprint is not None]
    queries = (
        [base]
        if all_columns
        else [base.where(c.c.dataset_id.in_(chunk)) for chunk in chunks(with_schema)]
    )
    for query in queries:
        for dataset_pk, name, type_, description in conn.execute(query):
            found = by_dataset.get(dataset_pk)
            if found is None:
                found = by_dataset[dataset_pk] = []
            found.append(Field(name, type_, description))
    out = [_dataset_from_row(row, by_dataset.get(row.id, [])) for row in rows]
    return sorted(out, key=lambda d: (d.id.namespace, d.id.name))


def _dataset_from_row(row: Row[Any], schema_fields: list[Field]) -> Dataset:
    try:
        kind = DatasetKind(row.kind)
    except ValueError:
        kind = DatasetKind.UNKNOWN
    freshness = json.loads(row.freshness) if row.freshness else None
    return Dataset(
        id=DatasetId(row.namespace, row.name),
        kind=kind,
        schema=Schema(tuple(schema_fields)) if row.schema_fingerprint is not None else None,
        description=row.description,
        owners=tuple(json.loads(row.owners)),
        tags=tuple(json.loads(row.tags)),
        meta=row.meta,
        tests=tuple(DataTest(**t) for t in json.loads(row.tests)),
        contract_enforced=bool(row.contract_enforced),
        freshness=Freshness(**freshness) if freshness is not None else None,
        source_file=row.source_file,
    )


def dataset_names(conn: Connection) -> dict[int, DatasetId]:
    """Every dataset's id by its primary key (to name the rows of edges and job IO)."""
    d = cs.datasets
    return {
        pk: DatasetId(namespace, name)
        for pk, namespace, name in conn.execute(select(d.c.id, d.c.namespace, d.c.name))
    }


def build_jobs(
    conn: Connection,
    rows: Sequence[Row[Any]],
    *,
    all_io: bool = False,
    names: dict[int, DatasetId] | None = None,
) -> list[Job]:
    io = cs.job_io
    if names is None:
        names = dataset_names(conn) if rows else {}
    queries = (
        [select(io)]
        if all_io
        else [select(io).where(io.c.job_id.in_(chunk)) for chunk in chunks([r.id for r in rows])]
    )
    links: dict[tuple[int, str], list[tuple[int, DatasetId]]] = {}
    for query in queries:
        for link in conn.execute(query):
            links.setdefault((link.job_id, link.direction), []).append(
                (link.ordinal, names[link.dataset_id])
            )

    def ordered(job_id: int, direction: str) -> tuple[DatasetId, ...]:
        return tuple(d for _, d in sorted(links.get((job_id, direction), [])))

    jobs = [
        Job(
            namespace=row.namespace,
            name=row.name,
            kind=row.kind,
            sql=row.sql,
            source_file=row.source_file,
            owners=tuple(json.loads(row.owners)),
            description=row.description,
            inputs=ordered(row.id, "input"),
            outputs=ordered(row.id, "output"),
        )
        for row in rows
    ]
    return sorted(jobs, key=lambda j: (j.namespace, j.name))


def read_edges(
    conn: Connection,
    job_name: str | None = None,
    *,
    where: Any = None,
    names: dict[int, DatasetId] | None = None,
) -> list[ColumnEdge]:
    """Column edges (of the job(s) named ``job_name``; or matching ``where``, a clause on
    ``column_edges``), sorted; ``names`` (dataset pk -> id) saves reading them again."""
    e, j = cs.column_edges, cs.jobs
    query = select(
        e.c.source_dataset_id,
        e.c.source_field,
        e.c.target_dataset_id,
        e.c.target_field,
        e.c.transformations,
        j.c.name.label("job_name"),
    ).select_from(e.outerjoin(j, j.c.id == e.c.job_id))
    if job_name is not None:
        query = query.where(j.c.name == job_name)
    if where is not None:
        query = query.where(where)
    rows = conn.execute(query).all()
    if not rows:
        return []
    names = names if names is not None else dataset_names(conn)
    # Sorted on plain strings (comparing dataclasses is slow): source, target, job.
    decorated: list[tuple[tuple[str, ...], ColumnEdge]] = []
    for source_pk, source_field, target_pk, target_field, transformations, job in rows:
        source, target = names[source_pk], names[target_pk]
        key = (
            source.namespace,
            source.name,
            source_field,
            target.namespace,
            target.name,
            target_field,
            job or "",
            transformations,
        )
        decorated.append(
            (
                key,
                ColumnEdge(
                    ColumnId(source, source_field),
                    target,
                    target_field or None,
                    _transformations_from_json(transformations),
                    job,
                ),
            )
        )
    decorated.sort(key=itemgetter(0))
    return [edge for _, edge in decorated]


def edge_order(edge: ColumnEdge) -> tuple[str, ...]:
    """The order ``read_edges`` returns edges in, for edges read in several queries (the
    stored transformations' JSON, the last tie-breaker there, is not kept on the edge)."""
    source, target = edge.source.dataset, edge.target
    return (
        source.namespace, source.name, edge.source.name, target.namespace, target.name,
        edge.target_field or "", edge.job or "",
    )  # fmt: skip


def _schema_from_json(raw: str) -> Schema:
    return Schema(
        tuple(Field(f["name"], f.get("type"), f.get("description")) for f in json.loads(raw))
    )


_TRANSFORMATIONS_CACHE: dict[str, tuple[Transformation, ...]] = {}


def _transformations_from_json(raw: str) -> tuple[Transformation, ...]:
    found = _TRANSFORMATIONS_CACHE.get(raw)
    if found is None:
        found = tuple(
            Transformation(
                TransformationType(t["type"]),
                TransformationSubtype(t["subtype"]),
                bool(t.get("masking", False)),
            )
            for t in json.loads(raw)
        )
        if len(_TRANSFORMATIONS_CACHE) < 4096:
            _TRANSFORMATIONS_CACHE[raw] = found
    return found
