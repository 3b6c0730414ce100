"""OpenLineage events <-> Silverline's model, and loading them into the catalog.

Any producer's events load the same way: Airflow's, Spark's, dbt-ol's and our own
decorated jobs'. ``ingest_events`` reads JSON lines (or a JSON array, or one pretty-printed
event per file as the client's ``file`` transport writes them) and records into the catalog:

- the run (``Catalog.record_run``: START/COMPLETE/FAIL/ABORT, small run facets);
- the job, its inputs and outputs, the column edges of each output's ``columnLineage``
  facet and every dataset's ``schema`` (``Catalog.write`` with ``observed_by="openlineage"``);
- metrics: ``outputStatistics``, ``dataQualityMetrics`` and Silverline's own
  ``silverline_metrics`` facet (``Catalog.record_metric``), once per run even when a file
  is ingested twice.

OpenLineage events of one run are accumulative (a Spark START may name one input, a later
RUNNING another), so ``EventRecorder`` merges what each run has said so far before writing
its job. A line that is not an event is reported with its file and line, and the rest of
the file still loads::

    with Catalog() as catalog:
        report = ingest_events("airflow-events.jsonl", catalog)
        for issue in report.issues:
            print(issue)            # airflow-events.jsonl:17: not JSON: Expecting value ...
"""

from __future__ import annotations

import json
import math
import os
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.openlineage.read import (
    EventLine,
    event_problem,
    event_time,
    is_named,
    read_events,
)
from lineage.catalog.store import Catalog
from lineage.errors import ConnectorError, InputError, PermanentConnectorError
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    Field,
    Job,
    LineageBatch,
    ParseIssue,
    Schema,
    Transformation,
    TransformationSubtype,
    TransformationType,
)

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
_OBJECT_STORES = ("s3://", "s3a://", "gs://", "gcs://", "abfss://", "wasbs://", "hdfs://")
_DATASET_TYPES = {
    "TABLE": DatasetKind.TABLE,
    "VIEW": DatasetKind.VIEW,
    "MATERIALIZED_VIEW": DatasetKind.MATERIALIZED_VIEW,
    "FILE": DatasetKind.LOCATION,
    "PATH": DatasetKind.LOCATION,
}


@dataclass
class IngestReport:
    """What ``ingest_events`` read and recorded."""

    events: int = 0
    runs: set[str] = field(default_factory=set)
    jobs: set[tuple[str, str]] = field(default_factory=set)
    datasets: set[DatasetId] = field(default_factory=set)
    metrics: int = 0
    issues: list[ParseIssue] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "runs": len(self.runs),
            "jobs": len(self.jobs),
            "datasets": len(self.datasets),
            "metrics": self.metrics,
            "issues": [issue.to_dict() for issue in self.issues],
        }


# -- event -> model ------------------------------------------------------------------------


def event_to_batch(event: Mapping[str, Any]) -> LineageBatch:
    """The catalog batch one event describes: its job, datasets and column edges."""
    return _Lineage.of(event).batch()


@dataclass
class _Lineage:
    """What one run (or a job / dataset event) says about jobs, datasets and edges."""

    job: Mapping[str, Any] | None
    inputs: dict[DatasetId, None] = field(default_factory=dict)
    outputs: dict[DatasetId, None] = field(default_factory=dict)
    datasets: dict[DatasetId, Dataset] = field(default_factory=dict)
    edges: dict[tuple[ColumnId, DatasetId, str | None], ColumnEdge] = field(default_factory=dict)

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> _Lineage:
        found = cls(None)
        found.add(event)
        return found

    def add(self, event: Mapping[str, Any]) -> None:
        if is_named(event.get("job")):
            self.job = _merge_job_facets(self.job, event["job"])
        job_name = self.job["name"] if self.job else None
        if is_named(event.get("dataset")):
            self._add_dataset(event["dataset"])
        for entry in _entries(event.get("inputs")):
            self.inputs[self._add_dataset(entry)] = None
        for entry in _entries(event.get("outputs")):
            output = self._add_dataset(entry)
            self.outputs[output] = None
            lineage = (entry.get("facets") or {}).get("columnLineage")
            if isinstance(lineage, Mapping):
                for edge in _column_edges(output, lineage, job_name):
                    self.edges[(edge.source, edge.target, edge.target_field)] = edge

    def _add_dataset(self, entry: Mapping[str, Any]) -> DatasetId:
        dataset_id = DatasetId(entry["namespace"], entry["name"])
        described = _dataset(dataset_id, entry.get("facets") or {})
        if described is not None:
            known = self.datasets.get(dataset_id)
            self.datasets[dataset_id] = described if known is None else _merge(known, described)
        return dataset_id

    def batch(self) -> LineageBatch:
        jobs: tuple[Job, ...] = ()
        if self.job is not None:
            jobs = (_job(self.job, tuple(self.inputs), tuple(self.outputs)),)
        edges = tuple(self.edges.values()) if jobs else ()
        return LineageBatch(
            datasets=tuple(self.datasets.values()),
            jobs=jobs,
            edges=edges,
            observed_by="openlineage",
        )


