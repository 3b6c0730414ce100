"""Contract checks for real: PostgreSQL (the suite's server) and a DuckDB file, seeded with
clean rows and with dirty rows shaped like the seed's silver ``erp_customers``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy
from sqlalchemy import event

from connectors.warehouse.checks import check_constraints, check_custom_sql
from connectors.warehouse.checks_sql import plan_constraint, scan_query
from lineage.contracts import (
    Constraint,
    ConstraintKind,
    QualityRule,
    RuleKind,
    RuleSeverity,
    Source,
)
from lineage.model import DatasetId, DatasetKind, LiveColumn, LiveTable
from lineage.views import CheckResult, CheckStatus

NOW = datetime(2026, 12, 1, 6, 30, tzinfo=timezone.utc)
K = ConstraintKind
NAMES = ("customer_id", "first_name", "birth_date", "gender", "email", "score", "dwh_loaded_at")
CLEAN = [
    ("CUST0001", "Ann", "1990-05-15", "Male", "ann@example.com", 10, "2026-12-01 05:00:00"),
    ("CUST0002", "Bob", "1985-01-31", "Female", "bob@example.com", 20, "2026-12-01 05:00:00"),
    ("CUST0003", "Cy", "2001-12-01", "Unknown", "cy@example.com", 30, "2026-12-01 05:00:00"),
]
LONG_ID = "CUST" + "9" * 47  # 51 characters
DIRTY = [
    *CLEAN,
    (None, "Nul", "1970-01-01", "Male", "nul@example.com", 40, "2026-12-01 05:00:00"),
    ("CUST0002", "Dup", "1980-02-02", "Female", "dup@example.com", 50, "2026-12-01 05:00:00"),
    (LONG_ID, "Long", "1990-01-01", "Male", "long@example.com", 60, "2026-12-01 05:00:00"),
    ("CU7", "Short", "1850-03-01", "X", "short@example.com", -5, "2026-12-01 05:00:00"),
    ("XCUST1234Y", "Part", "2030-01-01", None, "part@example.com", 150, "2026-12-01 05:00:00"),
]
SRC = Source("contracts/erp_customers.yaml", 7)
CONSTRAINTS = [
    Constraint(K.NOT_NULL, "customer_id", source=SRC),
    Constraint(K.UNIQUE, "customer_id"),
    Constraint(K.MAX_LENGTH, "customer_id", 50),
    Constraint(K.MIN_LENGTH, "customer_id", 8),
    Constraint(K.PATTERN, "customer_id", "^CUST[0-9]{4}$"),
    # Unanchored as written: the contract still means the whole value.
    Constraint(K.PATTERN, "customer_id", "CUST[0-9]{4}", name="pattern_unanchored"),
    Constraint(K.MIN, "birth_date", "1900-01-01"),
    Constraint(K.MAX, "birth_date", "2026-12-01"),
    Constraint(K.ACCEPTED_VALUES, "gender", ("Male", "Female", "Unknown")),
    Constraint(K.NOT_NULL, "gender", severity=RuleSeverity.WARNING),
    Constraint(K.MIN, "score", 0),
    Constraint(K.MAX, "score", 100),
    Constraint(K.TYPE, "customer_id", "varchar(60)"),
    Constraint(K.TYPE, "birth_date", "date"),
]
# label -> (status on dirty data, violation count, offending customer_ids sampled)
DIRTY_EXPECTED: dict[str, tuple[CheckStatus, int, set[str | None]]] = {
    "not_null(customer_id)": (CheckStatus.FAILED, 1, {None}),
    "unique(customer_id)": (CheckStatus.FAILED, 1, {"CUST0002"}),
    "max_length(customer_id)": (CheckStatus.FAILED, 1, {LONG_ID}),
    "min_length(customer_id)": (CheckStatus.FAILED, 1, {"CU7"}),
    "pattern(customer_id)": (CheckStatus.FAILED, 3, {LONG_ID, "CU7", "XCUST1234Y"}),
    "pattern_unanchored": (CheckStatus.FAILED, 3, {LONG_ID, "CU7", "XCUST1234Y"}),
    "min(birth_date)": (CheckStatus.FAILED, 1, {"CU7"}),
    "max(birth_date)": (CheckStatus.FAILED, 1, {"XCUST1234Y"}),
    "accepted_values(gender)": (CheckStatus.FAILED, 1, {"CU7"}),  # NULL passes, as in dbt
    "not_null(gender)": (CheckStatus.WARNING, 1, {"XCUST1234Y"}),
    "min(score)": (CheckStatus.FAILED, 1, {"CU7"}),
    "max(score)": (CheckStatus.FAILED, 1, {"XCUST1234Y"}),
}
ROW_LEVEL = len(DIRTY_EXPECTED)


@dataclass
class Warehouse:
    """A seeded warehouse: what to pass as ``source``, the table, statements it ran."""

    source: Any
    table: LiveTable
    statements: list[str]


def _table(namespace: str, name: str, types: tuple[str, ...]) -> LiveTable:
    columns = tuple(LiveColumn(n, t) for n, t in zip(NAMES, types, strict=True))
    return LiveTable(DatasetId(namespace, name), DatasetKind.TABLE, columns)


DUCK_TYPES = ("VARCHAR", "VARCHAR", "DATE", "VARCHAR", "VARCHAR", "INTEGER", "TIMESTAMP")
PG_TYPES = ("character varying(60)", "text", "date", "character varying(10)", "text",
            "integer", "timestamp without time zone")  # fmt: skip
DDL = (
    "CREATE TABLE silver.erp_customers (customer_id VARCHAR(60), first_name TEXT, "
    "birth_date DATE, gender VARCHAR(10), email TEXT, score INTEGER, dwh_loaded_at TIMESTAMP)"
)


def _duckdb(tmp_path: Path, rows: list[tuple[Any, ...]]) -> Warehouse:
    path = tmp_path / "dwh.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA silver")
        conn.execute(DDL)
        conn.executemany("INSERT INTO silver.erp_customers VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    table = _table(f"duckdb://{path}", "dwh.silver.erp_customers", DUCK_TYPES)
    return Warehouse(f"duckdb:///{path}", table, [])


@pytest.fixture
def pg_engine(postgres_database: str) -> Iterator[sqlalchemy.Engine]:
    engine = sqlalchemy.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA silver")
        conn.exec_driver_sql(DDL)
        conn.exec_driver_sql("CREATE SEQUENCE silver.ids")
    yield engine
    engine.dispose()


def _postgres(engine: sqlalchemy.Engine, rows: list[tuple[Any, ...]]) -> Warehouse:
    insert = sqlalchemy.text(
        "INSERT INTO silver.erp_customers VALUES (:a, :b, CAST(:c AS DATE), :d, :e, :f, "
        "CAST(:g AS TIMESTAMP))"
    )
    with engine.begin() as conn:
        conn.execute(insert, [dict(zip("abcdefg", row, strict=True)) for row in rows])
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: statements.append(sql))  # fmt: skip
    table = _table("postgres://127.0.0.1", "db.silver.erp_customers", PG_TYPES)
    return Warehouse(engine, table, statements)


@pytest.fixture(params=["duckdb", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A function seeding the backend with rows and returning the ``Warehouse``."""
    if request.param == "duckdb":
        return lambda rows: _duckdb(tmp_path, rows)
    engine = request.getfixturevalue("pg_engine")
    return lambda rows: _postgres(engine, rows)


