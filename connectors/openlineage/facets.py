"""OpenLineage facets as plain JSON dicts: the schema URLs and one builder per facet.

Events are built as plain ``dict``s rather than the client's attrs classes: a decorated
call builds two events on the caller's thread, and a dict costs a few microseconds where
the attrs classes (with their validators) cost tens. Every builder returns a facet with
``_producer`` and ``_schemaURL`` set, valid against the official schema named by its URL
(the test suite validates every emitted facet against ``tests/openlineage_spec``).

Facets that repeat verbatim on every event of a job (``jobType``, ``ownership`` ...) are
built once per job and shared between events: nothing mutates a facet after it is built.

>>> sql_facet("SELECT 1", "duckdb")["query"]
'SELECT 1'
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lineage.model import ColumnLineage, DatasetId, InputField, Schema, redact_text

__all__ = [
    "CUSTOM_FACET_SCHEMAS",
    "FACET_SCHEMAS",
    "METRICS_FACET",
    "METRICS_FACET_SCHEMA_URL",
    "PRODUCER",
    "RUN_EVENT_SCHEMA_URL",
    "column_lineage_facet",
    "data_quality_assertions_facet",
    "data_quality_metrics_facet",
    "documentation_facet",
    "error_message_facet",
    "facet",
    "job_type_facet",
    "metrics_facet",
    "output_statistics_facet",
    "ownership_facet",
    "parent_facet",
    "processing_engine_facet",
    "schema_facet",
    "scrub_secrets",
    "source_code_location_facet",
    "sql_facet",
    "tags_run_facet",
]

#: The ``producer`` of every event and ``_producer`` of every facet Silverline builds.
PRODUCER = "https://github.com/silverline/silverline"
#: The ``schemaURL`` of a run event (OpenLineage spec 2-0-2).
RUN_EVENT_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

_SPEC = "https://openlineage.io/spec/facets"

#: Facet name -> schema URL, the versions openlineage-python 1.54 generates (a test keeps
#: them equal to the client's ``_get_schema()``), so consumers parse them like the client's.
FACET_SCHEMAS: Mapping[str, str] = {
    "columnLineage": (
        f"{_SPEC}/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
    ),
    "dataQualityAssertions": (
        f"{_SPEC}/1-1-0/DataQualityAssertionsDatasetFacet.json"
        "#/$defs/DataQualityAssertionsDatasetFacet"
    ),
    "dataQualityMetrics": (
        f"{_SPEC}/1-0-0/DataQualityMetricsDatasetFacet.json#/$defs/DataQualityMetricsDatasetFacet"
    ),
    "dataQualityMetricsInput": (
        f"{_SPEC}/1-0-3/DataQualityMetricsInputDatasetFacet.json"
        "#/$defs/DataQualityMetricsInputDatasetFacet"
    ),
    "documentation": f"{_SPEC}/1-1-0/DocumentationJobFacet.json#/$defs/DocumentationJobFacet",
    "errorMessage": f"{_SPEC}/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "jobType": f"{_SPEC}/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
    "outputStatistics": (
        f"{_SPEC}/1-0-2/OutputStatisticsOutputDatasetFacet.json"
        "#/$defs/OutputStatisticsOutputDatasetFacet"
    ),
    "ownership": f"{_SPEC}/1-0-1/OwnershipJobFacet.json#/$defs/OwnershipJobFacet",
    "parent": f"{_SPEC}/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
    "processing_engine": (
        f"{_SPEC}/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet"
    ),
    "schema": f"{_SPEC}/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "sourceCodeLocation": (
        f"{_SPEC}/1-1-0/SourceCodeLocationJobFacet.json#/$defs/SourceCodeLocationJobFacet"
    ),
    "sql": f"{_SPEC}/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet",
    "tags": f"{_SPEC}/1-0-0/TagsRunFacet.json#/$defs/TagsRunFacet",
}

#: Name of Silverline's one custom facet: metrics no standard facet can hold (a run's own
#: numbers, or a dataset metric other than row and null counts). Custom facet names carry
#: the producer's prefix, as the OpenLineage spec asks.
METRICS_FACET = "silverline_metrics"
METRICS_FACET_SCHEMA_URL = (
    "https://github.com/silverline/silverline/blob/main/docs/openlineage.md"
    "#/$defs/SilverlineMetricsRunFacet"
)
#: The JSON Schema of the custom facet (also printed in docs/openlineage.md), keyed by the
#: document URL its ``_schemaURL`` points into, for validators that load custom facets.
CUSTOM_FACET_SCHEMAS: Mapping[str, Mapping[str, Any]] = {
    METRICS_FACET_SCHEMA_URL.split("#")[0]: {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": METRICS_FACET_SCHEMA_URL.split("#")[0],
        "$defs": {
            "SilverlineMetricsRunFacet": {
                "allOf": [
                    {"$ref": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet"},
                    {
                        "type": "object",
                        "required": ["metrics"],
                        "properties": {
                            "metrics": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["name", "value"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "value": {"type": "number"},
                                        "namespace": {"type": "string"},
                                        "dataset": {"type": "string"},
                                        "column": {"type": "string"},
                                    },
                                    "additionalProperties": False,
                                },
                            }
                        },
                    },
                ],
                "type": "object",
            }
        },
        "type": "object",
        "properties": {METRICS_FACET: {"$ref": "#/$defs/SilverlineMetricsRunFacet"}},
    }
}


def facet(name: str, fields: Mapping[str, Any], schema_url: str | None = None) -> dict[str, Any]:
    """A facet: ``fields`` plus ``_producer`` and the ``_schemaURL`` of facet ``name``."""
    url = schema_url or FACET_SCHEMAS[name]
    return {"_producer": PRODUCER, "_schemaURL": url, **fields}


# -- run facets ----------------------------------------------------------------------------


def processing_engine_facet(version: str, adapter_version: str) -> dict[str, Any]:
    """``processing_engine``: Silverline's version and the openlineage-python version."""
    return facet(
        "processing_engine",
        {"name": "silverline", "version": version, "openlineageAdapterVersion": adapter_version},
    )


