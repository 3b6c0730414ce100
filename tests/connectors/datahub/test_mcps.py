"""Catalog -> MCPs: every aspect valid by the SDK's own schema, and mapped as documented."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata import schema_classes as sc

from connectors.datahub import DataHubSettings, aspect_hash, aspect_key, build_mcps
from connectors.datahub.mcps import CatalogSnapshot, build, retraction
from lineage.catalog import Catalog
from lineage.errors import ConnectorError
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    Field,
    Job,
    Schema,
    Transformation,
    TransformationSubtype,
)
from lineage.views import RunRecord, RunState
from tests.connectors.datahub.conftest import DBT_JOB, SILVER_JOB

SILVER_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,silver.erp_customers,PROD)"
BRONZE_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,bronze.erp_cust_az12,PROD)"
GOLD_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,gold.customer_age_groups,PROD)"
LOC_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,bronze.loc_a101,PROD)"
SILVER_JOB_URN = (
    "urn:li:dataJob:(urn:li:dataFlow:(silverline,redshift,prod),sql/silver/erp_customers.sql)"
)
DBT_JOB_URN = "urn:li:dataJob:(urn:li:dataFlow:(dbt,erp,prod),customer_age_groups)"

Aspects = dict[tuple[str, str], Any]


def by_key(mcps: list[MetadataChangeProposalWrapper]) -> Aspects:
    return {aspect_key(m): m.aspect for m in mcps}


def field(dataset_urn: str, name: str) -> str:
    return f"urn:li:schemaField:({dataset_urn},{name})"


@pytest.fixture
def mcps(datahub_catalog: Catalog) -> list[MetadataChangeProposalWrapper]:
    return build_mcps(datahub_catalog)


def test_every_mcp_passes_the_sdks_validation(mcps: list[MetadataChangeProposalWrapper]) -> None:
    assert len(mcps) > 40
    for mcp in mcps:
        assert mcp.aspect is not None and mcp.aspect.validate(), (mcp.entityUrn, mcp.aspectName)
        assert mcp.validate(), (mcp.entityUrn, mcp.aspectName)
        # And it survives the SDK's own serialization round trip.
        again = MetadataChangeProposalWrapper.from_obj(mcp.to_obj())
        assert isinstance(again, MetadataChangeProposalWrapper) and again.aspect == mcp.aspect


def test_each_aspect_is_built_once_and_builds_are_deterministic(
    datahub_catalog: Catalog, mcps: list[MetadataChangeProposalWrapper]
) -> None:
    keys = [aspect_key(m) for m in mcps]
    assert [k for k, n in Counter(keys).items() if n > 1] == []
    again = build_mcps(datahub_catalog)
    assert [aspect_hash(m) for m in again] == [aspect_hash(m) for m in mcps]


def test_seed_column_lineage_with_transformation_types(
    mcps: list[MetadataChangeProposalWrapper],
) -> None:
    lineage = by_key(mcps)[(SILVER_URN, "upstreamLineage")]
    query = lineage.upstreams[0].query
    assert [(u.dataset, u.type) for u in lineage.upstreams] == [
        (BRONZE_URN, sc.DatasetLineageTypeClass.TRANSFORMED)
    ]
    assert query is not None and query.startswith("urn:li:query:silverline-")
    columns = {
        (tuple(f.upstreams), tuple(f.downstreams), f.transformOperation, f.downstreamType)
        for f in lineage.fineGrainedLineages
    }
    silver_columns = tuple(
        field(SILVER_URN, c) for c in ("customer_id", "birth_date", "gender", "dwh_loaded_at")
    )
    assert columns == {
        ((field(BRONZE_URN, "cid"),), (field(SILVER_URN, "customer_id"),),
         "DIRECT:TRANSFORMATION", "FIELD"),
        ((field(BRONZE_URN, "bdate"),), (field(SILVER_URN, "birth_date"),),
         "DIRECT:TRANSFORMATION", "FIELD"),
        ((field(BRONZE_URN, "gen"),), (field(SILVER_URN, "gender"),),
         "INDIRECT:CONDITIONAL", "FIELD"),
        # WHERE cid IS NOT NULL shapes every row: FIELD_SET onto every column.
        ((field(BRONZE_URN, "cid"),), silver_columns, "INDIRECT:FILTER", "FIELD_SET"),
    }  # fmt: skip
    # Output columns in schema order, the row-shaping lineage last.
    assert [f.downstreams[0].rsplit(",", 1)[1] for f in lineage.fineGrainedLineages] == [
        "customer_id)", "birth_date)", "gender)", "customer_id)",
    ]  # fmt: skip
    for fine in lineage.fineGrainedLineages:
        assert fine.upstreamType == "FIELD_SET"
        assert fine.confidenceScore == 1.0 and fine.query == query
    statement = by_key(mcps)[(query, "queryProperties")].statement
    assert "TRY_CAST(bdate AS DATE)" in statement.value and statement.language == "SQL"


def test_dataset_properties_schema_owners_tags(mcps: list[MetadataChangeProposalWrapper]) -> None:
    aspects = by_key(mcps)
    properties = aspects[(GOLD_URN, "datasetProperties")]
    assert (properties.name, properties.qualifiedName) == (
        "customer_age_groups",
        "gold.customer_age_groups",
    )
    assert properties.description == "Customers per age group"
    assert properties.customProperties == {
        "contains_pii": "true",
        "tier": "1",
        "namespace": "redshift",
        "kind": "table",
        "source_file": "models/gold/customer_age_groups.sql",
        "freshness.loaded_at_field": "dwh_loaded_at",
        "freshness.warn_after": "24h",
        "freshness.error_after": "48h",
    }
    schema = aspects[(GOLD_URN, "schemaMetadata")]
    assert schema.platform == "urn:li:dataPlatform:redshift" and schema.schemaName == (
        "gold.customer_age_groups"
    )
    assert [
        (f.fieldPath, f.nativeDataType, type(f.type.type).__name__, f.nullable, f.description)
        for f in schema.fields
    ] == [
        ("age_group", "integer", "NumberTypeClass", False, None),  # a not_null test
        ("customers", "bigint", "NumberTypeClass", True, "How many"),
    ]
    bronze = aspects[(BRONZE_URN, "schemaMetadata")]
    assert {f.fieldPath: type(f.type.type).__name__ for f in bronze.fields} == {
        "_airbyte_raw_id": "StringTypeClass",
        "_airbyte_extracted_at": "TimeTypeClass",
        "cid": "StringTypeClass",
        "gen": "StringTypeClass",
        "bdate": "StringTypeClass",
    }
    owners = aspects[(GOLD_URN, "ownership")].owners
    assert [(o.owner, o.type) for o in owners] == [
        ("urn:li:corpuser:ana@example.com", "TECHNICAL_OWNER"),
        ("urn:li:corpGroup:data-platform-team", "TECHNICAL_OWNER"),
    ]
    assert [t.tag for t in aspects[(GOLD_URN, "globalTags")].tags] == [
        "urn:li:tag:gold",
        "urn:li:tag:pii",
    ]
    assert aspects[(GOLD_URN, "status")].removed is False


def test_subtypes(mcps: list[MetadataChangeProposalWrapper]) -> None:
    aspects = by_key(mcps)
    assert aspects[(GOLD_URN, "subTypes")].typeNames == ["Model", "Table"]  # a dbt model
    assert aspects[(SILVER_URN, "subTypes")].typeNames == ["Table"]
    assert aspects[(LOC_URN, "subTypes")].typeNames == ["Source"]


def test_dbt_model_job_and_flow(mcps: list[MetadataChangeProposalWrapper]) -> None:
    aspects = by_key(mcps)
    info = aspects[(DBT_JOB_URN, "dataJobInfo")]
    assert (info.name, info.type, info.flowUrn) == (
        DBT_JOB,
        "SQL",
        "urn:li:dataFlow:(dbt,erp,prod)",
    )
    assert info.customProperties["kind"] == "dbt_model"
    io = aspects[(DBT_JOB_URN, "dataJobInputOutput")]
    assert (io.inputDatasets, io.outputDatasets) == ([SILVER_URN], [GOLD_URN])
    assert io.inputDatasetFields == [
        field(SILVER_URN, "birth_date"),
        field(SILVER_URN, "customer_id"),
    ]
    assert io.outputDatasetFields == [
        field(GOLD_URN, "age_group"),
        field(GOLD_URN, "customers"),
    ]
    assert {f.transformOperation for f in io.fineGrainedLineages} == {
        "DIRECT:TRANSFORMATION",
        "DIRECT:AGGREGATION",
        "INDIRECT:GROUP_BY",
    }
    assert aspects[("urn:li:dataFlow:(dbt,erp,prod)", "dataFlowInfo")].name == "erp"
    logic = aspects[(DBT_JOB_URN, "dataTransformLogic")]
    assert "GROUP BY 1" in logic.transforms[0].queryStatement.value
    # The dbt model's dataset-level upstream comes from its job's inputs and edges.
    gold = aspects[(GOLD_URN, "upstreamLineage")]
    assert [u.dataset for u in gold.upstreams] == [SILVER_URN]


def test_runs_become_process_instances(mcps: list[MetadataChangeProposalWrapper]) -> None:
    aspects = by_key(mcps)
    ok = "urn:li:dataProcessInstance:run-ok-1"
    bad = "urn:li:dataProcessInstance:run-bad-2"
    running = "urn:li:dataProcessInstance:run-now-3"
    assert aspects[(ok, "dataProcessInstanceRelationships")].parentTemplate == SILVER_JOB_URN
    assert aspects[(running, "dataProcessInstanceRelationships")].parentTemplate == DBT_JOB_URN
    events = {
        (urn, key.split("@")[1].split(":")[1], getattr(aspect.result, "type", None))
        for (urn, key), aspect in aspects.items()
        if key.startswith("dataProcessInstanceRunEvent")
    }
    assert events == {
        (ok, "STARTED", None),
        (ok, "COMPLETE", "SUCCESS"),
        (bad, "STARTED", None),
        (bad, "COMPLETE", "FAILURE"),
        (running, "STARTED", None),
    }
    properties = aspects[(bad, "dataProcessInstanceProperties")]
    assert properties.customProperties == {
        "job": SILVER_JOB,
        "state": "FAIL",
        "error": "division by zero",
    }
    assert aspects[(ok, "dataProcessInstanceInput")].inputs == [BRONZE_URN]


def test_tests_and_check_results_become_assertions(
    mcps: list[MetadataChangeProposalWrapper],
) -> None:
    aspects = by_key(mcps)
    infos = {
        (a.datasetAssertion.nativeType, tuple(a.datasetAssertion.fields or ())): (urn, a)
        for (urn, name), a in aspects.items()
        if name == "assertionInfo"
    }
    age_group = (field(GOLD_URN, "age_group"),)
    not_null_urn, not_null = infos[("not_null", age_group)]
    assert not_null.type == "DATASET"
    assert (not_null.datasetAssertion.scope, not_null.datasetAssertion.operator) == (
        "DATASET_COLUMN",
        "NOT_NULL",
    )
    accepted = infos[("accepted_values", age_group)][1].datasetAssertion
    assert accepted.operator == "IN" and accepted.parameters.value.value == "[0, 10, 20]"
    unique_urn, unique = infos[("unique", age_group)]
    assert unique.customProperties == {"severity": "warn"}
    # A check no test declares becomes its own dataset-level assertion.
    row_count_urn, row_count = infos[("row_count_vs_7d", ())]
    assert row_count.datasetAssertion.scope == "DATASET_ROWS"
    assert row_count.datasetAssertion.operator == "_NATIVE_"
    results = {
        urn: (a.result.type, a.result.severity, a.result.nativeResults, a.asserteeUrn)
        for (urn, name), a in aspects.items()
        if name.startswith("assertionRunEvent")
    }
    assert results == {
        not_null_urn: ("SUCCESS", None, {"status": "pass"}, GOLD_URN),
        unique_urn: ("FAILURE", "LOW", {"status": "warn", "dupes": "2"}, GOLD_URN),
        row_count_urn: ("FAILURE", "HIGH", {"status": "fail", "change": "-0.4"}, SILVER_URN),
    }


def test_env_platform_instance_and_case_reach_every_urn(datahub_catalog: Catalog) -> None:
    settings = DataHubSettings(env="DEV", platform_instance="eu1", case="preserve")  # type: ignore[arg-type]
    mcps = build_mcps(datahub_catalog, settings)
    aspects = by_key(mcps)
    silver = "urn:li:dataset:(urn:li:dataPlatform:redshift,eu1.silver.erp_customers,DEV)"
    assert (silver, "upstreamLineage") in aspects
    instance = aspects[(silver, "dataPlatformInstance")]
    assert instance.instance == "urn:li:dataPlatformInstance:(urn:li:dataPlatform:redshift,eu1)"
    flow = "urn:li:dataFlow:(dbt,eu1.erp,dev)"
    assert (flow, "dataFlowInfo") in aspects
    assert all(
        ",PROD)" not in m.entityUrn for m in mcps if m.entityUrn.startswith("urn:li:dataset")
    )


def test_case_policy_on_mixed_case_names() -> None:
    dataset = DatasetId("snowflake://acme", "ANALYTICS.PUBLIC.Orders")
    snapshot = CatalogSnapshot(
        datasets=[Dataset(dataset, schema=Schema((Field("Order_ID", "NUMBER"),)))]
    )
    lower = by_key(build(snapshot, DataHubSettings()).mcps)
    urn = "urn:li:dataset:(urn:li:dataPlatform:snowflake,analytics.public.orders,PROD)"
    assert lower[(urn, "schemaMetadata")].fields[0].fieldPath == "order_id"
    keep = by_key(build(snapshot, DataHubSettings(case="preserve")).mcps)  # type: ignore[arg-type]
    urn = "urn:li:dataset:(urn:li:dataPlatform:snowflake,ANALYTICS.PUBLIC.Orders,PROD)"
    assert keep[(urn, "schemaMetadata")].fields[0].fieldPath == "Order_ID"


def test_referenced_only_datasets_get_status_and_nothing_they_do_not_know() -> None:
    s3 = DatasetId("s3://bronze", "/erp/cust_az12")
    table = DatasetId("redshift", "spectrum.erp_cust_az12")
    edge = ColumnEdge(
        ColumnId(s3, "cid"), table, None, (Transformation.indirect(TransformationSubtype.FILTER),)
    )
    snapshot = CatalogSnapshot(
        datasets=[Dataset(s3, kind=DatasetKind.UNKNOWN), Dataset(table, kind=DatasetKind.UNKNOWN)],
        edges=[edge],
    )
    result = build(snapshot, DataHubSettings())
    aspects = by_key(result.mcps)
    s3_urn = "urn:li:dataset:(urn:li:dataPlatform:s3,bronze/erp/cust_az12,PROD)"
    table_urn = "urn:li:dataset:(urn:li:dataPlatform:redshift,spectrum.erp_cust_az12,PROD)"
    assert sorted(aspects) == [
        (table_urn, "status"),
        (table_urn, "upstreamLineage"),
        (s3_urn, "status"),
    ]
    # No column of the target is known: the dataset-level edge stays dataset-level.
    lineage = aspects[(table_urn, "upstreamLineage")]
    assert [u.dataset for u in lineage.upstreams] == [s3_urn]
    assert lineage.fineGrainedLineages is None
    assert result.warnings == []


def test_views_runs_of_unknown_jobs_and_unknown_platforms() -> None:
    source = DatasetId("sql", "raw.events")
    view = DatasetId("sql", "mart.events_v")
    edge = ColumnEdge(
        ColumnId(source, "id"), view, "id", (Transformation.direct(TransformationSubtype.IDENTITY),)
    )
    from datetime import datetime, timezone

    when = datetime(2024, 1, 1, tzinfo=timezone.utc)
    run = RunRecord(
        run_id="r1", job_name="nightly.export", state=RunState.ABORT, started_at=when,
        ended_at=when, first_event_at=when, last_event_at=when, error=None,
        facets={"jobNamespace": "airflow-prod", "parent": {"run": {"runId": "p1"}}},
    )  # fmt: skip
    snapshot = CatalogSnapshot(
        datasets=[Dataset(view, kind=DatasetKind.VIEW, schema=Schema((Field("id"),)))],
        edges=[edge],
        runs=[run],
    )
    result = build(snapshot, DataHubSettings())
    aspects = by_key(result.mcps)
    view_urn = "urn:li:dataset:(urn:li:dataPlatform:sql,mart.events_v,PROD)"
    assert aspects[(view_urn, "upstreamLineage")].upstreams[0].type == "VIEW"
    assert aspects[(view_urn, "schemaMetadata")].fields[0].nativeDataType == "unknown"
    job = "urn:li:dataJob:(urn:li:dataFlow:(silverline,nightly,prod),export)"
    assert aspects[(job, "dataJobInfo")].name == "nightly.export"
    relationships = aspects[("urn:li:dataProcessInstance:r1", "dataProcessInstanceRelationships")]
    assert relationships.parentTemplate == job
    assert relationships.parentInstance == "urn:li:dataProcessInstance:p1"
    complete = [a for (u, k), a in aspects.items() if k.endswith(":COMPLETE")]
    assert [(a.result.type, a.result.nativeResultType) for a in complete] == [("FAILURE", "ABORT")]
    assert any("platform 'sql'" in w for w in result.warnings)
    for mcp in result.mcps:
        assert mcp.validate()


def test_a_name_datahub_cannot_hold_is_a_connector_error() -> None:
    snapshot = CatalogSnapshot(datasets=[Dataset(DatasetId("redshift", ""))])
    with pytest.raises(ConnectorError, match="cannot name dataset"):
        build(snapshot, DataHubSettings())


def test_jobs_sharing_a_name_keep_their_own_edges() -> None:
    a, b = DatasetId("redshift", "a.t"), DatasetId("postgres://h:5432", "a.t")
    src = DatasetId("redshift", "a.src")
    same = "load.t"
    identity = (Transformation.direct(TransformationSubtype.IDENTITY),)
    snapshot = CatalogSnapshot(
        jobs=[
            Job("redshift", same, inputs=(src,), outputs=(a,)),
            Job("postgres://h:5432", same, inputs=(src,), outputs=(b,)),
        ],
        edges=[
            ColumnEdge(ColumnId(src, "x"), a, "x", identity, same),
            ColumnEdge(ColumnId(src, "x"), b, "x", identity, same),
        ],
    )
    mcps = build(snapshot, DataHubSettings()).mcps
    ios = [m.aspect for m in mcps if m.aspectName == "dataJobInputOutput"]
    assert [len(io.outputDatasetFields) for io in ios] == [1, 1]


def test_retractions() -> None:
    job = "urn:li:dataJob:(urn:li:dataFlow:(dbt,erp,prod),gone)"
    gone = retraction(job, "dataJobInfo", entity_gone=True)
    assert gone is not None and gone.aspect == sc.StatusClass(removed=True)
    owners = retraction(GOLD_URN, "ownership", entity_gone=False)
    assert owners is not None and owners.aspect == sc.OwnershipClass(owners=[])
    lineage = retraction(GOLD_URN, "upstreamLineage", entity_gone=True)  # never soft-deleted
    assert lineage is not None and lineage.aspect == sc.UpstreamLineageClass(upstreams=[])
    assert retraction(GOLD_URN, "datasetProperties", entity_gone=True) is None
    assert retraction("urn:li:dataProcessInstance:r", "dataProcessInstanceProperties",
                      entity_gone=True) is None  # fmt: skip
