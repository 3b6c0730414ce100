"""Golden events: success, failure, retry, nesting and SQL lineage, compared with
``tests/golden/events/*.json`` (sorted keys; run ids numbered in order of appearance,
times, stack traces, paths and the client version masked). ``UPDATE_GOLDEN=1`` rewrites
the files; review the diff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage.config import ProjectConfig
from lineage.model import SqlContext
from lineage.run import configure, current_run, flush, job, reset, run
from tests.lineage.run.test_support import ValidatingSink, assert_golden


@pytest.fixture
def sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ValidatingSink]:
    for key in ("OPENLINEAGE_PARENT_ID", "OPENLINEAGE_ROOT_PARENT_ID", "OPENLINEAGE_NAMESPACE"):
        monkeypatch.delenv(key, raising=False)
    found = ValidatingSink()
    config = ProjectConfig(
        root=tmp_path,
        sql_context=SqlContext(
            dialect="redshift",
            namespace="redshift://analytics.example.com:5439",
            default_database="dev",
        ),
    )
    configure(sinks=[found], config=config, spool_dir=tmp_path / "spool", register_atexit=False)
    yield found
    reset()
    assert not found.errors, found.errors[:2]


def test_success(sink: ValidatingSink) -> None:
    @job(
        name="erp.silver_customers",
        inputs=["bronze.erp_cust_az12"],
        outputs=["silver.erp_customers"],
        owners=["data-eng"],
    )
    def build_customers(ds: str) -> int:
        """Clean today's ERP customers into silver.erp_customers."""
        return 42

    assert build_customers("2024-06-18") == 42
    flush()
    assert_golden("success", sink.events)


def test_failure(sink: ValidatingSink) -> None:
    @job(name="erp.silver_customers", inputs=["bronze.erp_cust_az12"])
    def build_customers() -> None:
        raise ValueError("birth_date out of range: 1899-12-31")

    with pytest.raises(ValueError):
        build_customers()
    flush()
    assert_golden("failure", sink.events)


def test_retry(sink: ValidatingSink) -> None:
    calls: list[int] = []

    @job(name="erp.load_locations", retries=3, retry_delay=60, sleep=lambda _: None)
    def load() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("warehouse unavailable")
        return "ok"

    with run("erp.nightly"):
        load()
    flush()
    assert_golden("retry", sink.events)


def test_nesting(sink: ValidatingSink) -> None:
    @job(name="erp.stg_cust", outputs=["staging.stg_erp_cust_az12"])
    def stage() -> None:
        return None

    @job(name="erp.silver", inputs=["staging.stg_erp_cust_az12"])
    def silver() -> None:
        stage()
        r = current_run()
        assert r is not None
        r.add_metric("row_count", 1200, dataset="staging.stg_erp_cust_az12")

    with run("erp.dag", job_namespace="airflow"):
        silver()
    flush()
    assert_golden("nesting", sink.events)


def test_sql_lineage(sink: ValidatingSink) -> None:
    @job(
        name="erp.silver_customers_sql",
        sql=(
            "INSERT INTO silver.erp_customers "
            "SELECT cid::VARCHAR(50) AS customer_id, TRY_CAST(bdate AS DATE) AS birth_date, "
            "CASE gen WHEN 'M' THEN 'Male' WHEN 'F' THEN 'Female' ELSE 'Unknown' END AS gender "
            "FROM bronze.erp_cust_az12 WHERE _airbyte_extracted_at > CURRENT_DATE - 1"
        ),
    )
    def build() -> None:
        return None

    build()
    flush()
    assert_golden("sql_lineage", sink.events)
