"""Introspection of a real PostgreSQL: the seed's bronze and silver schemas, every fact."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.warehouse import introspect, postgres
from lineage.errors import PermanentConnectorError, TemporaryConnectorError
from lineage.model import DatasetId, DatasetKind, LiveColumn, namespace_of

SEED = """
CREATE SCHEMA bronze;
CREATE SCHEMA silver;
CREATE TABLE bronze.erp_cust_az12 (
    _airbyte_raw_id varchar NOT NULL,
    _airbyte_extracted_at timestamptz NOT NULL,
    cid varchar(50),
    gen varchar(10),
    bdate date
);
CREATE TABLE silver.erp_customers (
    customer_id integer PRIMARY KEY,
    customer_key varchar(50) NOT NULL,
    gender varchar(10) NOT NULL DEFAULT 'n/a',
    birth_date date,
    amount numeric(18, 2),
    dwh_loaded_at timestamp with time zone DEFAULT now()
);
COMMENT ON TABLE silver.erp_customers IS 'One row per ERP customer';
COMMENT ON COLUMN silver.erp_customers.gender IS 'Normalised: Male, Female or n/a';
CREATE VIEW silver.v_customers AS
    SELECT customer_id, customer_key, gender FROM silver.erp_customers WHERE gender <> 'n/a';
CREATE MATERIALIZED VIEW silver.mv_gender_counts AS
    SELECT gender, count(*) AS customers FROM silver.erp_customers GROUP BY gender;
