"""dbt run artifacts into the catalog: the composition of ``parsers.dbt.artifacts`` (files
-> runs, metric points, check results) and the catalog's ``record_*`` calls.

``lineage ingest target/run_results.json`` (or ``sources.json``, or the ``target/`` folder)
calls ``ingest_dbt_artifacts``. Each run is recorded as its START (at the first timing step)
and its outcome (at the last); the catalog folds both into one run, keyed by a run id
derived from the invocation and the node, so ingesting the same file twice changes nothing:
runs fold into the same rows, and metric points and check results are stored once (the
report counts only the new ones).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lineage.catalog import Catalog
from lineage.model import DatasetId, ParseIssue
from lineage.views import RunState
from parsers.dbt.artifacts import DbtArtifacts, artifact_kind, read_artifact

__all__ = ["DbtIngestReport", "dbt_artifacts_in", "ingest_dbt_artifacts"]


@dataclass
class DbtIngestReport:
    """What ``ingest_dbt_artifacts`` read and what it added."""

    files: int = 0
    runs: set[str] = field(default_factory=set)  # run ids in the files (new or not)
    jobs: set[tuple[str, str]] = field(default_factory=set)  # (namespace, name)
    datasets: set[DatasetId] = field(default_factory=set)
    metrics: int = 0  # new metric points
    checks: int = 0  # new check results
    issues: list[ParseIssue] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "runs": len(self.runs),
            "jobs": len(self.jobs),
            "datasets": len(self.datasets),
            "metrics": self.metrics,
            "checks": self.checks,
            "issues": [issue.to_dict() for issue in self.issues],
        }


def dbt_artifacts_in(path: Path) -> list[Path]:
    """The dbt artifacts ``path`` names: itself when it is one, the ``run_results.json`` and
    ``sources.json`` of a dbt ``target/`` folder (one holding ``manifest.json``), else none."""
    if path.is_file():
        return [path] if artifact_kind(path) else []
    if path.is_dir() and (path / "manifest.json").is_file():
        return [p for p in (path / "run_results.json", path / "sources.json")
                if artifact_kind(p)]
    return []


def ingest_dbt_artifacts(
    paths: Iterable[Path], catalog: Catalog, *, namespace: str | None = None
) -> DbtIngestReport:
    """Record the runs, row counts, test results and source freshness of dbt artifacts.

    Args:
        paths: ``run_results.json`` / ``sources.json`` files (``manifest.json`` beside each).
        catalog: where to record them.
        namespace: the datasets' namespace; give the one ``lineage scan`` of the project
            used (lineage.yml's ``namespace``) so runs join the scanned models; default:
            the adapter's dialect, the scan's own default.
    """
    report = DbtIngestReport()
    for path in paths:
        found = read_artifact(path, namespace=namespace)
        report.files += 1
        report.issues.extend(found.issues)
        _record(found, catalog, report)
    return report


def _record(found: DbtArtifacts, catalog: Catalog, report: DbtIngestReport) -> None:
    for run in found.runs:
        facets = dict(run.facets)
        if run.started_at is not None:
            catalog.record_run(run.run_id, run.job_name, RunState.START, run.started_at, facets,
                               job_namespace=found.namespace)  # fmt: skip
        if run.ended_at is not None:
            catalog.record_run(run.run_id, run.job_name, run.state, run.ended_at, facets,
                               job_namespace=found.namespace)  # fmt: skip
        report.runs.add(run.run_id)
        report.jobs.add((found.namespace, run.job_name))
    report.datasets.update(found.outputs.values())
    for point in found.metrics:
        report.datasets.add(point.dataset)
        if catalog.record_metric(point.dataset, point.name, point.value, point.observed_at,
                                 run_id=point.run_id, column=point.column):
            report.metrics += 1
    for check in found.checks:
        report.datasets.add(check.dataset)
        if catalog.record_check_result(check.dataset, check.check, check.native_status,
                                       check.observed_at, column=check.column,
                                       run_id=check.run_id, details=dict(check.details)):
            report.checks += 1
