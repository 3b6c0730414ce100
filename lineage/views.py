"""Typed read models over the catalog and graph: runs, metric points, check results, and
the dataset view ``lineage show`` prints.

The catalog returns these instead of free-form dicts. Statuses are enums: a run's
``RunState`` is the OpenLineage event type that set it (a run in progress has no outcome
yet, so it is not forced into passed/failed); a check result's ``CheckStatus`` is one of
passed / warning / failed / error, whatever spelling the tool that ran the check used
(``CheckStatus.parse``), and the spelling itself is kept in ``native_status``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from lineage.model import (
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    FileLayout,
    Finding,
    Freshness,
    LiveTable,
)

if TYPE_CHECKING:  # the catalog returns these models: it need not load networkx for them
    from lineage.graph import LineageGraph

__all__ = [
    "CheckResult",
    "CheckStatus",
    "ColumnView",
    "DatasetView",
    "LayoutView",
    "MetricPoint",
    "ObservedSchema",
    "RunRecord",
    "RunState",
    "describe_dataset",
]


class RunState(str, Enum):
    """The state of a run: the OpenLineage run event type that last moved it."""

    START = "START"
    RUNNING = "RUNNING"
    OTHER = "OTHER"
    COMPLETE = "COMPLETE"
    FAIL = "FAIL"
    ABORT = "ABORT"

    @property
    def ended(self) -> bool:
        """Whether the run is over (COMPLETE, FAIL or ABORT): later events never reopen it."""
        return self in (RunState.COMPLETE, RunState.FAIL, RunState.ABORT)

    @classmethod
    def parse(cls, text: str) -> RunState:
        """The state an event type names (any case, surrounding blanks ignored).

        Raises:
            ValueError: ``text`` is not an OpenLineage run state.
        """
        return cls(text.strip().upper())


class CheckStatus(str, Enum):
    """The outcome of one quality check."""

    PASSED = "passed"
    WARNING = "warning"
    FAILED = "failed"
    ERROR = "error"
    # A history rule (row count vs the 7-day average) with too few points to judge: said,
    # never a silent pass.
    INSUFFICIENT_HISTORY = "insufficient_history"

    @classmethod
    def parse(cls, text: str) -> CheckStatus:
        """The outcome a tool's status text means (``pass``, ``warn``, ``failure``, ...).

        Case and surrounding blanks are ignored; a status no alias knows is an ERROR: the
        check did not say it passed, and guessing a softer outcome would hide it.
        """
        return _CHECK_ALIASES.get(text.strip().lower(), cls.ERROR)


_CHECK_ALIASES: Mapping[str, CheckStatus] = {
    **dict.fromkeys(("pass", "passed", "success", "ok"), CheckStatus.PASSED),
    **dict.fromkeys(("warn", "warning"), CheckStatus.WARNING),
    **dict.fromkeys(("fail", "failed", "failure"), CheckStatus.FAILED),
    "error": CheckStatus.ERROR,
    **dict.fromkeys(("insufficient_history", "insufficient history"),
                    CheckStatus.INSUFFICIENT_HISTORY),
}


@dataclass(frozen=True)
class RunRecord:
    """One run of a job, folded from its OpenLineage events (``Catalog.runs``)."""

    run_id: str
    job_name: str
    state: RunState
    first_event_at: datetime  # orders runs, newest first
    last_event_at: datetime
    started_at: datetime | None = None  # time of the START event
    ended_at: datetime | None = None  # time of the COMPLETE / FAIL / ABORT event
    error: str | None = None  # the errorMessage facet of a FAIL / ABORT
    facets: Mapping[str, Any] = field(default_factory=dict, hash=False)
    job_namespace: str | None = None  # the events' job namespace, when they said it


@dataclass(frozen=True)
class MetricPoint:
    """One measurement of a dataset or column (``Catalog.metrics``)."""

    dataset: DatasetId
    name: str
    value: float
    observed_at: datetime
    column: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one quality check (``Catalog.check_results``).

    ``native_status`` is the status as the check's tool wrote it (dbt's ``pass``); it
    defaults to ``status``'s own value.
    """

    dataset: DatasetId
    check: str
    status: CheckStatus
    observed_at: datetime
    column: str | None = None
    run_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict, hash=False)
    native_status: str = ""

    def __post_init__(self) -> None:
        if not self.native_status:
            object.__setattr__(self, "native_status", self.status.value)


@dataclass(frozen=True)
class ObservedSchema:
    """The latest live schema of a dataset: what an introspection found, and when."""

    table: LiveTable
    version: int  # numbered per observer from 1
    observed_by: str  # "warehouse:postgres://db:5432/dwh", "files:s3://lake/bronze"
    observed_at: datetime
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.table.schema_facts(),
            "version": self.version,
            "observed_by": self.observed_by,
            "observed_at": self.observed_at.isoformat(),
        }


@dataclass(frozen=True)
class LayoutView:
    """The file layout of a bronze dataset as last observed, and what it showed."""

    layout: FileLayout
    findings: tuple[Finding, ...]
    observed_by: str
    observed_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.layout.to_dict(),
            "file_count": self.layout.file_count,
            "total_bytes": self.layout.total_bytes,
            "row_count": self.layout.row_count,
            "findings": [f.to_dict() for f in self.findings],
            "observed_by": self.observed_by,
            "observed_at": self.observed_at.isoformat(),
        }


