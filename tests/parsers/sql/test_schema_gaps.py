"""Issue 17, items 1, 2, 4, 5 and 7: partial schemas, identifier case, lateral aliases,
unexpanded stars and UPDATE/DELETE shapes (golden cases live in ``fixtures/``; these
tests pin the behaviour around them that a golden file cannot show: warnings,
confidence, output schemas, and never losing a statement).
"""

from __future__ import annotations

import random

import pytest

from lineage.model import StatementKind, StatementLineage
from parsers.sql import parse_sql
from tests.helpers import only_statement as _only


def _fields(statement: StatementLineage) -> dict[str, set[tuple[str, str]]]:
    (lineage,) = statement.column_lineage
    return {name: {(i.dataset.name, i.field) for i in inputs} for name, inputs in lineage.fields}


# ------------------------------------------------------------------ item 1: partial schemas


@pytest.mark.parametrize(
    ("sql", "dialect", "schema", "expected"),
    [
        ("SELECT y FROM s", "postgres", {"s": {"a": "int"}}, {"y": {("s", "y")}}),
        ('SELECT "Id" FROM orders', "postgres", {"orders": {"id": "int"}},
         {"Id": {("orders", "Id")}}),
        ("SELECT q.x FROM (SELECT x FROM s) q", "postgres", {"s": {"a": "int"}},
         {"x": {("s", "x")}}),
        ("SELECT x FROM s ORDER BY x", "snowflake", {"s": {"a": "int"}}, {"x": {("s", "x")}}),
        ("SELECT x, COUNT(*) AS n FROM s GROUP BY x HAVING x > 0", "redshift",
         {"s": {"a": "int"}}, {"x": {("s", "x")}, "n": set()}),
    ],
)  # fmt: skip
def test_a_stale_schema_costs_confidence_not_the_statement(
    sql: str,
    dialect: str,
    schema: dict[str, dict[str, str]],
    expected: dict[str, set[tuple[str, str]]],
) -> None:
    statement = _only(sql, dialect, schema)
    assert statement.kind is StatementKind.SELECT
    assert _fields(statement) == expected
    assert statement.confidence < 1.0
    assert any("not in the schema" in w.message for w in statement.warnings)


def test_a_case_mismatch_is_named_in_the_warning() -> None:
    statement = _only('SELECT "Id" FROM orders', "postgres", {"orders": {"id": "int"}})
    assert any("differ in case" in w.message for w in statement.warnings)


def test_no_source_has_the_column_among_several_is_a_warning() -> None:
    statement = _only(
        "SELECT zz FROM a JOIN b ON a.id = b.id",
        "postgres",
        {"a": {"id": "int"}, "b": {"id": "int"}},
    )
    assert _fields(statement) == {"zz": set()}
    assert any("could not be resolved" in w.message for w in statement.warnings)


_QUOTES: dict[str, tuple[str, str]] = {
    "bigquery": ("`", "`"),
    "databricks": ("`", "`"),
    "tsql": ("[", "]"),
}


def _random_statement(rng: random.Random, dialect: str) -> tuple[str, dict[str, dict[str, str]]]:
    """A query over tables whose schema lacks some columns, with mixed-case quoting,
    nested derived tables and CTEs, aliases named like columns, lateral references and
    struct paths after columns."""
    names = ["id", "amount", "name", "x", "y", "status"]
    opening, closing = _QUOTES.get(dialect, ('"', '"'))

    def ref(name: str) -> str:
        spelled = rng.choice([name, name.upper(), name.capitalize()])
        spelled = f"{opening}{spelled}{closing}" if rng.random() < 0.4 else spelled
        return spelled + nesting() if rng.random() < 0.2 else spelled

    def nesting() -> str:
        """A random struct path after a column (item 6): ``.a.b``, ``['a']``, ``:a.b``."""
        path = ""
        for _ in range(rng.randint(1, 8)):
            field = rng.choice(["a", "B", "id", f"{opening}Q{closing}"])
            shape = rng.random()
            if shape < 0.6:
                path += f".{field}"
            elif shape < 0.8 and dialect != "tsql":
                path += f"['{field.strip(opening + closing)}']"
            elif dialect == "snowflake" and not path:
                path += f":{field}"
            else:
                path += "[0]" if dialect != "tsql" else f".{field}"
        return path

    schema = {
        "s": {n: "int" for n in names if rng.random() < 0.5},
        "t": {n.upper(): "int" for n in names if rng.random() < 0.5},
    }
    query = f"SELECT {', '.join(ref(rng.choice(names)) for _ in range(3))} FROM s"
    for depth in range(rng.randint(0, 6)):
        shape = rng.random()
        items = [f"{ref(n)} AS {n}" if rng.random() < 0.5 else ref(n) for n in rng.sample(names, 3)]
        items.append(f"{ref(rng.choice(names))} AS {rng.choice(names)}")
        if shape < 0.4:
            query = f"SELECT {', '.join(items)} FROM ({query}) AS q{depth}"
        elif shape < 0.7:
            query = f"WITH c{depth} AS ({query}) SELECT {', '.join(items)} FROM c{depth}"
        else:
            query = (
                f"SELECT {', '.join(items)} FROM ({query}) AS q{depth} "
                f"JOIN t ON q{depth}.{ref('id')} = t.{ref('id')} ORDER BY {ref(rng.choice(names))}"
            )
    target = rng.choice(["", "INSERT INTO tgt ", "CREATE TABLE tgt AS "])
    return target + query, schema


