"""The fast MCP serializer writes exactly what the DataHub SDK writes, for every MCP we build.

Compared as ``json.dumps`` strings (key order included) against the SDK's own
``MetadataChangeProposalWrapper.to_obj()``, plain and ``simplified_structure=True``, for
the MCPs of the test fixtures' catalogs (seed pipeline, dbt model, runs, checks, profiles,
live schemas, drift incidents, assertions) and of a generated 300-model project.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from avro import schema as avro_schema
from avrogen.dict_wrapper import DictWrapper
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.serialization_helper import pre_json_transform
from datahub.ingestion.sink.file import write_metadata_file
from datahub.metadata import schema_classes as sc

from benchmarks.bench_datahub import generate_batch
from benchmarks.bench_datahub import record_events as bench_events
from connectors.datahub import DataHubSettings, PushTarget, push
from connectors.datahub.mcps import build, read_catalog, retraction
from connectors.datahub.serialize import FastMCP, aspect_json, is_planned, to_obj
from lineage.catalog import Catalog
from lineage.model import DatasetKind, LiveColumn, LiveTable, Observation
from tests.connectors.datahub.test_assertions import record_checks
from tests.connectors.datahub.test_incidents import ADDED, NARROWED, RENAME, SCOPE, SEEN
from tests.connectors.datahub.test_profiles import ACTIVE, COLUMNS, CUSTOMERS, NS, profile

MCP = MetadataChangeProposalWrapper


def dumped(obj: Any) -> str:
    return json.dumps(obj, sort_keys=False)


def assert_same_as_sdk(mcps: Sequence[MCP], *, generic: bool = True) -> None:
    """Every MCP's fast serialization, both shapes, equals the SDK's, byte for byte."""
    assert mcps
    for mcp in mcps:
        fast = FastMCP.of(mcp)
        assert isinstance(fast, FastMCP) and fast.aspect is mcp.aspect
        what = f"{mcp.entityUrn} {mcp.aspectName}"
        assert dumped(fast.to_obj()) == dumped(mcp.to_obj()), what
        assert dumped(fast.to_obj(simplified_structure=True)) == dumped(
            mcp.to_obj(simplified_structure=True)
        ), what
        if generic:  # the GenericAspect a REST emitter or make_mcp() caller gets
            assert fast.make_mcp() == mcp.make_mcp(), what


def stamped(mcps: Sequence[MCP]) -> list[MCP]:
    """The MCPs as the sinks send them: with a run id and a time."""
    for mcp in mcps:
        mcp.systemMetadata = sc.SystemMetadataClass(lastObserved=1718690400000, runId="r-1")
    return list(mcps)


@pytest.fixture
def everything(datahub_catalog: Catalog) -> Catalog:
    """The datahub fixture catalog plus checks, live schemas, profiles and drift incidents."""
    catalog = datahub_catalog
    record_checks(catalog)
    view = LiveTable(
        ACTIVE,
        DatasetKind.VIEW,
        (LiveColumn("customer_id", "character varying(50)", nullable=False),),
        definition="SELECT customer_id FROM silver.erp_customers",
    )
    tables = (LiveTable(CUSTOMERS, DatasetKind.TABLE, COLUMNS), view)
    catalog.record_observation(Observation(NS, tables), observed_by=f"warehouse:{NS}/dwh")
    catalog.record_profile(profile())
    catalog.record_drift([RENAME, NARROWED, ADDED], observed_at=SEEN, **SCOPE)
    return catalog


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    """The benchmark's project, 300 models 20 columns wide in chains 10 deep, with runs."""
    path = tmp_path_factory.mktemp("generated") / "catalog.db"
    batch = generate_batch(300, 20, 10)
    with Catalog(f"sqlite:///{path}") as catalog:
        catalog.write(batch)
        bench_events(catalog, batch, 30)
        yield catalog


def test_every_fixture_mcp_serializes_as_the_sdk_does(everything: Catalog) -> None:
    mcps = build(read_catalog(everything), DataHubSettings()).mcps
    names = {m.aspectName for m in mcps}
    # What the fixtures must reach for the comparison to cover our whole vocabulary.
    assert {
        "schemaMetadata", "upstreamLineage", "dataJobInfo", "dataJobInputOutput",
        "dataProcessInstanceRunEvent", "assertionInfo", "assertionRunEvent",
        "datasetProfile", "incidentInfo", "viewProperties", "ownership", "globalTags",
    } <= names  # fmt: skip
    assert_same_as_sdk(mcps)
    assert_same_as_sdk(stamped(mcps))


def test_platform_instance_and_retractions_serialize_as_the_sdk_does(everything: Catalog) -> None:
    settings = DataHubSettings(env="DEV", platform_instance="eu1")
    mcps = build(read_catalog(everything), settings).mcps
    stamp = sc.AuditStampClass(time=1, actor="urn:li:corpuser:silverline")
    urn = "urn:li:dataset:(urn:li:dataPlatform:redshift,a.b,PROD)"
    gone = [
        retraction(urn, aspect, entity_gone=False, stamp=stamp)
        for aspect in ("upstreamLineage", "ownership", "globalTags", "dataJobInputOutput")
    ]
    assert_same_as_sdk([*mcps, *[m for m in gone if m is not None]])


def test_every_generated_mcp_serializes_as_the_sdk_does(generated: Catalog) -> None:
    mcps = build(read_catalog(generated), DataHubSettings()).mcps
    assert len(mcps) > 6000
    assert_same_as_sdk(stamped(mcps), generic=False)


