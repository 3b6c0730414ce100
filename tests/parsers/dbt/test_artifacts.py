"""``parsers.dbt.artifacts``: run_results.json / sources.json (shaped as dbt 1.10 writes
them, schema v6 / v3) -> runs, metric points and check results. The real dbt run is in
tests/lineage/cli/test_ingest_dbt.py; these cover the cases a fixture project cannot
cheaply produce (errors, skips, secrets in --vars, broken files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lineage.model import MASK, DatasetId
from lineage.views import CheckStatus, RunState
from parsers.dbt.artifacts import artifact_kind, read_artifact, read_run_results, read_sources

INVOCATION = "f8f44744-5e23-47a0-8eb9-3ee5c8084a4b"


def _node(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"resource_type": kind, "name": name, "package_name": "erp",
            "database": "DWH", "schema": "Silver", "alias": name, **extra}


MANIFEST = {
    "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
                 "adapter_type": "redshift", "project_name": "erp"},
    "nodes": {
        "model.erp.cust": _node("model", "cust", alias="erp_cust_az12"),
        "model.erp.loc": _node("model", "loc"),
        "model.erp.eph": _node("model", "eph", config={"materialized": "ephemeral"}),
        "test.erp.not_null_cust_cid.1": {
            "resource_type": "test", "name": "not_null_cust_cid", "column_name": "CID",
            "attached_node": "model.erp.cust", "test_metadata": {"name": "not_null"},
            "config": {"severity": "ERROR"}},
        "test.erp.expr.2": {
            "resource_type": "test", "name": "expr",
            "test_metadata": {"name": "expression_is_true", "namespace": "dbt_utils"},
            "depends_on": {"nodes": ["model.erp.loc"]}},
        "test.erp.orphan.3": {"resource_type": "test", "name": "orphan"},
    },
    "sources": {
        "source.erp.erp.raw": {"resource_type": "source", "name": "raw", "identifier": "RAW_T",
                               "database": "dwh", "schema": "bronze", "package_name": "erp"},
    },
}


def _timing(start: str, end: str) -> list[dict[str, str]]:
    return [{"name": "compile", "started_at": f"2024-03-02T01:00:{start}Z",
             "completed_at": f"2024-03-02T01:00:{start}Z"},
            {"name": "execute", "started_at": f"2024-03-02T01:00:{start}Z",
             "completed_at": f"2024-03-02T01:00:{end}Z"}]


def _result(unique_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"unique_id": unique_id, "status": status, "timing": _timing("01", "05"),
            "adapter_response": {}, "message": None, "failures": None, **extra}


RUN_RESULTS = {
    "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
                 "invocation_id": INVOCATION, "generated_at": "2024-03-02T01:01:00Z",
                 "invocation_started_at": "2024-03-02T01:00:00Z", "dbt_version": "1.10.0"},
    "args": {"vars": {"backfill_date": "2024-03-01", "api_password": "hunter2"},
             "invocation_command": "dbt run --vars {backfill_date: 2024-03-01}"},
    "results": [
        _result("model.erp.cust", "success",
                adapter_response={"_message": "INSERT 0 42", "rows_affected": 42}),
        _result("model.erp.loc", "error",
                message="Database Error: password=s3cr3t permission denied"),
        _result("test.erp.not_null_cust_cid.1", "fail", failures=3),
        _result("test.erp.expr.2", "skipped", timing=[]),
        _result("test.erp.orphan.3", "pass"),
        {"unique_id": "model.erp.gone", "status": "success", "timing": []},
    ],
}


@pytest.fixture
def target(tmp_path: Path) -> Path:
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    (tmp_path / "run_results.json").write_text(json.dumps(RUN_RESULTS))
    return tmp_path


def test_runs_states_timing_and_the_invocation_as_parent(target: Path) -> None:
    found = read_run_results(target / "run_results.json")
    runs = {r.job_name: r for r in found.runs}
    assert set(runs) == {"dbt-run-erp", "erp.cust", "erp.loc"}
    cust, loc = runs["erp.cust"], runs["erp.loc"]
    assert cust.state is RunState.COMPLETE and loc.state is RunState.FAIL
    assert cust.started_at is not None and cust.started_at.isoformat() == (
        "2024-03-02T01:00:01+00:00")
    assert cust.ended_at is not None and cust.ended_at.second == 5
    assert cust.facets["parent"]["run"]["runId"] == INVOCATION
    assert runs["dbt-run-erp"].run_id == INVOCATION
    assert runs["dbt-run-erp"].state is RunState.FAIL  # a model failed
    # the error text of the failed model, its password masked
    assert loc.error is not None and "s3cr3t" not in loc.error and "permission" in loc.error
    # names as the project scan gives them: the redshift dialect, lower-cased, the alias
    assert found.outputs[cust.run_id] == DatasetId("redshift", "dwh.silver.erp_cust_az12")


def test_vars_are_in_the_facets_with_secrets_masked(target: Path) -> None:
    found = read_run_results(target / "run_results.json")
    facet = next(r for r in found.runs if r.job_name == "erp.cust").facets["dbt_run"]
    assert facet["vars"] == {"backfill_date": "2024-03-01", "api_password": MASK}
    assert facet["invocation_id"] == INVOCATION and facet["status"] == "success"


def test_rows_affected_is_a_row_count_metric_of_the_model(target: Path) -> None:
    [point] = read_run_results(target / "run_results.json").metrics
    assert (point.dataset.name, point.name, point.value) == (
        "dwh.silver.erp_cust_az12", "row_count", 42.0)


def test_tests_are_checks_of_the_tested_model_and_column(target: Path) -> None:
    found = read_run_results(target / "run_results.json", namespace="redshift://dwh:5439")
    [check] = found.checks  # the skipped test has no outcome; the orphan is an issue
    assert check.dataset == DatasetId("redshift://dwh:5439", "dwh.silver.erp_cust_az12")
    # named as `lineage check` names the check it derives from the same test
    assert (check.check, check.column, check.status) == (
        "not_null(cid)", "cid", CheckStatus.FAILED)
    assert check.details["observed"] == 3 and check.details["severity"] == "error"
    assert check.details["dbt_test"] == "not_null"
    problems = " ".join(str(i) for i in found.issues)
    assert "test.erp.orphan.3" in problems and "model.erp.gone" in problems


def test_reading_twice_gives_the_same_run_ids(target: Path) -> None:
    first = read_run_results(target / "run_results.json")
    again = read_run_results(target / "run_results.json")
    assert [r.run_id for r in first.runs] == [r.run_id for r in again.runs]
    assert len({r.run_id for r in first.runs}) == 3


def test_source_freshness(target: Path) -> None:
    (target / "sources.json").write_text(json.dumps({
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json",
                     "invocation_id": "i-2"},
        "results": [
            {"unique_id": "source.erp.erp.raw", "status": "error",
             "max_loaded_at": "2024-03-01T00:00:00+00:00",
             "snapshotted_at": "2024-03-03T00:00:00+00:00",
             "max_loaded_at_time_ago_in_s": 172800.0,
             "criteria": {"error_after": {"count": 1, "period": "day"}}},
            {"unique_id": "source.erp.erp.raw", "status": "runtime error",
             "snapshotted_at": "2024-03-04T00:00:00+00:00", "error": "no such column"},
            {"unique_id": "source.erp.erp.unknown", "status": "pass",
             "snapshotted_at": "2024-03-03T00:00:00+00:00"},
        ],
    }))
    found = read_sources(target / "sources.json")
    [point] = found.metrics
    assert point.dataset == DatasetId("redshift", "dwh.bronze.raw_t")  # the identifier
    assert (point.name, point.value) == ("last_loaded_at", 1709251200.0)
    assert [(c.check, c.status, c.native_status) for c in found.checks] == [
        ("freshness", CheckStatus.ERROR, "error"),
        ("freshness", CheckStatus.ERROR, "runtime error")]
    assert [str(i) for i in found.issues] == [
        f"{target / 'sources.json'}: source.erp.erp.unknown: source not in manifest.json or "
        "no snapshotted_at"]


def test_artifacts_are_known_by_name_or_schema_version(target: Path) -> None:
    renamed = target / "backfill-2024-03-01.json"
    renamed.write_text(json.dumps(RUN_RESULTS))
    (target / "events.json").write_text('{"eventType": "START"}')
    assert artifact_kind(target / "run_results.json") == "run_results"
    assert artifact_kind(renamed) == "run_results"
    assert artifact_kind(target / "manifest.json") is None
    assert artifact_kind(target / "events.json") is None
    assert len(read_artifact(renamed).runs) == 3


def test_a_broken_file_or_missing_manifest_is_an_issue(tmp_path: Path) -> None:
    (tmp_path / "run_results.json").write_text("{not json")
    broken = read_run_results(tmp_path / "run_results.json")
    assert not broken.runs and "unreadable" in str(broken.issues[0])
    (tmp_path / "run_results.json").write_text(json.dumps(RUN_RESULTS))
    alone = read_run_results(tmp_path / "run_results.json")
    assert "manifest.json: no such file" in str(alone.issues[0])
    assert not alone.checks and not alone.metrics


def _generic(name: str, namespace: str | None = None, column: str | None = None,
             **kwargs: Any) -> dict[str, Any]:
    """A generic test node of model ``cust`` as dbt 1.10 writes it."""
    metadata: dict[str, Any] = {"name": name, "kwargs": {
        "model": "{{ get_where_subquery(ref('cust')) }}", **kwargs}}
    if column is not None:
        metadata["kwargs"]["column_name"] = column
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"resource_type": "test", "name": f"{name}_cust", "column_name": column,
            "attached_node": "model.erp.cust", "test_metadata": metadata,
            "config": {"severity": "warn" if name == "recency" else "ERROR"}}


def test_each_test_is_named_by_the_checks_lineage_check_derives_from_it(
    tmp_path: Path,
) -> None:
    tests = {
        "test.erp.range.1": _generic("accepted_range", "dbt_utils", "Amount", min_value=0,
                                     max_value=100),
        "test.erp.recency.2": _generic("recency", "dbt_utils", datepart="hour", interval=6,
                                       field="loaded_at"),
        "test.erp.rel.3": _generic("relationships", None, "cid", to="ref('loc')",
                                   field="cid"),
        "test.erp.expr.4": _generic("expression_is_true", "dbt_utils",
                                    expression="amount >= 0"),
        "test.erp.singular.5": {"resource_type": "test", "name": "assert_no_refunds",
                                "depends_on": {"nodes": ["model.erp.cust"]}},
    }
    nodes: dict[str, Any] = MANIFEST["nodes"]  # type: ignore[assignment]
    manifest = {**MANIFEST, "nodes": {**nodes, **tests}}
    statuses = ["fail", "warn", "pass", "error", "fail"]
    results = {**RUN_RESULTS, "results": [
        _result(unique_id, status, failures=2)
        for unique_id, status in zip(tests, statuses, strict=True)]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    found = read_run_results(tmp_path / "run_results.json")
    assert found.issues == []
    got = [(c.check, c.column, c.status.value, c.details.get("test_covers"))
           for c in found.checks]
    assert got == [
        # one accepted_range result is both bounds' result: dbt does not say which failed
        ("min(amount)", "amount", "failed", ["min(amount)", "max(amount)"]),
        ("max(amount)", "amount", "failed", ["min(amount)", "max(amount)"]),
        ("freshness", "loaded_at", "warning", None),  # recency: the rule's loaded-at field
        # tests Silverline does not check itself keep dbt's names
        ("relationships", "cid", "passed", None),
        ("dbt_utils.expression_is_true", None, "error", None),
        ("assert_no_refunds", None, "failed", None),
    ]
    assert {c.details["observed"] for c in found.checks} == {2}
    assert found.checks[0].details["dbt_test"] == "dbt_utils.accepted_range"
    assert "dbt_test" not in found.checks[-1].details  # a singular test is no generic test


def test_run_results_and_the_scanned_contract_name_a_test_alike(tmp_path: Path) -> None:
    """The same manifest scanned (tests -> contract checks) and its run_results ingested
    (tests -> check results): every kept test's result lands on a contract check's key."""
    from lineage.contracts import contract_from_dataset
    from parsers.dbt import load_dbt_project

    project = tmp_path / "erp"
    shutil.copytree(Path(__file__).parent / "dbt_projects" / "erp_manifest", project)
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    tests = sorted(k for k in manifest["nodes"] if k.startswith("test."))
    results = {**RUN_RESULTS, "results": [_result(t, "pass") for t in tests]}
    (project / "target" / "run_results.json").write_text(json.dumps(results))
    found = read_run_results(project / "target" / "run_results.json", namespace="sql")
    scanned = {d.id: d for d in load_dbt_project(project, namespace="sql").datasets}
    assert found.issues == [] and len(found.checks) == len(tests)
    planned: set[tuple[Any, str, str | None]] = set()
    for dataset in scanned.values():
        contract = contract_from_dataset(dataset)
        for field in contract.fields if contract else ():
            planned.update((dataset.id, c.label, c.column) for c in field.constraints)
    ingested = {(c.dataset, c.check, c.column) for c in found.checks}
    kept = {k for k in ingested if k[1] not in (
        "relationships", "dbt_utils.unique_combination_of_columns")}
    assert len(kept) == len(tests) - 2 and kept <= planned
    assert (DatasetId("sql", "dev.silver.erp_customers"), "not_null(customer_id)",
            "customer_id") in kept
