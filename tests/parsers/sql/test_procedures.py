"""Procedural bodies (``parsers.sql.procedures``): what the goldens do not compare.

The golden cases ``*_procedure_*`` / ``*_scripting_*`` fix each statement's lineage; these
tests fix the rest of the contract: warnings, confidence, lines and texts, and that
ordinary scripts (``BEGIN;`` transactions, CASE ... END) are left alone.
"""

from __future__ import annotations

import pytest

from lineage.model import StatementKind, StatementLineage
from parsers.sql import parse_sql
from parsers.sql.procedures import UNANALYSED_CONFIDENCE


def _messages(statement: StatementLineage) -> list[str]:
    return [w.message for w in statement.warnings]


PLPGSQL = """CREATE PROCEDURE silver.load(p_since date)
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO silver.t (a) SELECT s.a FROM bronze.s AS s WHERE s.d >= p_since;
  IF p_since IS NULL THEN
    EXECUTE 'DELETE FROM silver.t';
  END IF;
END;
$$;
SELECT 1 AS after_it"""


def test_procedure_header_reports_what_was_not_analysed() -> None:
    statements = parse_sql(PLPGSQL, dialect="postgres").statements
    header, insert, condition, dynamic, after = statements
    assert header.kind is StatementKind.OTHER and header.confidence == UNANALYSED_CONFIDENCE
    assert _messages(header) == [
        "procedure silver.load: 2 statement(s) of its body not analysed (control flow,"
        " variables or dynamic SQL); its lineage may be incomplete"
    ]
    assert header.sql.startswith("CREATE PROCEDURE silver.load") and "INSERT" not in header.sql
    # The DML statement: its own line and text as written, the parameter named in a warning.
    assert (insert.kind, insert.line) == (StatementKind.INSERT, 5)
    assert insert.sql.endswith("WHERE s.d >= p_since")
    assert _messages(insert) == [
        "procedure silver.load: p_since: declared variable(s) or parameter(s), not columns"
    ]
    assert (condition.line, condition.confidence) == (6, UNANALYSED_CONFIDENCE)
    assert _messages(condition) == [
        "procedure silver.load: control flow not analysed: IF p_since IS NULL"
    ]
    assert dynamic.line == 7 and "dynamic SQL" in _messages(dynamic)[0]
    assert dynamic.confidence == UNANALYSED_CONFIDENCE and not dynamic.outputs
    assert [s.index for s in statements] == [0, 1, 2, 3, 4]
    assert after.kind is StatementKind.SELECT and after.line == 11 and after.confidence == 1.0


def test_fully_analysed_procedure_has_a_quiet_header() -> None:
    sql = "CREATE PROCEDURE p() AS $$ BEGIN INSERT INTO t (a) SELECT a FROM s; END; $$"
    sql += " LANGUAGE plpgsql"
    header, insert = parse_sql(sql, dialect="redshift").statements
    assert header.kind is StatementKind.OTHER and header.confidence == 1.0
    assert not header.warnings
    assert insert.kind is StatementKind.INSERT and [d.name for d in insert.outputs] == ["t"]


def test_no_procedure_is_an_opaque_statement_at_full_confidence() -> None:
    """Each procedural shape of issue 17 yields its DML, and never 1.0 with nothing."""
    shapes = {
        "tsql": "CREATE PROCEDURE p AS BEGIN IF @x = 1 INSERT INTO t SELECT a FROM s END",
        "oracle": "CREATE PROCEDURE p IS BEGIN IF v > 0 THEN INSERT INTO t SELECT a FROM s;"
        " END IF; END p;",
        "bigquery": "CREATE PROCEDURE d.p() BEGIN WHILE TRUE DO INSERT INTO d.t SELECT a FROM"
        " d.s; END WHILE; END;",
        "snowflake": "CREATE PROCEDURE p() RETURNS INT LANGUAGE SQL AS $$ BEGIN FOR r IN c DO"
        " INSERT INTO t SELECT a FROM s; END FOR; END $$",
        "postgres": "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN WHILE v < 3 LOOP INSERT INTO"
        " t SELECT a FROM s; EXIT; END LOOP; END $$",
    }
    for dialect, sql in shapes.items():
        statements = parse_sql(sql, dialect=dialect).statements
        kinds = [s.kind for s in statements]
        assert StatementKind.INSERT in kinds, dialect
        assert statements[0].confidence < 1.0, dialect  # a loop or IF was not analysed
        assert any("control flow not analysed" in m for s in statements for m in _messages(s))
        insert = next(s for s in statements if s.kind is StatementKind.INSERT)
        assert [d.name.split(".")[-1] for d in insert.inputs] == ["s"], dialect