def _by_label(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.check: r for r in results}


def test_every_constraint_passes_on_clean_data_in_one_query(backend: Any) -> None:
    warehouse = backend(CLEAN)
    results = check_constraints(warehouse.source, warehouse.table, CONSTRAINTS, now=NOW,
                                run_id="r-1")  # fmt: skip
    assert [r.check for r in results] == [c.label for c in CONSTRAINTS]
    for result in results:
        assert result.status is CheckStatus.PASSED, (result.check, result.details)
        assert result.observed_at == NOW and result.run_id == "r-1"
        assert "sample" not in result.details
    assert results[0].details["observed"] == 0
    assert results[0].details["threshold"] == "<= 0 nulls"
    assert results[0].details["source"] == "contracts/erp_customers.yaml:7"
    assert results[0].details["severity"] == "error"
    if isinstance(warehouse.source, sqlalchemy.Engine):
        assert len(warehouse.statements) == 1  # one scan; type constraints need no query
        assert warehouse.statements[0] == results[0].details["sql"]


def test_dirty_rows_fail_with_counts_and_samples_without_sensitive_columns(
    backend: Any,
) -> None:
    warehouse = backend(DIRTY)
    results = check_constraints(
        warehouse.source, warehouse.table, CONSTRAINTS, sensitive_columns=("EMAIL",), now=NOW
    )
    found = _by_label(results)
    for label, (status, count, offenders) in DIRTY_EXPECTED.items():
        result = found[label]
        assert result.status is status, (label, result.details)
        assert result.details["observed"] == count, label
        sample = result.details["sample"]
        assert {row["customer_id"] for row in sample} == offenders, label
        assert all("email" not in row for row in sample)
        assert all(set(row) == set(NAMES) - {"email"} for row in sample)
        assert str(count) in result.details["message"]
    assert found["max_length(customer_id)"].details["threshold"] == "length <= 50"
    assert found["min(birth_date)"].details["threshold"] == ">= 1900-01-01"
    assert found["min(birth_date)"].details["sample"][0]["birth_date"] == "1850-03-01"
    assert found["not_null(gender)"].details["severity"] == "warning"
    assert found["type(customer_id)"].status is CheckStatus.PASSED
    assert found["type(birth_date)"].status is CheckStatus.PASSED
    if isinstance(warehouse.source, sqlalchemy.Engine):
        # One shared scan, then one bounded sample query per violated constraint.
        assert len(warehouse.statements) == 1 + ROW_LEVEL
        assert all("LIMIT 5" in sql for sql in warehouse.statements[1:])
        assert all("email" not in sql for sql in warehouse.statements[1:])


