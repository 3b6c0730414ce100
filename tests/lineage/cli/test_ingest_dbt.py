"""``lineage ingest`` of real dbt artifacts: a fixture project built by dbt-core and
dbt-duckdb (and wrapped by ``dbt-ol`` when openlineage-dbt is installed), scanned by
``lineage scan`` and ingested into one catalog.

dbt starts slowly, so one module fixture runs it once (``build``: seed, models and tests in
one invocation, then ``source freshness``) and every test reads the same catalog.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lineage.catalog import Catalog
from lineage.cli import app
from lineage.contracts import contract_from_dataset
from lineage.model import DatasetId
from lineage.views import CheckStatus, RunState

BIN = Path(sys.executable).parent
DBT = BIN / "dbt"
DBT_OL = BIN / "dbt-ol"
HAS_DBT_OL = DBT_OL.is_file() and importlib.util.find_spec("openlineage.common") is not None
pytestmark = pytest.mark.skipif(not DBT.is_file(), reason="dbt-core is not installed")
runner = CliRunner()

# The raw table is made by a hook, so `dbt build` finds it before the staging model runs
# (a seed as the source would race the model that reads it). One id is duplicated and one
# gender is dirty: `unique` (severity warn) warns, `accepted_values` fails.
RAW_TABLE = (
    "create table if not exists main.raw_cust as select * from (values "
    "('AW00011000', date '1971-10-06', 'M', timestamp '2024-01-01 00:00:00'), "
    "('AW00011001', date '1976-05-10', 'F', timestamp '2024-01-01 00:00:00'), "
    "('AW00011002', date '1971-02-09', 'X', timestamp '2024-01-01 00:00:00'), "
    "('AW00011002', date '1976-08-01', 'M', timestamp '2024-01-01 00:00:00')) "
    "as t(cid, bdate, gen, loaded_at)"
)
FILES = {
    "dbt_project.yml": f"""
name: erp_fixture
version: "1.0"
profile: erp_fixture
config-version: 2
vars:
  backfill_date: "2024-01-01"
on-run-start:
  - "{RAW_TABLE}"
""",
    "profiles.yml": """
erp_fixture:
  target: dev
  outputs:
    dev: {type: duckdb, path: dev.duckdb, schema: main, threads: 1}
""",
    "seeds/gender_map.csv": "code,label\nM,Male\nF,Female\nU,Unknown\n",
    "models/staging/sources.yml": """
version: 2
sources:
  - name: erp
    schema: main
    loaded_at_field: loaded_at
    freshness: {warn_after: {count: 1, period: day}}
    tables: [{name: raw_cust}]
""",
    "models/staging/stg_cust.sql": "select cid, bdate, gen, loaded_at "
    "from {{ source('erp', 'raw_cust') }}\n",
    "models/silver/silver_cust.sql": """
{{ config(materialized='table') }}
select s.cid as customer_id, s.bdate as birth_date, coalesce(g.label, s.gen) as gender,
       '{{ var("backfill_date") }}' as batch_date
from {{ ref('stg_cust') }} as s left join {{ ref('gender_map') }} as g on g.code = s.gen
""",
    "models/silver/schema.yml": """
version: 2
models:
  - name: silver_cust
    columns:
      - name: customer_id
        tests: [not_null, {unique: {config: {severity: warn}}}]
      - name: gender
        tests: [{accepted_values: {values: ['Male', 'Female']}}]
      - name: birth_date
        meta: {pii: true}
        tests: [not_null]