def _entries(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [entry for entry in value if is_named(entry)]


def _merge_job_facets(known: Mapping[str, Any] | None, job: Mapping[str, Any]) -> Mapping[str, Any]:
    if known is None:
        return job
    facets = {**(known.get("facets") or {}), **(job.get("facets") or {})}
    return {**job, "facets": facets}


def _dataset(dataset_id: DatasetId, facets: Mapping[str, Any]) -> Dataset | None:
    """A ``Dataset`` when the facets describe it (schema, docs, owners, type), else None.

    Datasets only named by an event are left to the catalog (created as ``unknown`` when
    new), so an event never blanks out what a scan or a contract already recorded.
    """
    schema = _schema(facets.get("schema"))
    documentation = facets.get("documentation")
    description = documentation.get("description") if isinstance(documentation, Mapping) else None
    ownership = facets.get("ownership")
    owners: tuple[str, ...] = ()
    if isinstance(ownership, Mapping) and isinstance(ownership.get("owners"), list):
        owners = tuple(
            str(o["name"]) for o in ownership["owners"] if isinstance(o, Mapping) and "name" in o
        )
    kind = _kind(dataset_id, facets.get("datasetType"))
    if schema is None and description is None and not owners and kind is DatasetKind.UNKNOWN:
        return None
    return Dataset(
        dataset_id,
        kind=kind,
        schema=schema,
        description=str(description) if description is not None else None,
        owners=owners,
    )


def _kind(dataset_id: DatasetId, dataset_type: Any) -> DatasetKind:
    if isinstance(dataset_type, Mapping):
        found = _DATASET_TYPES.get(str(dataset_type.get("datasetType", "")).upper())
        if found is not None:
            return found
    if dataset_id.namespace == "file" or dataset_id.namespace.startswith(_OBJECT_STORES):
        return DatasetKind.LOCATION
    return DatasetKind.UNKNOWN


def _schema(value: Any) -> Schema | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("fields"), list):
        return None
    return Schema(tuple(_fields(value["fields"], "")))


def _fields(entries: list[Any], prefix: str) -> Iterator[Field]:
    """Schema fields; nested struct fields are flattened as ``parent.child``."""
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        name = prefix + entry["name"]
        kind = entry.get("type")
        description = entry.get("description")
        yield Field(
            name,
            str(kind) if kind is not None else None,
            str(description) if description is not None else None,
        )
        if isinstance(entry.get("fields"), list):
            yield from _fields(entry["fields"], name + ".")


def _merge(known: Dataset, new: Dataset) -> Dataset:
    """``new`` completed with what ``known`` has and ``new`` lacks."""
    return replace(
        known,
        kind=new.kind if new.kind is not DatasetKind.UNKNOWN else known.kind,
        schema=new.schema if new.schema is not None else known.schema,
        description=new.description if new.description is not None else known.description,
        owners=new.owners or known.owners,
    )


def _column_edges(
    output: DatasetId, facet: Mapping[str, Any], job: str | None
) -> Iterator[ColumnEdge]:
    fields = facet.get("fields")
    if isinstance(fields, Mapping):
        for column, spec in fields.items():
            if not isinstance(spec, Mapping):
                continue
            for source in _entries(spec.get("inputFields")):
                if not isinstance(source.get("field"), str):
                    continue
                found = _transformations(source.get("transformations"))
                if not found:
                    # Column lineage 1-0/1-1 has no per-input transformations; a field listed
                    # there is by definition derived from its inputs (DIRECT), how is unknown
                    # unless the old field-level transformationType says IDENTITY.
                    legacy = str(spec.get("transformationType") or "").upper()
                    subtype = (
                        TransformationSubtype.IDENTITY
                        if legacy == "IDENTITY"
                        else TransformationSubtype.TRANSFORMATION
                    )
                    found = (Transformation.direct(subtype),)
                yield ColumnEdge(
                    ColumnId(DatasetId(source["namespace"], source["name"]), source["field"]),
                    output,
                    str(column),
                    found,
                    job,
                )
    for source in _entries(facet.get("dataset")):
        if isinstance(source.get("field"), str):
            yield ColumnEdge(
                ColumnId(DatasetId(source["namespace"], source["name"]), source["field"]),
                output,
                None,
                _transformations(source.get("transformations")),
                job,
            )