def test_a_bogus_regex_is_one_error_and_the_rest_is_judged(backend: Any) -> None:
    warehouse = backend(DIRTY)
    constraints = [
        Constraint(K.NOT_NULL, "customer_id"),
        Constraint(K.PATTERN, "customer_id", "CUST[0-9"),
        Constraint(K.ACCEPTED_VALUES, "gender", ("Male", "Female", "Unknown")),
        Constraint(K.NOT_NULL, "phone"),
    ]
    results = check_constraints(warehouse.source, warehouse.table, constraints, now=NOW)
    assert [r.status for r in results] == [
        CheckStatus.FAILED, CheckStatus.ERROR, CheckStatus.FAILED, CheckStatus.ERROR
    ]  # fmt: skip
    assert [r.details.get("observed") for r in results] == [1, None, 1, None]
    assert results[1].details["message"].startswith("the query failed: ")
    assert "]" in results[1].details["message"]  # the regex engine's own complaint
    assert results[3].details["message"] == "no column phone in dwh.silver.erp_customers" or (
        results[3].details["message"] == "no column phone in db.silver.erp_customers"
    )
    assert "sql" not in results[3].details


def test_the_offending_column_is_hidden_when_sensitive(backend: Any) -> None:
    warehouse = backend(DIRTY)
    constraints = [Constraint(K.MAX_LENGTH, "customer_id", 50), Constraint(K.TYPE, "score", "text")]
    results = check_constraints(
        warehouse.source, warehouse.table, constraints, now=NOW, sample_limit=1,
        sensitive_columns=("email", "customer_id"),
    )  # fmt: skip
    assert results[0].status is CheckStatus.FAILED
    assert results[0].details["sample"] == [
        {"first_name": "Long", "birth_date": "1990-01-01", "gender": "Male", "score": 60,
         "dwh_loaded_at": "2026-12-01T05:00:00"}
    ]  # fmt: skip
    assert results[1].status is CheckStatus.FAILED  # INT is not TEXT
    assert "the contract says TEXT" in results[1].details["message"]


