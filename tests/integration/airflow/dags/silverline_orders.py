"""A small DAG for tests/integration/airflow: both decorator orders and a retried task.

``land`` is ``@task`` over ``@lineage.job`` and fails on its first try (Airflow retries
it); ``build`` is ``@lineage.job`` over ``@task``. The bronze folder is an Airflow asset
of both, so the provider's events name the dataset our runs name. Runs inside the venv
of ``conftest.py``; ``SILVERLINE_TEST_DATA`` is the test's data folder.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Asset, dag, get_current_context, task

import lineage

DATA = Path(os.environ["SILVERLINE_TEST_DATA"])
BRONZE = DATA / "bronze" / "orders"


@dag(dag_id="silverline_orders", schedule=None, start_date=datetime(2024, 6, 1), catchup=False)
def silverline_orders() -> None:
    @task(retries=2, retry_delay=timedelta(seconds=0), outlets=[Asset(BRONZE.as_uri())])
    @lineage.job(name="orders.land", outputs=[str(BRONZE)])
    def land() -> str:
        BRONZE.mkdir(parents=True, exist_ok=True)
        if get_current_context()["ti"].try_number == 1:
            raise RuntimeError("the source was not ready")
        (BRONZE / "part-0.csv").write_text("id\n1\n", encoding="utf-8")
        return str(BRONZE)

    @lineage.job(name="orders.build", inputs=[str(BRONZE)], outputs=["silver.orders"])
    @task(inlets=[Asset(BRONZE.as_uri())])
    def build(folder: str) -> int:
        rows = (Path(folder) / "part-0.csv").read_text(encoding="utf-8").splitlines()[1:]
        lineage.current_run().add_metric("row_count", len(rows), "silver.orders")
        return len(rows)

    build(land())


silverline_orders()
