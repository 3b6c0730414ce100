"""Run-time schema drift where events reach the catalog.

When a run's COMPLETE event reaches the catalog (the catalog sink of decorated jobs, in
the emitter's worker thread; or ``lineage ingest`` of any producer's events), each output
whose ``schema`` facet the run reported is compared with the dataset's documented schema
(``lineage.drift.runtime``): one finding per change, graded by the core's table, with its
impact through the lineage graph, recorded with the run's id (``Catalog.record_drift``,
``observed_by="run:<job name>"``, one scope per dataset), and one line logged.

A job's ``on_drift`` policy travels with its events as the job tag
``silverline.on_drift`` (OpenLineage ``tags`` job facet): ``ignore`` compares nothing,
``fail`` was compared by the job itself before its final event (``lineage.run.drift``).

Re-recording is idempotent: the catalog keys findings by change; an event older than what
a scope last saw (a file ingested again after newer runs) is not compared again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from connectors.openlineage.batch import EventLineage
from connectors.openlineage.facets import PRODUCER, facet
from lineage.drift import (
    ON_DRIFT_TAG,
    Change,
    DriftFinding,
    assess,
    breaking_findings,
    diff_schemas,
    documented_schema,
    documented_version,
    drift_summary,
    observed_schema,
    one_hop_inputs,
    parse_on_drift,
    run_baseline,
    run_observer,
)
from lineage.errors import ConfigError
from lineage.model import DatasetId, Schema, redacted_logger

if TYPE_CHECKING:
    from lineage.catalog.store import Catalog
    from lineage.graph import LineageGraph

__all__ = [
    "TAGS_JOB_FACET_SCHEMA_URL",
    "RunDrift",
    "check_run_drift",
    "drift_logger",
    "drift_policy",
    "on_drift_facet",
    "output_schemas",
]

TAGS_JOB_FACET_SCHEMA_URL = (
    "https://openlineage.io/spec/facets/1-0-0/TagsJobFacet.json#/$defs/TagsJobFacet"
)
_RUN_LOGGER = "lineage.run"  # the decorated jobs' own log (a name, not an import)
log = redacted_logger(__name__)


@dataclass(frozen=True)
class RunDrift:
    """What one run's outputs showed against their documented schemas."""

    run_id: str
    job_name: str
    findings: tuple[DriftFinding, ...] = ()
    compared: tuple[DatasetId, ...] = ()  # outputs that had a documented schema

    @property
    def breaking(self) -> list[DriftFinding]:
        return breaking_findings(self.findings)

    def summary(self) -> str:
        return drift_summary(self.findings)


def on_drift_facet(policy: str) -> dict[str, Any]:
    """The ``tags`` job facet carrying ``policy`` (``ignore`` or ``fail``)."""
    tag = {"key": ON_DRIFT_TAG, "value": policy, "source": "SILVERLINE"}
    return facet("tags", {"tags": [tag]}, TAGS_JOB_FACET_SCHEMA_URL)


def drift_policy(job: Mapping[str, Any] | None) -> str:
    """The ``on_drift`` policy an event's job declares (``warn`` when it says none or an
    unknown one: comparing is the default)."""
    facets = job.get("facets") if isinstance(job, Mapping) else None
    tags = facets.get("tags") if isinstance(facets, Mapping) else None
    entries = tags.get("tags") if isinstance(tags, Mapping) else None
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, Mapping) and entry.get("key") == ON_DRIFT_TAG:
            try:
                return parse_on_drift(entry.get("value"))
            except ConfigError:
                return "warn"
    return "warn"


def drift_logger(event: Mapping[str, Any]) -> logging.Logger:
    """Silverline's own jobs say it in the run's log; other producers' in this module's."""
    return redacted_logger(_RUN_LOGGER) if event.get("producer") == PRODUCER else log


def output_schemas(lineage: EventLineage) -> list[tuple[DatasetId, Schema]]:
    """The outputs of a run (as its events have said so far) that carry a schema."""
    found = []
    for dataset_id in lineage.outputs:
        described = lineage.datasets.get(dataset_id)
        if described is not None and described.schema is not None and described.schema.fields:
            found.append((dataset_id, described.schema))
    return found


def check_run_drift(
    catalog: Catalog,
    lineage: EventLineage,
    *,
    run_id: str,
    job_name: str,
    when: datetime | None = None,
    record: bool = True,
) -> RunDrift:
    """Compare a run's output schemas with the documented ones; record the findings.

    Only outputs with a documented schema are compared (recorded per dataset, so a
    dataset compared without drift resolves its earlier findings of this job).

    Raises:
        CatalogError: the catalog cannot be read or written.
    """
    moment = when or datetime.now(timezone.utc)
    observer = run_observer(job_name)
    pairs = []
    for dataset_id, schema in output_schemas(lineage):
        version = documented_version(catalog.schema_history(dataset_id))
        if version is None or _stale(catalog, dataset_id, observer, moment):
            continue
        pairs.append((documented_schema(dataset_id, version.schema.fields),
                      observed_schema(dataset_id, schema.fields)))  # fmt: skip
    changes: list[Change] = [c for base, seen in pairs for c in diff_schemas(base, seen)]
    findings: list[DriftFinding] = []
    if changes:
        # The graph (renames by identical inputs, and the impact) only when something
        # changed: most runs write what was documented (networkx loads here, not with the sink).
        graph = _graph_around(catalog, [base.id for base, _ in pairs])
        inputs_of = one_hop_inputs(graph)
        changes = [c for base, seen in pairs
                   for c in diff_schemas(base, seen, inputs_of=inputs_of)]  # fmt: skip
        findings = assess(changes, graph)
    if record:
        for base, _ in pairs:
            mine = [f for f in findings if f.dataset == base.id]
            catalog.record_drift(mine, baseline=run_baseline(base.id), observed_by=observer,
                                 run_id=run_id, observed_at=moment)  # fmt: skip
    return RunDrift(run_id, job_name, tuple(findings), tuple(base.id for base, _ in pairs))


def _graph_around(catalog: Catalog, roots: list[DatasetId]) -> LineageGraph:
    """What the comparison walks, not the whole catalog: everything downstream of the
    compared datasets (the impact) and one hop upstream (renames by identical inputs)."""
    from lineage.graph import LineageGraph

    found = catalog.lineage_slice(roots, upstream=True, downstream=True, upstream_depth=1)
    return LineageGraph.build(found.datasets, found.jobs, found.edges)


def _stale(catalog: Catalog, dataset: DatasetId, observer: str, when: datetime) -> bool:
    """Whether this scope already saw a later run (an old file ingested again)."""
    baseline = run_baseline(dataset)
    for stored in catalog.drift_findings(open_only=False, dataset=dataset):
        if stored.baseline != baseline or stored.observed_by != observer:
            continue
        latest = max(_aware(stored.last_seen_at), _aware(stored.resolved_at or stored.last_seen_at))
        if latest > _aware(when):
            return True
    return False


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