def test_custom_sql_must_return_no_rows(backend: Any) -> None:
    warehouse = backend(DIRTY)
    ok = QualityRule(RuleKind.CUSTOM_SQL, name="no_far_future",
                     sql="SELECT customer_id FROM silver.erp_customers "
                         "WHERE birth_date > DATE '2100-01-01'")  # fmt: skip
    passed = check_custom_sql(warehouse.source, warehouse.table, ok, now=NOW)
    assert passed.status is CheckStatus.PASSED
    assert passed.details["observed"] == 0
    bad = QualityRule(
        RuleKind.CUSTOM_SQL, RuleSeverity.WARNING, name="ids_look_like_cust",
        sql="SELECT customer_id, email FROM silver.erp_customers "
            "WHERE customer_id NOT LIKE 'CUST%' OR customer_id IS NULL -- the seed's recovery",
    )  # fmt: skip
    failed = check_custom_sql(warehouse.source, warehouse.table, bad, now=NOW,
                              sensitive_columns=("email",), sample_limit=1)  # fmt: skip
    assert failed.status is CheckStatus.WARNING
    assert failed.details["observed"] == 3  # NULL, CU7, XCUST1234Y: counted past the sample
    assert len(failed.details["sample"]) == 1
    assert set(failed.details["sample"][0]) == {"customer_id"}
    assert failed.details["message"] == "the query returned 3 rows, expected none"


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM silver.erp_customers",
        "SELECT 1; DROP TABLE silver.erp_customers",
        "WITH gone AS (DELETE FROM silver.erp_customers RETURNING *) SELECT * FROM gone",
        "SELECT * INTO silver.copy FROM silver.erp_customers",
        "SELECT (",
    ],
)
def test_custom_sql_that_is_not_one_read_only_query_is_refused(backend: Any, sql: str) -> None:
    warehouse = backend(DIRTY)
    rule = QualityRule(RuleKind.CUSTOM_SQL, sql=sql, source=Source("c.yaml", 3))
    result = check_custom_sql(warehouse.source, warehouse.table, rule, now=NOW)
    assert result.status is CheckStatus.ERROR
    assert result.details["message"].startswith("refused: ")
    assert result.details["source"] == "c.yaml:3"
    counted = check_constraints(warehouse.source, warehouse.table,
                                [Constraint(K.MIN_LENGTH, "first_name", 0)])  # fmt: skip
    assert counted[0].status is CheckStatus.PASSED  # the table is still there


def test_postgres_custom_sql_runs_read_only_and_within_the_timeout(
    pg_engine: sqlalchemy.Engine,
) -> None:
    warehouse = _postgres(pg_engine, CLEAN)
    # A SELECT with a side effect gets past the parser; the read-only transaction stops it.
    moves = QualityRule(RuleKind.CUSTOM_SQL, sql="SELECT nextval('silver.ids')")
    result = check_custom_sql(warehouse.source, warehouse.table, moves, now=NOW)
    assert result.status is CheckStatus.ERROR
    assert "read-only transaction" in result.details["message"]
    slow = QualityRule(RuleKind.CUSTOM_SQL, sql="SELECT pg_sleep(5)")
    result = check_custom_sql(warehouse.source, warehouse.table, slow, statement_timeout_s=0.2)
    assert result.status is CheckStatus.ERROR
    assert "statement timeout" in result.details["message"]
    broken = QualityRule(RuleKind.CUSTOM_SQL, sql="SELECT nope FROM silver.erp_customers")
    result = check_custom_sql(warehouse.source, warehouse.table, broken)
    assert result.status is CheckStatus.ERROR
    assert 'column "nope" does not exist' in result.details["message"]


def test_postgres_type_constraints_need_no_query(pg_engine: sqlalchemy.Engine) -> None:
    warehouse = _postgres(pg_engine, CLEAN)
    constraints = [
        Constraint(K.TYPE, "customer_id", "character varying(60)"),
        Constraint(K.TYPE, "customer_id", "varchar"),  # any length of varchar
        Constraint(K.TYPE, "customer_id", "varchar(50)", severity=RuleSeverity.WARNING),
        Constraint(K.TYPE, "score", "int4"),
        Constraint(K.TYPE, "score", "no such type ((("),
    ]
    results = check_constraints(warehouse.source, warehouse.table, constraints)
    assert [r.status for r in results] == [
        CheckStatus.PASSED, CheckStatus.PASSED, CheckStatus.WARNING, CheckStatus.PASSED,
        CheckStatus.ERROR,
    ]  # fmt: skip
    assert results[2].details["message"] == (
        "customer_id is VARCHAR(60), the contract says VARCHAR(50)"
    )
    assert warehouse.statements == []


