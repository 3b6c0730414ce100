"""The naming rules: namespace -> platform, dataset names, types, owners, flows."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

from connectors.datahub import FABRIC_TYPES, DataHubSettings
from connectors.datahub import naming as datahub_naming
from connectors.datahub.naming import (
    CasePolicy,
    FieldTypeName,
    OwnerKind,
    dataset_name,
    field_path,
    field_type,
    job_ids,
    owner_kind,
    platform_for,
    short_name,
    transform_operation,
)
from lineage.errors import ConfigError
from lineage.model import DatasetId, Transformation, TransformationSubtype


@pytest.mark.parametrize(
    ("namespace", "platform"),
    [
        ("postgres://db.example.com:5432", "postgres"),
        ("postgresql://db:5432", "postgres"),
        ("postgres://c1.abc123.eu-west-1.redshift.amazonaws.com:5439", "redshift"),
        ("redshift://c1.eu-west-1:5439", "redshift"),
        ("redshift", "redshift"),
        ("snowflake://org-account", "snowflake"),
        ("bigquery", "bigquery"),
        ("duckdb:///data/warehouse.duckdb", "duckdb"),
        ("s3://bronze-bucket", "s3"),
        ("s3a://bronze-bucket", "s3"),
        ("gs://bucket", "gcs"),
        ("hive://metastore:9083", "hive"),
        ("mysql://db:3306", "mysql"),
        ("sqlserver://db:1433", "mssql"),
        ("tsql", "mssql"),
        ("mssql://db", "mssql"),
        ("trino://coordinator:8080", "trino"),
        ("databricks://workspace", "databricks"),
        ("spark", "spark"),
        ("file", "file"),
        ("file://host", "file"),
        ("awsathena://athena.eu-west-1.amazonaws.com", "athena"),
        ("Snowflake://ORG", "snowflake"),
        ("teradata://td:1025", "teradata"),
        ("custom://x", "custom"),
        ("sql", "sql"),
    ],
)
def test_platform_of_a_namespace(namespace: str, platform: str) -> None:
    assert platform_for(namespace) == platform


def test_platform_overrides_win_by_namespace_or_scheme() -> None:
    assert platform_for("sql", {"sql": "redshift"}) == "redshift"
    assert platform_for("postgres://a:1", {"postgres://a:1": "greenplum"}) == "greenplum"
    assert platform_for("postgres://b:1", {"postgres": "cockroachdb"}) == "cockroachdb"


@pytest.mark.parametrize(
    ("dataset", "platform", "case", "name"),
    [
        (DatasetId("redshift", "Dev.Silver.ERP_Customers"), "redshift", "lower",
         "dev.silver.erp_customers"),
        (DatasetId("redshift", "Dev.Silver.ERP_Customers"), "redshift", "preserve",
         "Dev.Silver.ERP_Customers"),
        (DatasetId("s3://Bronze", "/erp/Cust_AZ12"), "s3", "lower", "Bronze/erp/Cust_AZ12"),
        (DatasetId("s3://bronze", "erp/cust"), "s3", "lower", "bronze/erp/cust"),
        (DatasetId("file", "/data/Raw.parquet"), "file", "lower", "/data/Raw.parquet"),
        (DatasetId("duckdb:///w.duckdb", "main.Silver.T"), "duckdb", "lower", "main.silver.t"),
    ],
)  # fmt: skip
def test_dataset_names_follow_datahub_ingestion(
    dataset: DatasetId, platform: str, case: str, name: str
) -> None:
    assert dataset_name(dataset, platform, CasePolicy(case)) == name


def test_field_paths_and_short_names() -> None:
    assert field_path("Customer_ID", "snowflake", CasePolicy.LOWER) == "customer_id"
    assert field_path("Customer_ID", "snowflake", CasePolicy.PRESERVE) == "Customer_ID"
    assert field_path("Customer_ID", "s3", CasePolicy.LOWER) == "Customer_ID"
    assert short_name("dev.silver.erp_customers", "redshift") == "erp_customers"
    assert short_name("bucket/erp/cust_az12/", "s3") == "cust_az12"


@pytest.mark.parametrize(
    ("native", "kind"),
    [
        ("VARCHAR(50)", FieldTypeName.STRING),
        ("character varying(255)", FieldTypeName.STRING),
        ("char(1)", FieldTypeName.STRING),
        ("TEXT", FieldTypeName.STRING),
        ("integer", FieldTypeName.NUMBER),
        ("NUMERIC(38, 2)", FieldTypeName.NUMBER),
        ("double precision", FieldTypeName.NUMBER),
        ("BIGINT NOT NULL", FieldTypeName.NUMBER),
        ("boolean", FieldTypeName.BOOLEAN),
        ("date", FieldTypeName.DATE),
        ("timestamp", FieldTypeName.TIME),
        ("timestamp with time zone", FieldTypeName.TIME),
        ("TIMESTAMP_NTZ(9)", FieldTypeName.TIME),
        ("datetime", FieldTypeName.TIME),
        ("bytea", FieldTypeName.BYTES),
        ("integer[]", FieldTypeName.ARRAY),
        ("ARRAY<STRING>", FieldTypeName.ARRAY),
        ("map<string,int>", FieldTypeName.MAP),
        ("STRUCT<a INT>", FieldTypeName.RECORD),
        ("super", FieldTypeName.RECORD),
        ("jsonb", FieldTypeName.RECORD),
        ("geometry", FieldTypeName.BYTES),
        ("hllsketch", FieldTypeName.NULL),
        (None, FieldTypeName.NULL),
        ("", FieldTypeName.NULL),
    ],
)
def test_native_types_map_to_datahub_types(native: str | None, kind: FieldTypeName) -> None:
    assert field_type(native) is kind


@pytest.mark.parametrize(
    ("owner", "kind", "ident"),
    [
        ("ana@example.com", OwnerKind.USER, "ana@example.com"),
        ("ana", OwnerKind.USER, "ana"),
        ("user:bob", OwnerKind.USER, "bob"),
        ("data-platform-team", OwnerKind.GROUP, "data-platform-team"),
        ("Finance Squad", OwnerKind.GROUP, "Finance Squad"),
        ("analytics_group", OwnerKind.GROUP, "analytics_group"),
        ("team:erp", OwnerKind.GROUP, "erp"),
        ("group:erp", OwnerKind.GROUP, "erp"),
        ("@acme/data-eng", OwnerKind.GROUP, "acme/data-eng"),
        ("urn:li:corpGroup:bi", OwnerKind.GROUP, "bi"),
        ("urn:li:corpuser:carol", OwnerKind.USER, "carol"),
        ("steam", OwnerKind.USER, "steam"),
    ],
)
def test_owner_rule(owner: str, kind: OwnerKind, ident: str) -> None:
    assert owner_kind(owner) == (kind, ident)


def test_transform_operation_text() -> None:
    identity = Transformation.direct(TransformationSubtype.IDENTITY)
    masked = Transformation.direct(TransformationSubtype.TRANSFORMATION, masking=True)
    conditional = Transformation.indirect(TransformationSubtype.CONDITIONAL)
    assert transform_operation([identity]) == "DIRECT:IDENTITY"
    assert transform_operation([conditional, masked, identity]) == (
        "DIRECT:IDENTITY,DIRECT:TRANSFORMATION:MASKED,INDIRECT:CONDITIONAL"
    )
    assert transform_operation([]) == "UNKNOWN"


@pytest.mark.parametrize(
    ("namespace", "name", "kind", "ids"),
    [
        ("redshift", "erp.stg_customers", "dbt_model", ("dbt", "erp", "stg_customers")),
        ("redshift", "erp.snap", "dbt_snapshot", ("dbt", "erp", "snap")),
        ("airflow", "erp_daily.load_customers", "python",
         ("silverline", "erp_daily", "load_customers")),
        ("redshift", "sql/silver/erp_customers.sql", "sql",
         ("silverline", "redshift", "sql/silver/erp_customers.sql")),
        ("", "nightly", "python", ("silverline", "default", "nightly")),
    ],
)  # fmt: skip
def test_jobs_group_into_flows(namespace: str, name: str, kind: str, ids: tuple[str, ...]) -> None:
    assert job_ids(namespace, name, kind) == ids


def test_settings_are_checked() -> None:
    assert DataHubSettings(env="dev").env == "DEV"
    assert DataHubSettings(case="preserve").case is CasePolicy.PRESERVE  # type: ignore[arg-type]
    assert DataHubSettings(platform_instance="  ").platform_instance is None
    with pytest.raises(ConfigError, match="unknown DataHub env 'moon'"):
        DataHubSettings(env="moon")
    with pytest.raises(ConfigError, match="unknown case policy"):
        DataHubSettings(case="upper")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="must be positive"):
        DataHubSettings(batch_size=0)


def test_fabric_types_are_the_sdks() -> None:
    from datahub.metadata.schema_classes import FabricTypeClass

    assert set(FABRIC_TYPES) == {v for k, v in vars(FabricTypeClass).items() if k.isupper()}


def test_docstring_examples() -> None:
    failures, tried = doctest.testmod(datahub_naming)
    assert tried > 0 and failures == 0


def test_the_cli_does_not_load_the_datahub_sdk() -> None:
    code = (
        "import sys, lineage.cli.push, connectors.datahub; "
        "loaded = sorted(m for m in sys.modules if m == 'datahub' or m.startswith('datahub.')); "
        "assert not loaded, loaded"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_settings_live_apart_from_the_push() -> None:
    # mcps and sinks read the settings without importing the push that imports them.
    code = (
        "import sys, connectors.datahub.sinks, connectors.datahub.mcps; "
        "assert 'connectors.datahub.sync' not in sys.modules, 'sync loaded'; "
        "import connectors.datahub as package; "
        "modules = {name: getattr(package, name).__module__ for name in "
        "('DataHubSettings', 'PushTarget', 'DataHubConfig', "
        "'resolve_target', 'push', 'PushReport', 'aspect_hash', 'CasePolicy')}; "
        "print(sorted(set(modules.values())))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "['connectors.datahub.naming', 'connectors.datahub.settings', 'connectors.datahub.sync']"
    )
