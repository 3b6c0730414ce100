"""A small ERP catalog for the docs-site tests: bronze -> silver -> gold with column
lineage over two hops, runs, metrics, checks, a bronze file layout, a contract, a runbook
note, and hostile text (``<script>``) in a description, a column name and the note."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lineage.catalog import Catalog
from lineage.contracts import (
    Constraint,
    ConstraintKind,
    Contract,
    ContractField,
    QualityRule,
    RuleKind,
    Source,
)
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    DataTest,
    Field,
    FileLayout,
    FilePartition,
    Finding,
    Job,
    LineageBatch,
    LiveColumn,
    LiveTable,
    Observation,
    Schema,
    Transformation,
    TransformationSubtype,
)

NS = "duckdb:///data/erp.duckdb"
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
BRONZE = DatasetId(NS, "erp.bronze.erp_cust_az12")
SILVER = DatasetId(NS, "erp.silver.erp_customers")
GOLD = DatasetId(NS, "erp.gold.dim_customers")
HOSTILE = DatasetId(NS, "erp.silver.hostile")
XSS = "<script>alert(1)</script>"
IDENTITY = Transformation.direct(TransformationSubtype.IDENTITY)
CAST = Transformation.direct(TransformationSubtype.TRANSFORMATION)
CONDITIONAL = Transformation.indirect(TransformationSubtype.CONDITIONAL)
FILTER = Transformation.indirect(TransformationSubtype.FILTER)
NOTE = (
    "# When the load is late\n\nCall **data-eng** first. <img src=x onerror=alert(2)>\n\n"
    "- check `erp.bronze.erp_cust_az12`\n- [bad link](javascript:alert(3))\n"
)


def contract() -> Contract:
    src = Source("contracts/erp_customers.yml", 1)
    return Contract(
        source=src, kind="seed", stem="erp_customers", dataset="silver.erp_customers",
        fields=(
            ContractField("customer_id", "varchar(50)", required=True, primary_key=True,
                          constraints=(Constraint(ConstraintKind.NOT_NULL, "customer_id"),
                                       Constraint(ConstraintKind.UNIQUE, "customer_id"))),
            ContractField("gender", constraints=(Constraint(
                ConstraintKind.ACCEPTED_VALUES, "gender", ("Male", "Female", "n/a")),)),
        ),
        rules=(QualityRule(RuleKind.FRESHNESS, column="loaded_at", max_age_seconds=86400),),
        owners=("data-eng",),
    )  # fmt: skip


def fill(catalog: Catalog) -> None:
    """Write the whole ERP example into ``catalog``."""
    bronze = Dataset(BRONZE, DatasetKind.SOURCE, Schema((
        Field("cid", "varchar", "ERP customer key"), Field("bdate", "varchar"),
        Field("gen", "varchar", "Gender code as typed in the ERP"), Field("loaded_at", "timestamp"),
    )), description="Raw ERP customers", owners=("ingest-team",), tags=("erp", "pii"))  # fmt: skip
    silver = Dataset(SILVER, DatasetKind.TABLE, Schema((
        Field("customer_id", "varchar(50)"), Field("birth_date", "date", "Birth date, cleaned"),
        Field("gender", "varchar"), Field("loaded_at", "timestamp"),
    )), description="Cleaned ERP customers", owners=("data-eng",),
        meta='{"materialized": "incremental", "schedule": "daily 05:00 UTC"}',
        tests=(DataTest("not_null", "customer_id"),), source_file="models/silver/erp_customers.sql",
    )  # fmt: skip
    gold = Dataset(GOLD, DatasetKind.VIEW, Schema((
        Field("customer_id", "varchar(50)"), Field("birth_date", "date"),
        Field("gender", "varchar", "Male / Female / n/a"),
    )), owners=("analytics",), source_file="models/gold/dim_customers.sql")  # fmt: skip
    hostile = Dataset(HOSTILE, DatasetKind.TABLE, Schema((Field(XSS, "text", XSS),)),
                      description=f'{XSS} "><img src=x onerror=alert(4)> {{{{ 7*7 }}}}',
                      tags=("javascript:alert(5)",),
                      meta='{"password": "hunter2", "dsn": "postgresql://etl:pw123@db/x"}',
                      )  # fmt: skip
    silver_job = Job(NS, "erp.silver_customers", kind="dbt_model",
                     sql="SELECT cid AS customer_id, TRY_CAST(bdate AS DATE) AS birth_date,\n"
                         "  CASE WHEN gen = 'M' THEN 'Male' ELSE 'n/a' END AS gender -- clean\n"
                         "FROM bronze.erp_cust_az12 WHERE cid <> '<x>'",
                     owners=("data-eng",), inputs=(BRONZE,), outputs=(SILVER,))  # fmt: skip
    gold_job = Job(NS, "erp.dim_customers", kind="dbt_model", sql="SELECT * FROM silver",
                   owners=("analytics",), inputs=(SILVER,), outputs=(GOLD,))  # fmt: skip
    load_job = Job(NS, "erp.load_bronze", kind="python", outputs=(BRONZE,),
                   source_file="pipelines/load.py", owners=("ingest-team",))  # fmt: skip
    edges = (
        ColumnEdge(ColumnId(BRONZE, "cid"), SILVER, "customer_id", (IDENTITY,), silver_job.name),
        ColumnEdge(ColumnId(BRONZE, "bdate"), SILVER, "birth_date", (CAST,), silver_job.name),
        ColumnEdge(ColumnId(BRONZE, "gen"), SILVER, "gender", (CAST, CONDITIONAL),
                   silver_job.name),
        ColumnEdge(ColumnId(BRONZE, "loaded_at"), SILVER, "loaded_at", (IDENTITY,),
                   silver_job.name),
        ColumnEdge(ColumnId(BRONZE, "cid"), SILVER, None, (FILTER,), silver_job.name),
        ColumnEdge(ColumnId(SILVER, "customer_id"), GOLD, "customer_id", (IDENTITY,),
                   gold_job.name),
        ColumnEdge(ColumnId(SILVER, "birth_date"), GOLD, "birth_date", (IDENTITY,), gold_job.name),
        ColumnEdge(ColumnId(SILVER, "gender"), GOLD, "gender", (IDENTITY,), gold_job.name),
    )  # fmt: skip
    catalog.write(LineageBatch((bronze, silver, gold, hostile), (silver_job, gold_job, load_job),
                               edges), observed_at=T0)  # fmt: skip
    layout = FileLayout("parquet", "s3://lake/bronze/erp/cust_az12", ("year", "month"), (
        FilePartition((("year", "2026"), ("month", "10")), 40, 40 * 9_000, 4000, 8_000, 10_000),
        FilePartition((("year", "2026"), ("month", "11")), 2, 2 * 50_000_000, 900_000,
                      49_000_000, 51_000_000),
    ))  # fmt: skip
    live = LiveTable(BRONZE, DatasetKind.EXTERNAL, (
        LiveColumn("cid", "VARCHAR", nullable=False, primary_key=True),
        LiveColumn("bdate", "VARCHAR", nullable=True), LiveColumn("gen", "VARCHAR"),
        LiveColumn("loaded_at", "TIMESTAMP"), LiveColumn("year", "INTEGER", partition=True),
        LiveColumn("month", "INTEGER", partition=True),
    ), layout=layout)  # fmt: skip
    finding = Finding(BRONZE, "small_files", "40 files under 128 KB in year=2026/month=10")
    catalog.record_observation(Observation("s3://lake/bronze", (live,), (), (finding,)),
                               observed_by="files:s3://lake/bronze", observed_at=T0)  # fmt: skip
    live_silver = LiveTable(SILVER, DatasetKind.TABLE, (
        LiveColumn("customer_id", "VARCHAR(50)", nullable=False, primary_key=True),
        LiveColumn("birth_date", "DATE", nullable=True, default="NULL"),
        LiveColumn("gender", "VARCHAR", nullable=True), LiveColumn("loaded_at", "TIMESTAMP"),
    ))  # fmt: skip
    catalog.record_observation(Observation("duckdb:///data/erp.duckdb", (live_silver,)),
                               observed_by="warehouse:duckdb:///data/erp.duckdb",
                               observed_at=T0)  # fmt: skip
    for day in range(8):
        moment = T0 + timedelta(days=day)
        catalog.record_metric(SILVER, "row_count", 1000 + 25 * day, moment)
        catalog.record_metric(SILVER, "last_loaded_at", (moment - timedelta(hours=2)).timestamp(),
                              moment, column="loaded_at")  # fmt: skip
        catalog.record_run(f"run-{day}", silver_job.name, "START", moment)
        catalog.record_run(f"run-{day}", silver_job.name, "COMPLETE", moment + timedelta(minutes=3))
    catalog.record_run("load-1", load_job.name, "START", T0 + timedelta(days=8))
    catalog.record_run("load-1", load_job.name, "FAIL", T0 + timedelta(days=8, minutes=1),
                       {"errorMessage": {"message": "S3 access denied", "programmingLanguage":
                                         "python"}})  # fmt: skip
    catalog.record_check_result(SILVER, "not_null(customer_id)", "passed", T0 + timedelta(days=7),
                                column="customer_id", run_id="run-7")  # fmt: skip
    catalog.record_check_result(SILVER, "freshness", "failed", T0 + timedelta(days=8),
                                details={"observed": "26h", "threshold": "<= 1d",
                                         "message": "stale"})  # fmt: skip
