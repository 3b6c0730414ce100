"""Script-level behaviour of parse_sql: splitting, bad input, caching, schemas, naming."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from lineage.errors import ConfigError
from lineage.model import SqlContext, StatementKind
from parsers.sql import clear_cache, parse_sql
from parsers.sql import parse as sql_module
from parsers.sql.files import ScanOptions, collect_sql_files, find_files, scan_sql


def _fields(statement, output_index: int = 0) -> dict[str, set[tuple[str, str]]]:
    lineage = statement.column_lineage[output_index]
    return {name: {(i.dataset.name, i.field) for i in inputs} for name, inputs in lineage.fields}


def test_broken_statement_reports_position_and_keeps_the_rest() -> None:
    script = (
        "INSERT INTO silver.a SELECT x FROM bronze.a;\n"
        "SELECT broken FROM WHERE;\n"
        "INSERT INTO silver.b SELECT y FROM bronze.b;"
    )
    result = parse_sql(script, dialect="redshift")
    first, broken, last = result.statements
    assert first.ok and last.ok
    assert broken.kind is StatementKind.UNKNOWN
    assert broken.index == 1
    (issue,) = broken.errors
    assert issue.line == 2
    assert issue.column is not None and issue.column > 1
    assert issue.message and "Token" not in issue.message
    assert _fields(last) == {"y": {("bronze.b", "y")}}
    assert last.line == 3


def test_unterminated_string_does_not_hide_other_statements() -> None:
    script = "SELECT a FROM t;\nSELECT 'oops FROM u;"
    result = parse_sql(script, dialect="postgres")
    assert result.statements[0].ok
    assert _fields(result.statements[0]) == {"a": {("t", "a")}}
    assert not result.statements[-1].ok
    assert result.statements[-1].errors[0].line == 2


@pytest.mark.parametrize(
    "garbage",
    ["", ";;;", "SELECT", "((((", "INSERT INTO", "MERGE INTO t USING", "\x00\x01", "select * from"],
)
def test_garbage_never_raises(garbage: str) -> None:
    result = parse_sql(garbage, dialect="snowflake")
    for statement in result.statements:
        assert statement.ok or statement.errors[0].message


def test_semicolon_inside_string_and_comment_is_not_a_separator() -> None:
    script = "SELECT 'a;b' AS s, x FROM t -- trailing; comment\n;SELECT y FROM u /* ; */"
    result = parse_sql(script, dialect="postgres")
    assert [s.kind for s in result.statements] == [StatementKind.SELECT] * 2
    assert _fields(result.statements[1]) == {"y": {("u", "y")}}


def test_repeated_statement_is_served_from_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cache()
    calls = 0
    real = sql_module._analyze

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(sql_module, "_analyze", counting)
    statement = "INSERT INTO silver.c SELECT UPPER(name) AS name FROM bronze.c"
    first = parse_sql(statement, dialect="redshift")
    # Reformatted and commented, the fingerprint is the same.
    second = parse_sql(f"-- nightly\n{statement.replace(' ', '  ')}", dialect="redshift")
    assert calls == 1
    assert first.statements[0].column_lineage == second.statements[0].column_lineage
    assert second.statements[0].line == 2
    # A different schema is a different key.
    parse_sql(statement, dialect="redshift", schema={"bronze.c": {"name": "varchar"}})
    assert calls == 2


def test_schema_is_not_mutated_and_matches_by_suffix() -> None:
    schema = {"analytics.bronze.c": {"ID": "int", "name": "varchar(20)"}}
    before = copy.deepcopy(schema)
    result = parse_sql(
        "SELECT * FROM bronze.c", dialect="snowflake", schema=schema, default_database="analytics"
    )
    assert schema == before
    assert list(_fields(result.statements[0])) == ["id", "name"]
    assert result.statements[0].inputs[0].name == "analytics.bronze.c"
    assert result.statements[0].confidence == 1.0


def test_nested_schema_form_is_accepted() -> None:
    schema = {"bronze": {"c": {"id": "int", "name": "varchar"}}}
    result = parse_sql("SELECT * FROM bronze.c", dialect="duckdb", schema=schema)
    assert list(_fields(result.statements[0])) == ["id", "name"]


def test_bad_schema_and_dialect_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"bronze\.c"):
        parse_sql("SELECT 1", schema={"bronze.c": ["id"]})
    with pytest.raises(ConfigError, match="dialect"):
        parse_sql("SELECT 1", dialect="no-such-dialect")


def test_defaults_complete_names_and_namespace() -> None:
    result = parse_sql(
        "INSERT INTO customers SELECT id FROM raw.customers",
        dialect="postgres",
        default_database="dwh",
        default_schema="public",
        namespace="postgres://db.internal:5432",
    )
    statement = result.statements[0]
    assert [d.name for d in statement.outputs] == ["dwh.public.customers"]
    assert [d.name for d in statement.inputs] == ["dwh.raw.customers"]
    assert {d.namespace for d in statement.inputs} == {"postgres://db.internal:5432"}


def test_one_context_value_stands_for_the_four_arguments() -> None:
    context = SqlContext("postgres", "postgres://db.internal:5432", "dwh", "public")
    sql = "INSERT INTO customers SELECT id FROM raw.customers"
    loose = parse_sql(
        sql,
        dialect="postgres",
        default_database="dwh",
        default_schema="public",
        namespace="postgres://db.internal:5432",
    )
    assert parse_sql(sql, context=context).to_dict() == loose.to_dict()
    # A loose argument wins over the context's value; the others are kept.
    other = parse_sql(sql, context=context, default_database="lake").statements[0]
    assert [d.name for d in other.outputs] == ["lake.public.customers"]
    assert {d.namespace for d in other.inputs} == {"postgres://db.internal:5432"}


def test_the_context_names_tables_by_the_dialect_without_a_namespace() -> None:
    assert SqlContext().dataset_namespace == "sql"
    assert SqlContext("snowflake").dataset_namespace == "snowflake"
    assert SqlContext("snowflake", "snowflake://acme").dataset_namespace == "snowflake://acme"
    # Cache keys of equivalent contexts agree: a namespace equal to the default is no change.
    assert SqlContext("duckdb").key == SqlContext("duckdb", "duckdb").key
    assert SqlContext(default_schema="s").qualify(["t"]) == ["s", "t"]
    assert SqlContext("x", None, "db", "s").qualify(["a", "t"]) == ["db", "a", "t"]
    assert SqlContext("x", "n", "db", "s").qualify(["c", "a", "t"]) == ["c", "a", "t"]
    assert SqlContext("x", "n").updated(dialect=None, default_schema="s") == SqlContext(
        "x", "n", None, "s"
    )


def test_scan_options_carry_the_context(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "load.sql").write_text("INSERT INTO silver.t SELECT id FROM bronze.s")
    (tmp_path / "a.sql").write_text("INSERT INTO u SELECT 1 AS one")
    (tmp_path / "notes.txt").write_text("not SQL")
    (tmp_path / "folder.sql").mkdir()  # a folder, whatever its name
    assert find_files(tmp_path) == [tmp_path / "a.sql", tmp_path / "b" / "load.sql"]
    assert find_files(tmp_path / "missing") == []
    assert collect_sql_files([str(tmp_path)]) == [str(p) for p in find_files(tmp_path)]
    options = ScanOptions(SqlContext("redshift", "redshift://dwh:5439", "dev", "public"))
    assert options.dialect == "redshift" and options.namespace == "redshift://dwh:5439"
    script = scan_sql([str(tmp_path)], options)
    assert [d.name for s in script.statements for d in s.outputs] == [
        "dev.public.u",
        "dev.silver.t",
    ]
    assert {d.namespace for s in script.statements for d in s.inputs} == {"redshift://dwh:5439"}


def test_quoted_identifiers_keep_case_unquoted_are_lower() -> None:
    result = parse_sql('SELECT "CustomerId", Name FROM Sales."Orders"', dialect="snowflake")
    statement = result.statements[0]
    assert statement.inputs[0].name == "sales.Orders"
    assert _fields(statement) == {
        "CustomerId": {("sales.Orders", "CustomerId")},
        "name": {("sales.Orders", "name")},
    }


def test_to_dict_is_the_documented_json_shape() -> None:
    doc = parse_sql(
        "INSERT INTO t (a) SELECT md5(x) FROM s WHERE y > 0", dialect="duckdb"
    ).to_dict()
    (statement,) = doc["statements"]
    assert set(statement) >= {
        "file",
        "index",
        "line",
        "kind",
        "dialect",
        "inputs",
        "outputs",
        "columnLineage",
        "errors",
        "warnings",
        "confidence",
    }
    (lineage,) = statement["columnLineage"]
    assert lineage["output"] == {"namespace": "duckdb", "name": "t"}
    assert lineage["fields"]["a"]["inputFields"] == [
        {
            "namespace": "duckdb",
            "name": "s",
            "field": "x",
            "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": True}],
        }
    ]
    assert lineage["dataset"][0]["transformations"][0]["subtype"] == "FILTER"


def test_column_lineage_validates_against_the_openlineage_facet_schema() -> None:
    import jsonschema

    from tests.openlineage_spec import validate_column_lineage

    script = (
        "WITH s AS (SELECT id, SUM(amount) AS total FROM sales.orders GROUP BY id)\n"
        "INSERT INTO gold.totals SELECT c.id, s.total, sha2(c.email, 256) AS email_hash\n"
        "FROM crm.customers c JOIN s ON s.id = c.id WHERE c.active ORDER BY s.total"
    )
    doc = parse_sql(script, dialect="postgres").to_dict()
    entry = doc["statements"][0]["columnLineage"][0]
    validate_column_lineage(entry)
    broken = dict(entry, fields={"x": {"inputFields": [{"namespace": "n"}]}})
    with pytest.raises(jsonschema.ValidationError):
        validate_column_lineage(broken)


def test_alter_table_changes_the_schema_later_statements_see() -> None:
    script = (
        "CREATE TABLE s.a (x INT, y INT);\n"
        "ALTER TABLE s.a RENAME COLUMN x TO z;\n"
        "ALTER TABLE s.a DROP COLUMN y;\n"
        "ALTER TABLE s.a ADD COLUMN w VARCHAR(10);\n"
        "INSERT INTO s.b SELECT * FROM s.a;\n"
        "ALTER TABLE s.a RENAME TO s.c;\n"
        "SELECT * FROM s.c"
    )
    result = parse_sql(script, dialect="postgres")
    assert all(s.ok for s in result.statements)
    assert list(_fields(result.statements[4])) == ["z", "w"]
    rename = result.statements[5]
    assert [d.name for d in rename.inputs] == ["s.a"]
    assert [d.name for d in rename.outputs] == ["s.c"]
    assert _fields(result.statements[6]) == {"z": {("s.c", "z")}, "w": {("s.c", "w")}}


def test_spark_cache_table_is_a_temporary_view_resolved_away() -> None:
    script = "CACHE TABLE recent AS SELECT id, amount FROM sales.orders;\n" \
        "INSERT INTO gold.t SELECT SUM(amount) AS total FROM recent"
    cache, insert = parse_sql(script, dialect="spark").statements
    assert cache.kind is StatementKind.CREATE_VIEW and cache.temporary
    assert [d.name for d in insert.inputs] == ["sales.orders"]
    assert _fields(insert) == {"total": {("sales.orders", "amount")}}


def test_snowflake_identifier_function_names_a_table() -> None:
    result = parse_sql("SELECT a FROM IDENTIFIER('db.s.t')", dialect="snowflake")
    assert _fields(result.statements[0]) == {"a": {("db.s.t", "a")}}


def test_struct_field_without_schema_is_a_field_of_the_column() -> None:
    result = parse_sql("SELECT payload.customer.id AS cid, payload.x FROM raw.events",
                       dialect="trino")
    statement = result.statements[0]
    assert _fields(statement) == {
        "cid": {("raw.events", "payload.customer.id")},
        "x": {("raw.events", "payload.x")},
    }
    assert not statement.warnings