def _transformations(value: Any) -> tuple[Transformation, ...]:
    if not isinstance(value, list):
        return ()
    found: list[Transformation] = []
    for entry in value:
        if not isinstance(entry, Mapping):
            continue
        try:
            kind = TransformationType(str(entry.get("type", "")).upper())
            subtype = TransformationSubtype(str(entry.get("subtype", "")).upper())
        except ValueError:
            continue  # an unknown kind is left out, not guessed
        found.append(Transformation(kind, subtype, bool(entry.get("masking", False))))
    return tuple(found)


def _job(
    job: Mapping[str, Any], inputs: tuple[DatasetId, ...], outputs: tuple[DatasetId, ...]
) -> Job:
    facets = job.get("facets") or {}
    job_type = facets.get("jobType")
    integration = job_type.get("integration") if isinstance(job_type, Mapping) else None
    kind = "openlineage"
    if isinstance(integration, str) and integration:
        kind = "python" if integration.upper() == "SILVERLINE" else integration.lower()
    sql = facets.get("sql")
    documentation = facets.get("documentation")
    ownership = facets.get("ownership")
    owners: tuple[str, ...] = ()
    if isinstance(ownership, Mapping) and isinstance(ownership.get("owners"), list):
        owners = tuple(
            str(o["name"]) for o in ownership["owners"] if isinstance(o, Mapping) and "name" in o
        )
    return Job(
        namespace=job["namespace"],
        name=job["name"],
        kind=kind,
        sql=str(sql["query"]) if isinstance(sql, Mapping) and "query" in sql else None,
        source_file=_source_file(facets.get("sourceCodeLocation")),
        owners=owners,
        description=(
            str(documentation["description"])
            if isinstance(documentation, Mapping) and "description" in documentation
            else None
        ),
        inputs=inputs,
        outputs=outputs,
    )


def _source_file(location: Any) -> str | None:
    if not isinstance(location, Mapping):
        return None
    path = location.get("path")
    if isinstance(path, str) and path:
        return path
    url = location.get("url")
    if isinstance(url, str) and url:
        return url.removeprefix("file://").split("#", 1)[0]
    return None


# -- recording into the catalog ------------------------------------------------------------


