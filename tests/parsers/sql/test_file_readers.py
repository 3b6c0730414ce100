"""Files read straight from SQL are inputs, named as OpenLineage names file datasets:
DuckDB's read_parquet / read_csv / iceberg_scan and ``FROM 's3://...'``, Spark's
``parquet.`path```; partition globs fold to the dataset's root."""

from __future__ import annotations

import pytest

from lineage.model import DatasetId
from parsers.sql import parse_sql

CUST = DatasetId("s3://company-datalake", "bronze/erp/cust_az12")


@pytest.mark.parametrize(
    ("dialect", "sql", "dataset"),
    [
        ("duckdb", "SELECT cid, bdate FROM read_parquet("
                   "'s3://company-datalake/bronze/erp/cust_az12/year=*/month=*/*.parquet', "
                   "hive_partitioning = true)", CUST),
        ("duckdb", "SELECT cid, bdate FROM 's3://company-datalake/bronze/erp/cust_az12/**'",
         CUST),
        ("duckdb", "SELECT cid, bdate FROM parquet_scan("
                   "'s3://company-datalake/bronze/erp/cust_az12/year=2024/month=01/a.parquet')",
         CUST),
        ("spark", "SELECT cid, bdate FROM parquet.`s3a://company-datalake/bronze/erp/cust_az12`",
         CUST),
        ("duckdb", "SELECT cid, bdate FROM iceberg_scan('s3://company-datalake/bronze/erp/"
                   "cust_az12')", CUST),
        ("duckdb", "SELECT cid, bdate FROM read_csv('/landing/erp/cust_az12/*.csv')",
         DatasetId("file", "/landing/erp/cust_az12")),
    ],
)  # fmt: skip
def test_files_read_in_sql_are_the_inputs(dialect: str, sql: str, dataset: DatasetId) -> None:
    [statement] = parse_sql(f"CREATE TABLE silver.s AS {sql}", dialect=dialect).statements
    assert statement.ok, statement.errors
    assert statement.inputs == (dataset,)
    [lineage] = statement.column_lineage
    assert [(name, [(i.dataset, i.field) for i in inputs]) for name, inputs in lineage.fields] == [
        ("cid", [(dataset, "cid")]), ("bdate", [(dataset, "bdate")]),
    ]  # fmt: skip


def test_a_quoted_table_name_is_still_a_table() -> None:
    [statement] = parse_sql('SELECT a FROM "Orders"', dialect="duckdb").statements
    assert [d.name for d in statement.inputs] == ["orders"]  # DuckDB ignores case
