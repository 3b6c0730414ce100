"""Redshift, Snowflake and BigQuery cannot be reached from here: their queries are checked
as SQL of their dialect, and their parsers against rows as each database returns them."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from connectors.warehouse import bigquery, redshift, snowflake
from lineage.model import DatasetId, DatasetKind, LiveColumn

# -- Redshift ------------------------------------------------------------------------------

REDSHIFT = "redshift://dwh.abc123.eu-west-1.redshift.amazonaws.com:5439"

# SVV_EXTERNAL_TABLES / SVV_EXTERNAL_COLUMNS rows for the seed's Spectrum table.
SPECTRUM_TABLES: list[dict[str, Any]] = [
    {
        "tablename": "erp_cust_az12",
        "location": "s3://company-datalake/bronze/erp/cust_az12/",
        "input_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "parameters": '{"EXTERNAL":"TRUE","classification":"parquet",'
        '"comment":"ERP customer extract (Airbyte)","transient_lastDdlTime":"1733011200"}',
    }
]
# As Redshift lists them: partition keys with columnnum NULL, in no particular order.
SPECTRUM_COLUMNS: list[dict[str, Any]] = [
    {"tablename": "erp_cust_az12", "columnname": "month", "external_type": "varchar(2)",
     "columnnum": None, "part_key": 2, "is_nullable": "true"},
    {"tablename": "erp_cust_az12", "columnname": "cid", "external_type": "varchar(50)",
     "columnnum": 3, "part_key": 0, "is_nullable": "true"},
    {"tablename": "erp_cust_az12", "columnname": "_airbyte_raw_id", "external_type": "string",
     "columnnum": 1, "part_key": 0, "is_nullable": "false"},
    {"tablename": "erp_cust_az12", "columnname": "_airbyte_extracted_at",
     "external_type": "timestamp", "columnnum": 2, "part_key": 0, "is_nullable": "false"},
    {"tablename": "erp_cust_az12", "columnname": "gen", "external_type": "varchar(10)",
     "columnnum": 4, "part_key": 0, "is_nullable": "true"},
    {"tablename": "erp_cust_az12", "columnname": "bdate", "external_type": "date",
     "columnnum": 5, "part_key": 0, "is_nullable": "true"},
    {"tablename": "erp_cust_az12", "columnname": "year", "external_type": "varchar(4)",
     "columnnum": None, "part_key": 1, "is_nullable": "true"},
]  # fmt: skip


def test_redshift_spectrum_table_from_recorded_rows() -> None:
    [table] = redshift.tables_from_rows(
        REDSHIFT, "dwh", "spectrum", SPECTRUM_TABLES, SPECTRUM_COLUMNS, external=True
    )
    assert table.id == DatasetId(REDSHIFT, "dwh.spectrum.erp_cust_az12")
    assert table.kind is DatasetKind.EXTERNAL
    assert table.location == "s3://company-datalake/bronze/erp/cust_az12/"
    assert table.comment == "ERP customer extract (Airbyte)"
    assert table.columns == (
        LiveColumn("_airbyte_raw_id", "string", nullable=False),
        LiveColumn("_airbyte_extracted_at", "timestamp", nullable=False),
        LiveColumn("cid", "varchar(50)", nullable=True),
        LiveColumn("gen", "varchar(10)", nullable=True),
        LiveColumn("bdate", "date", nullable=True),
        LiveColumn("year", "varchar(4)", nullable=True, partition=True),
        LiveColumn("month", "varchar(2)", nullable=True, partition=True),
    )


def test_redshift_local_tables_views_and_keys_from_recorded_rows() -> None:
    relations = [  # SVV_TABLES + PG_VIEWS + STV_MV_INFO
        {"name": "erp_customers", "table_type": "BASE TABLE",
         "comment": "One row per ERP customer", "definition": None, "materialized": False},
        {"name": "v_customers", "table_type": "VIEW", "comment": None,
         "definition": " SELECT erp_customers.customer_id FROM silver.erp_customers;",
         "materialized": False},
        {"name": "mv_gender_counts", "table_type": "VIEW", "comment": None,
         "definition": "SELECT gender, count(*) FROM silver.erp_customers GROUP BY gender;",
         "materialized": True},
    ]  # fmt: skip
    columns = [  # SVV_COLUMNS
        {"table_name": "erp_customers", "column_name": "customer_key", "ordinal_position": 2,
         "data_type": "character varying", "character_maximum_length": 50,
         "numeric_precision": None, "numeric_scale": None, "is_nullable": "NO",
         "column_default": None, "remarks": "ERP key"},
        {"table_name": "erp_customers", "column_name": "customer_id", "ordinal_position": 1,
         "data_type": "integer", "character_maximum_length": None, "numeric_precision": 32,
         "numeric_scale": 0, "is_nullable": "NO", "column_default": None, "remarks": None},
        {"table_name": "erp_customers", "column_name": "amount", "ordinal_position": 3,
         "data_type": "numeric", "character_maximum_length": None, "numeric_precision": 18,
         "numeric_scale": 2, "is_nullable": "YES", "column_default": "0", "remarks": None},
        {"table_name": "v_customers", "column_name": "customer_id", "ordinal_position": 1,
         "data_type": "integer", "character_maximum_length": None, "numeric_precision": 32,
         "numeric_scale": 0, "is_nullable": "YES", "column_default": None, "remarks": None},
    ]  # fmt: skip
    keys = [{"table_name": "erp_customers", "column_name": "customer_id"}]
    customers, matview, view = redshift.tables_from_rows(
        REDSHIFT, "dwh", "silver", relations, columns, keys
    )
    assert customers.id.name == "dwh.silver.erp_customers"
    assert customers.comment == "One row per ERP customer"
    assert customers.columns == (
        LiveColumn("customer_id", "integer", nullable=False, primary_key=True),
        LiveColumn("customer_key", "character varying(50)", nullable=False, comment="ERP key"),
        LiveColumn("amount", "numeric(18,2)", nullable=True, default="0"),
    )
    assert (matview.kind, view.kind) == (DatasetKind.MATERIALIZED_VIEW, DatasetKind.VIEW)
    assert view.definition == "SELECT erp_customers.customer_id FROM silver.erp_customers;"
    assert view.columns == (LiveColumn("customer_id", "integer"),)


# -- Snowflake -----------------------------------------------------------------------------

SNOWFLAKE = "snowflake://xy12345.eu-central-1"


def test_snowflake_from_recorded_rows() -> None:
    relations = [  # TABLES + VIEWS + EXTERNAL_TABLES
        {"table_name": "ERP_CUSTOMERS", "table_type": "BASE TABLE",
         "comment": "One row per ERP customer", "view_definition": None, "location": None},
        {"table_name": "V_CUSTOMERS", "table_type": "VIEW", "comment": None,
         "view_definition": "create view V_CUSTOMERS as select CUSTOMER_ID from ERP_CUSTOMERS;",
         "location": None},
        {"table_name": "ERP_CUST_AZ12", "table_type": "EXTERNAL TABLE", "comment": None,
         "view_definition": None, "location": "s3://company-datalake/bronze/erp/cust_az12/"},
    ]  # fmt: skip
    base = {"character_maximum_length": None, "numeric_precision": None, "numeric_scale": None,
            "datetime_precision": None, "column_default": None, "comment": None}
    columns = [
        {**base, "table_name": "ERP_CUSTOMERS", "column_name": "CUSTOMER_KEY",
         "ordinal_position": 2, "data_type": "TEXT", "character_maximum_length": 50,
         "is_nullable": "NO", "comment": "ERP key"},
        {**base, "table_name": "ERP_CUSTOMERS", "column_name": "CUSTOMER_ID",
         "ordinal_position": 1, "data_type": "NUMBER", "numeric_precision": 38,
         "numeric_scale": 0, "is_nullable": "NO"},
        {**base, "table_name": "ERP_CUSTOMERS", "column_name": "dwhLoadedAt",
         "ordinal_position": 3, "data_type": "TIMESTAMP_NTZ", "datetime_precision": 9,
         "is_nullable": "YES", "column_default": "CURRENT_TIMESTAMP()"},
        {**base, "table_name": "V_CUSTOMERS", "column_name": "CUSTOMER_ID",
         "ordinal_position": 1, "data_type": "NUMBER", "numeric_precision": 38,
         "numeric_scale": 0, "is_nullable": "YES"},
    ]  # fmt: skip
    keys = [  # SHOW PRIMARY KEYS IN SCHEMA
        {"created_on": "2026-11-01 10:00:00.000 -0700", "database_name": "ANALYTICS",
         "schema_name": "SILVER", "table_name": "ERP_CUSTOMERS", "column_name": "CUSTOMER_ID",
         "key_sequence": 1, "constraint_name": "SYS_CONSTRAINT_1", "rely": "false",
         "comment": None},
    ]  # fmt: skip
    external, customers, view = snowflake.tables_from_rows(
        SNOWFLAKE, "ANALYTICS", "SILVER", relations, columns, keys
    )
    assert customers.id == DatasetId(SNOWFLAKE, "analytics.silver.erp_customers")
    assert customers.columns == (
        LiveColumn("customer_id", "NUMBER(38,0)", nullable=False, primary_key=True),
        LiveColumn("customer_key", "VARCHAR(50)", nullable=False, comment="ERP key"),
        LiveColumn("dwhLoadedAt", "TIMESTAMP_NTZ(9)", nullable=True,
                   default="CURRENT_TIMESTAMP()"),
    )
    assert view.kind is DatasetKind.VIEW and view.columns[0].nullable is None
    assert view.definition is not None and view.definition.startswith("create view")
    assert external.id.name == "analytics.silver.erp_cust_az12"
    assert (external.kind, external.location) == (
        DatasetKind.EXTERNAL, "s3://company-datalake/bronze/erp/cust_az12/",
    )


# -- BigQuery ------------------------------------------------------------------------------


def test_bigquery_from_recorded_rows() -> None:
    relations = [  # TABLES + VIEWS + TABLE_OPTIONS
        {"table_name": "erp_customers", "table_type": "BASE TABLE", "view_definition": None,
         "description": '"One row per ERP customer"', "uris": None},
        {"table_name": "v_customers", "table_type": "VIEW",
         "view_definition": "SELECT customer_id FROM `acme-dwh.silver.erp_customers`",
         "description": None, "uris": None},
        {"table_name": "erp_cust_az12", "table_type": "EXTERNAL", "view_definition": None,
         "description": None,
         "uris": '["gs://company-datalake/bronze/erp/cust_az12/*"]'},
    ]  # fmt: skip
    columns = [  # COLUMNS + COLUMN_FIELD_PATHS
        {"table_name": "erp_customers", "column_name": "customer_key", "ordinal_position": 2,
         "data_type": "STRING(50)", "is_nullable": "NO", "column_default": "NULL",
         "is_partitioning_column": "NO", "description": "ERP key"},
        {"table_name": "erp_customers", "column_name": "customer_id", "ordinal_position": 1,
         "data_type": "INT64", "is_nullable": "NO", "column_default": "NULL",
         "is_partitioning_column": "NO", "description": None},
        {"table_name": "erp_customers", "column_name": "amount", "ordinal_position": 3,
         "data_type": "NUMERIC(18, 2)", "is_nullable": "YES", "column_default": "0",
         "is_partitioning_column": "NO", "description": None},
        {"table_name": "erp_cust_az12", "column_name": "cid", "ordinal_position": 1,
         "data_type": "STRING", "is_nullable": "YES", "column_default": "NULL",
         "is_partitioning_column": "NO", "description": None},
        {"table_name": "erp_cust_az12", "column_name": "year", "ordinal_position": 2,
         "data_type": "STRING", "is_nullable": "YES", "column_default": "NULL",
         "is_partitioning_column": "YES", "description": None},
    ]  # fmt: skip
    keys = [{"table_name": "erp_customers", "column_name": "customer_id"}]
    external, customers, view = bigquery.tables_from_rows(
        "acme-dwh", "silver", relations, columns, keys
    )
    assert customers.id == DatasetId("bigquery", "acme-dwh.silver.erp_customers")
    assert customers.comment == "One row per ERP customer"
    assert customers.columns == (
        LiveColumn("customer_id", "INT64", nullable=False, primary_key=True),
        LiveColumn("customer_key", "STRING(50)", nullable=False, comment="ERP key"),
        LiveColumn("amount", "NUMERIC(18, 2)", nullable=True, default="0"),
    )
    assert view.definition == "SELECT customer_id FROM `acme-dwh.silver.erp_customers`"
    assert external.kind is DatasetKind.EXTERNAL
    assert external.location == "gs://company-datalake/bronze/erp/cust_az12/"
    assert [(c.name, c.partition) for c in external.columns] == [("cid", False), ("year", True)]


# -- the query text ------------------------------------------------------------------------


def _tables(sql: str, dialect: str) -> set[str]:
    tree = sqlglot.parse_one(sql.replace(":schema", "'x'"), read=dialect)
    return {t.sql(dialect=dialect) for t in tree.find_all(exp.Table)}


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        (redshift.EXTERNAL_COLUMNS_SQL, "redshift", {"svv_external_columns"}),
        (redshift.RELATIONS_SQL, "redshift",
         {"svv_tables AS t", "pg_catalog.pg_views AS v", "stv_mv_info AS m"}),
        (snowflake.columns_sql("ANALYTICS"), "snowflake", {"ANALYTICS.INFORMATION_SCHEMA.COLUMNS"}),
        (snowflake.columns_sql("my-db"), "snowflake", {'"my-db".INFORMATION_SCHEMA.COLUMNS'}),
        (bigquery.columns_sql("acme-dwh", "EU"), "bigquery",
         {"`acme-dwh`.`region-eu`.`INFORMATION_SCHEMA.COLUMNS` AS c",
          "`acme-dwh`.`region-eu`.`INFORMATION_SCHEMA.COLUMN_FIELD_PATHS` AS p"}),
    ],
)  # fmt: skip
def test_queries_parse_in_their_dialect_and_quote_identifiers(
    sql: str, dialect: str, expected: set[str]
) -> None:
    assert _tables(sql, dialect) == expected


def test_a_hostile_name_stays_one_identifier() -> None:
    shows = snowflake.primary_keys_sql("ANALYTICS", 'x"; DROP TABLE t; --')
    tree = sqlglot.parse_one(shows, read="snowflake")
    assert "DROP" not in {type(n).__name__.upper() for n in tree.walk()}
    assert sqlglot.parse(shows, read="snowflake")[1:] == []