@pytest.mark.parametrize("dialect", ["postgres", "snowflake", "bigquery", "tsql", "databricks"])
def test_random_partial_schemas_never_lose_a_statement(dialect: str) -> None:
    """Unbounded recursion would surface as a RecursionError, which costs the statement."""
    rng = random.Random(f"issue-17-{dialect}")
    for _ in range(60):
        sql, schema = _random_statement(rng, dialect)
        (statement,) = parse_sql(sql, dialect=dialect, schema=schema).statements
        assert statement.ok and statement.kind is not StatementKind.UNKNOWN, (sql, schema)
        assert statement.column_lineage, sql


def test_a_parser_type_error_costs_only_its_statement() -> None:
    """BigQuery's ``q."ID"`` (a string after a dot) makes sqlglot's parser raise TypeError."""
    first, second = parse_sql(
        'SELECT q."ID" FROM t AS q; SELECT a FROM t', dialect="bigquery"
    ).statements
    assert first.kind is StatementKind.UNKNOWN and first.errors
    assert second.ok and _fields(second) == {"a": {("t", "a")}}


# ------------------------------------------------------------------ item 2: identifier case


@pytest.mark.parametrize(
    ("dialect", "quoted", "same"),
    [
        ("snowflake", '"ID"', True),
        ("snowflake", '"Id"', False),
        ("postgres", '"id"', True),
        ("postgres", '"ID"', False),
        ("redshift", '"ID"', True),
        ("bigquery", "`ID`", True),
        ("spark", "`ID`", True),
        ("tsql", "[ID]", True),
    ],
)
def test_quoted_identifier_is_the_unquoted_one_where_the_engine_says_so(
    dialect: str, quoted: str, same: bool
) -> None:
    statement = _only(f"SELECT {quoted} AS q, id AS u FROM s", dialect)
    fields = _fields(statement)
    assert (fields["q"] == fields["u"]) is same


def test_snowflake_quoted_upper_case_table_is_the_unquoted_table() -> None:
    script = parse_sql(
        'SELECT "ID" FROM "DB"."SCH"."ORDERS"; SELECT id FROM db.sch.orders', dialect="snowflake"
    )
    first, second = script.statements
    assert first.inputs == second.inputs
    assert _fields(first) == _fields(second) == {"id": {("db.sch.orders", "id")}}


# ------------------------------------------------------------------ item 4: lateral aliases

_LATERAL = "SELECT price * qty AS total, total * 2 AS doubled FROM orders"


@pytest.mark.parametrize("dialect", ["snowflake", "redshift", "databricks", "spark", "duckdb"])
def test_lateral_alias_where_the_dialect_has_it(dialect: str) -> None:
    assert _fields(_only(_LATERAL, dialect))["doubled"] == {("orders", "price"), ("orders", "qty")}


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "tsql", "trino", "hive", "bigquery"])
def test_source_column_where_the_dialect_has_no_lateral_alias(dialect: str) -> None:
    assert _fields(_only(_LATERAL, dialect))["doubled"] == {("orders", "total")}