def test_a_schema_does_not_take_variables_for_missing_columns() -> None:
    sql = """CREATE OR REPLACE PROCEDURE d.p(since DATE)
BEGIN
  DECLARE cutoff, floor_amount INT64;
  INSERT INTO d.t (id) SELECT id FROM d.s WHERE dt >= since AND amount > floor_amount;
END;"""
    schema = {"d.s": {"id": "INT64", "dt": "DATE", "amount": "INT64"}}
    insert = parse_sql(sql, dialect="bigquery", schema=schema).statements[1]
    assert insert.kind is StatementKind.INSERT and insert.confidence == 1.0
    dataset = sorted(i.field for i in insert.column_lineage[0].dataset)
    assert dataset == ["amount", "dt"]
    assert not any("not in the schema" in m for m in _messages(insert))
    assert "floor_amount, since" in _messages(insert)[0]


@pytest.mark.parametrize(
    ("sql", "dialect", "kinds"),
    [
        (
            "BEGIN;\nINSERT INTO t SELECT a FROM s;\nCOMMIT;",
            "postgres",
            ["OTHER", "INSERT", "OTHER"],
        ),
        ("BEGIN TRANSACTION;\nDELETE FROM t WHERE a = 1;", "snowflake", ["OTHER", "DELETE"]),
        ("SELECT CASE WHEN a > 0 THEN 1 END AS b FROM s;\nSELECT 2 AS c", "tsql", ["SELECT"] * 2),
    ],
)
def test_ordinary_scripts_are_left_alone(sql: str, dialect: str, kinds: list[str]) -> None:
    statements = parse_sql(sql, dialect=dialect).statements
    assert [s.kind.value for s in statements] == kinds
    assert all(not s.warnings for s in statements)


def test_top_level_tsql_if_analyses_its_statement() -> None:
    sql = "IF OBJECT_ID('tempdb..#t') IS NOT NULL DROP TABLE #t\nSELECT a INTO #t FROM s"
    condition, drop, create = parse_sql(sql, dialect="tsql").statements
    assert "control flow not analysed: IF OBJECT_ID" in _messages(condition)[0]
    assert drop.kind is StatementKind.DROP
    assert create.kind is StatementKind.CREATE_TABLE_AS and create.line == 2


def test_case_expressions_and_nested_blocks_keep_the_body_together() -> None:
    sql = """CREATE PROCEDURE p AS
BEGIN
  BEGIN
    UPDATE t SET b = CASE WHEN a > 0 THEN 1 ELSE 0 END;
  END;
  INSERT INTO u (b) SELECT b FROM t;
END;
SELECT 1 AS x;"""
    kinds = [s.kind.value for s in parse_sql(sql, dialect="tsql").statements]
    assert kinds == ["OTHER", "UPDATE", "INSERT", "SELECT"]


def test_unterminated_procedure_and_secrets_in_dynamic_sql() -> None:
    sql = (
        "CREATE PROCEDURE p AS BEGIN\n"
        "  EXEC dbo.connect @password = 'hunter2';\n"
        "  INSERT INTO t SELECT a FROM s;"
    )
    statements = parse_sql(sql, dialect="tsql").statements
    assert [s.kind.value for s in statements] == ["OTHER", "OTHER", "INSERT"]
    assert all("hunter2" not in s.sql for s in statements)
    assert all("hunter2" not in m for s in statements for m in _messages(s))


def test_procedures_are_repeatable_through_the_cache() -> None:
    first = parse_sql(PLPGSQL, dialect="postgres")
    second = parse_sql(PLPGSQL, dialect="postgres", file="load.sql")
    assert [s.to_dict() | {"file": None} for s in second.statements] == [
        s.to_dict() for s in first.statements
    ]


def test_what_follows_the_closing_end_is_not_the_body() -> None:
    sql = "CREATE PROCEDURE p AS\nBEGIN\n  INSERT INTO t SELECT a FROM s\nEND\nGO\nSELECT b FROM u"
    header, insert, after = parse_sql(sql, dialect="tsql").statements
    assert (insert.kind, insert.line) == (StatementKind.INSERT, 3)
    assert (after.kind, after.line, after.sql) == (StatementKind.SELECT, 6, "SELECT b FROM u")
    assert not header.warnings and header.confidence == 1.0


def test_a_procedures_statements_name_it_and_what_follows_does_not() -> None:
    statements = parse_sql(PLPGSQL, dialect="postgres", file="load.sql").statements
    named = [s.procedure for s in statements]
    assert named[:-1] == ["silver.load"] * (len(statements) - 1) and named[-1] is None
    assert statements[0].to_dict()["procedure"] == "silver.load"
    assert "procedure" not in statements[-1].to_dict()
    # An anonymous block has no name to give: its statements stay the file's.
    block = parse_sql("BEGIN\n  INSERT INTO d.t SELECT a FROM d.s;\nEND;", dialect="bigquery")
    assert {s.procedure for s in block.statements} == {None}