""",
}
BACKFILL = '{backfill_date: "2024-03-01"}'
JOB = "erp_fixture.silver_cust"
CHECKS = {("not_null(customer_id)", "customer_id"), ("unique(customer_id)", "customer_id"),
          ("accepted_values(gender)", "gender"), ("not_null(birth_date)", "birth_date")}


@dataclass
class Built:
    root: Path
    catalog_url: str
    namespace: str
    scanned: set[DatasetId]
    first: dict[str, Any]
    second: dict[str, Any]
    events: Path | None


def _dbt(root: Path, *args: str, env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode not in (0, 1):  # 1: a test failed, as the fixture means it to
        pytest.fail(f"{args[0]} {args[1]} exited {done.returncode}:\n{done.stdout[-3000:]}")


def _cli(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("dbt_erp")
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text.lstrip(), encoding="utf-8")
    events = root / "openlineage.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENLINEAGE", "DBT_"))}
    env |= {
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",  # dbt-ol runs the dbt on PATH
        "HOME": str(root),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "OPENLINEAGE__TRANSPORT__TYPE": "file",
        "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH": str(events),
        "OPENLINEAGE__TRANSPORT__APPEND": "true",
    }
    build = [str(DBT_OL if HAS_DBT_OL else DBT), "build", "--profiles-dir", ".", "-q"]
    _dbt(root, *build, "--vars", BACKFILL, env=env)
    _dbt(root, str(DBT), "source", "freshness", "--profiles-dir", ".", "-q", env=env)
    # dbt-duckdb names the database file's datasets `duckdb://<path as configured>` in
    # dbt-ol; the scan and the ingest are given that namespace so all three meet.
    namespace = "duckdb://dev.duckdb"
    url = f"sqlite:///{root / 'catalog.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("HOME", str(root))
        patch.delenv("LINEAGE_CATALOG_URL", raising=False)
        _cli("scan", str(root), "--namespace", namespace, "--catalog", url)
        with Catalog(url) as catalog:
            scanned = {d.id for d in catalog.datasets()}
        target = root / "target"
        files = [str(target / "run_results.json"), str(target / "sources.json")]
        first = _cli("ingest", *files, "--namespace", namespace, "--catalog", url)
        second = _cli("ingest", *files, "--namespace", namespace, "--catalog", url)
        yield Built(root, url, namespace, scanned, first, second,
                    events if HAS_DBT_OL and events.is_file() else None)


@pytest.fixture
def catalog(built: Built) -> Iterator[Catalog]:
    with Catalog(built.catalog_url) as found:
        yield found


def _run_results_ids(built: Built) -> set[str]:
    """The run ids the run_results ingest gives dbt's test results."""
    from parsers.dbt.artifacts import read_run_results

    return {c.run_id for c in read_run_results(built.root / "target" / "run_results.json",
                                               namespace=built.namespace).checks if c.run_id}


def _facet(run: Any) -> dict[str, Any]:
    facet: dict[str, Any] = run.facets["dbt_run"]
    return facet


def test_one_run_per_model_with_status_timing_parent_and_vars(
    built: Built, catalog: Catalog
) -> None:
    runs = {r.job_name: r for r in catalog.runs(limit=50)}
    assert {JOB, "erp_fixture.stg_cust", "erp_fixture.gender_map",
            "dbt-run-erp_fixture"} <= set(runs)
    invocation = json.loads((built.root / "target" / "run_results.json").read_text())[
        "metadata"]["invocation_id"]
    silver = runs[JOB]
    assert silver.state is RunState.COMPLETE
    assert silver.started_at is not None and silver.ended_at is not None
    assert silver.started_at < silver.ended_at
    assert silver.facets["parent"]["run"]["runId"] == invocation
    assert _facet(silver)["vars"] == {"backfill_date": "2024-03-01"}  # the backfill's date
    assert _facet(silver)["outputs"] == [
        {"namespace": built.namespace, "name": "dev.main.silver_cust"}]
    parent = runs["dbt-run-erp_fixture"]
    assert parent.run_id == invocation
    assert parent.state is RunState.FAIL  # accepted_values failed in this invocation
    seed_rows = catalog.metrics(DatasetId(built.namespace, "dev.main.gender_map"), "row_count")
    assert [p.value for p in seed_rows] == [3.0]  # rows_affected of the seed's INSERT


def test_test_results_are_checks_of_the_tested_columns(built: Built, catalog: Catalog) -> None:
    silver = DatasetId(built.namespace, "dev.main.silver_cust")
    found = {(c.check, c.column): c for c in catalog.check_results(silver)
             if c.run_id in _run_results_ids(built)}
    # named as `lineage check` names the checks it derives from the same dbt tests
    assert set(found) == CHECKS
    assert found["not_null(customer_id)", "customer_id"].status is CheckStatus.PASSED
    assert found["unique(customer_id)", "customer_id"].status is CheckStatus.WARNING
    assert found["unique(customer_id)", "customer_id"].details["observed"] == 1  # one dup id
    assert found["accepted_values(gender)", "gender"].status is CheckStatus.FAILED
    assert found["accepted_values(gender)", "gender"].native_status == "fail"
    assert found["accepted_values(gender)", "gender"].details["observed"] == 1  # 'X'
    assert found["accepted_values(gender)", "gender"].details["dbt_test"] == "accepted_values"
    # ... and they are exactly the checks of the scanned model's contract
    dataset = catalog.dataset(silver)
    assert dataset is not None
    contract = contract_from_dataset(dataset)
    assert contract is not None
    assert {(c.label, c.column) for c in contract.constraints} == CHECKS


def test_a_pii_column_of_schema_yml_is_sensitive_in_the_scanned_contract(
    built: Built, catalog: Catalog
) -> None:
    # `lineage scan` read dbt's own target/manifest.json here (dbt build wrote it)
    dataset = catalog.dataset(DatasetId(built.namespace, "dev.main.silver_cust"))
    assert dataset is not None
    assert json.loads(dataset.meta)["columns"] == {"birth_date": {"meta": {"pii": True}}}
    contract = contract_from_dataset(dataset)
    assert contract is not None
    assert {f.name for f in contract.fields if f.sensitive} == {"birth_date"}


