"""OpenLineage events -> Silverline's model: the job, datasets, schemas and column edges.

``event_to_batch`` reads what one event says; ``EventLineage`` accumulates what the events
of one run have said so far (OpenLineage is accumulative: a Spark START may name one input,
a later RUNNING another) and makes the ``LineageBatch`` the catalog records. Facets are
read as producers write them: ``schema`` (nested fields flattened as ``parent.child``),
``documentation``, ``ownership``, ``datasetType``, ``columnLineage`` (per-input
transformations, or the older field-level ``transformationType``), and the job's
``jobType``, ``sql``, ``documentation``, ``ownership`` and ``sourceCodeLocation``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.openlineage.read import is_named
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    Field,
    Job,
    LineageBatch,
    Schema,
    Transformation,
    TransformationSubtype,
    TransformationType,
)

__all__ = ["EventLineage", "event_to_batch", "merge_dataset", "named_entries"]

_OBJECT_STORES = ("s3://", "s3a://", "gs://", "gcs://", "abfss://", "wasbs://", "hdfs://")
_DATASET_TYPES = {
    "TABLE": DatasetKind.TABLE,
    "VIEW": DatasetKind.VIEW,
    "MATERIALIZED_VIEW": DatasetKind.MATERIALIZED_VIEW,
    "FILE": DatasetKind.LOCATION,
    "PATH": DatasetKind.LOCATION,
}


def event_to_batch(event: Mapping[str, Any]) -> LineageBatch:
    """The catalog batch one event describes: its job, datasets and column edges."""
    return EventLineage.of(event).batch()


@dataclass
class EventLineage:
    """What one run (or a job / dataset event) says about jobs, datasets and edges."""

    job: Mapping[str, Any] | None
    inputs: dict[DatasetId, None] = field(default_factory=dict)
    outputs: dict[DatasetId, None] = field(default_factory=dict)
    datasets: dict[DatasetId, Dataset] = field(default_factory=dict)
    edges: dict[tuple[ColumnId, DatasetId, str | None], ColumnEdge] = field(default_factory=dict)

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> EventLineage:
        found = cls(None)
        found.add(event)
        return found

    def add(self, event: Mapping[str, Any]) -> None:
        if is_named(event.get("job")):
            self.job = _merge_job_facets(self.job, event["job"])
        job_name = self.job["name"] if self.job else None
        if is_named(event.get("dataset")):
            self._add_dataset(event["dataset"])
        for entry in named_entries(event.get("inputs")):
            self.inputs[self._add_dataset(entry)] = None
        for entry in named_entries(event.get("outputs")):
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
            self.datasets[dataset_id] = (
                described if known is None else merge_dataset(known, described)
            )
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


def named_entries(value: Any) -> list[Mapping[str, Any]]:
    """The entries of a list of datasets (or input fields) that have a namespace and name."""
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


def merge_dataset(known: Dataset, new: Dataset) -> Dataset:
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
            for source in named_entries(spec.get("inputFields")):
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
    for source in named_entries(facet.get("dataset")):
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
