"""Everything the site shows, read from the catalog once: ``SiteFacts``.

The pages never query the catalog themselves: one pass here reads datasets, jobs, edges,
runs, metrics, checks, live schemas, layouts and profiles, so a build costs a fixed number
of queries per dataset and the rendering is a pure function of these values (which makes
the output deterministic).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lineage.model import ColumnEdge, Dataset, DatasetId, DatasetProfile, Job
from lineage.views import (
    CheckResult,
    CheckStatus,
    LayoutView,
    MetricPoint,
    ObservedSchema,
    RunRecord,
)

if TYPE_CHECKING:
    from lineage.catalog import Catalog
    from lineage.contracts import Contract

__all__ = [
    "LAYERS",
    "DatasetFacts",
    "DriftFinding",
    "JobKey",
    "SiteFacts",
    "collect",
    "job_key",
    "layer_of",
    "slug",
]

#: A job as the site keys it: (namespace, name).
JobKey = tuple[str, str]

#: The medallion layers, in the order the index shows them (None: no layer known).
LAYERS = ("bronze", "silver", "gold")
_RUN_LIMIT = 1_000_000  # every run: grouped per job below
_RUNS_PER_JOB = 20
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class DriftFinding(Protocol):
    """What the site needs of a drift finding (``lineage.drift`` produces them)."""

    @property
    def dataset(self) -> DatasetId: ...
    @property
    def column(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def impact(self) -> Sequence[str]: ...


def slug(text: str, readable: str | None = None) -> str:
    """A file-name-safe, collision-free name: a readable part (``readable``, default
    ``text``) plus a short hash of ``text``."""
    readable = _UNSAFE.sub("_", readable or text)[-60:].strip("._") or "x"
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{readable}-{digest}"


def layer_of(dataset: Dataset) -> str | None:
    """bronze / silver / gold from ``meta.layer``, the name's parts, or the dbt folder."""
    try:
        meta = json.loads(dataset.meta or "{}")
    except ValueError:
        meta = {}
    declared = meta.get("layer") if isinstance(meta, dict) else None
    if isinstance(declared, str) and declared.lower() in LAYERS:
        return declared.lower()
    parts = [p.lower() for p in re.split(r"[./\\]", dataset.id.name)]
    if dataset.source_file:
        parts += [p.lower() for p in re.split(r"[/\\]", dataset.source_file)]
    for part in parts:
        for layer in LAYERS:
            if part == layer or part.startswith(layer + "_"):
                return layer
    return None


@dataclass
class DatasetFacts:
    """One dataset and everything recorded about it."""

    dataset: Dataset
    slug: str
    layer: str | None
    meta: Mapping[str, Any]
    live: ObservedSchema | None = None
    layout: LayoutView | None = None
    profile: DatasetProfile | None = None
    metrics: list[MetricPoint] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    documented: bool = False  # a parser / contract / dbt schema version exists
    writers: list[JobKey] = field(default_factory=list)
    readers: list[JobKey] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    note: str | None = None
    drift: list[DriftFinding] = field(default_factory=list)

    @property
    def id(self) -> DatasetId:
        return self.dataset.id

    @property
    def materialization(self) -> str:
        value = self.meta.get("materialized")
        return str(value) if isinstance(value, str) else self.dataset.kind.value

    @property
    def latest_checks(self) -> list[CheckResult]:
        """The newest result of each (check, column), ordered by check name."""
        latest: dict[tuple[str, str | None], CheckResult] = {}
        for result in self.checks:  # oldest first: later ones replace earlier ones
            latest[(result.check, result.column)] = result
        return [latest[k] for k in sorted(latest, key=lambda k: (k[0], k[1] or ""))]

    @property
    def failing_checks(self) -> list[CheckResult]:
        bad = (CheckStatus.FAILED, CheckStatus.ERROR)
        return [c for c in self.latest_checks if c.status in bad]


@dataclass
class SiteFacts:
    """The catalog as the site shows it."""

    datasets: dict[DatasetId, DatasetFacts]
    jobs: dict[JobKey, Job]  # by (namespace, name): a dbt model and a task may share a name
    job_slugs: dict[JobKey, str]
    edges: list[ColumnEdge]
    runs: dict[JobKey, list[RunRecord]]
    drift: list[DriftFinding]
    # every dataset's answer, made once: each runbook asks it of up to 100 upstream ones
    _writer_states: dict[DatasetId, str] | None = field(default=None, repr=False,
                                                        compare=False)  # fmt: skip

    def last_run(self, facts: DatasetFacts) -> RunRecord | None:
        """The newest run of any job writing the dataset."""
        runs = [r for job in facts.writers for r in self.runs.get(job, [])[:1]]
        return max(runs, key=lambda r: (r.first_event_at, r.run_id), default=None)

    def writer_state(self, dataset: DatasetId) -> str:
        """The state of the newest run writing ``dataset``: ``COMPLETE``, ``FAIL``, ...,
        ``no runs``, or ``unknown`` for a dataset the site does not hold."""
        if self._writer_states is None:
            self._writer_states = {}
            for dataset_id, facts in self.datasets.items():
                last = self.last_run(facts)
                self._writer_states[dataset_id] = last.state.value if last else "no runs"
        return self._writer_states.get(dataset, "unknown")