def test_source_freshness_is_a_metric_and_a_check(built: Built, catalog: Catalog) -> None:
    raw = DatasetId(built.namespace, "dev.main.raw_cust")
    loaded = catalog.metrics(raw, "last_loaded_at")
    assert [p.value for p in loaded] == [1704067200.0]  # 2024-01-01T00:00:00Z
    [check] = [c for c in catalog.check_results(raw) if c.check == "freshness"]
    assert check.status is CheckStatus.WARNING  # older than warn_after: 1 day


def test_ingesting_the_same_artifacts_twice_records_nothing_new(built: Built) -> None:
    assert built.first["metrics"] == 2 and built.first["checks"] == 5
    assert built.second["metrics"] == 0 and built.second["checks"] == 0
    assert built.second["runs"] == built.first["runs"] == 4
    with Catalog(built.catalog_url) as catalog:
        assert len(catalog.runs(limit=50)) == 4


def test_runs_metrics_and_checks_land_on_the_scanned_datasets(
    built: Built, catalog: Catalog
) -> None:
    # The ingest added no dataset the scan did not know: they name the models alike.
    assert {d.id for d in catalog.datasets()} == built.scanned
    for run in catalog.runs(limit=50):
        if run.job_name.startswith("dbt-run-") or run.job_name.endswith("gender_map"):
            continue  # the invocation and the seed have no job in the scan
        job = catalog.job(built.namespace, run.job_name)
        assert job is not None, run.job_name
        assert [o.to_dict() for o in job.outputs] == _facet(run)["outputs"]


@pytest.mark.skipif(not HAS_DBT_OL, reason="openlineage-dbt (dbt-ol) is not installed")
def test_dbt_ol_events_join_the_same_datasets(built: Built) -> None:
    assert built.events is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(built.root)
        report = _cli("ingest", str(built.events), "--catalog", built.catalog_url)
    assert report["issues"] == [] and report["events"] >= 4
    with Catalog(built.catalog_url) as catalog:
        assert {d.id for d in catalog.datasets()} == built.scanned
        ol_runs = [r for r in catalog.runs(limit=50) if r.job_name.endswith(".build.run")]
        assert ol_runs and all(r.state is RunState.COMPLETE for r in ol_runs)
        # dbt-ol's own column lineage (its job, not the scan's) between the scanned datasets
        edges = {(e.source.dataset, e.target) for e in catalog.column_edges()
                 if (e.job or "").endswith(".build.run")}
    silver = DatasetId(built.namespace, "dev.main.silver_cust")
    assert (DatasetId(built.namespace, "dev.main.stg_cust"), silver) in edges
    # dbt-ol's assertions (bare `not_null` + column) land on the same check names
    with Catalog(built.catalog_url) as catalog:
        from_ol = {(c.check, c.column) for c in catalog.check_results(silver)
                   if c.run_id not in _run_results_ids(built)}
    assert from_ol == CHECKS


def test_target_folder_ingests_its_artifacts(built: Built, tmp_path: Path) -> None:
    copy = tmp_path / "target"
    shutil.copytree(built.root / "target", copy, ignore=shutil.ignore_patterns("*.msgpack",
                                                                              "compiled", "run"))
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        report = _cli("ingest", str(copy), "--catalog", url)
    assert report["runs"] == 4 and report["checks"] == 5 and report["issues"] == []
    with Catalog(url) as catalog:  # no --namespace, no lineage.yml: the adapter's dialect
        assert catalog.dataset(DatasetId("duckdb", "dev.main.silver_cust")) is not None


def test_great_expectations_validation_results_become_check_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from lineage.catalog import Catalog
    from lineage.cli import app
    from lineage.model import Dataset, DatasetId, LineageBatch

    fixture = Path(__file__).resolve().parents[2] / "parsers" / "contracts" / "fixtures"
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    silver = DatasetId("dwh", "analytics.silver.erp_cust_az12")
    with Catalog(url) as catalog:
        catalog.write(LineageBatch(datasets=(Dataset(silver),)))
    monkeypatch.setenv("LINEAGE_CATALOG_URL", url)
    runner = CliRunner()
    args = ["ingest", str(fixture / "erp_customers_validation.json"), "--format", "json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["checks"] > 0
    again = runner.invoke(app, args)  # the same file twice records nothing twice
    assert json.loads(again.stdout)["checks"] == 0
    with Catalog(url) as catalog:
        results = {(r.check, r.status.value) for r in catalog.check_results(silver)}
    assert any(status == "passed" for _, status in results)
    assert any(status == "failed" for _, status in results)
    # Without a data asset the catalog knows, the dataset is given on the command line.
    unknown = runner.invoke(app, [*args, "--dataset", "nowhere.table"])
    assert unknown.exit_code == 1