@dataclass(frozen=True)
class ColumnView:
    """One column as ``lineage show`` lists it."""

    name: str
    type: str | None = None
    description: str | None = None
    tests: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()  # labels of the columns it is computed from

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "tests": list(self.tests),
            "upstream": list(self.upstream),
        }


@dataclass(frozen=True)
class DatasetView:
    """Everything a person asks about one dataset (``lineage show``)."""

    id: DatasetId
    kind: DatasetKind = DatasetKind.UNKNOWN
    description: str | None = None
    owners: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False)
    contract_enforced: bool = False
    freshness: Freshness | None = None
    tests: tuple[str, ...] = ()  # the dataset-level ones; column tests are on the columns
    source_file: str | None = None
    columns: tuple[ColumnView, ...] = ()
    upstream: tuple[DatasetId, ...] = ()
    downstream: tuple[DatasetId, ...] = ()
    jobs: tuple[str, ...] = ()  # the jobs that write it

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (``lineage show --format json``), keys in a fixed order."""
        return {
            "namespace": self.id.namespace,
            "name": self.id.name,
            "kind": self.kind.value,
            "description": self.description,
            "owners": list(self.owners),
            "tags": list(self.tags),
            "meta": dict(self.meta),
            "contract_enforced": self.contract_enforced,
            "freshness": asdict(self.freshness) if self.freshness else None,
            "tests": list(self.tests),
            "source_file": self.source_file,
            "columns": [c.to_dict() for c in self.columns],
            "upstream": [d.to_dict() for d in self.upstream],
            "downstream": [d.to_dict() for d in self.downstream],
            "jobs": list(self.jobs),
        }


class _DatasetReader(Protocol):
    def dataset(self, dataset: DatasetId) -> Dataset | None: ...


def describe_dataset(
    catalog: _DatasetReader, graph: LineageGraph, dataset_id: DatasetId
) -> DatasetView:
    """The view of one dataset: the catalog's metadata and the graph's neighbours."""
    dataset = catalog.dataset(dataset_id) or Dataset(dataset_id)
    tests_by_column: dict[str | None, list[str]] = {}
    for test in dataset.tests:
        label = test.name if test.arguments in ("{}", "") else f"{test.name} {test.arguments}"
        tests_by_column.setdefault(test.column, []).append(label)
    return DatasetView(
        id=dataset_id,
        kind=dataset.kind,
        description=dataset.description,
        owners=graph.owners_of(dataset_id) or dataset.owners,
        tags=dataset.tags,
        meta=json.loads(dataset.meta or "{}"),
        contract_enforced=dataset.contract_enforced,
        freshness=dataset.freshness,
        tests=tuple(tests_by_column.get(None, [])),
        source_file=dataset.source_file,
        columns=_column_views(graph, dataset, tests_by_column),
        upstream=_upstream_datasets(graph, dataset_id),
        downstream=_downstream_datasets(graph, dataset_id),
        jobs=tuple(job.name for job in graph.writers_of(dataset_id)),
    )


def _column_views(
    graph: LineageGraph, dataset: Dataset, tests_by_column: Mapping[str | None, list[str]]
) -> tuple[ColumnView, ...]:
    """The documented columns in order, then those only the lineage knows."""
    known = [f.name for f in dataset.schema.fields] if dataset.schema else []
    fields = {f.name: f for f in dataset.schema.fields} if dataset.schema else {}
    names = known + [c.name for c in graph.columns_of(dataset.id) if c.name not in fields]
    views = []
    for name in names:
        column = ColumnId(dataset.id, name)
        upstream = graph.upstream(column, depth=1) if column in graph else None
        column_field = fields.get(name)
        views.append(
            ColumnView(
                name=name,
                type=column_field.type if column_field else None,
                description=column_field.description if column_field else None,
                tests=tuple(tests_by_column.get(name, [])),
                # Only the column's own inputs; row filters show once, for the dataset.
                upstream=tuple(
                    e.to_dict()["node"]
                    for e in (upstream.columns if upstream else ())
                    if len(e.path) == 1
                ),
            )
        )
    return tuple(views)


def _upstream_datasets(graph: LineageGraph, dataset_id: DatasetId) -> tuple[DatasetId, ...]:
    found: dict[DatasetId, None] = {}
    for job in graph.writers_of(dataset_id):
        found.update(dict.fromkeys(d for d in job.inputs if d != dataset_id))
    for entry in graph.upstream(dataset_id, depth=1).columns if dataset_id in graph else ():
        if isinstance(entry.node, ColumnId) and entry.node.dataset != dataset_id:
            found[entry.node.dataset] = None
    return tuple(sorted(found))


def _downstream_datasets(graph: LineageGraph, dataset_id: DatasetId) -> tuple[DatasetId, ...]:
    downstream = graph.impact(dataset_id, depth=1).datasets if dataset_id in graph else ()
    found: dict[DatasetId, None] = dict.fromkeys(
        e.node for e in downstream if isinstance(e.node, DatasetId)
    )
    for job in graph.readers_of(dataset_id):
        found.update(dict.fromkeys(d for d in job.outputs if d != dataset_id))
    return tuple(sorted(found))
