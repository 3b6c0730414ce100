"""``examples/erp/airflow/erp_pipeline.py``, the seed's DAG, under real Airflow 3.

A copy of examples/erp (so the run writes nothing into the repo) runs with ``airflow dags
test erp_pipeline`` from a folder outside the project: the DAG's ``pre_execute`` hook must
still name datasets and send events as the ERP project's lineage.yml says.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from lineage.catalog import Catalog
from lineage.model import DatasetId
from lineage.views import RunState

from .helpers import ingest, parent_of, ref_of, root_of, tags_of

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "erp"
DAG_ID = "erp_pipeline"
TASKS = {  # task id -> our job name
    "extract": "erp.extract",
    "register_bronze": "erp.register_bronze",
    "transform_erp_data": "erp.transform_erp_data",
    "quality_check": "erp.quality_check",
}
MODELS = (
    "erp.stg_erp_cust_az12",
    "erp.stg_loc_a101",
    "erp.erp_customers",
    "erp.erp_customer_locations",
    "erp.customer_age_groups",
)


def test_the_seed_dag_runs_with_our_runs_under_the_provider_task_runs(
    dag_test: Any, tmp_path: Path
) -> None:
    erp = tmp_path / "erp"
    shutil.copytree(
        EXAMPLE,
        erp,
        ignore=shutil.ignore_patterns(
            ".lineage", "bronze", "site", "target", "logs", "__pycache__"
        ),
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    run = dag_test(DAG_ID, erp / "airflow", work)
    print(f"airflow dags test {DAG_ID}: {run.seconds:.1f} s")

    [dag_run] = run.provider_runs(DAG_ID, "COMPLETE")
    provider = {}
    for task_id in TASKS:
        [start] = run.provider_runs(f"{DAG_ID}.{task_id}")
        assert len(run.provider_runs(f"{DAG_ID}.{task_id}", "COMPLETE")) == 1
        provider[task_id] = ref_of(start)

    duckdb = f"duckdb://{erp.resolve() / '.lineage' / 'erp.duckdb'}"
    with Catalog(run.catalog_url) as catalog:
        ours = {}
        for task_id, job_name in TASKS.items():
            [ours[task_id]] = catalog.runs(job_name)
            assert ours[task_id].state is RunState.COMPLETE
            assert parent_of(ours[task_id].facets) == provider[task_id], task_id
            assert root_of(ours[task_id].facets) == ref_of(dag_run)
        # Airflow's 3 retries (4 tries), times the 4 attempts erp.extract has of its own.
        assert tags_of(ours["register_bronze"].facets) == {"attempt": "1", "max_attempts": "4"}
        assert tags_of(ours["extract"].facets) == {"attempt": "1", "max_attempts": "16"}

        # Each model built inside the transform task is a child of our task run.
        transform = ours["transform_erp_data"]
        for model in MODELS:
            [model_run] = catalog.runs(model)
            assert parent_of(model_run.facets) == ("default", transform.job_name, transform.run_id)
            assert root_of(model_run.facets) == ref_of(dag_run)

        # The project's lineage.yml named the tables though the run was elsewhere.
        jobs = {job.name: job for job in catalog.jobs()}
        assert DatasetId(duckdb, "erp.silver.erp_customers") in jobs["erp.erp_customers"].outputs
    assert list((erp / ".lineage" / "events").glob("*.jsonl"))
    assert not (work / ".lineage").exists()

    ingest(run.events_file, run.catalog_url)
    with Catalog(run.catalog_url) as catalog:
        jobs = {job.name: job for job in catalog.jobs()}
        ids = [d.id for d in catalog.datasets()]
        for folder in ("cust_az12", "loc_a101"):
            bronze = DatasetId("file", str(erp.resolve() / "bronze" / "erp" / folder))
            assert bronze in jobs["erp.extract"].outputs
            assert bronze in jobs[f"{DAG_ID}.extract"].outputs
            assert bronze in jobs["erp.register_bronze"].inputs
            assert bronze in jobs[f"{DAG_ID}.register_bronze"].inputs
            assert ids.count(bronze) == 1
