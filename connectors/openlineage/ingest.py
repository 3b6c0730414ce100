"""Loading OpenLineage events into the catalog: the recorder and ``ingest_events``.

Any producer's events load the same way: Airflow's, Spark's, dbt-ol's and our own
decorated jobs'. ``ingest_events`` reads JSON lines (or a JSON array, or one pretty-printed
event per file as the client's ``file`` transport writes them) and records into the catalog:

- the run (``Catalog.record_run``: START/COMPLETE/FAIL/ABORT, small run facets);
- the job, its inputs and outputs, the column edges of each output's ``columnLineage``
  facet and every dataset's ``schema`` (``Catalog.write`` with ``observed_by="openlineage"``);
- metrics: ``outputStatistics``, ``dataQualityMetrics`` and Silverline's own
  ``silverline_metrics`` facet (``Catalog.record_metric``) and ``dataQualityAssertions``
  (``Catalog.record_check_result``), once per run; the catalog's unique keys keep a point
  once when a file is ingested twice or by concurrent processes;
- run-time drift: a COMPLETE event's output schemas against the documented ones, findings
  recorded with its run id and one line logged (``connectors.openlineage.drift``).

OpenLineage events of one run are accumulative (a Spark START may name one input, a later
RUNNING another), so ``EventRecorder`` merges what each run has said so far before writing
its job. Events become model objects in ``connectors.openlineage.batch``; their metrics and
check results are read in ``connectors.openlineage.metrics``. A line that is not an event
is reported with its file and line, and the rest of the file still loads::

    with Catalog() as catalog:
        report = ingest_events("airflow-events.jsonl", catalog)
        for issue in report.issues:
            print(issue)            # airflow-events.jsonl:17: not JSON: Expecting value ...
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.openlineage.batch import EventLineage, event_to_batch, merge_dataset
from connectors.openlineage.drift import check_run_drift, drift_logger, drift_policy
from connectors.openlineage.metrics import event_assertions, event_metrics
from connectors.openlineage.read import EventLine, event_problem, event_time, read_events
from lineage.catalog.store import Catalog
from lineage.contracts import dbt_test_checks
from lineage.drift import DriftSeverity
from lineage.errors import ConnectorError, InputError, PermanentConnectorError
from lineage.model import Dataset, DatasetId, DataTest, LineageBatch, ParseIssue

__all__ = [
    "EventLine",
    "EventRecorder",
    "IngestReport",
    "event_time",
    "event_to_batch",
    "ingest_events",
    "read_events",
]

_MAX_FACET_BYTES = 64 * 1024  # Spark's logical plan facet can be megabytes: not kept per run
_RUN_CACHE = 4096  # runs whose lineage is merged in memory (OpenLineage is accumulative)
# dbt-ol's producer URL (…/tree/<version>/integration/dbt): its assertions are dbt tests
_DBT_PRODUCER = "/integration/dbt"


@dataclass
class IngestReport:
    """What ``ingest_events`` read and recorded."""

    events: int = 0
    runs: set[str] = field(default_factory=set)
    jobs: set[tuple[str, str]] = field(default_factory=set)
    datasets: set[DatasetId] = field(default_factory=set)
    metrics: int = 0
    issues: list[ParseIssue] = field(default_factory=list)
    drift_findings: int = 0  # run-time drift findings recorded (or seen again)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "runs": len(self.runs),
            "jobs": len(self.jobs),
            "datasets": len(self.datasets),
            "metrics": self.metrics,
            # Only when some run's outputs drifted: the summary of a plain ingest is as before.
            **({"drift_findings": self.drift_findings} if self.drift_findings else {}),
            "issues": [issue.to_dict() for issue in self.issues],
        }


# -- recording into the catalog ------------------------------------------------------------


class EventRecorder:
    """Records events into a catalog, merging what each run has said so far.

    Used by ``ingest_events`` and by the catalog sink of decorated jobs; not thread-safe
    (each user keeps its own).
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._runs: OrderedDict[str, EventLineage] = OrderedDict()
        self._written: dict[tuple[str, str], LineageBatch] = {}
        self._points_seen: set[tuple[Any, ...]] = set()

    def record(self, event: Mapping[str, Any], report: IngestReport | None = None) -> None:
        """Record one event (already checked by ``read_events`` or built by us).

        Raises:
            PermanentConnectorError: the event is malformed.
            CatalogError: the catalog cannot be written.
        """
        problem = event_problem(event)
        if problem is not None:
            raise PermanentConnectorError(problem)
        try:
            self._record(event, report)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            message = f"malformed event: {type(exc).__name__}: {exc}"
            raise PermanentConnectorError(message) from exc
        except RecursionError as exc:  # a dict event can nest deeper than any JSON line
            raise PermanentConnectorError("malformed event: nested too deeply") from exc

    def _record(self, event: Mapping[str, Any], report: IngestReport | None) -> None:
        when = event_time(event)
        run = event.get("run")
        if isinstance(run, Mapping):
            lineage = self._runs.get(run["runId"])
            if lineage is None:
                lineage = self._runs[run["runId"]] = EventLineage(None)
                if len(self._runs) > _RUN_CACHE:
                    self._runs.popitem(last=False)
            else:
                self._runs.move_to_end(run["runId"])
            lineage.add(event)
        else:
            lineage = EventLineage.of(event)
        batch = lineage.batch()
        if batch.jobs and event.get("eventType") != "COMPLETE":
            # A run in progress (or failed) may have named only part of its lineage so far:
            # add to what the job is known to do, never take away. A COMPLETE event's
            # accumulated lineage is the job's lineage as of that run.
            batch = self._with_job_history(batch)
        self._write(batch, when)
        if isinstance(run, Mapping):
            namespace = event["job"].get("namespace")
            self.catalog.record_run(
                run["runId"],
                event["job"]["name"],
                event.get("eventType") or "OTHER",
                when,
                _small_facets(run.get("facets")),
                job_namespace=namespace if isinstance(namespace, str) else None,
            )
            if event.get("eventType") == "COMPLETE":
                self._check_drift(event, lineage, run["runId"], when, report)
        metrics = self._record_metrics(event, when)
        self._record_assertions(event, when)
        if report is not None:
            report.events += 1
            if isinstance(run, Mapping):
                report.runs.add(run["runId"])
            if lineage.job is not None:
                report.jobs.add((lineage.job["namespace"], lineage.job["name"]))
            report.datasets.update(lineage.inputs, lineage.outputs, lineage.datasets)
            report.metrics += metrics

    def _write(self, batch: LineageBatch, when: datetime) -> None:
        key = (batch.jobs[0].namespace, batch.jobs[0].name) if batch.jobs else ("", "")
        if not batch.jobs and not batch.datasets:
            return
        if batch.jobs and self._written.get(key) == batch:
            return  # a job's events repeat its lineage: START and COMPLETE of every run
        datasets = tuple(self._with_known(d) for d in batch.datasets)
        self.catalog.write(replace(batch, datasets=datasets), observed_at=when)
        if batch.jobs:
            self._written[key] = batch

    def _check_drift(
        self,
        event: Mapping[str, Any],
        lineage: EventLineage,
        run_id: str,
        when: datetime,
        report: IngestReport | None,
    ) -> None:
        """Run-time drift of a completed run's outputs (``connectors.openlineage.drift``);
        jobs declared ``on_drift="ignore"`` are not compared, ``"fail"`` ones compared
        themselves before this event was sent."""
        job = lineage.job
        if job is None or drift_policy(job) != "warn":
            return
        name = str(job["name"])
        logger = drift_logger(event)
        try:
            found = check_run_drift(self.catalog, lineage, run_id=run_id, job_name=name,
                                    when=when)  # fmt: skip
        except Exception as exc:  # a side analysis never costs the event its recording
            logger.warning("job %s: schema drift not checked: %s", name, exc)
            return
        if found.findings:
            serious = any(f.severity.at_least(DriftSeverity.WARNING) for f in found.findings)
            logger.log(logging.WARNING if serious else logging.INFO, "job %s: %s", name,
                       found.summary())  # fmt: skip
        if report is not None:
            report.drift_findings += len(found.findings)

    def _with_job_history(self, batch: LineageBatch) -> LineageBatch:
        job = batch.jobs[0]
        known = self._written.get((job.namespace, job.name))
        if known is not None:
            known_job, known_edges = known.jobs[0], known.edges
        else:
            stored = self.catalog.job(job.namespace, job.name)
            if stored is None:
                return batch
            known_job = stored
            known_edges = tuple(self.catalog.edges_of_job(job.name))
        merged_job = replace(
            job,
            inputs=tuple(dict.fromkeys((*known_job.inputs, *job.inputs))),
            outputs=tuple(dict.fromkeys((*known_job.outputs, *job.outputs))),
        )
        edges = {(e.source, e.target, e.target_field): e for e in known_edges}
        edges.update({(e.source, e.target, e.target_field): e for e in batch.edges})
        merged_edges = tuple(replace(e, job=job.name) for e in edges.values())
        return replace(batch, jobs=(merged_job,), edges=merged_edges)

    def _with_known(self, dataset: Dataset) -> Dataset:
        """``dataset`` completed with the catalog's metadata, so a partial event erases none."""
        known = self.catalog.dataset(dataset.id)
        if known is None:
            return dataset
        merged = merge_dataset(replace(known, schema=None), dataset)
        return merged

    def _record_metrics(self, event: Mapping[str, Any], when: datetime) -> int:
        run = event.get("run")
        run_id = run.get("runId") if isinstance(run, Mapping) else None
        count = 0
        for dataset, name, value, column in event_metrics(event):
            if self._seen(("metric", dataset, name, column, run_id)):
                continue
            # The catalog's unique key keeps a re-ingested (or concurrently ingested)
            # point once: no read of the dataset's history, which grows with every run.
            count += self.catalog.record_metric(
                dataset, name, value, when, run_id=run_id, column=column
            )
        return count

    def _record_assertions(self, event: Mapping[str, Any], when: datetime) -> None:
        """``dataQualityAssertions`` (dbt tests, Great Expectations) become check results;
        dbt-ol's are named as ``lineage check`` names the same test (``_dbt_checks``)."""
        run = event.get("run")
        run_id = run.get("runId") if isinstance(run, Mapping) else None
        from_dbt = _DBT_PRODUCER in str(event.get("producer") or "")
        tests: dict[DatasetId, tuple[DataTest, ...]] = {}
        for dataset, assertion, given, status in event_assertions(event):
            checks = [(assertion, given)]
            if from_dbt:
                if dataset not in tests:
                    scanned = self.catalog.dataset(dataset)
                    tests[dataset] = scanned.tests if scanned is not None else ()
                checks = _dbt_checks(tests[dataset], assertion, given) or checks
            for check, column in checks:
                if self._seen(("check", dataset, check, column, run_id)):
                    continue
                self.catalog.record_check_result(
                    dataset, check, status, when, column=column, run_id=run_id
                )

    def _seen(self, key: tuple[Any, ...]) -> bool:
        """Whether this run's events named this metric or check before (kept once per run:
        a run's RUNNING and COMPLETE events may both carry it)."""
        if key[-1] is None:
            return False  # no run: every event's point is its own
        if key in self._points_seen:
            return True
        if len(self._points_seen) > 100_000:  # a long-lived sink: keep memory bounded
            self._points_seen.clear()
        self._points_seen.add(key)
        return False