"""


def _execute(url: str, script: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(script)
    finally:
        engine.dispose()


@pytest.fixture
def seeded(postgres_database: str) -> str:
    _execute(postgres_database, SEED)
    return postgres_database


def _by_name(observation: Any) -> dict[str, Any]:
    return {t.id.name.split(".", 1)[1]: t for t in observation.tables}


def test_every_fact_of_the_seed_schemas(seeded: str) -> None:
    observed = introspect(seeded)
    namespace, database = namespace_of(seeded)
    assert observed.issues == ()
    assert observed.source == seeded  # no password in it to mask
    assert [t.id.name for t in observed.tables] == [
        f"{database}.bronze.erp_cust_az12",
        f"{database}.silver.erp_customers",
        f"{database}.silver.mv_gender_counts",
        f"{database}.silver.v_customers",
    ]
    tables = _by_name(observed)
    bronze = tables["bronze.erp_cust_az12"]
    assert bronze.id == DatasetId(namespace, f"{database}.bronze.erp_cust_az12")
    assert bronze.kind is DatasetKind.TABLE
    assert bronze.columns == (
        LiveColumn("_airbyte_raw_id", "character varying", nullable=False),
        LiveColumn("_airbyte_extracted_at", "timestamp with time zone", nullable=False),
        LiveColumn("cid", "character varying(50)", nullable=True),
        LiveColumn("gen", "character varying(10)", nullable=True),
        LiveColumn("bdate", "date", nullable=True),
    )
    silver = tables["silver.erp_customers"]
    assert silver.comment == "One row per ERP customer"
    assert silver.primary_key == ("customer_id",)
    by_column = {c.name: c for c in silver.columns}
    assert by_column["customer_id"] == LiveColumn(
        "customer_id", "integer", nullable=False, primary_key=True
    )
    assert by_column["gender"] == LiveColumn(
        "gender", "character varying(10)", nullable=False,
        default="'n/a'::character varying", comment="Normalised: Male, Female or n/a",
    )
    assert by_column["amount"].type == "numeric(18,2)"
    assert by_column["dwh_loaded_at"].default == "now()"
    assert [c.name for c in silver.columns][:2] == ["customer_id", "customer_key"]

    view = tables["silver.v_customers"]
    assert view.kind is DatasetKind.VIEW
    assert view.definition is not None
    assert view.definition.startswith("SELECT erp_customers.customer_id")
    assert "<> 'n/a'" in view.definition
    assert [(c.name, c.type, c.nullable) for c in view.columns] == [
        ("customer_id", "integer", None),
        ("customer_key", "character varying(50)", None),
        ("gender", "character varying(10)", None),
    ]
    matview = tables["silver.mv_gender_counts"]
    assert matview.kind is DatasetKind.MATERIALIZED_VIEW
    assert matview.definition is not None and "GROUP BY" in matview.definition
    assert [c.name for c in matview.columns] == ["gender", "customers"]


def test_schemas_include_and_exclude(seeded: str) -> None:
    def names(**options: Any) -> list[str]:
        return sorted(_by_name(introspect(seeded, **options)))

    assert names(schemas=["bronze"]) == ["bronze.erp_cust_az12"]
    assert names(include=["silver.*"], exclude=["*.mv_*"]) == [
        "silver.erp_customers", "silver.v_customers",
    ]
    database = namespace_of(seeded)[1]
    assert names(include=[f"{database}.bronze.*"]) == ["bronze.erp_cust_az12"]
    missing = introspect(seeded, schemas=["bronze", "gold"])
    assert [str(i) for i in missing.issues] == ["schema gold: no such schema (or not visible)"]
    assert len(missing.tables) == 1


def test_two_introspections_of_an_unchanged_warehouse_are_equal(seeded: str) -> None:
    assert introspect(seeded) == introspect(seeded)


def test_a_schema_the_role_cannot_use_is_one_issue_and_the_rest_goes_on(seeded: str) -> None:
    _execute(
        seeded,
        "CREATE ROLE wh_reader LOGIN; GRANT USAGE ON SCHEMA silver TO wh_reader;"
        "GRANT SELECT ON ALL TABLES IN SCHEMA silver TO wh_reader;",
    )
    try:
        as_reader = seeded.replace("postgres@", "wh_reader@", 1)
        observed = introspect(as_reader)
        assert [str(i) for i in observed.issues] == [
            "schema bronze: permission denied for schema bronze (no USAGE privilege)"
        ]
        assert sorted(_by_name(observed)) == [
            "silver.erp_customers", "silver.mv_gender_counts", "silver.v_customers",
        ]
        assert _by_name(observed)["silver.erp_customers"].primary_key == ("customer_id",)
    finally:
        _execute(seeded, "DROP OWNED BY wh_reader; DROP ROLE wh_reader;")


@contextmanager
def _locked(url: str, catalog_table: str) -> Iterator[None]:
    """Another session holds an exclusive lock on a catalog table meanwhile."""
    engine = sa.create_engine(url)
    conn = engine.connect()
    conn.exec_driver_sql(f"LOCK TABLE pg_catalog.{catalog_table} IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()
        engine.dispose()


def test_statement_timeout_cancels_a_blocked_query(seeded: str) -> None:
    started = time.monotonic()
    with _locked(seeded, "pg_description"):  # comments: read with the relations
        observed = introspect(seeded, statement_timeout_s=0.3)
    assert time.monotonic() - started < 5
    assert observed.tables == ()
    assert [i.subject for i in observed.issues] == [
        "schema bronze", "schema public", "schema silver",
    ]
    assert all("statement timeout" in i.message for i in observed.issues), observed.issues


def test_columns_that_cannot_be_read_make_one_issue_per_table(seeded: str) -> None:
    _execute(seeded, "CREATE TABLE bronze.crm_prd_info (prd_id integer, prd_key text)")
    # Defaults: read with the columns, not with the relations (no view SQL in bronze, the
    # server would load the views' defaults to print them).
    with _locked(seeded, "pg_attrdef"):
        observed = introspect(seeded, statement_timeout_s=0.3, schemas=["bronze"])
    database = namespace_of(seeded)[1]
    assert observed.tables == ()
    assert [i.subject for i in observed.issues] == [
        f"{database}.bronze.crm_prd_info", f"{database}.bronze.erp_cust_az12",
    ]
    assert all("statement timeout" in i.message for i in observed.issues)


def test_the_statement_count_does_not_grow_with_the_tables(postgres_database: str) -> None:
    def statements_for(tables: int) -> int:
        _execute(postgres_database, "DROP SCHEMA IF EXISTS many CASCADE; CREATE SCHEMA many;")
        _execute(
            postgres_database,
            "".join(
                f"CREATE TABLE many.t{i} (id integer PRIMARY KEY, v text);"
                f"COMMENT ON TABLE many.t{i} IS 'table {i}';"
                for i in range(tables)
            ),
        )
        engine = sa.create_engine(postgres_database)
        counted: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", lambda *a: counted.append(a[2]))
        try:
            observed = introspect(engine)
        finally:
            engine.dispose()
        assert len(observed.tables) == tables
        assert all(t.primary_key == ("id",) for t in observed.tables)
        return len(counted)

    one, fifty = statements_for(1), statements_for(50)
    assert one == fifty
    assert one <= 6  # database name, schemas, then 3 per schema


def test_the_streamed_columns_equal_the_ordered_fetch(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # psycopg 3 on libpq >= 17 streams the unordered columns; other drivers fetch them
    # ordered. 300 tables: more than one chunk of the stream.
    _execute(seeded, "".join(
        f"CREATE TABLE silver.t{i:03d} (id integer PRIMARY KEY, v{i} text NOT NULL, w date);"
        for i in range(300)
    ))  # fmt: skip

    def observed_seeing_sql() -> tuple[Any, list[str]]:
        engine = sa.create_engine(seeded)
        seen: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        try:
            return introspect(engine), seen
        finally:
            engine.dispose()

    streamed, streamed_sql = observed_seeing_sql()
    monkeypatch.setattr(postgres, "_CHUNKED_LIBPQ", 10**9)  # as an older libpq
    fetched, fetched_sql = observed_seeing_sql()
    assert not any("pg_attribute" in sql for sql in streamed_sql)  # past SQLAlchemy
    assert any("pg_attribute" in sql for sql in fetched_sql)
    assert streamed == fetched
    by_name = _by_name(streamed)
    assert [c.name for c in by_name["silver.t123"].columns] == ["id", "v123", "w"]
    assert by_name["silver.t123"].primary_key == ("id",)
    assert len(streamed.tables) == 304


def test_password_from_the_environment_never_shows(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.warehouse.engine import create_warehouse_engine

    secret = "s3cr3t-Pa55word"
    _execute(seeded, f"CREATE ROLE wh_etl LOGIN PASSWORD '{secret}' SUPERUSER;")
    try:
        monkeypatch.setenv("LINEAGE_WAREHOUSE_PASSWORD", secret)
        url = seeded.replace("postgres@", "wh_etl@", 1)
        engine = create_warehouse_engine(url)
        assert engine.url.password == secret  # the driver gets it (the server trusts anyway)
        assert secret not in repr(engine) and secret not in str(engine.url)
        observed = introspect(url, schemas=["silver", "nowhere"])
        assert secret not in repr(observed)
        assert observed.source == url.replace("wh_etl@", "wh_etl:***@", 1)
        engine.dispose()
    finally:
        _execute(seeded, "DROP ROLE wh_etl;")


def test_connection_failures_are_classified(
    postgres_server: Any, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAGE_WAREHOUSE_PASSWORD", "hunter2-secret")
    with pytest.raises(TemporaryConnectorError) as refused:
        introspect(f"postgresql+psycopg://etl@127.0.0.1:{closed_port}/dwh")
    assert "hunter2" not in str(refused.value)
    with pytest.raises(PermanentConnectorError, match="does not exist"):
        introspect(postgres_server.url("no_such_database"))


def test_a_table_dropped_between_two_queries_is_seen_whole(seeded: str) -> None:
    # Another session drops bronze.erp_cust_az12 after the relations were listed and
    # before the columns are read: one snapshot, so the table comes with all its columns.
    engine = sa.create_engine(seeded)
    dropped: list[bool] = []

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # After the relations query (the columns are streamed past SQLAlchemy's events).
        if "pg_get_viewdef" in statement and not dropped:
            _execute(seeded, "DROP TABLE bronze.erp_cust_az12")
            dropped.append(True)

    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        observed = introspect(engine, schemas=["bronze"])
    finally:
        engine.dispose()
    assert dropped and observed.issues == ()
    [table] = observed.tables
    assert [c.name for c in table.columns] == [
        "_airbyte_raw_id", "_airbyte_extracted_at", "cid", "gen", "bdate",
    ]
    assert introspect(seeded, schemas=["bronze"]).tables == ()


def test_a_foreign_table_is_external_with_its_location(seeded: str) -> None:
    _execute(
        seeded,
        "CREATE EXTENSION file_fdw; CREATE SERVER landing FOREIGN DATA WRAPPER file_fdw;"
        "CREATE FOREIGN TABLE bronze.crm_cust_info (cst_id integer, cst_key varchar(50))"
        " SERVER landing OPTIONS (filename '/data/landing/crm/cust_info.csv', format 'csv');",
    )
    observed = introspect(seeded, include=["bronze.crm_*"])
    [table] = observed.tables
    assert table.kind is DatasetKind.EXTERNAL
    assert table.location == "/data/landing/crm/cust_info.csv"
    assert [(c.name, c.type) for c in table.columns] == [
        ("cst_id", "integer"), ("cst_key", "character varying(50)"),
    ]
