"""One run of a job (``Run``) and its OpenLineage events.

A call to a decorated function builds only what changes per run: a run id, two event
times, the parent. Events are plain dicts sharing the parts its ``JobSpec`` resolved once
(``lineage.run.spec``); a ``Run`` copies a dataset entry only when the job adds something
to it (copy-on-write), so the shared parts are never mutated.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from connectors.openlineage.facets import (
    PRODUCER,
    RUN_EVENT_SCHEMA_URL,
    data_quality_assertions_facet,
    data_quality_metrics_facet,
    error_message_facet,
    metrics_facet,
    output_statistics_facet,
    parent_facet,
    schema_facet,
    sql_facet,
    tags_run_facet,
)
from lineage.model import DatasetId, ScriptLineage, SqlContext, redacted_logger
from lineage.run.datasets import (
    FrameFacts,
    finite,
    frame_facts,
    is_frame,
    resolve_dataset,
)
from lineage.run.spec import Resolved, apply_sql, compact_entry, dataset_entry, parse_job_sql
from lineage.run.wiring import Runtime

__all__ = ["Run", "RunRef", "new_run_id"]

log = redacted_logger("lineage.run")

# add_metric names that map onto OpenLineage's dataQualityMetrics facet (integers there).
_COLUMN_METRICS = {
    "null_count": "nullCount",
    "nullcount": "nullCount",
    "distinct_count": "distinctCount",
    "distinctcount": "distinctCount",
    "sum": "sum",
    "count": "count",
    "min": "min",
    "max": "max",
}
_INTEGER_METRICS = {"nullCount", "distinctCount", "rowCount"}


@dataclass(frozen=True)
class RunRef:
    """A run as OpenLineage's parent and root facets name it: namespace/job/runId."""

    namespace: str
    name: str
    run_id: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}/{self.run_id}"

    @property
    def parts(self) -> tuple[str, str, str]:
        return (self.namespace, self.name, self.run_id)

    @classmethod
    def parse(cls, text: str | None) -> RunRef | None:
        """``namespace/job/runId`` (as Airflow passes ``OPENLINEAGE_PARENT_ID``), or None.

        The job part may itself hold ``/``; the namespace is the first part, the run id
        the last.
        """
        if not text:
            return None
        parts = text.strip().split("/")
        if len(parts) < 3 or not parts[0] or not parts[-1]:
            return None
        name = "/".join(parts[1:-1])
        return cls(parts[0], name, parts[-1]) if name else None


