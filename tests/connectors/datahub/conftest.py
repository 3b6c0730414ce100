"""Fixtures of the DataHub connector tests: catalogs holding the seed's ERP pipeline.

``datahub_catalog`` is the seed's silver customers load, scanned from SQL the way
``lineage scan`` does it (``parse_sql`` + ``sql_batch``), plus what a dbt project and a
scheduler add: a dbt model with owners, tags, meta, freshness and tests, two runs and
three check results. Every DataHub test builds on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lineage.catalog import Catalog
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    DataTest,
    Field,
    Freshness,
    Job,
    LineageBatch,
    Schema,
    Transformation,
    TransformationSubtype,
)
from lineage.workspace import sql_batch
from parsers.sql import parse_sql

NS = "redshift"
BRONZE = DatasetId(NS, "bronze.erp_cust_az12")
SILVER = DatasetId(NS, "silver.erp_customers")
GOLD = DatasetId(NS, "gold.customer_age_groups")
SOURCE = DatasetId(NS, "bronze.loc_a101")
T0 = datetime(2024, 6, 18, 12, 0, tzinfo=timezone.utc)
SILVER_JOB = "sql/silver/erp_customers.sql"
DBT_JOB = "erp.customer_age_groups"

#: The seed's silver load (seed/SUMMARY.md), with the bronze table it reads.
SEED_SQL = """
CREATE TABLE bronze.erp_cust_az12 (
    _airbyte_raw_id VARCHAR(255), _airbyte_extracted_at TIMESTAMP,
    cid VARCHAR(50), gen CHAR(1), bdate VARCHAR(20)
);
CREATE TABLE silver.erp_customers (
    customer_id VARCHAR(50), birth_date DATE, gender VARCHAR(10), dwh_loaded_at TIMESTAMP
);
INSERT INTO silver.erp_customers
SELECT
    cid::VARCHAR(50) AS customer_id,
    TRY_CAST(bdate AS DATE) AS birth_date,
    CASE gen WHEN 'M' THEN 'Male' WHEN 'F' THEN 'Female' ELSE 'Unknown' END AS gender,
    CURRENT_TIMESTAMP AS dwh_loaded_at
FROM bronze.erp_cust_az12
WHERE cid IS NOT NULL;
"""

DIRECT = Transformation.direct(TransformationSubtype.TRANSFORMATION)
AGGREGATION = Transformation.direct(TransformationSubtype.AGGREGATION)
GROUP_BY = Transformation.indirect(TransformationSubtype.GROUP_BY)


def seed_batch() -> LineageBatch:
    """The seed's silver load as ``lineage scan`` records it."""
    return sql_batch(parse_sql(SEED_SQL, dialect="redshift", file=SILVER_JOB))


def dbt_batch(description: str = "Customers per age group") -> LineageBatch:
    """A dbt model over silver.erp_customers, with everything a dbt project declares."""
    gold = Dataset(
        GOLD,
        kind=DatasetKind.TABLE,
        schema=Schema((Field("age_group", "integer"), Field("customers", "bigint", "How many"))),
        description=description,
        owners=("ana@example.com", "data-platform-team"),
        tags=("gold", "pii"),
        meta=json.dumps({"tier": 1, "contains_pii": True}, sort_keys=True),
        tests=(
            DataTest("not_null", "age_group"),
            DataTest("accepted_values", "age_group", json.dumps({"values": [0, 10, 20]})),
            DataTest("unique", "age_group", severity="warn"),
        ),
        freshness=Freshness("dwh_loaded_at", "24h", "48h"),
        source_file="models/gold/customer_age_groups.sql",
    )
    source = Dataset(SOURCE, kind=DatasetKind.SOURCE, description="Customer locations")
    job = Job(
        namespace=NS,
        name=DBT_JOB,
        kind="dbt_model",
        sql="SELECT FLOOR(DATEDIFF(year, birth_date, CURRENT_DATE) / 10) * 10 AS age_group, "
        "COUNT(*) AS customers FROM silver.erp_customers GROUP BY 1",
        source_file="models/gold/customer_age_groups.sql",
        owners=("ana@example.com",),
        description=description,
        inputs=(SILVER,),
        outputs=(GOLD,),
    )
    edges = (
        ColumnEdge(ColumnId(SILVER, "birth_date"), GOLD, "age_group", (DIRECT,), DBT_JOB),
        ColumnEdge(ColumnId(SILVER, "customer_id"), GOLD, "customers", (AGGREGATION,), DBT_JOB),
        ColumnEdge(ColumnId(SILVER, "birth_date"), GOLD, None, (GROUP_BY,), DBT_JOB),
    )
    return LineageBatch((gold, source), (job,), edges)


def record_events(catalog: Catalog) -> None:
    """Two runs of the silver load (one failed) and three check results."""
    catalog.record_run("run-ok-1", SILVER_JOB, "START", T0)
    catalog.record_run("run-ok-1", SILVER_JOB, "COMPLETE", T0 + timedelta(minutes=5))
    catalog.record_run("run-bad-2", SILVER_JOB, "START", T0 + timedelta(days=1))
    catalog.record_run(
        "run-bad-2",
        SILVER_JOB,
        "FAIL",
        T0 + timedelta(days=1, minutes=2),
        {"errorMessage": {"message": "division by zero"}},
    )
    catalog.record_run("run-now-3", DBT_JOB, "START", T0 + timedelta(days=2))
    catalog.record_check_result(GOLD, "not_null", "pass", T0 + timedelta(minutes=6), "age_group")
    catalog.record_check_result(
        GOLD, "unique", "warn", T0 + timedelta(minutes=6), "age_group", "run-ok-1", {"dupes": 2}
    )
    catalog.record_check_result(
        SILVER, "row_count_vs_7d", "fail", T0 + timedelta(minutes=7), details={"change": -0.4}
    )


@pytest.fixture
def datahub_catalog(tmp_path: Path) -> Iterator[Catalog]:
    """The seed pipeline, a dbt model, runs and check results, in a SQLite catalog."""
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as catalog:
        catalog.write(seed_batch())
        catalog.write(dbt_batch())
        record_events(catalog)
        yield catalog
