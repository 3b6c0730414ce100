"""Profiling for real: PostgreSQL (the suite's server), DuckDB and SQLite files, seeded with
dirty rows shaped like the seed's ``bronze.erp_cust_az12``; plus the SQL per dialect."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy
import sqlglot
from sqlalchemy import event
from sqlglot import exp

from connectors.warehouse.profile import profile_query, profile_table, profile_tables
from connectors.warehouse.profile_sql import ColumnKind, column_kind
from lineage.errors import PermanentConnectorError, TemporaryConnectorError
from lineage.model import DatasetId, DatasetKind, DatasetProfile, LiveColumn, LiveTable

# The seed's bronze.erp_cust_az12, dirty: NULL and unknown gender codes, NULL birth
# dates, an untrimmed lower-case id, a NULL id; plus an integer and two odd names.
ROWS = [
    ("r1", "2024-06-17 08:00:00", "CUST001", "M", "1990-05-15", 34, "2024-01-05", 1),
    ("r2", "2024-06-17 08:00:00", "CUST002", "F", None, 28, None, 2),
    ("r3", "2024-06-18 12:00:00", "CUST003", None, "1985-01-31", None, "2024-02-29", 3),
    ("r4", "2024-06-18 12:00:00", "cust004 ", "X", "2001-12-01", 22, "2023-12-31", None),
    ("r5", "2024-06-18 12:00:00", "CUST005", "M", None, 41, None, 5),
    ("r6", "2024-06-16 00:00:00", None, "?", "1950-07-04", 73, "2024-03-01", 6),
]
NAMES = ("_airbyte_raw_id", "_airbyte_extracted_at", "cid", "gen", "bdate", "age",
         "Order Date", "select")  # fmt: skip
LATEST = datetime(2024, 6, 18, 12, tzinfo=timezone.utc).timestamp()
NOW = datetime(2026, 12, 1, 6, 30, tzinfo=timezone.utc)


def _table(namespace: str, name: str, types: tuple[str, ...]) -> LiveTable:
    columns = tuple(LiveColumn(n, t) for n, t in zip(NAMES, types, strict=True))
    return LiveTable(DatasetId(namespace, name), DatasetKind.TABLE, columns)


def _assert_seed_figures(profile: DatasetProfile, *, distinct: bool) -> None:
    """What the six seed rows must give, whatever the backend."""
    assert profile.metric("row_count") == 6
    assert profile.metric("last_loaded_at", "_airbyte_extracted_at") == LATEST
    assert profile.metric("null_count", "gen") == 1
    assert profile.metric("null_rate", "gen") == pytest.approx(1 / 6)
    assert profile.metric("null_count", "bdate") == 2
    assert profile.metric("null_rate", "bdate") == pytest.approx(2 / 6)
    assert profile.metric("null_count", "cid") == 1
    assert profile.metric("null_count", "_airbyte_raw_id") == 0
    assert profile.metric("null_rate", "_airbyte_raw_id") == 0.0
    assert profile.metric("null_count", "select") == 1
    assert (profile.metric("min", "age"), profile.metric("max", "age")) == (22.0, 73.0)
    assert (profile.metric("min", "select"), profile.metric("max", "select")) == (1.0, 6.0)
    bounds = {column: (low, high) for column, low, high in profile.bounds}
    assert bounds["bdate"] == ("1950-07-04", "2001-12-01")
    assert bounds["Order Date"] == ("2023-12-31", "2024-03-01")
    assert bounds["gen"] == ("?", "X")
    assert bounds["cid"] == ("CUST001", "cust004 ")
    assert bounds["_airbyte_extracted_at"][1].startswith("2024-06-18")  # type: ignore[union-attr]
    assert "age" not in bounds  # numbers are metrics, not text
    assert profile.sampled_rows is None
    assert profile.observed_at == NOW
    if distinct:
        assert profile.metric("distinct_count", "gen") == 4  # M F X ?
        assert profile.metric("distinct_count", "cid") == 5
        assert profile.metric("distinct_count", "age") == 5
    else:
        assert not [m for m in profile.metrics if m.name == "distinct_count"]


# --- DuckDB ---------------------------------------------------------------------------

DUCK_TYPES = ("VARCHAR", "TIMESTAMP", "VARCHAR(50)", "VARCHAR", "DATE", "INTEGER", "DATE",
              "INTEGER")  # fmt: skip


def _duck_seed(path: Path) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA bronze")
        conn.execute(
            'CREATE TABLE bronze.erp_cust_az12 (_airbyte_raw_id VARCHAR, '
            '_airbyte_extracted_at TIMESTAMP, cid VARCHAR(50), gen VARCHAR, bdate DATE, '
            'age INTEGER, "Order Date" DATE, "select" INTEGER)'
        )
        conn.executemany("INSERT INTO bronze.erp_cust_az12 VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ROWS)


@pytest.fixture
def duck_path(tmp_path: Path) -> Path:
    path = tmp_path / "dwh.duckdb"
    _duck_seed(path)
    return path


def test_duckdb_profile_is_one_scan_with_every_figure(
    duck_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    table = _table(f"duckdb://{duck_path}", "dwh.bronze.erp_cust_az12", DUCK_TYPES)
    with caplog.at_level(logging.DEBUG, logger="connectors.warehouse.profile"):
        profile = profile_table(f"duckdb:///{duck_path}", table, now=NOW)
    _assert_seed_figures(profile, distinct=True)  # approx_count_distinct: exact this small
    queries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("profiling")]
    assert len(queries) == 1
    assert "APPROX_COUNT_DISTINCT" in queries[0]
    assert profile.dataset == table.id


def test_duckdb_sampling_keeps_row_count_and_freshness_exact(tmp_path: Path) -> None:
    path = tmp_path / "big.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE main.events AS SELECT i AS id, "
            "CASE WHEN i % 4 = 0 THEN NULL ELSE 'CUST' || i END AS cid, "
            "TIMESTAMP '2024-06-01 00:00:00' + to_seconds(i) AS dwh_loaded_at "
            "FROM range(200000) AS r(i)"
        )
    table = LiveTable(
        DatasetId("duckdb", "big.main.events"), DatasetKind.TABLE,
        (LiveColumn("id", "BIGINT"), LiveColumn("cid", "VARCHAR"),
         LiveColumn("dwh_loaded_at", "TIMESTAMP")),
    )  # fmt: skip
    profile = profile_table(f"duckdb:///{path}", table, sample_above_rows=10_000)
    # A small sample is drawn row by row: about the size asked for, and said.
    assert profile.sampled_rows is not None and 8_000 <= profile.sampled_rows <= 12_000
    # Seeded: the same table profiles to the same figures on the next run.
    again = profile_table(f"duckdb:///{path}", table, sample_above_rows=10_000)
    assert again.sampled_rows == profile.sampled_rows
    assert again.metric("null_count", "cid") == profile.metric("null_count", "cid")
    assert profile.metric("row_count") == 200_000
    last = datetime(2024, 6, 1, tzinfo=timezone.utc).timestamp() + 199_999
    assert profile.metric("last_loaded_at", "dwh_loaded_at") == last  # exact, not sampled
    assert profile.metric("null_rate", "cid") == pytest.approx(0.25, abs=0.03)
    assert (profile.metric("null_count", "cid") or 0) < 10_000  # the sample's own count
    assert profile.metric("null_count", "cid") == pytest.approx(profile.sampled_rows / 4, rel=0.1)
    # Below the threshold the figures are the table's own, and not marked as sampled.
    small = profile_table(f"duckdb:///{path}", table, sample_above_rows=500_000)
    assert small.sampled_rows is None
    assert small.metric("null_count", "cid") == 50_000


def test_duckdb_skips_min_max_of_nested_and_binary_types(tmp_path: Path) -> None:
    path = tmp_path / "nested.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE t AS SELECT [1, 2] AS tags, {'a': 1} AS s, '{}'::JSON AS j, "
            "'\\x00'::BLOB AS b, true AS flag, 1 AS n, "
            "TIMESTAMP '2024-01-01' AS \"DWH_LOADED_AT\", TIMESTAMP '2020-01-01' AS _loaded_at"
        )
    types = {"tags": "INTEGER[]", "s": "STRUCT(a INTEGER)", "j": "JSON", "b": "BLOB",
             "flag": "BOOLEAN", "n": "INTEGER", "DWH_LOADED_AT": "TIMESTAMP",
             "_loaded_at": "TIMESTAMP"}  # fmt: skip
    table = LiveTable(
        DatasetId("duckdb", "nested.main.t"), DatasetKind.TABLE,
        tuple(LiveColumn(name, kind) for name, kind in types.items()),
    )  # fmt: skip
    profile = profile_table(f"duckdb:///{path}", table)
    for column in ("tags", "s", "j", "b", "flag"):
        assert profile.metric("null_count", column) == 0
        assert profile.metric("min", column) is None
        assert column not in {bound[0] for bound in profile.bounds}
    assert profile.metric("distinct_count", "flag") == 1
    assert profile.metric("distinct_count", "j") is None
    assert profile.metric("max", "n") == 1.0
    # Candidates in order, names compared case-insensitively: dwh_loaded_at before _loaded_at.
    freshness = [m for m in profile.metrics if m.name == "last_loaded_at"]
    assert [(m.column, m.value) for m in freshness] == [
        ("DWH_LOADED_AT", datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp())
    ]


def test_duckdb_missing_table_is_an_issue_and_the_rest_is_profiled(duck_path: Path) -> None:
    good = _table("duckdb", "dwh.bronze.erp_cust_az12", DUCK_TYPES)
    gone = _table("duckdb", "dwh.bronze.dropped", DUCK_TYPES)
    profiles, issues = profile_tables(f"duckdb:///{duck_path}", [gone, good], now=NOW)
    assert [p.dataset.name for p in profiles] == ["dwh.bronze.erp_cust_az12"]
    _assert_seed_figures(profiles[0], distinct=True)
    assert [i.subject for i in issues] == ["dwh.bronze.dropped"]
    assert "dropped" in issues[0].message and "does not exist" in issues[0].message
    with pytest.raises(PermanentConnectorError, match="dropped"):
        profile_table(f"duckdb:///{duck_path}", gone)


def test_duckdb_statement_timeout_interrupts_the_query(tmp_path: Path) -> None:
    path = tmp_path / "slow.duckdb"
    with duckdb.connect(str(path)) as conn:  # a view far too big to scan in 0.3 s
        conn.execute(
            "CREATE VIEW slow AS SELECT a.range AS x FROM range(100000000) a, range(100000) b"
        )
    table = LiveTable(DatasetId("duckdb", "slow.main.slow"), DatasetKind.VIEW,
                      (LiveColumn("x", "BIGINT"),))  # fmt: skip
    with pytest.raises(TemporaryConnectorError):
        profile_table(f"duckdb:///{path}", table, statement_timeout_s=0.3)


# --- PostgreSQL -----------------------------------------------------------------------

PG_TYPES = ("character varying(255)", "timestamp without time zone", "character varying(50)",
            "character(1)", "date", "integer", "date", "integer")  # fmt: skip


@pytest.fixture
def pg_engine(postgres_database: str) -> Iterator[sqlalchemy.Engine]:
    engine = sqlalchemy.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA bronze")
        conn.exec_driver_sql(
            'CREATE TABLE bronze.erp_cust_az12 (_airbyte_raw_id varchar(255), '
            '_airbyte_extracted_at timestamp, cid varchar(50), gen char(1), bdate date, '
            'age integer, "Order Date" date, "select" integer)'
        )
        conn.exec_driver_sql(
            "INSERT INTO bronze.erp_cust_az12 VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", ROWS
        )
    yield engine
    engine.dispose()


def _statements(engine: sqlalchemy.Engine) -> list[str]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    with engine.connect():  # let the dialect initialise before counting
        pass
    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_postgres_profile_is_one_query(pg_engine: sqlalchemy.Engine) -> None:
    table = _table("postgres://127.0.0.1:5432", "db.bronze.erp_cust_az12", PG_TYPES)
    seen = _statements(pg_engine)
    profile = profile_table(pg_engine, table, now=NOW)
    assert len(seen) == 1 and seen[0].startswith("SELECT COUNT(*)")
    # No approximate distinct count in PostgreSQL and the size unknown before the scan.
    _assert_seed_figures(profile, distinct=False)
    seen.clear()
    # With the count first (sample_above_rows), a small table gets exact distinct counts.
    counted = profile_table(pg_engine, table, now=NOW, sample_above_rows=1000)
    assert len(seen) == 2 and "COUNT(DISTINCT" in seen[1]
    _assert_seed_figures(counted, distinct=True)


def test_postgres_sampling_is_tablesample_system(pg_engine: sqlalchemy.Engine) -> None:
    with pg_engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE bronze.big AS SELECT i AS id, "
            "timestamptz '2024-06-01 00:00:00+00' + i * interval '1 second' AS _loaded_at "
            "FROM generate_series(1, 60000) AS i"
        )
    table = LiveTable(DatasetId("postgres", "db.bronze.big"), DatasetKind.TABLE,
                      (LiveColumn("id", "integer"),
                       LiveColumn("_loaded_at", "timestamp with time zone")))  # fmt: skip
    seen = _statements(pg_engine)
    profile = profile_table(pg_engine, table, sample_above_rows=6000)
    assert "TABLESAMPLE SYSTEM (10) REPEATABLE (7)" in seen[1]
    assert profile.metric("row_count") == 60_000
    assert profile.metric("last_loaded_at", "_loaded_at") == (
        datetime(2024, 6, 1, tzinfo=timezone.utc).timestamp() + 60_000
    )
    assert profile.sampled_rows is not None and 0 < profile.sampled_rows < 60_000
    assert profile.metric("null_count", "id") == 0
    again = profile_table(pg_engine, table, sample_above_rows=6000)
    assert again.sampled_rows == profile.sampled_rows  # seeded: the same pages again


def test_postgres_failing_tables_are_issues(pg_engine: sqlalchemy.Engine) -> None:
    with pg_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bronze.places (id integer, spot point)")
        conn.exec_driver_sql("INSERT INTO bronze.places VALUES (1, point(1, 2))")
    good = _table("postgres", "db.bronze.erp_cust_az12", PG_TYPES)
    gone = _table("postgres", "db.bronze.dropped", PG_TYPES)
    # A type sqlglot cannot read counts as text: MIN(point) then fails in the database.
    bogus = LiveTable(DatasetId("postgres", "db.bronze.places"), DatasetKind.TABLE,
                      (LiveColumn("id", "integer"), LiveColumn("spot", "geo-thing(!)")))
    # The database's message echoes the stale column's name: secrets in it are masked.
    stale = LiveTable(DatasetId("postgres", "db.bronze.erp_cust_az12"), DatasetKind.TABLE,
                      (LiveColumn("password=hunter2", "text"),))  # fmt: skip
    profiles, issues = profile_tables(pg_engine, [gone, bogus, stale, good], now=NOW)
    assert [p.dataset.name for p in profiles] == ["db.bronze.erp_cust_az12"]
    _assert_seed_figures(profiles[0], distinct=False)
    assert [i.subject for i in issues] == [
        "db.bronze.dropped", "db.bronze.places", "db.bronze.erp_cust_az12"
    ]
    assert 'relation "bronze.dropped" does not exist' in issues[0].message
    assert "min(point)" in issues[1].message
    assert "[SQL:" not in issues[1].message  # the database's message, not SQLAlchemy's
    assert 'column "password=***" does not exist' in issues[2].message
    assert "hunter2" not in str(issues)


def test_postgres_statement_timeout(pg_engine: sqlalchemy.Engine) -> None:
    with pg_engine.begin() as conn:
        conn.exec_driver_sql("CREATE VIEW bronze.slow AS SELECT pg_sleep(5)::text AS s, 1 AS x")
    table = LiveTable(DatasetId("postgres", "db.bronze.slow"), DatasetKind.VIEW,
                      (LiveColumn("x", "integer"),))  # fmt: skip
    good = _table("postgres", "db.bronze.erp_cust_az12", PG_TYPES)
    profiles, issues = profile_tables(pg_engine, [table, good], statement_timeout_s=0.2)
    assert [i.subject for i in issues] == ["db.bronze.slow"]
    assert "statement timeout" in issues[0].message
    assert profiles[0].metric("row_count") == 6  # SET LOCAL: the next table is unaffected
    with pytest.raises(TemporaryConnectorError):
        profile_table(pg_engine, table, statement_timeout_s=0.2)


# --- SQLite ---------------------------------------------------------------------------

SQLITE_TYPES = ("VARCHAR(255)", "TIMESTAMP", "VARCHAR(50)", "CHAR(1)", "DATE", "INTEGER",
                "DATE", "INTEGER")  # fmt: skip


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'dwh.db'}"
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            'CREATE TABLE erp_cust_az12 (_airbyte_raw_id VARCHAR(255), '
            '_airbyte_extracted_at TIMESTAMP, cid VARCHAR(50), gen CHAR(1), bdate DATE, '
            'age INTEGER, "Order Date" DATE, "select" INTEGER)'
        )
        conn.exec_driver_sql("INSERT INTO erp_cust_az12 VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
        conn.exec_driver_sql(
            "CREATE TABLE many AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
            "FROM n WHERE i < 2000) SELECT i, CASE WHEN i % 2 = 0 THEN NULL ELSE i END AS odd "
            "FROM n"
        )
    engine.dispose()
    return url


def test_sqlite_profile_is_one_query(sqlite_url: str) -> None:
    table = _table("sqlite", "dwh.main.erp_cust_az12", SQLITE_TYPES)
    engine = sqlalchemy.create_engine(sqlite_url)
    seen = _statements(engine)
    profile = profile_table(engine, table, now=NOW)
    assert len(seen) == 1
    _assert_seed_figures(profile, distinct=False)
    assert profile_table(sqlite_url, table, now=NOW) == profile  # a URL works alike
    engine.dispose()


def test_sqlite_sampling_is_a_random_limit(sqlite_url: str) -> None:
    table = LiveTable(DatasetId("sqlite", "dwh.main.many"), DatasetKind.TABLE,
                      (LiveColumn("i", "INTEGER"), LiveColumn("odd", "INTEGER")))  # fmt: skip
    profile = profile_table(sqlite_url, table, sample_above_rows=100)
    assert profile.metric("row_count") == 2000
    assert profile.sampled_rows == 100
    assert profile.metric("distinct_count", "i") == 100  # exact: the sample is small
    assert 0 < profile.metric("null_count", "odd") < 100  # type: ignore[operator]


def test_sqlite_statement_timeout(sqlite_url: str) -> None:
    engine = sqlalchemy.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE VIEW slow AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
            "FROM n WHERE i < 1000000000) SELECT i FROM n"
        )
    engine.dispose()
    table = LiveTable(DatasetId("sqlite", "dwh.main.slow"), DatasetKind.VIEW,
                      (LiveColumn("i", "INTEGER"),))  # fmt: skip
    good = _table("sqlite", "dwh.main.erp_cust_az12", SQLITE_TYPES)
    profiles, issues = profile_tables(sqlite_url, [table, good], statement_timeout_s=0.2)
    assert [i.subject for i in issues] == ["dwh.main.slow"]
    assert "statement timeout" in issues[0].message
    assert profiles[0].metric("row_count") == 6


# --- the SQL per dialect --------------------------------------------------------------

ODD = LiveTable(
    DatasetId("any", "dwh.bronze.erp_cust_az12"), DatasetKind.TABLE,
    (LiveColumn("_airbyte_extracted_at", "TIMESTAMP"), LiveColumn("Order Date", "DATE"),
     LiveColumn("select", "INTEGER"), LiveColumn("payload", "JSON")),
)  # fmt: skip
_FIGURES = (
    'COUNT(*) AS "_p0", MAX("_airbyte_extracted_at") AS "_p1", '
    'COUNT(*) - COUNT("_airbyte_extracted_at") AS "_p2", {d}'
    'MIN("_airbyte_extracted_at") AS "_p{a}", MAX("_airbyte_extracted_at") AS "_p{b}", '
    'COUNT(*) - COUNT("Order Date") AS "_p{c}", {e}MIN("Order Date") AS "_p{f}", '
    'MAX("Order Date") AS "_p{g}", COUNT(*) - COUNT("select") AS "_p{h}", {i}'
    'MIN("select") AS "_p{j}", MAX("select") AS "_p{k}", COUNT(*) - COUNT("payload") AS "_p{m}"'
)


def _golden(approx: str | None, source: str) -> str:
    if approx is None:
        slots = dict(d="", a=3, b=4, c=5, e="", f=6, g=7, h=8, i="", j=9, k=10, m=11)
    else:
        slots = dict(
            d=approx.format('"_airbyte_extracted_at"') + ' AS "_p3", ', a=4, b=5, c=6,
            e=approx.format('"Order Date"') + ' AS "_p7", ', f=8, g=9, h=10,
            i=approx.format('"select"') + ' AS "_p11", ', j=12, k=13, m=14,
        )  # fmt: skip
    return f"SELECT {_FIGURES.format(**slots)} FROM {source}"


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("postgres", _golden(None, '"bronze"."erp_cust_az12"')),
        ("postgresql", _golden(None, '"bronze"."erp_cust_az12"')),  # SQLAlchemy's name
        ("sqlite", _golden(None, '"erp_cust_az12"')),
        ("duckdb", _golden("APPROX_COUNT_DISTINCT({})", '"bronze"."erp_cust_az12"')),
        ("snowflake", _golden("APPROX_COUNT_DISTINCT({})", '"dwh"."bronze"."erp_cust_az12"')),
        ("redshift", _golden("APPROXIMATE COUNT(DISTINCT {})", '"bronze"."erp_cust_az12"')),
        ("bigquery", _golden("APPROX_COUNT_DISTINCT({})", '"dwh"."bronze"."erp_cust_az12"')
         .replace('"', "`")),
    ],
)  # fmt: skip
def test_profile_query_quotes_odd_names_per_dialect(dialect: str, expected: str) -> None:
    sql = profile_query(ODD, dialect)
    assert sql == expected
    assert len(sqlglot.parse(sql, read=dialect.replace("postgresql", "postgres"))) == 1


@pytest.mark.parametrize(
    ("dialect", "source"),
    [
        ("postgres", '"bronze"."erp_cust_az12" TABLESAMPLE SYSTEM (0.5) REPEATABLE (7)'),
        ("bigquery", "`dwh`.`bronze`.`erp_cust_az12` TABLESAMPLE SYSTEM (0.5 PERCENT)"),
        ("duckdb", '"bronze"."erp_cust_az12" TABLESAMPLE BERNOULLI (0.5 PERCENT) REPEATABLE (7)'),
        ("snowflake", '"dwh"."bronze"."erp_cust_az12" TABLESAMPLE BERNOULLI (1000 ROWS)'),
        ("sqlite", '(SELECT * FROM "erp_cust_az12" ORDER BY RANDOM() LIMIT 1000) AS "_sample"'),
        ("redshift",
         '(SELECT * FROM "bronze"."erp_cust_az12" ORDER BY RANDOM() LIMIT 1000) AS "_sample"'),
    ],
)  # fmt: skip
def test_sampled_query_per_dialect(dialect: str, source: str) -> None:
    sql = profile_query(ODD, dialect, sample_rows=1000, table_rows=200_000)
    assert sql.endswith(f"FROM {source}")
    statements = sqlglot.parse(sql, read=dialect)
    assert len(statements) == 1
    # The sample's count, then straight to the columns: freshness comes from the exact count.
    projections = statements[0].expressions  # type: ignore[union-attr]
    assert isinstance(projections[0].this, exp.Count)
    assert isinstance(projections[1].this, exp.Sub)


@pytest.mark.parametrize(
    ("native", "dialect", "kind"),
    [
        ("numeric(10,2)", "postgres", ColumnKind.NUMBER),
        ("HUGEINT", "duckdb", ColumnKind.NUMBER),
        ("timestamp with time zone", "postgres", ColumnKind.TEMPORAL),
        ("character varying(50)", "postgres", ColumnKind.TEXT),
        ("not a type (!)", "postgres", ColumnKind.TEXT),
        (None, "sqlite", ColumnKind.TEXT),
        ("boolean", "postgres", ColumnKind.PLAIN),
        ("uuid", "postgres", ColumnKind.PLAIN),
        ("jsonb", "postgres", ColumnKind.OPAQUE),
        ("bytea", "postgres", ColumnKind.OPAQUE),
        ("INTEGER[]", "duckdb", ColumnKind.OPAQUE),
        ("STRUCT(a INTEGER)", "duckdb", ColumnKind.OPAQUE),
        ("MAP(VARCHAR, INTEGER)", "duckdb", ColumnKind.OPAQUE),
        ("VARIANT", "snowflake", ColumnKind.OPAQUE),
        ("GEOGRAPHY", "bigquery", ColumnKind.OPAQUE),
    ],
)
def test_column_kind_from_native_type(native: str | None, dialect: str, kind: ColumnKind) -> None:
    assert column_kind(LiveColumn("c", native), dialect) is kind


def test_postgres_names_holding_percent_signs_are_profiled(pg_engine: sqlalchemy.Engine) -> None:
    # psycopg reads every % of a statement as a placeholder unless it is doubled.
    with pg_engine.begin() as conn:
        conn.exec_driver_sql('CREATE TABLE bronze."margin%%" ("pct%%" integer)')
        conn.exec_driver_sql('INSERT INTO bronze."margin%%" VALUES (5), (NULL), (7)')
    table = LiveTable(
        DatasetId("postgres://127.0.0.1:5432", "db.bronze.margin%"),
        DatasetKind.TABLE,
        (LiveColumn("pct%", "integer"),),
    )
    profile = profile_table(pg_engine, table, now=NOW)
    assert profile.metric("row_count") == 3
    assert profile.metric("null_count", "pct%") == 1
    assert (profile.metric("min", "pct%"), profile.metric("max", "pct%")) == (5, 7)


def test_a_url_opens_as_introspection_opens_it() -> None:
    # One way to open a URL for every connector: a missing driver names its extra, and
    # the password never shows (profile_table used to call create_engine itself).
    table = LiveTable(DatasetId("snowflake://acct", "db.s.t"), DatasetKind.TABLE,
                      (LiveColumn("a", "integer"),))  # fmt: skip
    with pytest.raises(PermanentConnectorError) as error:
        profile_table("snowflake://etl:hunter2@acct/db", table)
    assert "pip install 'silverline[snowflake]'" in error.value.message
    assert "hunter2" not in str(error.value)


def test_duckdb_large_samples_skip_whole_vectors() -> None:
    # 100 vectors of 2,048 rows or more: SYSTEM's coarse size is close enough, and it reads
    # only the vectors it keeps.
    sql = profile_query(ODD, "duckdb", sample_rows=500_000, table_rows=50_000_000)
    expected = 'FROM "bronze"."erp_cust_az12" TABLESAMPLE SYSTEM (1 PERCENT) REPEATABLE (7)'
    assert sql.endswith(expected)