def new_run_id() -> str:
    """A UUIDv7 (time-ordered, as OpenLineage recommends for run ids).

    The random bits come from ``random`` (reseeded in forked children), not ``os.urandom``:
    a run id must be unique, not secret, and the system call costs tens of microseconds
    on some kernels, on the hot path of every decorated call.
    """
    value = (time.time_ns() // 1_000_000) << 80
    value |= random.getrandbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Run:
    """One run of a job; ``current_run()`` inside the job returns it.

    ``add_input`` / ``add_output`` / ``add_metric`` / ``add_sql`` add to the COMPLETE (or
    FAIL) event; ``child_env`` and ``spark_conf`` hand this run to child processes and Spark
    as their parent. Never raises over lineage: a dataset it cannot name is logged and left
    out.
    """

    def __init__(
        self,
        resolved: Resolved,
        runtime: Runtime | None,
        parent: RunRef | None,
        root: RunRef | None,
        *,
        attempt: int = 0,
        attempts: int = 1,
        stats: bool = True,
    ) -> None:
        self.run_id = new_run_id()
        self.job_name: str = resolved.job["name"]
        self.job_namespace: str = resolved.job["namespace"]
        self.parent = parent
        self.root = root
        self.attempt = attempt
        self._resolved = resolved
        self._runtime = runtime
        self._stats = stats
        self._lock = threading.Lock()
        self._inputs: dict[DatasetId, dict[str, Any]] | None = None
        self._outputs: dict[DatasetId, dict[str, Any]] | None = None
        self._owned: set[int] = set()
        self._quality: dict[DatasetId, dict[str, Any]] = {}
        self._assertions: dict[DatasetId, list[dict[str, Any]]] = {}
        self._metrics: list[dict[str, Any]] = []
        self._sql: list[str] = []
        facets: dict[str, Any] = {}
        if runtime is not None:
            facets["processing_engine"] = runtime.engine_facet
        if parent is not None:
            facets["parent"] = parent_facet(parent.parts, (root or parent).parts)
        if attempts > 1:
            facets["tags"] = tags_run_facet(
                {"attempt": str(attempt + 1), "max_attempts": str(attempts)}
            )
        self._run_facets = facets

    def __repr__(self) -> str:
        return f"Run({self.job_namespace}/{self.job_name}, run_id={self.run_id})"

    @classmethod
    def detached(cls, name: str, job_namespace: str) -> Run:
        """A run that records nothing (what ``run()`` returns if lineage itself failed)."""
        resolved = Resolved(
            generation=-1,
            job={"namespace": job_namespace, "name": name, "facets": {}},
            inputs={},
            outputs={},
            input_list=[],
            output_list=[],
            output_names={},
            names=SqlContext(),
            namespace=None,
            sql=(),
        )
        return cls(resolved, None, None, None)

    @property
    def on_drift(self) -> str:
        """The job's run-time drift policy: ``warn``, ``fail`` or ``ignore``."""
        return self._resolved.on_drift

    @property
    def ref(self) -> RunRef:
        """This run as a parent: ``namespace/job/runId``."""
        return RunRef(self.job_namespace, self.job_name, self.run_id)

    # -- what the job adds ---------------------------------------------------------------

    def add_input(
        self, dataset: Any, *, name: str | None = None, namespace: Any = None
    ) -> DatasetId | None:
        """Record a dataset read: a name, ``DatasetId``, SQLAlchemy table, DuckDB relation,
        or a data frame with ``name=`` (its schema is recorded). Returns its id."""
        return self._add(dataset, name, namespace, output=False)

    def add_output(
        self, dataset: Any, *, name: str | None = None, namespace: Any = None
    ) -> DatasetId | None:
        """Record a dataset written. A data frame (pandas, polars, pyarrow, DuckDB) adds
        its schema, row count (``outputStatistics``) and null counts
        (``dataQualityMetrics``); without ``name=`` it describes the job's only output."""
        return self._add(dataset, name, namespace, output=True)

    def add_metric(
        self, name: str, value: float, dataset: Any = None, *, column: str | None = None
    ) -> None:
        """Record a number: ``row_count``, ``null_count`` (with ``column``), ``distinct_count``,
        ``min``, ``max``, ``sum``, ``count`` of a dataset go into its ``dataQualityMetrics``
        facet; anything else (and run-level numbers) into the ``silverline_metrics`` facet."""
        number = finite(value)
        if number is None:
            log.warning("job %s: metric %s=%r is not a finite number", self.job_name, name, value)
            return
        target = self._dataset_of(dataset, None) if dataset is not None else None
        with self._lock:
            inputs, outputs = self._tables()
            # Standard metrics of the job's own datasets go into their dataQualityMetrics.
            if (
                target is not None
                and (target in inputs or target in outputs)
                and self._quality_metric(target, name, number, column)
            ):
                return
            metric: dict[str, Any] = {"name": name, "value": number}
            if target is not None:
                metric["namespace"] = target.namespace
                metric["dataset"] = target.name
            if column is not None:
                metric["column"] = column
            self._metrics.append(metric)

    def add_assertion(
        self,
        dataset: Any,
        assertion: str,
        success: bool,
        *,
        column: str | None = None,
        severity: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        """Record a quality test of a dataset the run read (``not_null``, ``freshness``...):
        it goes into that input's ``dataQualityAssertions`` facet (the dataset is added as
        an input when the run did not name it)."""
        target = self._dataset_of(dataset, None)
        if target is None:
            return
        entry: dict[str, Any] = {"assertion": assertion, "success": bool(success)}
        for key, value in (("column", column), ("severity", severity),
                           ("expected", expected), ("actual", actual)):
            if value is not None:
                entry[key] = value
        with self._lock:
            self._assertions.setdefault(target, []).append(entry)
            inputs, _ = self._tables()
            if target not in inputs:
                inputs[target] = dataset_entry(target)
                self._owned.add(id(inputs[target]))

    def add_sql(self, sql: str) -> ScriptLineage | None:
        """Record SQL this run executed: its inputs, outputs and column lineage (parsed in
        the project's dialect) and the ``sql`` job facet. Returns the parsed lineage."""
        runtime = self._runtime
        if runtime is None:
            return None
        script = parse_job_sql(sql, self._resolved.names, self.job_name)
        if script is None:
            return None
        with self._lock:
            inputs, outputs = self._tables()
            scratch_in: dict[DatasetId, dict[str, Any]] = {}
            scratch_out: dict[DatasetId, dict[str, Any]] = {}
            apply_sql(script, scratch_in, scratch_out)
            for dataset, entry in scratch_in.items():
                if dataset not in inputs:
                    inputs[dataset] = entry
                    self._owned.add(id(entry))
            for dataset, entry in scratch_out.items():
                target = self._own(outputs, dataset)
                for key, facet in entry["facets"].items():
                    if key == "schema" and "schema" in target["facets"]:
                        continue
                    target["facets"][key] = facet
            self._sql.append(sql)
        return script

    def child_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for a child process (dbt-ol, a script using openlineage-python
        or another Silverline job) to record this run as its parent.

        ``base`` (default ``os.environ``) plus ``OPENLINEAGE_PARENT_ID`` /
        ``OPENLINEAGE_ROOT_PARENT_ID`` (``namespace/job/runId``, as Airflow passes them)
        and ``OPENLINEAGE_NAMESPACE``. With no OpenLineage configuration of its own, the
        child's client is pointed at a JSON-lines file in ``.lineage/events/external/``
        (load it with ``lineage ingest``) instead of printing to the console.
        """
        env = dict(os.environ if base is None else base)
        env["OPENLINEAGE_PARENT_ID"] = str(self.ref)
        env["OPENLINEAGE_ROOT_PARENT_ID"] = str(self.root or self.ref)
        env["OPENLINEAGE_NAMESPACE"] = self.job_namespace
        runtime = self._runtime
        if runtime is not None and runtime.events_dir is not None:
            from connectors.openlineage.sinks import openlineage_configured

            if not openlineage_configured(env):
                day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
                folder = runtime.config.layout.external_events
                folder.mkdir(parents=True, exist_ok=True)
                env["OPENLINEAGE__TRANSPORT__TYPE"] = "file"
                env["OPENLINEAGE__TRANSPORT__LOG_FILE_PATH"] = str(folder / f"{day}.jsonl")
                env["OPENLINEAGE__TRANSPORT__APPEND"] = "true"
        return env

    def spark_conf(self) -> dict[str, str]:
        """``spark.openlineage.*`` settings making a Spark application's runs children of
        this run (pass to ``SparkSession.builder.config`` or ``spark-submit --conf``)."""
        root = self.root or self.ref
        return {
            "spark.openlineage.parentJobNamespace": self.job_namespace,
            "spark.openlineage.parentJobName": self.job_name,
            "spark.openlineage.parentRunId": self.run_id,
            "spark.openlineage.rootParentJobNamespace": root.namespace,
            "spark.openlineage.rootParentJobName": root.name,
            "spark.openlineage.rootParentRunId": root.run_id,
        }

    # -- internals -----------------------------------------------------------------------

    def _add(self, obj: Any, name: str | None, namespace: Any, *, output: bool) -> DatasetId | None:
        frame = is_frame(obj)
        dataset = self._dataset_of(
            obj if not frame or name is None else name,
            namespace,
            frame=frame,
            name=name,
            output=output,
        )
        if dataset is None:
            return None
        facts = None
        if frame:
            facts = (
                frame_facts(obj, counts=self._stats) if output else frame_facts(obj, counts=False)
            )
        with self._lock:
            inputs, outputs = self._tables()
            entry = self._own(outputs if output else inputs, dataset)
            if facts is not None:
                self._apply_facts(dataset, entry, facts, output=output)
        return dataset

    def _dataset_of(
        self,
        obj: Any,
        namespace: Any,
        *,
        frame: bool = False,
        name: str | None = None,
        output: bool = False,
    ) -> DatasetId | None:
        if frame and name is None:
            alias = (
                getattr(obj, "alias", None)
                if type(obj).__module__.startswith(("duckdb", "_duckdb"))
                else None
            )
            if isinstance(alias, str) and not alias.startswith("unnamed_relation"):
                obj = alias
            elif output and len(self._resolved.outputs) == 1:
                return next(iter(self._resolved.outputs))
            else:
                log.warning(
                    "job %s: a %s needs name= (the job has %d declared outputs)",
                    self.job_name,
                    type(obj).__name__,
                    len(self._resolved.outputs),
                )
                return None
        resolved = self._resolved
        names = self._runtime.sql if self._runtime is not None else resolved.names
        try:
            dataset, _ = resolve_dataset(
                obj, names, namespace if namespace is not None else resolved.namespace
            )
        except Exception as exc:
            log.warning("job %s: dataset %r left out: %s", self.job_name, obj, exc)
            return None
        return dataset

    def _tables(self) -> tuple[dict[DatasetId, dict[str, Any]], dict[DatasetId, dict[str, Any]]]:
        if self._inputs is None:
            self._inputs = dict(self._resolved.inputs)
        if self._outputs is None:
            self._outputs = dict(self._resolved.outputs)
        return self._inputs, self._outputs

    def _own(self, table: dict[DatasetId, dict[str, Any]], dataset: DatasetId) -> dict[str, Any]:
        """The run's own copy of ``dataset``'s entry in ``table`` (copy-on-write)."""
        entry = table.get(dataset)
        if entry is not None and id(entry) in self._owned:
            return entry
        if entry is None:
            entry = dataset_entry(dataset)
        else:
            entry = {
                **entry,
                "facets": dict(entry.get("facets") or {}),
                **{
                    key: dict(entry[key])
                    for key in ("inputFacets", "outputFacets")
                    if isinstance(entry.get(key), dict)
                },
            }
        table[dataset] = entry
        self._owned.add(id(entry))
        return entry

    def _apply_facts(
        self, dataset: DatasetId, entry: dict[str, Any], facts: FrameFacts, *, output: bool
    ) -> None:
        if facts.schema is not None and facts.schema.fields:
            entry["facets"]["schema"] = schema_facet(facts.schema)
        if not output or not self._stats:
            return
        if facts.row_count is not None:
            entry.setdefault("outputFacets", {})["outputStatistics"] = output_statistics_facet(
                facts.row_count
            )
        if facts.null_counts is not None:
            quality = self._quality.setdefault(dataset, {"rowCount": None, "columnMetrics": {}})
            quality["rowCount"] = facts.row_count
            for column, count in facts.null_counts.items():
                quality["columnMetrics"].setdefault(column, {})["nullCount"] = int(count)

    def _quality_metric(
        self, dataset: DatasetId, name: str, value: float, column: str | None
    ) -> bool:
        key = name.strip().lower()
        if column is None and key in ("row_count", "rowcount"):
            metric = "rowCount"
        elif column is not None and key in _COLUMN_METRICS:
            metric = _COLUMN_METRICS[key]
        else:
            return False
        if metric in _INTEGER_METRICS and not value.is_integer():
            return False
        number: float | int = int(value) if metric in _INTEGER_METRICS else value
        quality = self._quality.setdefault(dataset, {"rowCount": None, "columnMetrics": {}})
        if column is None:
            quality["rowCount"] = number
        else:
            quality["columnMetrics"].setdefault(column, {})[metric] = number
        return True

    # -- events --------------------------------------------------------------------------

    def start_event(self) -> dict[str, Any]:
        resolved = self._resolved
        return self._event(
            "START", resolved.input_list, resolved.output_list, self._run_facets, resolved.job
        )

    def end_event(self, state: str, error: BaseException | None = None) -> dict[str, Any]:
        with self._lock:
            resolved = self._resolved
            if self._inputs is None and self._outputs is None and not self._quality:
                inputs, outputs = resolved.input_list, resolved.output_list
            else:
                inputs, outputs = self._final_datasets()
            facets = self._run_facets
            if error is not None or self._metrics:
                facets = dict(facets)
                if error is not None:
                    facets["errorMessage"] = error_message_facet(error)
                if self._metrics:
                    facets["silverline_metrics"] = metrics_facet(list(self._metrics))
            job = resolved.job
            if self._sql:
                runtime = self._runtime
                job = {
                    **job,
                    "facets": {
                        **job["facets"],
                        "sql": sql_facet(
                            ";\n".join((*resolved.sql, *self._sql)),
                            runtime.sql.dialect if runtime is not None else None,
                        ),
                    },
                }
            return self._event(state, inputs, outputs, facets, job)

    def _final_datasets(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        inputs, outputs = self._tables()
        for dataset, quality in self._quality.items():
            is_output = dataset in outputs
            if not is_output and dataset not in inputs:
                continue
            entry = self._own(outputs if is_output else inputs, dataset)
            facet = data_quality_metrics_facet(
                quality["rowCount"], quality["columnMetrics"], input_facet=not is_output
            )
            if is_output:
                entry["facets"]["dataQualityMetrics"] = facet
            else:
                entry.setdefault("inputFacets", {})["dataQualityMetrics"] = facet
        for dataset, assertions in self._assertions.items():
            entry = self._own(inputs, dataset)
            entry.setdefault("inputFacets", {})["dataQualityAssertions"] = (
                data_quality_assertions_facet(assertions)
            )
        return [compact_entry(e) for e in inputs.values()], [
            compact_entry(e) for e in outputs.values()
        ]

    def _event(
        self,
        state: str,
        inputs: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        run_facets: dict[str, Any],
        job: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "eventType": state,
            "eventTime": _now(),
            "producer": PRODUCER,
            "schemaURL": RUN_EVENT_SCHEMA_URL,
            "run": {"runId": self.run_id, "facets": run_facets},
            "job": job,
            "inputs": inputs,
            "outputs": outputs,
        }

    def observe_result(self, result: Any) -> None:
        """A returned data frame describes the job's only output; a returned mapping of
        output name to frame describes each."""
        outputs = self._resolved.outputs
        if result is None or not outputs:
            return
        if is_frame(result):
            if len(outputs) == 1:
                self._add_to(next(iter(outputs)), result)
            return
        if isinstance(result, Mapping) and len(result) <= 64:
            for key, value in result.items():
                if isinstance(key, str) and is_frame(value):
                    dataset = self._resolved.output_names.get(key)
                    if dataset is not None:
                        self._add_to(dataset, value)

    def _add_to(self, dataset: DatasetId, frame: Any) -> None:
        facts = frame_facts(frame, counts=self._stats)
        if facts is None:
            return
        with self._lock:
            _, outputs = self._tables()
            self._apply_facts(dataset, self._own(outputs, dataset), facts, output=True)
