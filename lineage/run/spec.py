"""What a job declares (``JobOptions``, ``JobSpec``), resolved once into shared event parts.

``@job(...)`` and ``run(...)`` check their arguments once into ``JobOptions``; a
``JobSpec`` (the options and where the job's code is) is made once per decorated
function (or ``run()`` call). On first use it is
resolved against the runtime: dataset names, schemas, the job's SQL (tables and column
lineage added) and the job facets become plain dicts shared by every event of the job
(``_Resolved``); nothing mutates them afterwards. A new runtime (``configure``) resolves
again.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from connectors.openlineage.facets import (
    column_lineage_facet,
    documentation_facet,
    job_type_facet,
    ownership_facet,
    schema_facet,
    source_code_location_facet,
    sql_facet,
)
from lineage.errors import ConfigError
from lineage.model import (
    ColumnLineage,
    DatasetId,
    InputField,
    ScriptLineage,
    SqlContext,
    redacted_logger,
)
from lineage.run.datasets import names_with, resolve_dataset
from lineage.run.wiring import Runtime

__all__ = [
    "JobOptions",
    "JobSpec",
    "Resolved",
    "RetryOn",
    "apply_sql",
    "compact_entry",
    "dataset_entry",
    "docstring_of",
    "parse_job_sql",
]

log = redacted_logger("lineage.run")

RetryOn = type[BaseException] | tuple[type[BaseException], ...]


@dataclass(frozen=True)
class JobOptions:
    """What ``@job(...)`` and ``run(...)`` declare (see ``job`` for each argument).

    Checked once when built: sequences become tuples; a negative ``retries`` or
    ``retry_delay``, or an ``on_drift`` other than warn / fail / ignore, is a
    ``ConfigError``.
    """

    name: str | None = None
    inputs: Sequence[Any] = ()
    outputs: Sequence[Any] = ()
    sql: str | None = None
    owners: Sequence[str] = ()
    description: str | None = None
    namespace: Any = None
    job_namespace: str | None = None
    retries: int = 0
    retry_delay: float = 0.0
    retry_on: RetryOn = Exception
    sleep: Callable[[float], Any] | None = None
    stats: bool = True
    on_drift: str = "warn"

    def __post_init__(self) -> None:
        # Frozen, so copies of the caller's lists: appending to them later changes nothing.
        for key in ("inputs", "outputs", "owners"):
            object.__setattr__(self, key, tuple(getattr(self, key)))
        if self.on_drift != "warn":
            from lineage.drift.runtime import parse_on_drift  # only off the default

            object.__setattr__(self, "on_drift", parse_on_drift(self.on_drift))
        if not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"retries must be a whole number >= 0, got {self.retries!r}")
        if self.retry_delay < 0:
            raise ConfigError(f"retry_delay must be >= 0 seconds, got {self.retry_delay!r}")

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def retry_wanted(self, attempt: int, error: BaseException) -> bool:
        """Whether attempt ``attempt`` (from 0), failed with ``error``, is worth another."""
        return attempt < self.retries and isinstance(error, self.retry_on)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt``: doubled each time."""
        return float(self.retry_delay * 2**attempt)

    def for_function(self, func: Any) -> JobOptions:
        """These options for ``func``: name ``module.qualname`` and its docstring as the
        description, unless given."""
        default_name = ".".join(
            part
            for part in (
                getattr(func, "__module__", None),
                getattr(func, "__qualname__", None) or type(func).__name__,
            )
            if part
        )
        return replace(
            self,
            name=self.name or default_name,
            description=self.description or docstring_of(func),
        )


@dataclass
class Resolved:
    """A spec resolved against one runtime: shared, never mutated after it is built."""

    generation: int
    job: dict[str, Any]
    inputs: dict[DatasetId, dict[str, Any]]
    outputs: dict[DatasetId, dict[str, Any]]
    input_list: list[dict[str, Any]]
    output_list: list[dict[str, Any]]
    output_names: dict[str, DatasetId]
    names: SqlContext  # the runtime's, in the spec's namespace=
    namespace: Any  # the spec's namespace= (text or a SQLAlchemy engine), for add_*()
    sql: tuple[str, ...]
    on_drift: str = "warn"  # the job's run-time drift policy (lineage.run.drift)


