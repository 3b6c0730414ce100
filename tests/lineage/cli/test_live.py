"""``lineage introspect``, ``lineage profile`` and ``lineage show`` over real warehouses
(DuckDB, SQLite, PostgreSQL) and a Hive-partitioned bronze folder; and the one dataset
that a table introspected, parsed from SQL and written by a decorated job all are."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from typer.testing import CliRunner

from lineage.cli import app
from lineage.model import DatasetId, namespace_of

runner = CliRunner()


def _invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout) if "json" in args else result.stdout


def _seed_duckdb(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA bronze; CREATE SCHEMA silver")
    con.execute(
        "CREATE TABLE bronze.erp_cust_az12 (_airbyte_raw_id VARCHAR NOT NULL, "
        "_airbyte_extracted_at TIMESTAMPTZ, cid VARCHAR, gen VARCHAR, bdate DATE)"
    )
    con.execute(
        "INSERT INTO bronze.erp_cust_az12 SELECT 'r' || i, TIMESTAMPTZ "
        "'2026-11-30 00:00:00+00' + to_seconds(i), 'CUST' || i, CASE i % 3 WHEN 0 THEN 'M' "
        "WHEN 1 THEN 'F' END, DATE '1980-01-01' + i::INTEGER FROM range(300) r(i)"
    )
    con.execute(
        "CREATE VIEW silver.erp_customers AS SELECT cid AS customer_id, "
        "TRY_CAST(bdate AS DATE) AS birth_date, CASE gen WHEN 'M' THEN 'Male' "
        "WHEN 'F' THEN 'Female' ELSE 'Unknown' END AS gender FROM bronze.erp_cust_az12"
    )
    con.close()


def _seed_bronze(root: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for country, files in (("ID", 4), ("SG", 1)):
        folder = root / "erp" / "loc_a101" / f"country={country}"
        folder.mkdir(parents=True)
        for k in range(files):
            table = pa.table({"cid": [f"CUST{k}{j}" for j in range(5)], "cntry": [country] * 5})
            pq.write_table(table, folder / f"part-{k}.parquet")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _seed_duckdb(tmp_path / "wh.duckdb")
    _seed_bronze(tmp_path / "bronze")
    (tmp_path / "lineage.yml").write_text(
        f"warehouse:\n  url: duckdb:///{tmp_path / 'wh.duckdb'}\nfiles:\n  - bronze/erp\n"
    )
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_introspect_profile_and_show_a_warehouse_and_a_bronze_folder(project: Path) -> None:
    first = _invoke("introspect", "--format", "json")
    assert [s["schema_versions_added"] for s in first["sources"]] == [2, 1]
    assert first["views_with_lineage"] == 1
    [small] = first["findings"]
    assert small["kind"] == "small_files" and "country=ID" in small["message"]
    again = _invoke("introspect", "--format", "json")
    assert [s["schema_versions_added"] for s in again["sources"]] == [0, 0]  # unchanged

    profiled = _invoke("profile", "--format", "json")
    by_name = {p["dataset"]["name"]: p for p in profiled["profiles"]}
    bronze = by_name["wh.bronze.erp_cust_az12"]
    assert bronze["row_count"] == 300
    assert bronze["columns"]["gen"]["null_count"] == 100
    assert bronze["columns"]["bdate"]["min"] == "1980-01-01"
    assert bronze["columns"]["_airbyte_extracted_at"]["last_loaded_at"] > 0
    assert by_name[str(project / "bronze" / "erp" / "loc_a101")]["row_count"] == 25

    shown = _invoke("show", "erp_cust_az12", "--format", "json")
    live = shown["live_schema"]
    assert live["version"] == 1 and live["kind"] == "table"
    assert live["columns"][0] == {"name": "_airbyte_raw_id", "type": "VARCHAR",
                                  "nullable": False}  # fmt: skip
    assert shown["profile"]["row_count"] == 300
    files = _invoke("show", "loc_a101", "--format", "json")
    assert files["layout"]["file_count"] == 5
    assert [p["values"] for p in files["layout"]["partitions"]] == [[["country", "ID"]],
                                                                    [["country", "SG"]]]
    assert files["layout"]["findings"][0]["kind"] == "small_files"
    assert files["live_schema"]["columns"][-1]["partition"] is True
    table = _invoke("show", "loc_a101")
    assert "country=ID" in table and "compact to 128 MB-1 GB files" in table

    # The view's SQL is lineage: its columns come from the bronze table.
    impact = _invoke("impact", "erp_cust_az12.bdate", "--format", "json")
    assert "wh.silver.erp_customers.birth_date" in json.dumps(impact)


def test_a_changed_column_is_a_new_version_and_the_old_one_stays(project: Path) -> None:
    import duckdb

    _invoke("introspect", "--format", "json")
    con = duckdb.connect(str(project / "wh.duckdb"))
    con.execute("ALTER TABLE bronze.erp_cust_az12 RENAME COLUMN bdate TO birth_dt")
    con.close()
    changed = _invoke("introspect", "--format", "json")
    # Only the table: DuckDB keeps the view as it was bound (its columns did not change).
    assert changed["sources"][0]["schema_versions_added"] == 1
    shown = _invoke("show", "erp_cust_az12", "--format", "json")
    assert shown["live_schema"]["version"] == 2
    assert "birth_dt" in [c["name"] for c in shown["live_schema"]["columns"]]


def test_a_failing_source_is_one_issue_and_the_others_are_recorded(
    project: Path, tmp_path: Path
) -> None:
    sqlite_path = tmp_path / "ops.sqlite"
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, job TEXT NOT NULL)")
    result = runner.invoke(
        app,
        ["introspect", f"sqlite:///{sqlite_path}", "postgresql+psycopg://nobody@127.0.0.1:1/x",
         "--format", "json", "--strict"],
    )  # fmt: skip
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    [issue] = doc["issues"]
    assert issue.startswith("postgresql+psycopg://nobody@127.0.0.1:1/x:")
    [sqlite_source] = doc["sources"]
    assert [t["dataset"]["name"] for t in sqlite_source["tables"]] == ["ops.runs"]
    assert sqlite_source["tables"][0]["columns"][0]["primary_key"] is True


def test_introspected_parsed_and_run_datasets_are_one(
    postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sqlalchemy.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA bronze")
        conn.exec_driver_sql("CREATE TABLE bronze.erp_cust_az12 (cid varchar(50), bdate date)")
    namespace, database = namespace_of(postgres_database)
    (tmp_path / "lineage.yml").write_text(
        f"namespace: '{namespace}'\ndialect: postgres\ndefault_database: {database}\n"
        f"warehouse:\n  url: {postgres_database}\n"
    )
    (tmp_path / "silver.sql").write_text(
        "CREATE TABLE silver.erp_customers AS SELECT cid AS customer_id FROM bronze.erp_cust_az12"
    )
    monkeypatch.delenv("LINEAGE_CATALOG_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    _invoke("introspect", "--format", "json")
    _invoke("scan", "silver.sql", "--format", "json")

    import lineage
    from connectors.openlineage.sinks import CatalogSink

    catalog_url = f"sqlite:///{tmp_path / '.lineage' / 'catalog.db'}"
    lineage.run.configure(sinks=[CatalogSink(catalog_url)], register_atexit=False,
                          handle_sigterm=False)  # fmt: skip

    @lineage.job(name="erp.extract", outputs=["bronze.erp_cust_az12"], namespace=engine)
    def extract() -> None:
        return None

    extract()
    lineage.run.configure(sinks=[], register_atexit=False, handle_sigterm=False)  # flushes
    engine.dispose()

    bronze = DatasetId(namespace, f"{database}.bronze.erp_cust_az12")
    shown = _invoke("show", f"{bronze.namespace}/{bronze.name}", "--format", "json")
    assert shown["live_schema"]["columns"][0]["type"] == "character varying(50)"
    assert shown["downstream"] == [{"namespace": namespace,
                                    "name": f"{database}.silver.erp_customers"}]  # fmt: skip
    assert "erp.extract" in shown["jobs"]  # the decorated job wrote this very dataset
    # One dataset, not three: a bare name resolves without ambiguity.
    found = _invoke("show", "erp_cust_az12", "--format", "json")
    assert (found["namespace"], found["name"]) == (bronze.namespace, bronze.name)
