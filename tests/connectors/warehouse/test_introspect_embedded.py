"""Introspection of the embedded warehouses, for real: a DuckDB file and a SQLite file."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import duckdb
import pytest

from connectors.warehouse import introspect
from lineage.errors import PermanentConnectorError, TemporaryConnectorError
from lineage.model import DatasetId, DatasetKind, LiveColumn, namespace_of

DUCKDB_SEED = """
CREATE SCHEMA bronze;
CREATE SCHEMA silver;
CREATE TABLE bronze.erp_cust_az12 (
    _airbyte_raw_id VARCHAR NOT NULL,
    _airbyte_extracted_at TIMESTAMPTZ NOT NULL,
    cid VARCHAR(50),
    gen VARCHAR(10),
    bdate DATE
);
CREATE TABLE silver.erp_customers (
    customer_id INTEGER PRIMARY KEY,
    customer_key VARCHAR NOT NULL,
    gender VARCHAR NOT NULL DEFAULT 'n/a',
    amount DECIMAL(18, 2)
);
COMMENT ON TABLE silver.erp_customers IS 'One row per ERP customer';
COMMENT ON COLUMN silver.erp_customers.gender IS 'Male, Female or n/a';
CREATE VIEW silver.v_customers AS
    SELECT customer_id, gender FROM silver.erp_customers WHERE gender <> 'n/a';
"""


@pytest.fixture
def duck(tmp_path: Path) -> str:
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(DUCKDB_SEED)
    return f"duckdb:///{path}"


def test_duckdb_every_fact(duck: str) -> None:
    observed = introspect(duck)
    namespace, database = namespace_of(duck)
    assert database == "wh" and observed.issues == ()
    assert observed.source == duck
    assert [t.id for t in observed.tables] == [
        DatasetId(namespace, "wh.bronze.erp_cust_az12"),
        DatasetId(namespace, "wh.silver.erp_customers"),
        DatasetId(namespace, "wh.silver.v_customers"),
    ]
    bronze, silver, view = observed.tables
    assert bronze.kind is DatasetKind.TABLE
    assert [(c.name, c.type, c.nullable) for c in bronze.columns] == [
        ("_airbyte_raw_id", "VARCHAR", False),
        ("_airbyte_extracted_at", "TIMESTAMP WITH TIME ZONE", False),
        ("cid", "VARCHAR", True),  # DuckDB keeps no VARCHAR length
        ("gen", "VARCHAR", True),
        ("bdate", "DATE", True),
    ]
    assert silver.comment == "One row per ERP customer"
    assert silver.primary_key == ("customer_id",)
    assert silver.columns[2] == LiveColumn(
        "gender", "VARCHAR", nullable=False, default="'n/a'", comment="Male, Female or n/a"
    )
    assert silver.columns[3].type == "DECIMAL(18,2)"
    assert view.kind is DatasetKind.VIEW
    assert view.definition == (  # DuckDB keeps the statement, re-rendered
        "CREATE VIEW silver.v_customers AS SELECT customer_id, gender "
        "FROM silver.erp_customers WHERE (gender != 'n/a');"
    )
    assert [(c.name, c.nullable) for c in view.columns] == [
        ("customer_id", None), ("gender", None),
    ]
    assert introspect(duck) == observed


def test_duckdb_filters(duck: str) -> None:
    assert [t.id.name for t in introspect(duck, schemas=["bronze"]).tables] == [
        "wh.bronze.erp_cust_az12"
    ]
    assert [t.id.name for t in introspect(duck, include=["wh.silver.*"], exclude=["*.v_*"])
            .tables] == ["wh.silver.erp_customers"]


def test_duckdb_open_failures(duck: str, tmp_path: Path) -> None:
    with pytest.raises(PermanentConnectorError, match="DuckDB"):
        introspect(f"duckdb:///{tmp_path / 'missing.duckdb'}")
    writer = duckdb.connect(duck.removeprefix("duckdb:///"))  # holds the file's lock
    try:
        # Same process: DuckDB refuses a second configuration of an open file.
        with pytest.raises((TemporaryConnectorError, PermanentConnectorError)):
            introspect(duck)
    finally:
        writer.close()


def test_duckdb_statement_timeout_interrupts_a_running_statement(duck: str) -> None:
    from sqlalchemy.engine import make_url

    from connectors.warehouse.duckdb import DuckDBBackend

    backend = DuckDBBackend.from_url(make_url(duck), statement_timeout_s=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(duckdb.InterruptException):
            backend.rows("SELECT count(*) FROM range(100000000000) AS r(i) WHERE i % 7 = 3")
        assert time.monotonic() - started < 3
        assert backend.rows("SELECT 42 AS answer") == [{"answer": 42}]  # usable again
    finally:
        backend.close()


SQLITE_SEED = """
CREATE TABLE erp_customers (
    customer_id INTEGER PRIMARY KEY,
    customer_key VARCHAR(50) NOT NULL,
    gender VARCHAR(10) NOT NULL DEFAULT 'n/a',
    birth_date DATE
);
CREATE TABLE erp_cust_az12 (_airbyte_raw_id VARCHAR, cid VARCHAR(50), bdate DATE);
CREATE TABLE gone (x INTEGER);
CREATE VIEW v_customers AS SELECT customer_id, gender FROM erp_customers;
CREATE VIEW v_broken AS SELECT x FROM gone;
"""


def test_sqlite_every_fact_and_a_broken_view(tmp_path: Path) -> None:
    path = tmp_path / "wh.db"
    with sqlite3.connect(path) as con:
        con.executescript(SQLITE_SEED)
        con.execute("DROP TABLE gone")  # v_broken now fails to describe
    url = f"sqlite:///{path}"
    observed = introspect(url)
    namespace = f"sqlite://{path}"
    assert [str(i) for i in observed.issues] == [
        "wh.v_broken: no such table: main.gone"
    ]
    assert [t.id for t in observed.tables] == [
        DatasetId(namespace, "wh.erp_cust_az12"),
        DatasetId(namespace, "wh.erp_customers"),
        DatasetId(namespace, "wh.v_customers"),
    ]
    customers = observed.tables[1]
    assert customers.columns == (
        LiveColumn("customer_id", "INTEGER", nullable=True, primary_key=True),
        LiveColumn("customer_key", "VARCHAR(50)", nullable=False),
        LiveColumn("gender", "VARCHAR(10)", nullable=False, default="'n/a'"),
        LiveColumn("birth_date", "DATE", nullable=True),
    )
    view = observed.tables[2]
    assert view.kind is DatasetKind.VIEW
    assert view.definition == (
        "CREATE VIEW v_customers AS SELECT customer_id, gender FROM erp_customers"
    )
    assert introspect(url, include=["main.erp_*"], exclude=["*az12"]).tables == (customers,)
    assert introspect(url) == observed


def test_sqlite_statement_timeout_interrupts(tmp_path: Path) -> None:
    path = tmp_path / "many.db"
    with sqlite3.connect(path) as con:
        con.executescript(
            "BEGIN;" + "".join(f"CREATE TABLE t{i} (a INTEGER, b TEXT);" for i in range(300))
            + "COMMIT;"
        )
    observed = introspect(f"sqlite:///{path}", statement_timeout_s=0.0)
    assert observed.tables == ()
    assert [str(i) for i in observed.issues] == ["schema main: interrupted"]
    assert len(introspect(f"sqlite:///{path}", statement_timeout_s=30).tables) == 300