def test_unions_by_branch_and_nulls_follow_avrogen() -> None:
    # A union of string and an enum is written with its branch name; the enum wins when
    # the value is one of its symbols (avrogen takes the last branch that accepts it).
    for kind in ("SQL", "my-scheduler"):
        info = sc.DataJobInfoClass(name="j", type=kind, customProperties={"k": "v"})
        assert dumped(to_obj(info)) == dumped(info.to_obj())
        assert dumped(aspect_json(info)) == dumped(pre_json_transform(info.to_obj()))
    assert aspect_json(sc.DataJobInfoClass(name="j", type="SQL"))["type"] == {"string": "SQL"}
    # A map whose single key looks like an Avro namespace is renamed as the SDK renames it.
    odd = sc.DatasetPropertiesClass(customProperties={"com.linkedin.pegasus2avro.x": "1"})
    assert dumped(aspect_json(odd)) == dumped(pre_json_transform(odd.to_obj()))


def test_a_class_the_plan_cannot_encode_falls_back_to_the_sdk() -> None:
    # Cost's union of costId / costCode is a Rest.li "union with aliases".
    assert not is_planned(sc.CostClass)
    cost = sc.CostClass(
        costType="ORG_COST_TYPE", cost=sc.CostCostClass(fieldDiscriminator="costCode", costCode="x")
    )
    assert dumped(aspect_json(cost)) == dumped(pre_json_transform(cost.to_obj()))
    # A union mixing records with other branches (datasetUpstreamLineage) is not planned.
    assert not is_planned(sc.DatasetUpstreamLineageClass)
    assert is_planned(sc.SchemaMetadataClass)
    mcp = MCP(entityUrn="urn:li:dataset:(urn:li:dataPlatform:x,y,PROD)", aspect=cost)
    assert_same_as_sdk([mcp])


def test_a_value_the_plan_cannot_place_falls_back_to_the_sdk() -> None:
    # A plain dict where the schema has a union of records: the SDK picks the branch.
    owner = sc.OwnerClass(owner="urn:li:corpuser:a", type="DATAOWNER")
    ownership = sc.OwnershipClass(owners=[owner], lastModified=sc.AuditStampClass(0, "x"))
    ownership._inner_dict["lastModified"] = {"time": 0, "actor": "urn:li:corpuser:x"}
    expected = ownership.to_obj()
    assert expected["lastModified"] == {"time": 0, "actor": "urn:li:corpuser:x"}
    assert dumped(to_obj(ownership)) == dumped(expected)
    assert dumped(aspect_json(ownership)) == dumped(pre_json_transform(expected))


def test_an_unknown_construct_falls_back() -> None:
    # A schema with an Avro "error" type (no DataHub aspect has one) is not planned.
    declared = avro_schema.parse(
        json.dumps(
            {
                "type": "record",
                "name": "WithError",
                "namespace": "com.linkedin.pegasus2avro.test",
                "fields": [
                    {
                        "name": "failure",
                        "type": {"type": "error", "name": "Failure", "fields": [
                            {"name": "message", "type": "string"}
                        ]},
                    }
                ],
            }
        )
    )  # fmt: skip

    class WithError(DictWrapper):
        RECORD_SCHEMA = declared  # type: ignore[assignment]

        def __init__(self, message: str) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self._inner_dict["failure"] = {"message": message}

    record = WithError("boom")
    assert not is_planned(WithError)
    assert to_obj(record) == record.to_obj() == {"failure": {"message": "boom"}}


def test_the_mcp_envelope_is_planned_with_its_audit_header() -> None:
    # KafkaAuditHeader holds a "fixed" message id: kept as bytes, as avrogen keeps it.
    assert is_planned(sc.MetadataChangeProposalClass)
    header = sc.KafkaAuditHeaderClass(
        time=5, server="s", appName="a", messageId=b"0123456789abcdef"
    )
    mcp = MCP(
        entityUrn="urn:li:dataset:(urn:li:dataPlatform:x,y,PROD)",
        aspect=sc.StatusClass(removed=False),
        auditHeader=header,
        headers={"If-Version-Match": "3"},
    )
    fast = FastMCP.of(mcp)
    assert fast.to_obj() == mcp.to_obj()
    assert fast.to_obj(simplified_structure=True) == mcp.to_obj(simplified_structure=True)
    assert fast.to_obj(tuples=True) == mcp.to_obj(tuples=True)  # fastavro's form: the SDK's


def test_pushes_write_what_the_sdk_writes(everything: Catalog, tmp_path: Path) -> None:
    """The file sink's output equals the SDK's file sink over the same MCPs."""
    target = PushTarget("file", str(tmp_path / "mcps.json"))
    push(everything, target, DataHubSettings())
    written = json.loads((tmp_path / "mcps.json").read_text())
    mcps = build(read_catalog(everything), DataHubSettings()).mcps
    for mcp, record in zip(mcps, written, strict=True):
        mcp.systemMetadata = sc.SystemMetadataClass(
            lastObserved=record["systemMetadata"]["lastObserved"],
            runId=record["systemMetadata"]["runId"],
        )
    write_metadata_file(tmp_path / "sdk.json", mcps)
    assert (tmp_path / "mcps.json").read_text() == (tmp_path / "sdk.json").read_text()
