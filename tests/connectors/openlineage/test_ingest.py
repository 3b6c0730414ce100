"""``ingest_events``: OpenLineage events of Airflow, Spark and dbt-ol (hand-written, in the
shapes those producers emit: ``tests/golden/events/producers/*.jsonl``) and of our own jobs
into the catalog; bad lines reported with file and line, the rest loaded; idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from connectors.openlineage import event_time, event_to_batch, ingest_events, read_events
from connectors.openlineage.facets import FACET_SCHEMAS, RUN_EVENT_SCHEMA_URL, scrub_secrets
from lineage.catalog import Catalog
from lineage.errors import InputError
from lineage.model import (
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    DataTest,
    Field,
    Job,
    LineageBatch,
    Schema,
    Transformation,
    TransformationSubtype,
)
from lineage.views import CheckStatus, RunState
from tests.openlineage_spec import registry

PRODUCERS = Path(__file__).resolve().parents[2] / "golden" / "events" / "producers"
RS = "redshift://analytics.example.com:5439"
S3 = "s3://erp-lake"


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    found = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield found  # type: ignore[misc]
    found.close()


def test_producer_samples_are_valid_run_events() -> None:
    validator = Draft202012Validator({"$ref": RUN_EVENT_SCHEMA_URL}, registry=registry())
    count = 0
    for item in read_events(PRODUCERS):
        if item.event is not None:
            validator.validate(item.event)
            count += 1
    assert count == 12


def test_airflow_events_bad_lines_reported_rest_loaded(catalog: Catalog) -> None:
    path = PRODUCERS / "airflow.jsonl"
    report = ingest_events(path, catalog)
    assert report.events == 4
    assert [(i.file, i.line) for i in report.issues] == [(str(path), 3), (str(path), 5)]
    assert report.issues[0].message.startswith("not JSON")
    assert "no eventTime" in report.issues[1].message
    runs = {r.job_name: r for r in catalog.runs()}
    task = runs["erp_pipeline.load_bronze"]
    assert task.state is RunState.COMPLETE
    assert task.job_namespace == "airflow"  # the events' job namespace, kept with the run
    assert task.started_at.isoformat() == "2024-06-18T01:00:05.553104+00:00"
    assert task.ended_at.isoformat() == "2024-06-18T01:02:41.006611+00:00"
    assert task.facets["parent"]["job"]["name"] == "erp_pipeline"
    assert "airflow" in task.facets and "nominalTime" in task.facets
    dag = runs["erp_pipeline"]
    assert dag.state is RunState.FAIL and dag.error == "task dbt_run failed"
    job = catalog.job("airflow", "erp_pipeline.load_bronze")
    assert job is not None and job.kind == "airflow" and job.owners == ("data-eng",)
    assert job.sql is not None and job.sql.startswith("INSERT INTO bronze.erp_cust_az12")
    assert job.inputs == (DatasetId(RS, "dev.spectrum.erp_cust_az12"),)
    assert job.outputs == (DatasetId(RS, "dev.bronze.erp_cust_az12"),)
    bronze = catalog.dataset(DatasetId(RS, "dev.bronze.erp_cust_az12"))
    assert bronze is not None and bronze.schema is not None
    assert bronze.schema.names == (
        "_airbyte_raw_id",
        "_airbyte_extracted_at",
        "cid",
        "gen",
        "bdate",
    )
    assert catalog.schema_history(bronze.id)[0].observed_by == "openlineage"
    metrics = catalog.metrics(bronze.id, "row_count")
    assert [(m.value, m.run_id) for m in metrics] == [
        (1200.0, "01902a4e-7b10-7d2e-9c1a-3f5e2d1c0a02")
    ]


def test_spark_events_accumulate_per_run(catalog: Catalog) -> None:
    report = ingest_events(PRODUCERS / "spark.jsonl", catalog)
    assert report.issues == [] and report.events == 4
    job = catalog.job(
        "spark",
        "erp_validation.execute_insert_into_hadoop_fs_relation_command.silver_erp_customers",
    )
    assert job is not None and job.kind == "spark"
    # START named the input, RUNNING the output, COMPLETE the lineage: one job has them all.
    assert job.inputs == (DatasetId(S3, "bronze/erp/cust_az12"),)
    assert job.outputs == (DatasetId(S3, "silver/erp/customers"),)
    bronze = catalog.dataset(DatasetId(S3, "bronze/erp/cust_az12"))
    assert bronze is not None and bronze.kind is DatasetKind.LOCATION
    assert bronze.schema is not None and "address.country" in bronze.schema.names
    edges = {
        (e.source.name, e.target_field): e.transformations for e in catalog.edges_of_job(job.name)
    }
    identity = Transformation.direct(TransformationSubtype.IDENTITY)
    assert edges[("cid", "customer_id")] == (identity,)
    assert edges[("address.country", "country")] == (identity,)
    assert len(edges[("gen", "gender")]) == 2
    assert edges[("cid", None)] == (Transformation.indirect(TransformationSubtype.FILTER),)
    # The legacy 1-0-1 facet: listed fields are DIRECT; IDENTITY where it says so.
    legacy = {
        (e.source.name, e.target_field): e.transformations
        for e in catalog.edges_of_job("erp_locations.insert")
    }
    assert legacy[("cid", "cid")] == (identity,)
    assert legacy[("cntry", "country")] == (
        Transformation.direct(TransformationSubtype.TRANSFORMATION),
    )
    run = catalog.runs(job.name)[0]
    assert run.state is RunState.COMPLETE
    assert "spark.logicalPlan" not in run.facets  # 70 kB plan: not kept with the run
    assert run.facets["processing_engine"]["name"] == "spark"
    silver = DatasetId(S3, "silver/erp/customers")
    assert {m.name: m.value for m in catalog.metrics(silver)} == {
        "row_count": 1187.0,
        "size_bytes": 48213.0,
    }


def test_dbt_events_keep_docs_tests_and_metrics(catalog: Catalog) -> None:
    silver = DatasetId(RS, "dev.silver.erp_customers")
    # What a dbt project scan already knows: kind, owner, the file defining it.
    catalog.write(
        LineageBatch(
            datasets=(
                Dataset(
                    silver,
                    kind=DatasetKind.TABLE,
                    owners=("data-eng",),
                    source_file="models/silver/erp_customers.sql",
                ),
            )
        )
    )
    report = ingest_events(PRODUCERS / "dbt.jsonl", catalog)
    assert report.issues == [] and report.events == 4
    found = catalog.dataset(silver)
    assert found is not None
    assert found.description == "Cleaned ERP customers, one row per customer."
    assert found.owners == ("data-eng",) and found.kind is DatasetKind.TABLE
    assert found.source_file == "models/silver/erp_customers.sql"
    assert found.schema is not None and found.schema.fields[0] == Field(
        "customer_id", "character varying(50)", "ERP customer id, CUST0000"
    )
    job = catalog.job("dbt", "dev.erp.silver.erp_customers")
    assert job is not None and job.kind == "dbt" and job.sql is not None
    runs = {r.job_name: r for r in catalog.runs()}
    assert runs["dev.erp.silver.erp_customers"].facets["parent"]["job"]["name"] == (
        "erp_pipeline.dbt_run"
    )
    assert runs["dev.erp.silver.erp_customers.test"].state is RunState.FAIL
    checks = {
        (c.check, c.column): (c.status, c.native_status) for c in catalog.check_results(silver)
    }
    assert checks == {
        ("not_null", "customer_id"): (CheckStatus.PASSED, "pass"),
        ("accepted_values", "gender"): (CheckStatus.FAILED, "fail"),
    }
    nulls = {m.column: m.value for m in catalog.metrics(silver, "null_count")}
    assert nulls == {"customer_id": 0.0, "gender": 4.0}


def _dbt_test_event(assertions: list[dict[str, Any]], producer: str) -> dict[str, Any]:
    """The golden dbt-ol test event (line 4) carrying ``assertions`` instead."""
    event: dict[str, Any] = json.loads((PRODUCERS / "dbt.jsonl").read_text().splitlines()[3])
    event["producer"] = producer
    [entry] = event["inputs"]
    for group in ("inputFacets", "facets"):
        if "dataQualityAssertions" in (entry.get(group) or {}):
            entry[group]["dataQualityAssertions"]["assertions"] = assertions
    return event


def test_dbt_ol_assertions_are_named_as_the_scanned_tests_checks(catalog: Catalog) -> None:
    """dbt-ol names a test by its bare macro (``not_null`` + column); with the scan's
    tests in the catalog its result lands on the key ``lineage check`` and the run_results
    ingest use: ``not_null(customer_id)``; one accepted_range outcome covers both bounds."""
    silver = DatasetId(RS, "dev.silver.erp_customers")
    tests = (
        DataTest("not_null", "customer_id"),
        DataTest("accepted_values", "gender", '{"values": ["Male", "Female"]}'),
        DataTest("dbt_utils.accepted_range", "birth_date",
                 '{"max_value": "2024-01-01", "min_value": "1900-01-01"}'),
        DataTest("relationships", "customer_id", '{"field": "cid", "to": "ref(\'x\')"}'),
    )
    catalog.write(LineageBatch(datasets=(Dataset(silver, kind=DatasetKind.TABLE, tests=tests),)))
    report = ingest_events(PRODUCERS / "dbt.jsonl", catalog)
    assert report.issues == []
    range_event = _dbt_test_event([
        {"assertion": "accepted_range", "success": False, "column": "birth_date"},
        {"assertion": "relationships", "success": True, "column": "customer_id"},
        {"assertion": "unique", "success": True, "column": "customer_id"},  # not scanned
    ], producer="https://github.com/OpenLineage/OpenLineage/tree/1.54.0/integration/dbt")
    assert ingest_events([range_event], catalog).issues == []
    checks = {(c.check, c.column): c.status for c in catalog.check_results(silver)}
    assert checks == {
        ("not_null(customer_id)", "customer_id"): CheckStatus.PASSED,
        ("accepted_values(gender)", "gender"): CheckStatus.FAILED,
        ("min(birth_date)", "birth_date"): CheckStatus.FAILED,
        ("max(birth_date)", "birth_date"): CheckStatus.FAILED,
        # not a check of ours, or not a test the scan knows: dbt-ol's name as given
        ("relationships", "customer_id"): CheckStatus.PASSED,
        ("unique", "customer_id"): CheckStatus.PASSED,
    }


def test_assertions_of_other_producers_keep_their_names(catalog: Catalog) -> None:
    silver = DatasetId(RS, "dev.silver.erp_customers")
    catalog.write(LineageBatch(datasets=(
        Dataset(silver, tests=(DataTest("not_null", "customer_id"),)),)))
    event = _dbt_test_event([{"assertion": "not_null", "success": True,
                              "column": "customer_id"}],
                            producer="https://github.com/great-expectations/great_expectations")
    assert ingest_events([event], catalog).issues == []
    assert [(c.check, c.column) for c in catalog.check_results(silver)] == [
        ("not_null", "customer_id")]


def test_ingesting_twice_changes_nothing(catalog: Catalog) -> None:
    first = ingest_events(PRODUCERS, catalog)
    assert first.events == 12 and len(first.issues) == 2
    snapshot = (
        catalog.runs(limit=1000),
        catalog.jobs(),
        catalog.column_edges(),
        catalog.metrics(DatasetId(RS, "dev.silver.erp_customers")),
        catalog.check_results(),
    )
    again = ingest_events(PRODUCERS, catalog)
    assert again.metrics == 0
    assert snapshot == (
        catalog.runs(limit=1000),
        catalog.jobs(),
        catalog.column_edges(),
        catalog.metrics(DatasetId(RS, "dev.silver.erp_customers")),
        catalog.check_results(),
    )


def test_other_sources_and_formats(catalog: Catalog, tmp_path: Path) -> None:
    lines = (PRODUCERS / "dbt.jsonl").read_text().splitlines()
    assert ingest_events(iter(lines[:2]), catalog).events == 2
    pretty = tmp_path / "one-event.json"  # the client's file transport in debug mode
    pretty.write_text(json.dumps(json.loads(lines[0]), indent=2))
    assert ingest_events(pretty, catalog).events == 1
    array = tmp_path / "array.json"
    array.write_text(json.dumps([json.loads(lines[0]), {"bad": True}]))
    report = ingest_events(array, catalog)
    assert report.events == 1 and report.issues[0].message.startswith("item 2:")
    dataset_event = {
        "eventTime": "2024-06-18T02:00:00Z",
        "producer": "https://example.com",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {
            "namespace": RS,
            "name": "dev.gold.customer_age_groups",
            "facets": {"schema": {"fields": [{"name": "age_group", "type": "integer"}]}},
        },
    }
    assert ingest_events([dataset_event], catalog).events == 1
    gold = catalog.dataset(DatasetId(RS, "dev.gold.customer_age_groups"))
    assert gold is not None and gold.schema == Schema((Field("age_group", "integer"),))
    with pytest.raises(InputError):
        ingest_events(tmp_path / "missing.jsonl", catalog)


def test_event_to_batch_and_times() -> None:
    event = json.loads((PRODUCERS / "spark.jsonl").read_text().splitlines()[2])
    batch = event_to_batch(event)
    assert batch.observed_by == "openlineage"
    assert [j.name for j in batch.jobs] == [
        "erp_validation.execute_insert_into_hadoop_fs_relation_command.silver_erp_customers"
    ]
    assert ColumnId(DatasetId(S3, "bronze/erp/cust_az12"), "cid") in {e.source for e in batch.edges}
    assert event_time({"eventTime": "2024-06-18T01:10:00.123456789Z"}).microsecond == 123456
    assert event_time({"eventTime": "2024-06-18T01:10:00"}).tzinfo is not None
    with pytest.raises(ValueError):
        event_time({"eventTime": "2024-06-18"})


def test_facet_schema_urls_match_the_client() -> None:
    from openlineage.client.facet_v2 import (
        column_lineage_dataset,
        data_quality_assertions_dataset,
        data_quality_metrics_input_dataset,
        documentation_job,
        error_message_run,
        job_type_job,
        output_statistics_output_dataset,
        ownership_job,
        parent_run,
        processing_engine_run,
        schema_dataset,
        source_code_location_job,
        sql_job,
        tags_run,
    )

    client: dict[str, Any] = {
        "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet,
        "dataQualityAssertions": (
            data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet
        ),
        "dataQualityMetricsInput": (
            data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet
        ),
        "documentation": documentation_job.DocumentationJobFacet,
        "errorMessage": error_message_run.ErrorMessageRunFacet,
        "jobType": job_type_job.JobTypeJobFacet,
        "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
        "ownership": ownership_job.OwnershipJobFacet,
        "parent": parent_run.ParentRunFacet,
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet,
        "schema": schema_dataset.SchemaDatasetFacet,
        "sourceCodeLocation": source_code_location_job.SourceCodeLocationJobFacet,
        "sql": sql_job.SQLJobFacet,
        "tags": tags_run.TagsRunFacet,
    }
    for name, cls in client.items():
        assert FACET_SCHEMAS[name] == cls._get_schema(), name
    for url in FACET_SCHEMAS.values():  # and every one is in the offline spec copy
        registry().contents(url.split("#")[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "postgresql+psycopg://etl:hunter2@db:5432/dwh",
            "postgresql+psycopg://etl:***@db:5432/dwh",
        ),
        ("CREATE USER x PASSWORD 'p@ss'", "CREATE USER x PASSWORD '***'"),
        (
            "COPY t FROM 's3://b/k' ACCESS_KEY_ID 'AKIA' SECRET_ACCESS_KEY 'abc'",
            "COPY t FROM 's3://b/k' ACCESS_KEY_ID '***' SECRET_ACCESS_KEY '***'",
        ),
        ("https://host/api?token=abc123&x=1", "https://host/api?token=***&x=1"),
        ("SELECT password_hash FROM users", "SELECT password_hash FROM users"),
    ],
)
def test_scrub_secrets(text: str, expected: str) -> None:
    assert scrub_secrets(text) == expected


def test_job_round_trip_through_the_catalog(catalog: Catalog) -> None:
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2024-06-18T03:00:00+00:00",
        "run": {"runId": "01902a50-2222-7f00-8a00-000000000001"},
        "job": {
            "namespace": "default",
            "name": "erp.silver_customers",
            "facets": {
                "jobType": {"integration": "SILVERLINE", "processingType": "BATCH"},
                "sourceCodeLocation": {"type": "file", "url": "file:///srv/jobs/erp.py#L12"},
                "documentation": {"description": "Clean customers."},
            },
        },
        "inputs": [],
        "outputs": [],
    }
    ingest_events([event], catalog)
    assert catalog.job("default", "erp.silver_customers") == Job(
        namespace="default",
        name="erp.silver_customers",
        kind="python",
        source_file="/srv/jobs/erp.py",
        description="Clean customers.",
    )


def test_in_progress_runs_add_lineage_but_never_take_it_away(catalog: Catalog) -> None:
    lines = (PRODUCERS / "spark.jsonl").read_text().splitlines()
    ingest_events(iter(lines[:3]), catalog)
    name = "erp_validation.execute_insert_into_hadoop_fs_relation_command.silver_erp_customers"
    before = (catalog.job("spark", name), catalog.edges_of_job(name))
    # The next day's run: its START names only the input, then it fails.
    start = json.loads(lines[0])
    start["run"]["runId"] = "01902a4f-0000-7a3c-8f00-5a6b7c8d9eff"
    start["eventTime"] = "2024-06-19T01:10:00Z"
    fail = {**start, "eventType": "FAIL", "eventTime": "2024-06-19T01:11:00Z", "inputs": []}
    ingest_events([start, fail], catalog)
    assert (catalog.job("spark", name), catalog.edges_of_job(name)) == before
    assert catalog.runs(name)[0].state is RunState.FAIL
