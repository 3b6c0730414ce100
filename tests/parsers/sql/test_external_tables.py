"""External tables over S3 (Redshift Spectrum, Athena, Hive / Glue, Spark): what the golden
cases in fixtures/ do not compare: output schemas with partition keys, the IAM role kept as
metadata (and secrets not), the one S3 dataset every engine's DDL names, and partitions."""

from __future__ import annotations

import pytest

from lineage.model import DatasetId, StatementKind, redact_text
from parsers.sql import parse_sql
from parsers.sql.table_commands import partition_root

BRONZE = DatasetId("s3://company-datalake", "bronze/erp/cust_az12")
ROLE = "arn:aws:iam::123456789012:role/spectrum"
SPECTRUM_DDL = (
    "CREATE EXTERNAL TABLE spectrum.erp_cust_az12 (cid VARCHAR(50), bdate DATE, gen VARCHAR(10))"
    " PARTITIONED BY (year INT, month INT) STORED AS PARQUET"
    " LOCATION 's3://company-datalake/bronze/erp/cust_az12/'"
)


def test_external_table_schema_lists_columns_then_partition_keys() -> None:
    [stmt] = parse_sql(SPECTRUM_DDL, dialect="redshift").statements
    assert stmt.kind is StatementKind.CREATE_TABLE
    assert stmt.inputs == (BRONZE,)
    [(table, schema)] = stmt.output_schemas
    assert table == DatasetId("redshift", "spectrum.erp_cust_az12")
    assert [(f.name, f.type) for f in schema.fields] == [
        ("cid", "varchar(50)"), ("bdate", "date"), ("gen", "varchar(10)"),
        ("year", "integer"), ("month", "integer")]


def test_a_later_query_knows_the_partition_keys() -> None:
    script = parse_sql(
        f"{SPECTRUM_DDL};\nINSERT INTO silver.cust SELECT cid, gen FROM spectrum.erp_cust_az12 "
        "WHERE year = 2024 AND month = 1", dialect="redshift")
    insert = script.statements[1]
    assert insert.warnings == () and insert.confidence == 1.0
    filters = {f.field for f in insert.column_lineage[0].dataset}
    assert filters == {"year", "month"}


@pytest.mark.parametrize(("dialect", "ddl"), [
    ("redshift", SPECTRUM_DDL),
    ("athena", "CREATE EXTERNAL TABLE IF NOT EXISTS bronze.erp_cust_az12 (cid string) "
               "PARTITIONED BY (year int) STORED AS PARQUET "
               "LOCATION 's3://company-datalake/bronze/erp/cust_az12' "
               "TBLPROPERTIES ('parquet.compression'='SNAPPY')"),
    ("hive", "CREATE EXTERNAL TABLE bronze.erp_cust_az12 (cid STRING) ROW FORMAT SERDE "
             "'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' "
             "LOCATION 's3://company-datalake/bronze/erp/cust_az12/'"),
    ("spark", "CREATE TABLE bronze.erp_cust_az12 (cid STRING) USING PARQUET "
              "LOCATION 's3a://company-datalake/bronze/erp/cust_az12'"),
])
def test_every_engine_reads_the_one_s3_dataset(dialect: str, ddl: str) -> None:
    [stmt] = parse_sql(ddl, dialect=dialect).statements
    assert stmt.kind is StatementKind.CREATE_TABLE and stmt.inputs == (BRONZE,)
    assert len(stmt.outputs) == 1 and stmt.outputs[0].namespace == dialect


def test_create_table_as_select_with_a_location_reads_only_its_query() -> None:
    [stmt] = parse_sql("CREATE TABLE silver.c USING PARQUET LOCATION 's3://lake/silver/c' "
                       "AS SELECT cid FROM bronze.a", dialect="spark").statements
    assert stmt.kind is StatementKind.CREATE_TABLE_AS
    assert stmt.inputs == (DatasetId("spark", "bronze.a"),)


def test_external_schema_keeps_the_role_and_never_a_secret() -> None:
    [stmt] = parse_sql(
        f"CREATE EXTERNAL SCHEMA hive_erp FROM HIVE METASTORE DATABASE 'erp' URI '10.0.0.5' "
        f"PORT 9083 IAM_ROLE '{ROLE}' SECRET_ACCESS_KEY 'wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLE'",
        dialect="redshift").statements
    assert stmt.kind is StatementKind.OTHER and not stmt.inputs and not stmt.outputs
    assert stmt.errors == ()
    [warning] = stmt.warnings
    assert warning.message == (
        f"external schema hive_erp, from hive metastore, database 'erp', IAM role {ROLE}")
    assert redact_text(warning.message) == warning.message  # an ARN is not a secret shape
    assert ROLE in stmt.sql and "wJalrXUtnFEMIK7MDENG" not in stmt.sql + warning.message


def test_data_catalog_schema_and_default_role() -> None:
    [stmt] = parse_sql("CREATE EXTERNAL SCHEMA IF NOT EXISTS spectrum FROM DATA CATALOG "
                       "DATABASE 'spectrum_db' IAM_ROLE default CREATE EXTERNAL DATABASE IF NOT "
                       "EXISTS", dialect="redshift").statements
    assert [w.message for w in stmt.warnings] == [
        "external schema spectrum, from data catalog, database 'spectrum_db', IAM role default"]


@pytest.mark.parametrize(("dialect", "sql", "table"), [
    ("hive", "MSCK REPAIR TABLE bronze.erp_cust_az12", "bronze.erp_cust_az12"),
    ("hive", "MSCK REPAIR TABLE bronze.erp_cust_az12 SYNC PARTITIONS", "bronze.erp_cust_az12"),
    ("athena", "MSCK REPAIR TABLE `bronze`.`erp_cust_az12`", "bronze.erp_cust_az12"),
    ("spark", "MSCK REPAIR TABLE Bronze.Erp_Cust_AZ12", "bronze.erp_cust_az12"),
])
def test_msck_repair_changes_the_table(dialect: str, sql: str, table: str) -> None:
    [stmt] = parse_sql(sql, dialect=dialect).statements
    assert stmt.kind is StatementKind.ALTER and stmt.errors == () and stmt.warnings == ()
    assert stmt.outputs == (DatasetId(dialect, table),) and stmt.inputs == ()


def test_drop_partition_reads_nothing() -> None:
    [stmt] = parse_sql("ALTER TABLE bronze.t DROP IF EXISTS PARTITION (year = 2024)",
                       dialect="hive").statements
    assert stmt.kind is StatementKind.ALTER and stmt.inputs == ()
    assert stmt.outputs == (DatasetId("hive", "bronze.t"),)


@pytest.mark.parametrize(("name", "root"), [
    ("bronze/erp/cust_az12/year=2024/month=1", "bronze/erp/cust_az12"),
    ("bronze/erp/cust_az12/dt=2024-01-01", "bronze/erp/cust_az12"),
    ("bronze/erp/cust_az12", "bronze/erp/cust_az12"),
    ("year=2024", "year=2024"),  # a bucket's top folder stays a dataset name
    ("bronze/a=b/c", "bronze/a=b/c"),  # only trailing partition folders are dropped
])
def test_partition_root(name: str, root: str) -> None:
    assert partition_root(DatasetId("s3://lake", name)) == DatasetId("s3://lake", root)