class JobSpec:
    """A job's options and where its code is; resolved once per runtime."""

    def __init__(
        self,
        options: JobOptions,
        *,
        source_file: str | None = None,
        source_line: int | None = None,
    ) -> None:
        self.options = options
        self.name: str = options.name or ""
        self.namespace = options.namespace
        self.job_namespace = options.job_namespace
        self.source_file = source_file
        self.source_line = source_line
        self._resolved: Resolved | None = None
        self._lock = threading.Lock()

    def resolved(self, runtime: Runtime) -> Resolved:
        found = self._resolved
        if found is not None and found.generation == runtime.generation:
            return found
        with self._lock:
            found = self._resolved
            if found is None or found.generation != runtime.generation:
                found = self._resolved = self._resolve(runtime)
            return found

    def _resolve(self, runtime: Runtime) -> Resolved:
        names = names_with(runtime.sql, self.namespace)
        inputs: dict[DatasetId, dict[str, Any]] = {}
        outputs: dict[DatasetId, dict[str, Any]] = {}
        output_names: dict[str, DatasetId] = {}
        for declared, table in ((self.options.inputs, inputs), (self.options.outputs, outputs)):
            for obj in declared:
                try:
                    dataset, schema = resolve_dataset(obj, runtime.sql, self.namespace)
                except Exception as exc:
                    log.warning("job %s: dataset %r left out: %s", self.name, obj, exc)
                    continue
                entry = table.setdefault(dataset, dataset_entry(dataset))
                if schema is not None and schema.fields:
                    entry["facets"]["schema"] = schema_facet(schema)
                if table is outputs and isinstance(obj, str):
                    output_names[obj] = dataset
        sql: tuple[str, ...] = ()
        if self.options.sql:
            script = parse_job_sql(self.options.sql, names, self.name)
            if script is not None:
                apply_sql(script, inputs, outputs)
                sql = (self.options.sql,)
        for dataset in outputs:
            output_names.setdefault(dataset.name, dataset)
        job = {
            "namespace": self.job_namespace or runtime.job_namespace,
            "name": self.name,
            "facets": self._job_facets(runtime, sql),
        }
        return Resolved(
            generation=runtime.generation,
            job=job,
            inputs=inputs,
            outputs=outputs,
            input_list=[compact_entry(e) for e in inputs.values()],
            output_list=[compact_entry(e) for e in outputs.values()],
            output_names=output_names,
            names=names,
            namespace=self.namespace,
            sql=sql,
            on_drift=self.options.on_drift,
        )

    def _job_facets(self, runtime: Runtime, sql: Sequence[str]) -> dict[str, Any]:
        facets: dict[str, Any] = {"jobType": job_type_facet()}
        if self.source_file:
            path = str(Path(self.source_file).resolve())
            try:
                relative: str | None = Path(path).relative_to(runtime.root.resolve()).as_posix()
            except ValueError:
                relative = None
            facets["sourceCodeLocation"] = source_code_location_facet(
                path, self.source_line, relative
            )
        if self.options.owners:
            facets["ownership"] = ownership_facet(self.options.owners)
        if self.options.description:
            facets["documentation"] = documentation_facet(self.options.description)
        if sql:
            facets["sql"] = sql_facet(";\n".join(sql), runtime.sql.dialect)
        if self.options.on_drift != "warn":
            # The policy travels with the events, so whoever records them honours it.
            from connectors.openlineage.drift import on_drift_facet

            facets["tags"] = on_drift_facet(self.options.on_drift)
        return facets


def parse_job_sql(sql: str, context: SqlContext, job: str) -> ScriptLineage | None:
    """The lineage of a job's SQL in ``context`` (the project's, in the job's namespace),
    or None when it cannot be read."""
    from parsers.sql.parse import parse_sql

    try:
        script = parse_sql(sql, context=context)
    except Exception as exc:
        log.warning("job %s: its SQL was not analysed: %s", job, exc)
        return None
    for issue in script.errors:
        log.warning("job %s: SQL statement not analysed: %s", job, issue)
    return script


def apply_sql(
    script: ScriptLineage,
    inputs: dict[DatasetId, dict[str, Any]],
    outputs: dict[DatasetId, dict[str, Any]],
) -> None:
    """Add a script's inputs, outputs, column lineage and output schemas (in place; the
    entries touched must be the caller's own)."""
    lineages: dict[DatasetId, ColumnLineage] = {}
    for statement in script.statements:
        if not statement.ok or statement.temporary:
            continue  # temporary tables are resolved into the statements that read them
        for dataset in statement.inputs:
            inputs.setdefault(dataset, dataset_entry(dataset))
        for dataset in statement.outputs:
            outputs.setdefault(dataset, dataset_entry(dataset))
        for lineage in statement.column_lineage:
            if lineage.output is not None:
                known = lineages.get(lineage.output)
                lineages[lineage.output] = lineage if known is None else _merged(known, lineage)
        for dataset, schema in statement.output_schemas:
            entry = outputs.setdefault(dataset, dataset_entry(dataset))
            if schema.fields and "schema" not in entry["facets"]:
                entry["facets"]["schema"] = schema_facet(schema)
    for dataset, lineage in lineages.items():
        outputs[dataset]["facets"]["columnLineage"] = column_lineage_facet(lineage)


def _merged(first: ColumnLineage, second: ColumnLineage) -> ColumnLineage:
    """Two statements writing one table: every column keeps the inputs of both."""
    fields: dict[str, list[InputField]] = {name: list(inputs) for name, inputs in first.fields}
    for name, inputs in second.fields:
        known = fields.setdefault(name, [])
        known.extend(i for i in inputs if i not in known)
    dataset = list(first.dataset)
    dataset.extend(i for i in second.dataset if i not in dataset)
    return ColumnLineage(
        first.output,
        tuple((name, tuple(inputs)) for name, inputs in fields.items()),
        tuple(dataset),
    )


def dataset_entry(dataset: DatasetId) -> dict[str, Any]:
    """A dataset of an event, facets still empty."""
    return {"namespace": dataset.namespace, "name": dataset.name, "facets": {}}


def compact_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry without empty facet maps (events stay small and read like the spec)."""
    return {k: v for k, v in entry.items() if not (isinstance(v, dict) and not v)}


def docstring_of(func: Any) -> str | None:
    """A function's cleaned docstring, or None."""
    doc = getattr(func, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else None