def parent_facet(
    parent: tuple[str, str, str], root: tuple[str, str, str] | None = None
) -> dict[str, Any]:
    """``parent`` from ``(namespace, job name, run id)`` of the parent and of the root run."""
    namespace, name, run_id = parent
    fields: dict[str, Any] = {
        "run": {"runId": run_id},
        "job": {"namespace": namespace, "name": name},
    }
    if root is not None:
        fields["root"] = {
            "run": {"runId": root[2]},
            "job": {"namespace": root[0], "name": root[1]},
        }
    return facet("parent", fields)


def error_message_facet(error: BaseException) -> dict[str, Any]:
    """``errorMessage`` of a failed run: ``Type: message`` and the Python stack trace.

    Credentials in the text (``scheme://user:password@host``, ``PASSWORD '...'``) are
    masked: exception messages of database drivers often carry connection strings.
    """
    message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return facet(
        "errorMessage",
        {
            "message": scrub_secrets(message),
            "programmingLanguage": "python",
            "stackTrace": scrub_secrets(trace),
        },
    )


def tags_run_facet(tags: Mapping[str, str]) -> dict[str, Any]:
    """``tags`` run facet, each tag with source ``SILVERLINE``."""
    return facet(
        "tags",
        {"tags": [{"key": k, "value": v, "source": "SILVERLINE"} for k, v in tags.items()]},
    )


