"""Runs and data-quality checks as DataHub entities: process instances and assertions.

A catalog run (a ``RunRecord`` of ``Catalog.runs()``) becomes a ``dataProcessInstance`` whose
``parentTemplate`` is its job; its events are DataHub's timeseries run events::

    START ......... dataProcessInstanceRunEvent STARTED   (at started_at, else first event)
    COMPLETE ...... dataProcessInstanceRunEvent COMPLETE, result SUCCESS
    FAIL / ABORT .. dataProcessInstanceRunEvent COMPLETE, result FAILURE (nativeResultType
                    says which)

A declared ``DataTest`` becomes an ``assertion`` (``assertionInfo`` of type DATASET,
column scope when it names a column, ``nativeType`` = the test name, the operator the
way DataHub's dbt source maps dbt's built-in tests), and each check result
(a ``CheckResult`` of ``Catalog.check_results()``) an ``assertionRunEvent`` on it::

    CheckStatus.PASSED    SUCCESS
    CheckStatus.WARNING   FAILURE, severity LOW
    CheckStatus.FAILED    FAILURE, severity HIGH
    CheckStatus.ERROR     ERROR

(the status as the check's tool wrote it, e.g. dbt's ``pass``, is in nativeResults).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from datahub.emitter.mce_builder import (
    datahub_guid,
    make_assertion_urn,
    make_data_process_instance_urn,
)
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata import schema_classes as sc
from datahub.utilities.urn_encoder import UrnEncoder

from lineage.model import DataTest, Job
from lineage.views import CheckStatus, RunRecord, RunState

__all__ = [
    "CHECK_RESULTS",
    "RUN_RESULTS",
    "assertion_mcps",
    "assertion_urn",
    "millis",
    "run_mcps",
    "text_map",
]

MCP = MetadataChangeProposalWrapper

#: Terminal run states -> DataHub run results.
RUN_RESULTS: Mapping[RunState, str] = {
    RunState.COMPLETE: sc.RunResultTypeClass.SUCCESS,
    RunState.FAIL: sc.RunResultTypeClass.FAILURE,
    RunState.ABORT: sc.RunResultTypeClass.FAILURE,
}
#: Check statuses -> (assertion result, severity of a failure).
CHECK_RESULTS: Mapping[CheckStatus, tuple[str, str | None]] = {
    CheckStatus.PASSED: (sc.AssertionResultTypeClass.SUCCESS, None),
    CheckStatus.WARNING: (sc.AssertionResultTypeClass.FAILURE, sc.AssertionResultSeverityClass.LOW),
    CheckStatus.FAILED: (sc.AssertionResultTypeClass.FAILURE, sc.AssertionResultSeverityClass.HIGH),
    CheckStatus.ERROR: (sc.AssertionResultTypeClass.ERROR, None),
}


def millis(moment: datetime) -> int:
    """Milliseconds since the epoch, DataHub's timestamps."""
    return int(moment.timestamp() * 1000)


def text_map(values: Mapping[str, Any]) -> dict[str, str]:
    """customProperties are strings: text as is, anything else as canonical JSON."""
    return {
        str(k): v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)
        for k, v in values.items()
        if v is not None
    }


def run_mcps(
    run: RunRecord,
    job_urn: str,
    job: Job | None,
    dataset_urn: Callable[[Any], str],
    *,
    actor: str,
) -> list[MCP]:
    """The process instance of one run (of ``Catalog.runs()``) of the job ``job_urn``,
    created at the run's start by ``actor`` (the push's configured user)."""
    urn = make_data_process_instance_urn(UrnEncoder.encode_string(run.run_id))
    started: datetime = run.started_at or run.first_event_at
    ended: datetime | None = run.ended_at
    facets = run.facets
    parent_run = ((facets.get("parent") or {}).get("run") or {}).get("runId")
    aspects: list[sc._Aspect | None] = [
        sc.DataProcessInstancePropertiesClass(
            name=run.run_id,
            created=sc.AuditStampClass(time=millis(started), actor=actor),
            customProperties=text_map(
                {"job": run.job_name, "state": run.state.value, "error": run.error}
            ),
        ),
        sc.DataProcessInstanceRelationshipsClass(
            upstreamInstances=[],
            parentTemplate=job_urn,
            parentInstance=make_data_process_instance_urn(UrnEncoder.encode_string(parent_run))
            if isinstance(parent_run, str) and parent_run
            else None,
        ),
        sc.DataProcessInstanceInputClass(inputs=[dataset_urn(d) for d in job.inputs])
        if job is not None and job.inputs
        else None,
        sc.DataProcessInstanceOutputClass(outputs=[dataset_urn(d) for d in job.outputs])
        if job is not None and job.outputs
        else None,
        sc.DataProcessInstanceRunEventClass(
            timestampMillis=millis(started), status=sc.DataProcessRunStatusClass.STARTED
        ),
    ]
    if run.state in RUN_RESULTS and ended is not None:
        aspects.append(
            sc.DataProcessInstanceRunEventClass(
                timestampMillis=millis(ended),
                status=sc.DataProcessRunStatusClass.COMPLETE,
                result=sc.DataProcessInstanceRunResultClass(
                    type=RUN_RESULTS[run.state], nativeResultType=run.state.value
                ),
                durationMillis=max(0, millis(ended) - millis(started)),
            )
        )
    return [MCP(entityUrn=urn, aspect=a) for a in aspects if a is not None]


