"""Names of unaliased output expressions (``parsers.sql.output_names``).

DuckDB and SQLite are asked for real: each case creates the table in the embedded engine
and compares its column name with the parser's. PostgreSQL's names were read from a real
server (PostgreSQL 15, ``pg_attribute`` after ``CREATE TABLE ... AS``) and are pinned here.
"""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from lineage.model import StatementLineage
from parsers.sql import parse_sql

SCHEMA = {"s": {"a": "int", "b": "text", "d": "date"}}


def _statement(sql: str, dialect: str) -> StatementLineage:
    statement = parse_sql(sql, dialect=dialect, schema=SCHEMA).statements[0]
    assert statement.ok, statement.errors
    return statement


def _names(sql: str, dialect: str) -> list[str]:
    statement = _statement(sql, dialect)
    names = [name for name, _ in statement.column_lineage[0].fields]
    for _, schema in statement.output_schemas:  # the catalog's columns are the same names
        assert [f.name for f in schema.fields] == names
    return names


POSTGRES = {
    "count(*)": "count",
    "a + 1": "?column?",
    "upper(b)": "upper",
    "a::int": "a",
    "1::bigint": "int8",
    "CASE WHEN a > 1 THEN 1 END": "case",
    "coalesce(a, 1)": "coalesce",
    "CAST(b AS text)": "b",
    "1": "?column?",
    "'x'": "?column?",
    "sum(a) OVER ()": "sum",
    "(SELECT max(a) FROM s)": "max",
    "now()::date": "now",
    "(a + 1)::int": "int4",
    "1::numeric(10,2)": "numeric",
    "1::real": "float4",
    "1::smallint": "int2",
    "current_date": "current_date",
    "extract(year FROM d)": "extract",
    "substr(b, 1)": "substr",
    "greatest(a, 1)": "greatest",
    "nullif(a, 1)": "nullif",
    "ARRAY[a]": "array",
    "x.a * 2": "?column?",
}


@pytest.mark.parametrize("dialect", ["postgres", "redshift"])
def test_postgres_names_as_the_server_gives_them(dialect: str) -> None:
    for expression, expected in POSTGRES.items():
        sql = f"CREATE TABLE o AS SELECT {expression} FROM s x"
        assert _names(sql, dialect) == [expected], expression


ENGINE_CASES = [
    "count(*)",
    "COUNT(*)",
    "a + 1",
    "a+1",
    "upper(b)",
    "lower( b )",
    "CAST(a AS int)",
    "CAST(b AS VARCHAR)",
    "x.a * 2",
    "count(a)",
    "count(DISTINCT a)",
    "sum(a)",
    "max(a) + 1",
    "coalesce(a, 1)",
    "(a + 1) * 2",
    "a + 1 + 2",
    "a % 2",
    "1",
    "1.5",
    "'abc'",
    "-a",
    "substr(b, 1, 2)",
    "CAST(1 AS int)",
    "a = 1 AND a < 2",
]


def test_duckdb_names_match_duckdb() -> None:
    connection = duckdb.connect()
    connection.execute("CREATE TABLE s (a INT, b VARCHAR, d DATE)")
    for expression in ENGINE_CASES:
        sql = f"CREATE OR REPLACE TABLE o AS SELECT {expression} FROM s x"
        connection.execute(sql)
        real = connection.execute("DESCRIBE o").fetchall()[0][0]
        assert _names(sql, "duckdb") == [real], expression


def test_duckdb_numbers_repeated_names_as_duckdb_does() -> None:
    sql = "CREATE TABLE o AS SELECT a + 1, a + 1, upper(b) FROM s"
    connection = duckdb.connect()
    connection.execute("CREATE TABLE s (a INT, b VARCHAR)")
    connection.execute(sql)
    real = [row[0] for row in connection.execute("DESCRIBE o").fetchall()]
    assert _names(sql, "duckdb") == real == ["(a + 1)", "(a + 1)_1", "upper(b)"]