def test_the_scan_sql_per_dialect() -> None:
    table = _table("duckdb", "dwh.silver.erp_customers", DUCK_TYPES)
    column = table.columns[0]
    pattern = Constraint(K.PATTERN, "customer_id", "^CUST[0-9]{4}$")
    duck = scan_query(table, [plan_constraint(pattern, column, "duckdb")], "duckdb")
    assert duck.sql("duckdb") == (
        'SELECT SUM(CASE WHEN NOT "customer_id" IS NULL AND NOT REGEXP_MATCHES('
        "\"customer_id\", '^(?:^CUST[0-9]{4}$)$') THEN 1 ELSE 0 END) AS _c0 "
        'FROM "silver"."erp_customers"'
    )
    tricky = Constraint(K.ACCEPTED_VALUES, "gender", ("it's", "M"))
    pg = scan_query(table, [plan_constraint(tricky, table.columns[3], "postgres")], "postgres")
    assert "NOT \"gender\" IN ('it''s', 'M')" in pg.sql("postgres")
    with pytest.raises(ValueError, match="whole number"):
        plan_constraint(Constraint(K.MAX_LENGTH, "customer_id", "fifty"), column, "duckdb")
    with pytest.raises(ValueError, match="not an ISO date"):
        plan_constraint(Constraint(K.MIN, "birth_date", "yesterday"), table.columns[2], "duckdb")
    # A date bound compares with the column's own type, whether text or a parsed date.
    for bound in ("1900-01-01", date(1900, 1, 1)):
        low = Constraint(K.MIN, "birth_date", bound)  # type: ignore[arg-type]
        plan = plan_constraint(low, table.columns[2], "postgres")
        assert "\"birth_date\" < CAST('1900-01-01' AS DATE)" in plan.counted.sql("postgres")


def test_duckdb_timeout_is_an_error_per_constraint_without_retrying_each(
    tmp_path: Path,
) -> None:
    path = tmp_path / "slow.duckdb"
    with duckdb.connect(str(path)) as conn:  # a view far too big to scan in 0.3 s
        conn.execute(
            "CREATE VIEW slow AS SELECT a.range AS x FROM range(100000000) a, range(100000) b"
        )
    table = LiveTable(DatasetId("duckdb", "slow.main.slow"), DatasetKind.VIEW,
                      (LiveColumn("x", "BIGINT"),))  # fmt: skip
    constraints = [Constraint(K.NOT_NULL, "x"), Constraint(K.MIN, "x", 0)]
    started = datetime.now(timezone.utc)
    results = check_constraints(f"duckdb:///{path}", table, constraints, statement_timeout_s=0.3)
    assert [r.status for r in results] == [CheckStatus.ERROR, CheckStatus.ERROR]
    assert "interrupt" in results[0].details["message"].lower()
    assert (datetime.now(timezone.utc) - started).total_seconds() < 3  # one scan, not three


def test_live_figures_ride_along_the_constraint_scan(backend: Any) -> None:
    from connectors.warehouse.checks import check_table
    from connectors.warehouse.figures import FigureRequest

    warehouse = backend(DIRTY)
    request = FigureRequest(null_columns=("gender", "customer_id"), loaded_at=("dwh_loaded_at",))
    checked = check_table(warehouse.source, warehouse.table, CONSTRAINTS[:3], figures=request,
                          now=NOW)  # fmt: skip
    assert [r.status for r in checked.results] == [CheckStatus.FAILED] * 3
    assert checked.figures is not None and checked.figures_error is None
    figures = {(m.name, m.column): m.value for m in checked.figures.metrics}
    assert figures[("row_count", None)] == len(DIRTY)
    assert figures[("null_count", "gender")] == 1
    assert figures[("null_rate", "customer_id")] == 1 / len(DIRTY)
    loaded = datetime(2026, 12, 1, 5, 0, tzinfo=timezone.utc).timestamp()
    assert figures[("last_loaded_at", "dwh_loaded_at")] == loaded
    if isinstance(warehouse.source, sqlalchemy.Engine):
        # One scan for the constraints and the figures, then one sample per violation.
        scans = [s for s in warehouse.statements if "LIMIT" not in s.upper()]
        assert len(scans) == 1


def test_a_broken_scan_still_measures_the_figures_apart(backend: Any) -> None:
    from connectors.warehouse.checks import check_table
    from connectors.warehouse.figures import FigureRequest

    warehouse = backend(DIRTY)
    bogus = [Constraint(K.PATTERN, "customer_id", "CUST[0-9")]
    checked = check_table(warehouse.source, warehouse.table, bogus,
                          figures=FigureRequest(null_columns=("gender",)), now=NOW)  # fmt: skip
    assert [r.status for r in checked.results] == [CheckStatus.ERROR]
    assert checked.figures is not None
    figures = {(m.name, m.column): m.value for m in checked.figures.metrics}
    assert figures[("row_count", None)] == len(DIRTY) and figures[("null_count", "gender")] == 1