def metrics_facet(metrics: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Silverline's custom run facet: ``[{name, value, namespace?, dataset?, column?}]``."""
    return facet(METRICS_FACET, {"metrics": list(metrics)}, METRICS_FACET_SCHEMA_URL)


# -- job facets ----------------------------------------------------------------------------


def job_type_facet(integration: str = "SILVERLINE", job_type: str = "JOB") -> dict[str, Any]:
    """``jobType``: a BATCH job of ``integration``."""
    return facet(
        "jobType", {"processingType": "BATCH", "integration": integration, "jobType": job_type}
    )


def ownership_facet(owners: Sequence[str]) -> dict[str, Any]:
    """``ownership`` (job): owners as given (``data-eng``, ``team:data-eng``, an e-mail)."""
    return facet("ownership", {"owners": [{"name": owner} for owner in owners]})


def documentation_facet(description: str) -> dict[str, Any]:
    """``documentation`` (job), e.g. from a function's docstring."""
    return facet("documentation", {"description": description, "contentType": "text/plain"})


def source_code_location_facet(path: str, line: int | None, relative: str | None) -> dict[str, Any]:
    """``sourceCodeLocation``: a ``file://`` URL (``#L<line>``) and the project-relative path.

    The facet has no line field; the URL fragment carries it, as code hosts link lines.
    """
    url = "file://" + path + (f"#L{line}" if line else "")
    fields: dict[str, Any] = {"type": "file", "url": url}
    if relative:
        fields["path"] = relative
    return facet("sourceCodeLocation", fields)


def sql_facet(query: str, dialect: str | None) -> dict[str, Any]:
    """``sql`` (job): the query, credentials masked, and its dialect when known."""
    fields: dict[str, Any] = {"query": scrub_secrets(query)}
    if dialect:
        fields["dialect"] = dialect
    return facet("sql", fields)


# -- dataset facets ------------------------------------------------------------------------


def schema_facet(schema: Schema) -> dict[str, Any]:
    """``schema`` (dataset): the fields in order, with type and description when known."""
    return facet("schema", {"fields": [f.to_dict() for f in schema.fields]})


def column_lineage_facet(lineage: ColumnLineage) -> dict[str, Any]:
    """``columnLineage`` 1-2-0 of one output: per-column ``fields`` and row-level ``dataset``."""
    return facet(
        "columnLineage",
        {
            "fields": {
                name: {"inputFields": [_input_field(i) for i in inputs]}
                for name, inputs in lineage.fields
            },
            "dataset": [_input_field(i) for i in lineage.dataset],
        },
    )


def _input_field(field: InputField) -> dict[str, Any]:
    return field.to_dict()


def output_statistics_facet(row_count: int | None, size: int | None = None) -> dict[str, Any]:
    """``outputStatistics`` (output facet): rows written and, when known, bytes."""
    fields: dict[str, Any] = {}
    if row_count is not None:
        fields["rowCount"] = int(row_count)
    if size is not None:
        fields["size"] = int(size)
    return facet("outputStatistics", fields)


def data_quality_metrics_facet(
    row_count: int | None,
    column_metrics: Mapping[str, Mapping[str, float]],
    *,
    input_facet: bool = False,
) -> dict[str, Any]:
    """``dataQualityMetrics``: row count and per-column metrics (``nullCount``, ``min``...).

    ``input_facet`` builds the input-dataset variant (``inputFacets``); the default is the
    dataset facet used on outputs.
    """
    fields: dict[str, Any] = {
        "columnMetrics": {name: dict(values) for name, values in column_metrics.items()}
    }
    if row_count is not None:
        fields["rowCount"] = int(row_count)
    key = "dataQualityMetricsInput" if input_facet else "dataQualityMetrics"
    return facet("dataQualityMetrics", fields, FACET_SCHEMAS[key])


def data_quality_assertions_facet(assertions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``dataQualityAssertions`` (an input facet): each ``{assertion, success}`` with an
    optional ``column``, ``severity``, ``name``, ``description``, ``expected``, ``actual``."""
    return facet(
        "dataQualityAssertions",
        {"assertions": [dict(a) for a in assertions]},
        FACET_SCHEMAS["dataQualityAssertions"],
    )


def dataset_entry(dataset: DatasetId) -> dict[str, Any]:
    """The ``{namespace, name}`` of a dataset in an event."""
    return {"namespace": dataset.namespace, "name": dataset.name}


# -- secrets -------------------------------------------------------------------------------

def scrub_secrets(text: str) -> str:
    """``text`` with passwords, tokens and credentials replaced by ``***``.

    The rules are ``lineage.model``'s redaction's, shared with the catalog and the CLI, so an event
    masks exactly what an error line does.

    >>> scrub_secrets("postgresql://etl:hunter2@db:5432/dwh")
    'postgresql://etl:***@db:5432/dwh'
    >>> scrub_secrets("COPY t FROM 's3://b/k' CREDENTIALS 'aws_access_key_id=AK;secret=x'")
    "COPY t FROM 's3://b/k' CREDENTIALS '***'"
    """
    return redact_text(text)