def collect(
    catalog: Catalog,
    *,
    contracts: Sequence[tuple[DatasetId, Contract]] = (),
    runbook_notes: Mapping[DatasetId, str] | None = None,
    drift: Sequence[DriftFinding] = (),
) -> SiteFacts:
    """Read the catalog once into ``SiteFacts``."""
    notes = runbook_notes or {}
    live = catalog.live_schemas()
    checks: dict[DatasetId, list[CheckResult]] = {}
    for result in catalog.check_results():
        checks.setdefault(result.dataset, []).append(result)
    metrics: dict[DatasetId, list[MetricPoint]] = {}
    for point in catalog.metrics(None):
        metrics.setdefault(point.dataset, []).append(point)
    observers = catalog.schema_observers()
    layouts = catalog.layouts()
    profiles = catalog.latest_profiles()
    datasets: dict[DatasetId, DatasetFacts] = {}
    for dataset in catalog.datasets():
        try:
            meta = json.loads(dataset.meta or "{}")
        except ValueError:
            meta = {}
        facts = DatasetFacts(
            dataset=dataset,
            slug=slug(str(dataset.id), dataset.id.name),
            layer=layer_of(dataset),
            meta=meta if isinstance(meta, dict) else {},
            live=live.get(dataset.id),
            metrics=metrics.get(dataset.id, []),
            checks=checks.get(dataset.id, []),
            documented=any(not _is_live_observer(o) for o in observers.get(dataset.id, ())),
            note=notes.get(dataset.id),
        )
        if facts.live is not None:  # layouts come from introspections only
            facts.layout = layouts.get(dataset.id)
        if facts.metrics:  # a profile writes metric points: no points, no profile
            facts.profile = profiles.get(dataset.id)
        datasets[dataset.id] = facts
    jobs = {job_key(job): job for job in catalog.jobs()}
    for key, job in jobs.items():
        for output in job.outputs:
            if output in datasets:
                datasets[output].writers.append(key)
        for source in job.inputs:
            if source in datasets:
                datasets[source].readers.append(key)
    for dataset_id, contract in contracts:
        if dataset_id in datasets:
            datasets[dataset_id].contracts.append(contract)
    for finding in drift:
        if finding.dataset in datasets:
            datasets[finding.dataset].drift.append(finding)
    return SiteFacts(
        datasets=datasets,
        jobs=jobs,
        job_slugs={key: slug(f"{key[0]}/{key[1]}", key[1]) for key in jobs},
        edges=catalog.column_edges(),
        runs=_runs_of_jobs(catalog.runs(limit=_RUN_LIMIT), jobs),
        drift=sorted(drift, key=_drift_key),
    )


def job_key(job: Job) -> JobKey:
    """How the site tells jobs apart: namespace and name."""
    return job.namespace, job.name


def _runs_of_jobs(
    runs: Sequence[RunRecord], jobs: Mapping[JobKey, Job]
) -> dict[JobKey, list[RunRecord]]:
    """Each job's newest runs: those of its namespace, and those recorded without one
    (catalog versions before 7) for every job of that name."""
    names: dict[str, list[JobKey]] = {}
    for key in jobs:
        names.setdefault(key[1], []).append(key)
    found: dict[JobKey, list[RunRecord]] = {}
    for run in runs:  # newest first
        for key in names.get(run.job_name, [(run.job_namespace or "", run.job_name)]):
            if run.job_namespace not in (None, key[0]):
                continue
            bucket = found.setdefault(key, [])
            if len(bucket) < _RUNS_PER_JOB:
                bucket.append(run)
    return found


def _drift_key(finding: DriftFinding) -> tuple[int, str, str, str, str]:
    rank = {"error": 0, "breaking": 0, "warning": 1, "info": 2}.get(finding.severity.lower(), 3)
    return (rank, str(finding.dataset), finding.column or "", finding.kind, finding.message)


def _is_live_observer(observed_by: str) -> bool:
    return observed_by.startswith(("warehouse:", "files:"))
