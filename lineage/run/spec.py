"""What a job declares (``JobSpec``), resolved once into shared event parts.

A ``JobSpec`` is made once per decorated function (or ``run()`` call). On first use it is
resolved against the runtime: dataset names, schemas, the job's SQL (tables and column
lineage added) and the job facets become plain dicts shared by every event of the job
(``_Resolved``); nothing mutates them afterwards. A new runtime (``configure``) resolves
again.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from lineage.model import ColumnLineage, DatasetId, InputField, ScriptLineage
from lineage.run.datasets import NameDefaults, names_with, resolve_dataset
from lineage.run.wiring import Runtime

__all__ = [
    "JobSpec",
    "Resolved",
    "apply_sql",
    "compact_entry",
    "dataset_entry",
    "docstring_of",
    "parse_job_sql",
]

log = logging.getLogger("lineage.run")


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
    names: NameDefaults
    namespace: Any  # the spec's namespace= (text or a SQLAlchemy engine), for add_*()
    sql: tuple[str, ...]


class JobSpec:
    """What a job declares: name, datasets, SQL, owners, docs, source, retry policy."""

    def __init__(
        self,
        name: str,
        *,
        inputs: Sequence[Any] = (),
        outputs: Sequence[Any] = (),
        sql: str | None = None,
        owners: Sequence[str] = (),
        description: str | None = None,
        namespace: Any = None,
        job_namespace: str | None = None,
        source_file: str | None = None,
        source_line: int | None = None,
        stats: bool = True,
    ) -> None:
        self.name = name
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.sql = sql
        self.owners = tuple(owners)
        self.description = description
        self.namespace = namespace
        self.job_namespace = job_namespace
        self.source_file = source_file
        self.source_line = source_line
        self.stats = stats
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
        names = names_with(runtime.names, self.namespace)
        inputs: dict[DatasetId, dict[str, Any]] = {}
        outputs: dict[DatasetId, dict[str, Any]] = {}
        output_names: dict[str, DatasetId] = {}
        for declared, table in ((self.inputs, inputs), (self.outputs, outputs)):
            for obj in declared:
                try:
                    dataset, schema = resolve_dataset(obj, runtime.names, self.namespace)
                except Exception as exc:
                    log.warning("job %s: dataset %r left out: %s", self.name, obj, exc)
                    continue
                entry = table.setdefault(dataset, dataset_entry(dataset))
                if schema is not None and schema.fields:
                    entry["facets"]["schema"] = schema_facet(schema)
                if table is outputs and isinstance(obj, str):
                    output_names[obj] = dataset
        sql: tuple[str, ...] = ()
        if self.sql:
            script = parse_job_sql(self.sql, runtime, names, self.name)
            if script is not None:
                apply_sql(script, inputs, outputs)
                sql = (self.sql,)
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
        if self.owners:
            facets["ownership"] = ownership_facet(self.owners)
        if self.description:
            facets["documentation"] = documentation_facet(self.description)
        if sql:
            facets["sql"] = sql_facet(";\n".join(sql), runtime.dialect)
        return facets


def parse_job_sql(
    sql: str, runtime: Runtime, names: NameDefaults, job: str
) -> ScriptLineage | None:
    """The lineage of a job's SQL (the project's dialect and name defaults), or None."""
    from parsers.sql.parse import parse_sql

    try:
        script = parse_sql(
            sql,
            dialect=runtime.dialect,
            namespace=names.namespace,
            default_database=names.default_database,
            default_schema=names.default_schema,
        )
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
