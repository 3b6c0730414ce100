"""The seed's Airflow DAG (``airflow/dags/erp_pipeline.py``) on Airflow 3, with lineage.

The seed wraps ``dbt run --select silver.erp_cust_az12`` in ``@task(retries=3,
retry_delay=60)`` with exponential back-off. Here the same task builds the ERP example's
models the way ``examples/erp/pipeline.py`` does (dbt-style SQL on DuckDB, no dbt needed),
between landing bronze and the quality check, each step a task of its own::

    extract >> register_bronze >> transform_erp_data >> quality_check

Every task is also a ``@lineage.job``, in both decorator orders (``task(...)`` over the
pipeline's decorated steps, ``@lineage.job`` over ``@task`` for the transform). With
``apache-airflow-providers-openlineage`` installed, each of our runs is a child of the
provider's task run (``erp_pipeline.<task_id>``) and the DAG run is their root; the
models' runs inside ``transform_erp_data`` are children of that task's run. The bronze
folders are the tasks' Airflow assets too, so the provider's events name the same
``file`` datasets as ours.

Try it without a scheduler (``pip install 'silverline[airflow]'``)::

    export AIRFLOW_HOME=/tmp/airflow AIRFLOW__CORE__DAGS_FOLDER=examples/erp/airflow
    export AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "file",
        "log_file_path": "/tmp/airflow/events.jsonl", "append": true}'
    airflow db migrate && airflow dags test erp_pipeline
    lineage ingest /tmp/airflow/events.jsonl     # from examples/erp: same catalog
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, dag, task

import lineage

ERP = Path(__file__).resolve().parents[1]  # examples/erp: lineage.yml, pipeline.py


def _load_pipeline() -> Any:
    # The example's steps, loaded by path (examples/ is not a package) under a name of
    # its own, once per process (the DAG processor and each task runner import this file).
    name = "silverline_erp_pipeline"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ERP / "pipeline.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


pipeline = _load_pipeline()
BRONZE = [Asset(folder.as_uri()) for folder in pipeline.SOURCES.values()]
_configured = False


def _use_erp_project(context: Any) -> None:
    """Airflow's ``pre_execute`` hook: name datasets and send events as the ERP project
    does (its lineage.yml), whatever folder the worker runs in. Once per process."""
    global _configured
    if not _configured:
        from lineage.config import load_config

        lineage.run.configure(config=load_config(ERP))
        _configured = True


# The seed's retry policy: 3 retries, 60 s apart, doubling.
RETRIES = {
    "retries": 3,
    "retry_delay": timedelta(seconds=60),
    "retry_exponential_backoff": True,
}


@dag(
    dag_id="erp_pipeline",
    schedule="@daily",
    start_date=datetime(2024, 6, 1),
    catchup=False,
    default_args={"pre_execute": _use_erp_project, **RETRIES},
    tags=["erp", "silverline"],
)
def erp_pipeline() -> None:
    # @task over @lineage.job: the pipeline's steps are decorated jobs already.
    extract = task(task_id="extract", outlets=BRONZE)(pipeline.extract)
    register_bronze = task(task_id="register_bronze", inlets=BRONZE)(pipeline.register_bronze)

    # @lineage.job over @task: the seed's task around `dbt run`; each model built inside
    # is a run of its own, a child of this one.
    @lineage.job(name="erp.transform_erp_data", owners=["silver-team@example.com"])
    @task(task_id="transform_erp_data")
    def transform_erp_data() -> None:
        """Build the staging, silver and gold models in dependency order."""
        pipeline.transform()

    quality_check = task(task_id="quality_check")(pipeline.quality_check)

    extract() >> register_bronze() >> transform_erp_data() >> quality_check()


erp_dag = erp_pipeline()

if __name__ == "__main__":
    erp_dag.test()
