"""Issue 17, item 6: nested fields are read as the dotted path from the top-level column.

Golden cases per dialect live in ``fixtures/`` (``*_nested_*``, ``*_struct_*``,
``snowflake_variant_*``, ``trino_row_field_access``, ``redshift_super_navigation``);
these pin what a golden file cannot show: schemas that list nested paths or only the top
column, warnings and confidence, structs built by an expression, JSON extraction, temporary
tables, deep nesting and the rule that the top-level column stays the first part.
"""

from __future__ import annotations

import pytest

from lineage.model import StatementLineage, TransformationSubtype
from parsers.sql import parse_sql
from tests.helpers import only_statement as _only

Sub = TransformationSubtype


def _fields(statement: StatementLineage) -> dict[str, set[tuple[str, str, Sub]]]:
    (lineage,) = statement.column_lineage
    return {
        name: {(i.dataset.name, i.field, t.subtype) for i in inputs for t in i.transformations}
        for name, inputs in lineage.fields
    }


def _dataset(statement: StatementLineage) -> set[tuple[str, str, Sub]]:
    (lineage,) = statement.column_lineage
    return {
        (i.dataset.name, i.field, t.subtype) for i in lineage.dataset for t in i.transformations
    }


@pytest.mark.parametrize(
    "schema",
    [
        {"t": {"widget": "STRUCT<asset STRUCT<id INT64>>", "post_id": "INT64"}},
        {"t": {"widget": "STRUCT", "post_id": "INT64"}},
        # DataHub's schemas list the nested paths as columns of their own.
        {"t": {"widget": "STRUCT", "widget.asset.id": "INT64", "post_id": "INT64"}},
    ],
    ids=["typed-struct", "top-column-only", "nested-paths-listed"],
)
def test_a_schema_that_knows_the_top_column_gives_the_path_at_full_confidence(
    schema: dict[str, dict[str, str]],
) -> None:
    statement = _only("SELECT post_id, widget.asset.id FROM t", "bigquery", schema)
    assert _fields(statement) == {
        "post_id": {("t", "post_id", Sub.IDENTITY)},
        "id": {("t", "widget.asset.id", Sub.IDENTITY)},
    }
    assert not statement.warnings
    assert statement.confidence == 1.0


def test_the_output_keeps_the_last_name_of_an_unaliased_path() -> None:
    statement = _only("SELECT t.widget.asset.id, w.x.y FROM t JOIN w ON t.k = w.k", "spark")
    assert list(_fields(statement)) == ["id", "y"]
    assert _fields(statement)["y"] == {("w", "x.y", Sub.IDENTITY)}


def test_a_struct_built_by_an_expression_is_computed_from_its_inputs() -> None:
    """``s`` is not a copy of one column, so ``s.x`` is not a field of ``a`` or ``b``."""
    statement = _only(
        "SELECT q.s.x AS x, q.w.y AS y FROM (SELECT COALESCE(a, b) AS s, c AS w FROM t) AS q",
        "bigquery",
    )
    assert _fields(statement) == {
        "x": {("t", "a", Sub.TRANSFORMATION), ("t", "b", Sub.TRANSFORMATION)},
        "y": {("t", "c.y", Sub.IDENTITY)},
    }


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("SELECT payload ->> 'a' AS a FROM t", "postgres"),
        ("SELECT payload['a'] AS a FROM t", "postgres"),
        ("SELECT JSON_EXTRACT(payload, '$.a') AS a FROM t", "mysql"),
        ("SELECT JSON_VALUE(payload, '$.a') AS a FROM t", "bigquery"),
        ("SELECT payload:a.b AS a FROM t", "databricks"),
        ("SELECT get_json_object(payload, '$.a') AS a FROM t", "spark"),
        ("SELECT JSON_EXTRACT_PATH_TEXT(payload, 'a') AS a FROM t", "snowflake"),
    ],
)
def test_json_extraction_is_a_transformation_of_the_column(sql: str, dialect: str) -> None:
    """A JSON document is parsed, not a typed field the catalog can list (as DataHub)."""
    assert _fields(_only(sql, dialect)) == {"a": {("t", "payload", Sub.TRANSFORMATION)}}


def test_an_equality_of_nested_fields_of_two_sources_in_where_is_a_join() -> None:
    statement = _only(
        "SELECT a.id FROM a, b WHERE a.ref.b_id = b.id AND a.meta.kind = 'x'", "bigquery"
    )
    assert _dataset(statement) == {
        ("a", "ref.b_id", Sub.JOIN),
        ("b", "id", Sub.JOIN),
        ("a", "meta.kind", Sub.FILTER),
    }


def test_a_struct_passed_through_a_temporary_table_keeps_its_path() -> None:
    script = (
        "CREATE TEMP TABLE tmp AS SELECT id, doc FROM bronze.raw;"
        "INSERT INTO silver.events SELECT id, tmp.doc.header.ts AS ts FROM tmp;"
    )
    _, insert = parse_sql(script, dialect="duckdb").statements
    assert _fields(insert) == {
        "id": {("bronze.raw", "id", Sub.IDENTITY)},
        "ts": {("bronze.raw", "doc.header.ts", Sub.IDENTITY)},
    }


def test_an_unnested_nested_array_is_a_transformation_of_its_path() -> None:
    statement = _only("SELECT e.kind FROM t, UNNEST(t.doc.events) AS e", "bigquery")
    assert _fields(statement) == {"kind": {("t", "doc.events", Sub.TRANSFORMATION)}}


def test_merge_and_update_read_nested_fields_with_their_path() -> None:
    merge = _only(
        "MERGE INTO tgt USING src AS s ON tgt.id = s.key.id"
        " WHEN MATCHED THEN UPDATE SET city = s.addr.city",
        "databricks",
    )
    assert _fields(merge)["city"] == {("src", "addr.city", Sub.IDENTITY)}
    assert ("src", "key.id", Sub.JOIN) in _dataset(merge)
    update = _only("UPDATE tgt SET zip = UPPER(s.addr.zip) FROM src AS s WHERE tgt.id = s.id",
                   "postgres")  # fmt: skip
    assert _fields(update)["zip"] == {("src", "addr.zip", Sub.TRANSFORMATION)}


@pytest.mark.parametrize("dialect", ["bigquery", "spark", "snowflake", "duckdb", "redshift"])
def test_deep_nesting_is_one_field_and_never_recurses_without_bound(dialect: str) -> None:
    parts = [f"f{i}" for i in range(60)]
    statement = _only(f"SELECT t.s.{'.'.join(parts)} AS leaf FROM t", dialect)
    assert _fields(statement) == {"leaf": {("t", "s." + ".".join(parts), Sub.IDENTITY)}}


@pytest.mark.parametrize(
    ("sql", "dialect", "top"),
    [
        ("SELECT widget.asset.id FROM t", "bigquery", "widget"),
        ("SELECT v:a.b FROM t", "snowflake", "v"),
        ("SELECT v['a']['b'] AS b FROM t", "snowflake", "v"),
        ("SELECT c.a.b FROM t", "redshift", "c"),
        ("SELECT r.x.y FROM t", "trino", "r"),
        ("SELECT s['x'] AS x FROM t", "spark", "s"),
    ],
)
def test_the_top_level_column_is_the_first_part_of_the_field(
    sql: str, dialect: str, top: str
) -> None:
    """What lets a consumer asking about ``t.<top>`` find the outputs of its fields."""
    (inputs,) = _fields(_only(sql, dialect)).values()
    ((_, field, _),) = inputs
    assert field.split(".")[0] == top and field != top
