"""The catalog's latest figures as Prometheus metrics, for Grafana and alerting.

``CatalogCollector`` reads the catalog on every ``collect()``, so a scrape of
``lineage metrics serve`` (``start_server``) always sees what was recorded last, and
``write_textfile`` writes the same figures atomically for node_exporter's textfile
collector. Every metric is a gauge named ``silverline_<what>_<unit>``::

    silverline_dataset_freshness_seconds{namespace,dataset}   now - newest last_loaded_at
    silverline_dataset_last_loaded_timestamp_seconds{namespace,dataset}
    silverline_dataset_rows{namespace,dataset}                newest row_count
    silverline_column_null_ratio{namespace,dataset,column}    newest profile's null_rate
    silverline_check_status{namespace,dataset,check,column,status}   1 = latest status
    silverline_job_last_run_success{job_name}                 1 COMPLETE, 0 FAIL / ABORT
    silverline_job_last_run_duration_seconds{job_name}
    silverline_job_last_run_rows{job_name}
    silverline_job_last_run_timestamp_seconds{job_name}
    silverline_drift_findings_open{severity}

``silverline_check_status`` is a state set: each check has one series per status, 1 for
its latest outcome and 0 for the others, so ``sum(silverline_check_status{status=~
"failed|error"})`` counts the failing checks and a status change never leaves a stale
series behind. Jobs are labelled ``job_name``, not ``job``: Prometheus sets ``job`` to
the scrape job and would rename ours to ``exported_job``. ``prometheus_client`` is imported
only inside the functions that need it, so importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, cast

from lineage.errors import PermanentConnectorError
from lineage.model import DatasetId
from lineage.views import CheckResult, CheckStatus, MetricPoint, RunRecord, RunState

if TYPE_CHECKING:
    from threading import Thread
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import CollectorRegistry

    from lineage.catalog import Catalog

__all__ = [
    "METRICS",
    "CatalogCollector",
    "Figures",
    "catalog_figures",
    "catalog_registry",
    "exposition_text",
    "start_server",
    "write_textfile",
]

_DATASET = ("namespace", "dataset")
_JOB = ("job_name",)

#: Every metric family the exporter produces: name -> (label names, help text).
METRICS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "silverline_dataset_freshness_seconds": (
        _DATASET, "Seconds since the newest load of the dataset (its last_loaded_at figure)."),
    "silverline_dataset_last_loaded_timestamp_seconds": (
        _DATASET, "Unix time of the newest load of the dataset (its last_loaded_at figure)."),
    "silverline_dataset_rows": (
        _DATASET, "Rows in the dataset at its newest row_count measurement."),
    "silverline_column_null_ratio": (
        (*_DATASET, "column"), "Fraction (0..1) of null values in the column, newest profile."),
    "silverline_check_status": (
        (*_DATASET, "check", "column", "status"),
        "1 for the latest status of each quality check, 0 for its other statuses."),
    "silverline_job_last_run_success": (
        _JOB, "1 if the job's last finished run completed, 0 if it failed or was aborted."),
    "silverline_job_last_run_duration_seconds": (
        _JOB, "Duration of the job's last finished run."),
    "silverline_job_last_run_rows": (
        _JOB, "Rows the job's last finished run wrote to its outputs."),
    "silverline_job_last_run_timestamp_seconds": (
        _JOB, "Unix time the job's last finished run ended."),
    "silverline_drift_findings_open": (
        ("severity",), "Schema drift findings neither resolved nor acknowledged."),
}  # fmt: skip

#: Per metric name: (label values, value) samples.
Figures = dict[str, list[tuple[tuple[str, ...], float]]]

_ENDED = (RunState.COMPLETE, RunState.FAIL, RunState.ABORT)
_SEVERITIES = ("breaking", "warning", "info")  # always exposed, so `> 0` alerts see a 0
_RECENT_RUNS = 1000  # one read finds the last run of every job active in this window
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CatalogCollector:
    """A ``prometheus_client`` collector over a catalog: every ``collect()`` reads it."""

    def __init__(self, catalog: Catalog, clock: Clock = _utc_now) -> None:
        self.catalog = catalog
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        """One gauge family per entry of ``METRICS`` (empty when nothing was measured)."""
        from prometheus_client.core import GaugeMetricFamily

        figures = catalog_figures(self.catalog, self.clock())
        for name, (labels, text) in METRICS.items():
            family = GaugeMetricFamily(name, text, labels=list(labels))
            for values, value in figures.get(name, []):
                family.add_metric(list(values), value)
            yield family


def catalog_registry(catalog: Catalog, clock: Clock = _utc_now) -> CollectorRegistry:
    """A registry holding only a ``CatalogCollector`` (none of the process's own metrics)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.registry import Collector

    # auto_describe=False: registering must not read the catalog (the first scrape does).
    registry = CollectorRegistry(auto_describe=False)
    # The collector is duck-typed (subclassing Collector would import prometheus_client).
    registry.register(cast(Collector, CatalogCollector(catalog, clock)))
    return registry


def exposition_text(catalog: Catalog, clock: Clock = _utc_now) -> str:
    """The catalog's figures in the Prometheus text format (version 0.0.4)."""
    from prometheus_client import generate_latest

    return generate_latest(catalog_registry(catalog, clock)).decode("utf-8")


def write_textfile(catalog: Catalog, path: Path, clock: Clock = _utc_now) -> None:
    """Write the figures to ``path`` atomically (for node_exporter's textfile collector,
    whose folder reads ``*.prom`` files); missing parent folders are created.

    Raises:
        PermanentConnectorError: the file cannot be written.
    """
    from prometheus_client import write_to_textfile

    registry = catalog_registry(catalog, clock)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), registry)
    except OSError as exc:
        raise PermanentConnectorError(
            f"cannot write the metrics file: {exc.strerror or exc}", obj=str(path)
        ) from exc


