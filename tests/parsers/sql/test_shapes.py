"""Query shapes of issue 17, item 8 (``parsers.sql.shapes``): what the goldens do not compare."""

from __future__ import annotations

from lineage.model import StatementKind
from parsers.sql import parse_sql


def test_union_branches_of_different_widths_are_a_warning() -> None:
    [statement] = parse_sql(
        "SELECT a, b FROM t1 UNION ALL SELECT a FROM t2", dialect="postgres"
    ).statements
    assert statement.confidence == 0.5
    assert [w.message for w in statement.warnings] == [
        "UNION branches yield 2 and 1 columns (the engine rejects this); columns are matched"
        " by position, only the first 1 from every branch"
    ]


def test_nested_and_star_unions_are_checked_only_where_counts_are_known() -> None:
    nested = parse_sql(
        "SELECT a FROM t1 UNION SELECT a FROM t2 UNION SELECT a, b FROM t3", dialect="duckdb"
    ).statements[0]
    assert nested.confidence == 0.5 and "yield 1 and 2 columns" in nested.warnings[0].message
    for sql in (
        "SELECT a, b FROM t1 UNION ALL SELECT a, b FROM t2",
        "SELECT * FROM t1 UNION ALL SELECT a FROM t2",  # a star's width is unknown here
    ):
        statement = parse_sql(sql, dialect="postgres").statements[0]
        assert not any("branches yield" in w.message for w in statement.warnings), sql


def test_partition_decorator_of_a_target_and_a_mixed_case_table() -> None:
    [statement] = parse_sql(
        "MERGE `p.d.Daily$20240101` t USING `p.d.src` s ON t.id = s.id"
        " WHEN MATCHED THEN UPDATE SET v = s.v",
        dialect="bigquery",
    ).statements
    assert statement.kind is StatementKind.MERGE
    assert [d.name for d in statement.outputs] == ["p.d.Daily"]  # BigQuery keeps table case


def test_full_names_without_an_alias_and_struct_paths_are_unchanged() -> None:
    plain = parse_sql("SELECT db.t.x FROM db.t", dialect="snowflake").statements[0]
    assert plain.column_lineage[0].field_map()["x"][0].field == "x"
    # c.address.city is the struct field city of c's column address, not a table's full name.
    struct = parse_sql(
        "SELECT c.address.city AS city FROM bronze.customers AS c", dialect="bigquery"
    ).statements[0]
    [source] = struct.column_lineage[0].field_map()["city"]
    assert (source.dataset.name, source.field) == ("bronze.customers", "address.city")


def test_three_unaliased_derived_tables_each_keep_their_inputs() -> None:
    [statement] = parse_sql(
        "SELECT a, b, c FROM (SELECT k, a FROM s1) JOIN (SELECT k, b FROM s2) USING (k)"
        " JOIN (SELECT k, c FROM s3) USING (k)",
        dialect="duckdb",
    ).statements
    fields = statement.column_lineage[0].field_map()
    assert [(i.dataset.name, i.field) for i in fields["c"]] == [("s3", "c")]
    assert statement.ok and statement.confidence == 0.9