@pytest.mark.parametrize("dialect", ["snowflake", "postgres"])
def test_a_source_column_wins_over_a_lateral_alias(dialect: str) -> None:
    sql = "SELECT a || b AS b, b AS b_orig FROM s"
    assert _fields(_only(sql, dialect))["b_orig"] == {("s", "b")}
    schema = {"s": {"a": "text", "b": "text"}}
    assert _fields(_only("SELECT a AS b, b AS b_orig FROM s", dialect, schema))["b_orig"] == {
        ("s", "b")
    }


def test_alias_in_where_is_a_source_column_without_lateral_aliases() -> None:
    statement = _only("SELECT a AS c FROM s WHERE c > 1", "postgres")
    (lineage,) = statement.column_lineage
    assert {(i.dataset.name, i.field) for i in lineage.dataset} == {("s", "c")}


# ------------------------------------------------------------------ item 5: unexpanded stars


def test_unknown_star_is_one_wildcard_edge_with_a_warning() -> None:
    statement = _only("INSERT INTO t1 SELECT * FROM t2", "postgres")
    assert _fields(statement) == {"*": {("t2", "*")}}
    assert statement.confidence <= 0.5
    assert any("unexpanded wildcard" in w.message for w in statement.warnings)


def test_ctas_from_an_unknown_star_records_no_columns() -> None:
    first, second = parse_sql(
        "CREATE TABLE x AS SELECT * FROM y; INSERT INTO z SELECT * FROM x", dialect="postgres"
    ).statements
    assert first.output_schemas == ()
    assert _fields(second) == {"*": {("x", "*")}}


@pytest.mark.parametrize(
    ("sql", "schema"),
    [
        ("INSERT INTO t1 SELECT * FROM t2", {"t2": {"a": "int", "b": "int"}}),
        ("INSERT INTO t1 SELECT * FROM t2", {"t1": {"a": "int", "b": "int"}}),
        ("CREATE TABLE t2 (a int, b int); INSERT INTO t1 SELECT * FROM t2", None),
    ],
)
def test_star_is_expanded_once_either_side_is_known(
    sql: str, schema: dict[str, dict[str, str]] | None
) -> None:
    statement = parse_sql(sql, dialect="postgres", schema=schema).statements[-1]
    assert _fields(statement) == {"a": {("t2", "a")}, "b": {("t2", "b")}}


def test_temp_table_from_an_unknown_star_passes_columns_through() -> None:
    script = parse_sql(
        "CREATE TEMP TABLE tmp AS SELECT * FROM y; INSERT INTO z SELECT a, UPPER(b) AS b FROM tmp",
        dialect="redshift",
    )
    insert = script.statements[-1]
    assert insert.inputs == tuple(d for d in script.statements[0].inputs)
    assert _fields(insert) == {"a": {("y", "a")}, "b": {("y", "b")}}


# ------------------------------------------------------------------ item 7: UPDATE / DELETE


def test_tsql_update_of_a_from_alias_is_not_an_alias_clash() -> None:
    statement = _only("UPDATE t SET t.c = s.c FROM tab1 t JOIN tab2 s ON t.id = s.id", "tsql")
    assert [d.name for d in statement.outputs] == ["tab1"]
    assert _fields(statement) == {"c": {("tab2", "c")}}


def test_update_with_cte_reads_the_cte_sources() -> None:
    statement = _only(
        "WITH s AS (SELECT id, c FROM src) UPDATE tgt SET c = s.c FROM s WHERE tgt.id = s.id",
        "postgres",
    )
    assert [d.name for d in statement.inputs] == ["src"]
    assert _fields(statement) == {"c": {("src", "c")}}


def test_update_set_tuple_maps_each_column() -> None:
    statement = _only("UPDATE tgt SET (c, d) = (SELECT s.x, s.y FROM s)", "postgres")
    assert _fields(statement) == {"c": {("s", "x")}, "d": {("s", "y")}}


def test_merge_with_cte_reads_the_cte_sources() -> None:
    statement = _only(
        "WITH s AS (SELECT id, v FROM src WHERE ok) "
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v",
        "snowflake",
    )
    assert [d.name for d in statement.inputs] == ["src"]
    assert _fields(statement) == {"v": {("src", "v")}}