def start_server(
    catalog: Catalog, port: int, host: str = "127.0.0.1", clock: Clock = _utc_now
) -> tuple[WSGIServer, Thread]:
    """Serve ``/metrics`` on ``host:port`` (0 picks a free port: ``server.server_port``)
    from a daemon thread; call ``server.shutdown()`` to stop.

    Raises:
        PermanentConnectorError: the address cannot be bound (in use, not local, denied).
    """
    from prometheus_client import start_http_server

    try:
        return start_http_server(port, addr=host, registry=catalog_registry(catalog, clock))
    except OSError as exc:
        raise PermanentConnectorError(
            f"cannot serve metrics: {exc.strerror or exc}", obj=f"{host}:{port}"
        ) from exc


def catalog_figures(catalog: Catalog, now: datetime) -> Figures:
    """The samples of every metric in ``METRICS``, read from ``catalog`` at ``now``.

    Reads: the datasets, each dataset's metric points (one query each: the catalog has no
    bulk "latest point per dataset" read), every check result, the recent finished runs
    and their outcomes, and the open drift findings.
    """
    figures: Figures = {name: [] for name in METRICS}
    for dataset in catalog.datasets():
        _dataset_figures(figures, dataset.id, catalog.metrics(dataset.id), now)
    _check_figures(figures, catalog.check_results())
    runs = _last_runs(catalog)
    outcomes = catalog.run_outcomes(runs) if runs else {}
    for run in runs:
        _run_figures(figures, run, outcomes.get(run.run_id, (None, []))[0])
    counts = dict.fromkeys(_SEVERITIES, 0)
    for finding in catalog.drift_findings(open_only=True):
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    figures["silverline_drift_findings_open"] = [((s,), float(n)) for s, n in counts.items()]
    return figures


def _dataset_figures(
    figures: Figures, dataset: DatasetId, points: Sequence[MetricPoint], now: datetime
) -> None:
    labels = (dataset.namespace, dataset.name)
    loaded = _newest(points, "last_loaded_at")
    if loaded:
        # Several load-time columns measured together: the dataset is as fresh as the newest.
        epoch = max(p.value for p in loaded)
        figures["silverline_dataset_last_loaded_timestamp_seconds"].append((labels, epoch))
        figures["silverline_dataset_freshness_seconds"].append((labels, now.timestamp() - epoch))
    rows = [p for p in _newest(points, "row_count") if p.column is None]
    if rows:
        figures["silverline_dataset_rows"].append((labels, rows[-1].value))
    # Only the newest profile's columns: a dropped column must not keep its last figure.
    for point in _newest(points, "null_rate"):
        if point.column is not None:
            figures["silverline_column_null_ratio"].append(((*labels, point.column), point.value))


def _newest(points: Sequence[MetricPoint], name: str) -> list[MetricPoint]:
    """The points named ``name`` taken at the newest time any was (points are oldest first)."""
    named = [p for p in points if p.name == name]
    if not named:
        return []
    moment = max(p.observed_at for p in named)
    return [p for p in named if p.observed_at == moment]


def _check_figures(figures: Figures, results: Sequence[CheckResult]) -> None:
    latest: dict[tuple[str, str, str, str], CheckStatus] = {}
    for result in results:  # oldest first: the last one seen is the latest
        key = (result.dataset.namespace, result.dataset.name, result.check, result.column or "")
        latest[key] = result.status
    samples = figures["silverline_check_status"]
    for key, status in sorted(latest.items()):
        samples.extend(((*key, s.value), float(s is status)) for s in CheckStatus)


def _last_runs(catalog: Catalog) -> list[RunRecord]:
    """The last finished run of each job, sorted by job name."""
    recent = catalog.runs(None, _RECENT_RUNS, states=_ENDED)
    last: dict[str, RunRecord] = {}
    for run in recent:  # newest first
        last.setdefault(run.job_name, run)
    if len(recent) == _RECENT_RUNS:
        # The window may hide a job that last ran long ago: ask for each one not seen.
        for job in catalog.jobs():
            if job.name not in last:
                found = catalog.runs(job.name, 1, states=_ENDED)
                if found:
                    last[job.name] = found[0]
    return [last[name] for name in sorted(last)]


def _run_figures(figures: Figures, run: RunRecord, rows: float | None) -> None:
    labels = (run.job_name,)
    success = 1.0 if run.state is RunState.COMPLETE else 0.0
    figures["silverline_job_last_run_success"].append((labels, success))
    if run.ended_at is not None:
        figures["silverline_job_last_run_timestamp_seconds"].append(
            (labels, run.ended_at.timestamp())
        )
        if run.started_at is not None:
            duration = (run.ended_at - run.started_at).total_seconds()
            figures["silverline_job_last_run_duration_seconds"].append((labels, duration))
    if rows is not None:
        figures["silverline_job_last_run_rows"].append((labels, rows))