def _dbt_checks(
    tests: Sequence[DataTest], assertion: str, column: str | None
) -> list[tuple[str, str | None]]:
    """The (check, column) names of a dbt-ol assertion, as ``lineage check`` and the
    run_results ingest name the same test: ``not_null`` on ``customer_id`` is
    ``not_null(customer_id)``; one ``accepted_range`` outcome is ``min(c)`` and ``max(c)``.

    dbt-ol names a test by its bare macro name (no package, no arguments), so the test is
    found among the dataset's scanned dbt tests by that name and its column; empty (the
    name kept as given) when the scan does not know it, when it is not a check of ours
    (``relationships``, custom tests), or when two scanned tests would name it apart.
    """
    wanted = column.lower() if column else None
    named: set[tuple[tuple[str, str | None], ...]] = set()
    for test in tests:
        if test.name.rpartition(".")[2] != assertion or test.column != wanted:
            continue
        named.add(tuple(dbt_test_checks(test)))
    return list(named.pop()) if len(named) == 1 else []


def _small_facets(facets: Any) -> dict[str, Any]:
    """Run facets worth keeping with the run: all but the huge ones (Spark's plans)."""
    if not isinstance(facets, Mapping):
        return {}
    kept: dict[str, Any] = {}
    for name, value in facets.items():
        try:
            size = len(json.dumps(value, default=str))
        except (TypeError, ValueError, RecursionError):
            continue  # not storable as JSON: like a huge facet, not kept
        if size <= _MAX_FACET_BYTES:
            kept[str(name)] = value
    return kept


def ingest_events(source: str | os.PathLike[str] | Iterable[Any], catalog: Catalog) -> IngestReport:
    """Load OpenLineage events from any producer into ``catalog``.

    Args:
        source: a file or folder path, or an iterable of JSON lines, dicts or ``Path``s
            (see ``read_events``).
        catalog: the catalog to record into.

    Returns:
        An ``IngestReport``; its ``issues`` hold every line that was not loaded, with its
        file and line number (the rest of the input is still loaded).

    Raises:
        InputError: ``source`` is a path that does not exist.
    """
    if isinstance(source, str | os.PathLike) and not Path(source).exists():
        raise InputError("no such file or folder", file=str(source))
    recorder = EventRecorder(catalog)
    report = IngestReport()
    for item in read_events(source):
        if item.issue is not None:
            report.issues.append(item.issue)
            continue
        assert item.event is not None
        try:
            recorder.record(item.event, report)
        except ConnectorError as exc:
            report.issues.append(ParseIssue(exc.message, line=item.line, file=item.file))
    return report