class EventRecorder:
    """Records events into a catalog, merging what each run has said so far.

    Used by ``ingest_events`` and by the catalog sink of decorated jobs; not thread-safe
    (each user keeps its own).
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._runs: OrderedDict[str, _Lineage] = OrderedDict()
        self._written: dict[tuple[str, str], LineageBatch] = {}
        self._metrics_seen: set[tuple[Any, ...]] = set()

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

    def _record(self, event: Mapping[str, Any], report: IngestReport | None) -> None:
        when = event_time(event)
        run = event.get("run")
        if isinstance(run, Mapping):
            lineage = self._runs.get(run["runId"])
            if lineage is None:
                lineage = self._runs[run["runId"]] = _Lineage(None)
                if len(self._runs) > _RUN_CACHE:
                    self._runs.popitem(last=False)
            else:
                self._runs.move_to_end(run["runId"])
            lineage.add(event)
        else:
            lineage = _Lineage.of(event)
        batch = lineage.batch()
        if batch.jobs and event.get("eventType") != "COMPLETE":
            # A run in progress (or failed) may have named only part of its lineage so far:
            # add to what the job is known to do, never take away. A COMPLETE event's
            # accumulated lineage is the job's lineage as of that run.
            batch = self._with_job_history(batch)
        self._write(batch, when)
        if isinstance(run, Mapping):
            self.catalog.record_run(
                run["runId"],
                event["job"]["name"],
                event.get("eventType") or "OTHER",
                when,
                _small_facets(run.get("facets")),
            )
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
        merged = _merge(replace(known, schema=None), dataset)
        return merged

    def _record_metrics(self, event: Mapping[str, Any], when: datetime) -> int:
        run = event.get("run")
        run_id = run.get("runId") if isinstance(run, Mapping) else None
        count = 0
        for dataset, name, value, column in _metrics(event):
            if self._seen_metric(dataset, name, column, run_id, when):
                continue
            self.catalog.record_metric(dataset, name, value, when, run_id=run_id, column=column)
            count += 1
        return count

    def _record_assertions(self, event: Mapping[str, Any], when: datetime) -> None:
        """``dataQualityAssertions`` (dbt tests, Great Expectations) become check results."""
        run = event.get("run")
        run_id = run.get("runId") if isinstance(run, Mapping) else None
        for dataset, check, column, status in _assertions(event):
            if run_id is not None and any(
                r.run_id == run_id and r.check == check and r.column == column
                for r in self.catalog.check_results(dataset)
            ):
                continue  # already recorded (the file was ingested before)
            self.catalog.record_check_result(
                dataset, check, status, when, column=column, run_id=run_id
            )

    def _seen_metric(
        self, dataset: DatasetId, name: str, column: str | None, run_id: Any, when: datetime
    ) -> bool:
        if run_id is None:
            return False
        key = (dataset, name, column, run_id)
        if key in self._metrics_seen:
            return True
        if len(self._metrics_seen) > 100_000:  # a long-lived sink: keep memory bounded
            self._metrics_seen.clear()
        self._metrics_seen.add(key)
        # Metrics are appended, not merged: ingesting a file twice must not count twice.
        return any(
            m.run_id == run_id and m.column == column for m in self.catalog.metrics(dataset, name)
        )


_METRIC_NAMES = {
    "rowCount": "row_count",
    "bytes": "size_bytes",
    "fileCount": "file_count",
    "nullCount": "null_count",
    "distinctCount": "distinct_count",
    "sum": "sum",
    "count": "count",
    "min": "min",
    "max": "max",
}


def _metrics(event: Mapping[str, Any]) -> Iterator[tuple[DatasetId, str, float, str | None]]:
    """``(dataset, name, value, column)`` of every metric the event carries."""
    for direction in ("inputs", "outputs"):
        for entry in _entries(event.get(direction)):
            dataset = DatasetId(entry["namespace"], entry["name"])
            extra = entry.get("outputFacets" if direction == "outputs" else "inputFacets") or {}
            statistics = extra.get("outputStatistics")
            if isinstance(statistics, Mapping):
                for key, name in (("rowCount", "row_count"), ("size", "size_bytes")):
                    if _number(statistics.get(key)):
                        yield dataset, name, float(statistics[key]), None
            for quality in (
                (entry.get("facets") or {}).get("dataQualityMetrics"),
                extra.get("dataQualityMetrics"),
            ):
                if isinstance(quality, Mapping):
                    yield from _quality_metrics(dataset, quality)
    run = event.get("run")
    facets = run.get("facets") if isinstance(run, Mapping) else None
    custom = facets.get("silverline_metrics") if isinstance(facets, Mapping) else None
    if isinstance(custom, Mapping) and isinstance(custom.get("metrics"), list):
        for metric in custom["metrics"]:
            if (
                isinstance(metric, Mapping)
                and isinstance(metric.get("dataset"), str)
                and _number(metric.get("value"))
            ):
                dataset = DatasetId(str(metric.get("namespace", "")), metric["dataset"])
                column = metric.get("column")
                yield (
                    dataset,
                    str(metric["name"]),
                    float(metric["value"]),
                    (str(column) if column is not None else None),
                )


def _assertions(event: Mapping[str, Any]) -> Iterator[tuple[DatasetId, str, str | None, str]]:
    for entry in _entries(event.get("inputs")) + _entries(event.get("outputs")):
        dataset = DatasetId(entry["namespace"], entry["name"])
        for group in (entry.get("inputFacets"), entry.get("facets")):
            facet = group.get("dataQualityAssertions") if isinstance(group, Mapping) else None
            if not isinstance(facet, Mapping) or not isinstance(facet.get("assertions"), list):
                continue
            for assertion in facet["assertions"]:
                if isinstance(assertion, Mapping) and isinstance(assertion.get("assertion"), str):
                    column = assertion.get("column")
                    yield (
                        dataset,
                        assertion["assertion"],
                        str(column) if column is not None else None,
                        "pass" if assertion.get("success") else "fail",
                    )


def _quality_metrics(
    dataset: DatasetId, facet: Mapping[str, Any]
) -> Iterator[tuple[DatasetId, str, float, str | None]]:
    for key in ("rowCount", "bytes", "fileCount"):
        if _number(facet.get(key)):
            yield dataset, _METRIC_NAMES[key], float(facet[key]), None
    columns = facet.get("columnMetrics")
    if isinstance(columns, Mapping):
        for column, values in columns.items():
            if not isinstance(values, Mapping):
                continue
            for key, value in values.items():
                name = _METRIC_NAMES.get(key)
                if name is not None and _number(value):
                    yield dataset, name, float(value), str(column)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _small_facets(facets: Any) -> dict[str, Any]:
    """Run facets worth keeping with the run: all but the huge ones (Spark's plans)."""
    if not isinstance(facets, Mapping):
        return {}
    kept: dict[str, Any] = {}
    for name, value in facets.items():
        try:
            size = len(json.dumps(value, default=str))
        except (TypeError, ValueError):
            continue
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