def test_sqlite_names_match_sqlite() -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE s (a INT, b TEXT, d DATE)")
    cases = [e for e in ENGINE_CASES if "::" not in e] + ["a+1, a+1, count(*)"]
    for number, expression in enumerate(cases):
        sql = f"CREATE TABLE o{number} AS SELECT {expression} FROM s x"
        connection.execute(sql)
        real = [row[1] for row in connection.execute(f"PRAGMA table_info(o{number})")]
        assert _names(sql, "sqlite") == real, expression


def test_text_as_written_survives_the_cache() -> None:
    """The same tokens spelled differently are different names on Snowflake and MySQL."""
    assert _names("CREATE TABLE o AS SELECT a+1 FROM s", "snowflake") == ["A+1"]
    assert _names("CREATE TABLE o AS SELECT a + 1 FROM s", "snowflake") == ["A + 1"]
    assert _names("CREATE TABLE o AS SELECT COUNT( * ) FROM s", "mysql") == ["COUNT( * )"]
    assert _names("CREATE TABLE o AS SELECT count(*) FROM s", "mysql") == ["count(*)"]


def test_positional_names_count_all_or_only_unnamed_columns() -> None:
    sql = "SELECT a, count(*), a + 1 FROM s GROUP BY a"
    assert _names(sql, "trino") == ["a", "_col1", "_col2"]
    assert _names(sql, "hive") == ["a", "_c1", "_c2"]
    assert _names(sql, "bigquery") == ["a", "f0_", "f1_"]
    assert _names(f"INSERT INTO o {sql}", "trino") == ["a", "_col1", "_col2"]


@pytest.mark.parametrize("dialect", ["bigquery", "trino", "tsql"])
def test_a_create_the_engine_rejects_keeps_generated_names_and_warns(dialect: str) -> None:
    statement = _statement("CREATE VIEW v AS SELECT a, count(*) FROM s GROUP BY a", dialect)
    assert [name for name, _ in statement.column_lineage[0].fields] == ["a", "_col_1"]
    assert any("no name (column 2)" in w.message for w in statement.warnings)


def test_postgres_duplicate_names_in_a_create_are_a_warning() -> None:
    statement = _statement("CREATE TABLE o AS SELECT count(*), count(a) FROM s", "postgres")
    assert [name for name, _ in statement.column_lineage[0].fields] == ["count", "_col_1"]
    assert any("repeat the name 'count'" in w.message for w in statement.warnings)
    # A plain SELECT may repeat a name: no warning, the second keeps its generated name.
    select = _statement("SELECT count(*), count(a) FROM s", "postgres")
    assert not select.warnings


def test_only_unaliased_final_outputs_are_renamed() -> None:
    sql = (
        "CREATE TABLE o AS SELECT n, count(*) AS c, upper(b)"
        " FROM (SELECT count(*) AS n, b FROM s) q GROUP BY n, b"
    )
    assert _names(sql, "postgres") == ["n", "c", "upper"]
    # An inner unaliased expression keeps sqlglot's name (docs/sql-lineage.md).
    assert _names("SELECT * FROM (SELECT count(*) FROM s) q", "postgres") == ["_col_0"]
    # The first branch of a UNION names the output.
    assert _names("SELECT upper(b) FROM s UNION ALL SELECT b FROM s", "postgres") == ["upper"]


def test_lineage_and_types_follow_the_new_names() -> None:
    sql = "CREATE TABLE o AS SELECT count(*), upper(b), a::bigint FROM s"
    statement = _statement(sql, "postgres")
    fields = statement.column_lineage[0].field_map()
    assert [f.field for f in fields["upper"]] == ["b"]
    types = {f.name: f.type for _, schema in statement.output_schemas for f in schema.fields}
    assert types == {"count": "bigint", "upper": None, "a": "bigint"}
    facet = statement.to_dict()
    assert "upper" in str(facet) and "_col_" not in str(facet)


def test_unknown_rules_keep_generated_names() -> None:
    assert _names("SELECT count(*), a + 1 FROM s", "oracle") == ["_col_0", "_col_1"]
    # A Spark expression outside the shapes whose rendering is known.
    assert _names("SELECT CASE WHEN a > 1 THEN 1 END FROM s", "spark") == ["_col_0"]