def assertion_urn(dataset_urn: str, test: DataTest) -> str:
    """A stable assertion URN for one declared test of one dataset."""
    return make_assertion_urn(
        datahub_guid(
            {
                "platform": "silverline",
                "dataset": dataset_urn,
                "test": test.name,
                "column": test.column,
                "arguments": test.arguments,
            }
        )
    )


def assertion_mcps(urn: str, dataset_urn: str, field_urn: str | None, test: DataTest) -> list[MCP]:
    """``assertionInfo`` (and ``status``) of a declared test."""
    try:
        arguments = json.loads(test.arguments or "{}")
    except ValueError:
        arguments = {"arguments": test.arguments}
    if not isinstance(arguments, dict):
        arguments = {"arguments": arguments}
    operator, aggregation, parameters = _assertion_logic(test.name, arguments)
    info = sc.AssertionInfoClass(
        type=sc.AssertionTypeClass.DATASET,
        datasetAssertion=sc.DatasetAssertionInfoClass(
            dataset=dataset_urn,
            scope=sc.DatasetAssertionScopeClass.DATASET_COLUMN
            if field_urn
            else sc.DatasetAssertionScopeClass.DATASET_ROWS,
            fields=[field_urn] if field_urn else None,
            operator=operator,
            aggregation=aggregation,
            parameters=parameters,
            nativeType=test.name,
            nativeParameters=text_map(arguments) or None,
        ),
        customProperties={"severity": test.severity},
        source=sc.AssertionSourceClass(type=sc.AssertionSourceTypeClass.EXTERNAL),
    )
    return [
        MCP(entityUrn=urn, aspect=info),
        MCP(entityUrn=urn, aspect=sc.StatusClass(removed=False)),
    ]


def _assertion_logic(
    name: str, arguments: Mapping[str, Any]
) -> tuple[str, str, sc.AssertionStdParametersClass | None]:
    """(operator, aggregation, parameters) of a test, the way DataHub's dbt source maps
    dbt's built-ins; any other test is ``_NATIVE_`` (its name is the nativeType)."""
    base = name.rsplit(".", 1)[-1]
    identity = sc.AssertionStdAggregationClass.IDENTITY
    if base in ("not_null", "expect_column_values_to_not_be_null"):
        return sc.AssertionStdOperatorClass.NOT_NULL, identity, None
    if base == "unique":
        return (
            sc.AssertionStdOperatorClass.EQUAL_TO,
            sc.AssertionStdAggregationClass.UNIQUE_PROPORTION,
            _parameter("1.0", sc.AssertionStdParameterTypeClass.NUMBER),
        )
    values = arguments.get("values", arguments.get("value_set"))
    if base in ("accepted_values", "expect_column_values_to_be_in_set") and values is not None:
        return (
            sc.AssertionStdOperatorClass.IN,
            identity,
            _parameter(json.dumps(values), sc.AssertionStdParameterTypeClass.SET),
        )
    low, high = arguments.get("min_value"), arguments.get("max_value")
    if base in ("accepted_range", "expect_column_values_to_be_between") and (
        low is not None or high is not None
    ):
        number = sc.AssertionStdParameterTypeClass.NUMBER
        return (
            sc.AssertionStdOperatorClass.BETWEEN,
            identity,
            sc.AssertionStdParametersClass(
                minValue=sc.AssertionStdParameterClass(str(low), number)
                if low is not None
                else None,
                maxValue=sc.AssertionStdParameterClass(str(high), number)
                if high is not None
                else None,
            ),
        )
    return sc.AssertionStdOperatorClass._NATIVE_, sc.AssertionStdAggregationClass._NATIVE_, None


def _parameter(value: str, kind: str) -> sc.AssertionStdParametersClass:
    return sc.AssertionStdParametersClass(value=sc.AssertionStdParameterClass(value, kind))
